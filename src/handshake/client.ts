/**
 * The TLS 1.2 client handshake (RFC 5246 §7.3) as typed states (style.md §5). Each state is
 * named after what it awaits; the engine refuses any message not in `expects` (computed from the
 * negotiated key exchange's flow, flows.ts) before `handle` runs.
 */
import {
  AlertDescription,
  DecodeError,
  HandshakeFailureError,
  IllegalParameterError,
  ProtocolVersionError,
  TlsError,
} from '../alerts.ts';
import { ByteReader } from '../codec/reader.ts';
import { equalBytes } from '../codec/bytes.ts';
import { TLS_EMPTY_RENEGOTIATION_INFO_SCSV, type CipherSuite, type KexName } from '../suites.ts';
import type {
  ClientKexSelection,
  ClientKeyExchangeSession,
  KexFlow,
  KeyExchangeProvider,
} from '../kex/key-exchange.ts';
import { checkServerIdentity, chooseScheme, signTls, supportedSchemes } from '../x509/index.ts';
import type { Certificate } from '../x509/types.ts';
import { decodeSessionState, type SessionState } from './session/state.ts';
import type { ClientEngineConfig } from './config.ts';
import {
  clientExpects,
  clientStateAfterCertificate,
  clientStateAfterServerHello,
  type ClientStateName,
} from './flows.ts';
import {
  TLS12,
  Traffic,
  alertForVerifyCode,
  encodeBody,
  establishKeys,
  finishedData,
  installKeys,
  sendFinished,
  andThen,
  storedPeerCertificates,
  verifyPeerChain,
  verifyPeerFinished,
  type HandshakeInfo,
  type HandshakeIo,
  type Secrets,
  type State,
  type Step,
} from './common.ts';
import { encodeClientHello } from './messages/client-hello.ts';
import { decodeServerHello } from './messages/server-hello.ts';
import { decodeCertificate, encodeCertificate } from './messages/certificate.ts';
import { decodeCertificateRequest } from './messages/certificate-request.ts';
import { encodeCertificateVerify } from './messages/certificate-verify.ts';
import { decodeNewSessionTicket } from './messages/new-session-ticket.ts';
import { decodeAlpn, encodeAlpn } from './messages/extensions/alpn.ts';
import { decodeMaxFragmentLength, encodeMaxFragmentLength } from './messages/extensions/max-fragment-length.ts';
import { decodeRecordSizeLimit, encodeRecordSizeLimit } from './messages/extensions/record-size-limit.ts';
import { encodeSessionTicket } from './messages/extensions/session-ticket.ts';
import { decodeServerHelloDone } from './messages/server-hello-done.ts';
import { encodeClientKeyExchange } from './messages/client-key-exchange.ts';
import { encodeServerName, isServerNameAck } from './messages/extensions/server-name.ts';
import { encodeSignatureAlgorithms } from './messages/extensions/signature-algorithms.ts';
import { decodeExtendedMasterSecret, encodeExtendedMasterSecret } from './messages/extensions/extended-master-secret.ts';
import { decodeRenegotiationInfo } from './messages/extensions/renegotiation-info.ts';
import { decodeEcPointFormats } from './messages/extensions/ec-point-formats.ts';
import {
  ExtensionType,
  HandshakeType,
  type CertificateRequest,
  type Extension,
  type HandshakeMessage,
  type ServerHello,
} from './messages/types.ts';

/** Everything fixed when the ClientHello was written. */
interface Hello {
  readonly config: ClientEngineConfig;
  readonly clientRandom: Uint8Array;
  readonly offered: readonly CipherSuite[];
  readonly sessions: ReadonlyMap<KexName, ClientKeyExchangeSession>;
  readonly sentExtensions: ReadonlySet<number>;
  readonly offeredEms: boolean;
  /** The session we asked to resume and the session_id we sent for it (RFC 5077 §3.4). */
  readonly resume: { readonly session: SessionState; readonly offeredId: Uint8Array } | undefined;
}

/** After ServerHello. */
interface Negotiated extends Hello {
  readonly suite: CipherSuite;
  readonly flow: KexFlow;
  readonly session: ClientKeyExchangeSession;
  readonly serverHello: ServerHello;
  readonly ems: boolean;
  readonly alpnProtocol: string | undefined;
  /** The server acknowledged session_ticket: a NewSessionTicket precedes its ChangeCipherSpec. */
  readonly expectTicket: boolean;
}

/** After the server Certificate (when the flow has one). */
interface Authenticated extends Negotiated {
  readonly peerCertificates: readonly Certificate[];
  readonly authorized: boolean;
  readonly authorizationError?: { readonly code: string; readonly message: string };
}

function selection(n: Authenticated): ClientKexSelection {
  const leaf = n.peerCertificates[0];
  return {
    suite: n.suite,
    serverHello: n.serverHello,
    clientRandom: n.clientRandom,
    serverRandom: n.serverHello.random,
    ...(leaf === undefined ? {} : { serverPublicKey: leaf.publicKey }),
  };
}

function noCertificate(n: Negotiated): Authenticated {
  return { ...n, peerCertificates: [], authorized: false };
}

/** RFC 6066 §3: literal IPv4/IPv6 addresses are not permitted in server_name. */
function isIpLiteral(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.includes(':');
}

/** Build and send the ClientHello; kex extensions may be computed asynchronously. */
export function startClient(config: ClientEngineConfig, io: HandshakeIo): Step {
  const offered = config.suites.filter((s) => config.kex.supports(s));
  if (offered.length === 0) throw new HandshakeFailureError('client: no configured suite has a registered key exchange');
  const clientRandom = config.random(32);
  const resume = resumable(config, offered);
  const schemes = config.signatureSchemes ?? supportedSchemes();
  const providers: KeyExchangeProvider[] = [];
  for (const s of offered) {
    const p = config.kex.get(s.kex);
    if (p !== undefined && !providers.includes(p)) providers.push(p);
  }
  const sessions = new Map<KexName, ClientKeyExchangeSession>();
  for (const p of providers) {
    sessions.set(
      p.name,
      p.client({
        suites: offered.filter((s) => s.kex === p.name),
        groups: config.groups,
        signatureSchemes: schemes,
        clientRandom,
        random: config.random,
        clock: config.clock,
        ...(config.servername === undefined ? {} : { servername: config.servername }),
      }),
    );
  }
  const kexExtensions = [...sessions.values()].map((s) => s.helloExtensions?.() ?? []);
  const gathered = kexExtensions.some((e) => e instanceof Promise) ? Promise.all(kexExtensions) : (kexExtensions as (readonly Extension[])[]);

  return andThen(gathered, (lists) => {
    const extensions: Extension[] = [];
    const add = (e: Extension): void => {
      if (!extensions.some((x) => x.type === e.type)) extensions.push(e);
    };
    if (config.servername !== undefined && config.servername.length > 0 && !isIpLiteral(config.servername)) {
      add({ type: ExtensionType.server_name, data: encodeServerName(config.servername) });
    }
    for (const list of lists) for (const e of list) add(e);
    if (providers.some((p) => p.flow.serverCertificate || p.flow.signedServerKeyExchange)) {
      add({ type: ExtensionType.signature_algorithms, data: encodeSignatureAlgorithms(schemes) });
    }
    const offeredEms = config.extendedMasterSecret !== false;
    if (offeredEms) add({ type: ExtensionType.extended_master_secret, data: encodeExtendedMasterSecret() });
    // RFC 5077 §3.2: an empty session_ticket asks for a ticket; a ticket asks to resume with it.
    // Milagro sessions are never resumed (milagro.md §7.10), so a Milagro-only hello does not ask.
    if (config.sessionTickets !== false && offered.some((s) => !isMilagro(s))) {
      add({ type: ExtensionType.session_ticket, data: encodeSessionTicket(resume?.session.ticket ?? new Uint8Array(0)) });
    }
    if (config.alpnProtocols !== undefined && config.alpnProtocols.length > 0) {
      add({ type: ExtensionType.application_layer_protocol_negotiation, data: encodeAlpn(config.alpnProtocols.map((p) => utf8.encode(p))) });
    }
    if (config.maxFragmentLength !== undefined) {
      add({ type: ExtensionType.max_fragment_length, data: encodeMaxFragmentLength(config.maxFragmentLength) });
    }
    if (config.recordSizeLimit !== undefined) {
      add({ type: ExtensionType.record_size_limit, data: encodeRecordSizeLimit(Math.min(config.recordSizeLimit, 1 << 14)) });
    }

    // RFC 5746 §3.3: signal secure renegotiation with the SCSV (as mbedTLS does), not the extension.
    const body = encodeBody((w) =>
      encodeClientHello(w, {
        version: TLS12,
        random: clientRandom,
        sessionId: resume?.offeredId ?? new Uint8Array(0),
        cipherSuites: [...offered.map((s) => s.id), TLS_EMPTY_RENEGOTIATION_INFO_SCSV],
        compressionMethods: [0],
        extensions,
      }),
    );
    // mbedTLS and OpenSSL send the first ClientHello with record version 0x0301 (RFC 5246 App. E.1).
    io.setRecordVersion(0x0301, undefined);
    io.sendHandshake(HandshakeType.client_hello, body);
    io.flush();
    return new ExpectServerHello({
      config,
      clientRandom,
      offered,
      sessions,
      sentExtensions: new Set(extensions.map((e) => e.type)),
      offeredEms,
      resume,
    });
  });
}

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

function isMilagro(s: CipherSuite): boolean {
  return s.kex === 'MILAGRO_CS' || s.kex === 'MILAGRO_P2P';
}

/**
 * The configured session, if it can be offered: its suite is still offered and it has not
 * outlived its ticket's lifetime hint. With a ticket we send a fresh random session_id so the
 * server's echo tells us it resumed (RFC 5077 §3.4); otherwise the server's session_id.
 */
function resumable(config: ClientEngineConfig, offered: readonly CipherSuite[]): Hello['resume'] {
  const session = config.session;
  if (session === undefined) return undefined;
  const suite = offered.find((s) => s.id === session.suiteId);
  if (suite === undefined || isMilagro(suite)) return undefined;
  // RFC 7627 §5.3: an EMS session is resumed only with the extension (a server must abort otherwise).
  if (session.extendedMasterSecret && config.extendedMasterSecret === false) return undefined;
  const hint = session.ticketLifetime ?? 0;
  if (session.ticket !== undefined && hint > 0 && config.clock() - session.createdAt > hint * 1000) return undefined;
  if (session.ticket !== undefined && config.sessionTickets !== false) return { session, offeredId: config.random(32) };
  if (session.sessionId.length === 0) return undefined;
  return { session, offeredId: session.sessionId };
}

abstract class ClientState implements State {
  abstract readonly name: ClientStateName;
  abstract handle(msg: HandshakeMessage, io: HandshakeIo): Step;
  protected abstract readonly flow: KexFlow | undefined;
  get expects(): readonly number[] {
    return clientExpects(this.name, this.flow);
  }
}

export class ExpectServerHello extends ClientState {
  readonly name = 'ExpectServerHello';
  protected readonly flow = undefined;
  readonly #hello: Hello;

  constructor(hello: Hello) {
    super();
    this.#hello = hello;
  }

  handle(msg: HandshakeMessage, io: HandshakeIo): State {
    const h = this.#hello;
    const sh = decodeServerHello(new ByteReader(msg.body, 'server_hello'));
    // RFC 5246 §7.4.1.3 / App. E.1: we only speak TLS 1.2.
    if (sh.version !== TLS12) throw new ProtocolVersionError(`server chose version 0x${sh.version.toString(16)}`);
    const suite = h.offered.find((s) => s.id === sh.cipherSuite);
    if (suite === undefined) throw new IllegalParameterError(`server chose suite 0x${sh.cipherSuite.toString(16)} that we did not offer`);
    if (sh.compressionMethod !== 0) throw new IllegalParameterError('server chose a compression method we did not offer');

    let ems = false;
    let alpnProtocol: string | undefined;
    let expectTicket = false;
    let fragmentLimit: number | undefined;
    let writeLimit: number | undefined;
    for (const ext of sh.extensions) {
      // RFC 5246 §7.4.1.4: only extensions we offered may appear (renegotiation_info answers the SCSV).
      if (ext.type !== ExtensionType.renegotiation_info && !h.sentExtensions.has(ext.type)) {
        throw new TlsError(AlertDescription.unsupported_extension, `server sent unsolicited extension ${ext.type}`);
      }
      switch (ext.type) {
        case ExtensionType.renegotiation_info:
          // RFC 5746 §3.4: on an initial handshake renegotiated_connection must be empty.
          if (decodeRenegotiationInfo(ext.data).length !== 0) {
            throw new HandshakeFailureError('renegotiation_info not empty on the initial handshake');
          }
          break;
        case ExtensionType.extended_master_secret:
          decodeExtendedMasterSecret(ext.data);
          ems = true;
          break;
        case ExtensionType.ec_point_formats:
          // RFC 8422 §5.2: the server must support uncompressed points.
          if (!decodeEcPointFormats(ext.data).includes(0)) throw new IllegalParameterError('server ec_point_formats lacks uncompressed');
          break;
        case ExtensionType.server_name:
          // RFC 6066 §3: the server's acknowledgement is empty.
          if (!isServerNameAck(ext.data)) throw new DecodeError('server_name in ServerHello must be empty');
          break;
        case ExtensionType.application_layer_protocol_negotiation: {
          // RFC 7301 §3.1: exactly one name, one of those we offered.
          const names = decodeAlpn(ext.data);
          const name = names.length === 1 && names[0] !== undefined ? decodeUtf8(names[0]) : undefined;
          if (name === undefined) throw new DecodeError('ALPN in ServerHello must hold exactly one protocol');
          if (!(h.config.alpnProtocols ?? []).includes(name)) throw new IllegalParameterError(`server chose ALPN "${name}" that we did not offer`);
          alpnProtocol = name;
          break;
        }
        case ExtensionType.session_ticket:
          // RFC 5077 §3.2: the server's acknowledgement is empty.
          if (ext.data.length !== 0) throw new DecodeError('session_ticket in ServerHello must be empty');
          expectTicket = true;
          break;
        case ExtensionType.max_fragment_length:
          // RFC 6066 §4: the echo must be the value we asked for.
          if (decodeMaxFragmentLength(ext.data) !== h.config.maxFragmentLength) throw new IllegalParameterError('max_fragment_length echo differs');
          fragmentLimit = h.config.maxFragmentLength;
          break;
        case ExtensionType.record_size_limit:
          // RFC 8449 §4: the limit on what we send to the server.
          writeLimit = Math.min(decodeRecordSizeLimit(ext.data), 1 << 14);
          break;
        default:
          break;
      }
    }
    const provider = h.config.kex.get(suite.kex);
    const session = h.sessions.get(suite.kex);
    if (provider === undefined || session === undefined) throw new TypeError(`no session for ${suite.kex}`);

    io.transcript.setHash(suite.prfHash);
    io.transcript.add(msg.raw);
    io.setRecordVersion(TLS12, TLS12);
    // RFC 6066 §4: fragment (both ways) at the negotiated length from now on; RFC 8449 §4: our
    // records to the server respect its limit. RFC 8449 §5: both given → record_size_limit wins.
    if (writeLimit !== undefined) io.setFragmentLimits(writeLimit, undefined);
    // Larger incoming records are still accepted: mbedTLS 2.28 cannot fragment its handshake
    // messages, so it sends a Certificate bigger than a small limit in one record anyway.
    else if (fragmentLimit !== undefined) io.setFragmentLimits(fragmentLimit, undefined);
    const n: Negotiated = { ...h, suite, flow: provider.flow, session, serverHello: sh, ems: ems && h.offeredEms, alpnProtocol, expectTicket };

    // RFC 5246 §7.4.1.3: the server resumes by echoing the session_id we offered.
    const resume = h.resume;
    if (resume !== undefined && sh.sessionId.length > 0 && equalBytes(sh.sessionId, resume.offeredId)) {
      const old = resume.session;
      if (old.suiteId !== suite.id) throw new IllegalParameterError('server resumed a session with a different cipher suite');
      // RFC 7627 §5.3: the extended master secret must be used on resumption iff it was used before.
      if (old.extendedMasterSecret !== n.ems) throw new HandshakeFailureError('resumed session and ServerHello disagree on extended_master_secret');
      const secrets = installKeys(io, 'client', suite, old.master.slice(), h.clientRandom, sh.random, h.config.aeadProvider);
      const a: Authenticated = {
        ...n,
        peerCertificates: storedPeerCertificates(old.peerCertificates),
        authorized: old.authorized,
        ...(old.authorized ? {} : { authorizationError: { code: 'SESSION_RESUMED', message: 'resumed a session whose server certificate did not verify' } }),
      };
      const ending: Ending = { resumed: old };
      return expectTicket ? new ExpectNewSessionTicket(a, secrets, ending) : new ExpectChangeCipherSpec(a, secrets, ending);
    }
    return nextAfter(clientStateAfterServerHello(provider.flow), noCertificate(n));
  }
}

function decodeUtf8(b: Uint8Array): string {
  try {
    return utf8Decoder.decode(b);
  } catch {
    throw new DecodeError('ALPN protocol name is not UTF-8');
  }
}

/** How the handshake ends: a resumed session, and a ticket received on the way. */
interface Ending {
  readonly resumed?: SessionState;
  readonly ticket?: { readonly ticket: Uint8Array; readonly lifetimeHint: number };
}

function nextAfter(name: ClientStateName, n: Authenticated): State {
  switch (name) {
    case 'ExpectCertificate':
      return new ExpectCertificate(n);
    case 'ExpectServerKeyExchange':
      return new ExpectServerKeyExchange(n);
    case 'ExpectCertificateRequestOrServerHelloDone':
      return new ExpectCertificateRequestOrServerHelloDone(n);
    default:
      throw new TypeError(`not a state reachable after ServerHello/Certificate: ${name}`);
  }
}

export class ExpectCertificate extends ClientState {
  readonly name = 'ExpectCertificate';
  readonly #n: Authenticated;
  protected get flow(): KexFlow {
    return this.#n.flow;
  }

  constructor(n: Authenticated) {
    super();
    this.#n = n;
  }

  handle(msg: HandshakeMessage, io: HandshakeIo): State {
    const n = this.#n;
    const { certificates } = decodeCertificate(new ByteReader(msg.body, 'certificate'));
    io.transcript.add(msg.raw);
    if (certificates.length === 0) throw new TlsError(AlertDescription.bad_certificate, 'server sent an empty certificate list');
    const { config } = n;
    const { chain, result } = verifyPeerChain(certificates, 'server', config);
    const leaf = chain[0];
    if (leaf === undefined) throw new TlsError(AlertDescription.bad_certificate, 'server sent an empty certificate list');
    let failure: { code: string; message: string } | undefined;
    if (!result.authorized) {
      failure = { code: result.code, message: result.message };
    } else if (config.servername !== undefined && config.servername.length > 0) {
      const check = config.checkServerIdentity ?? checkServerIdentity;
      const err = check(config.servername, leaf);
      if (err !== undefined) {
        const code = (err as Error & { code?: unknown }).code;
        failure = { code: typeof code === 'string' ? code : 'ERR_TLS_CERT_ALTNAME_INVALID', message: err.message };
      }
    }
    if (failure !== undefined && config.rejectUnauthorized) {
      throw new TlsError(alertForVerifyCode(failure.code), `server certificate rejected: ${failure.code}: ${failure.message}`, { code: failure.code });
    }
    const next: Authenticated = {
      ...n,
      peerCertificates: chain,
      authorized: failure === undefined,
      ...(failure === undefined ? {} : { authorizationError: failure }),
    };
    return nextAfter(clientStateAfterCertificate(n.flow), next);
  }
}

export class ExpectServerKeyExchange extends ClientState {
  readonly name = 'ExpectServerKeyExchange';
  readonly #n: Authenticated;
  protected get flow(): KexFlow {
    return this.#n.flow;
  }

  constructor(n: Authenticated) {
    super();
    this.#n = n;
  }

  handle(msg: HandshakeMessage, io: HandshakeIo): Step {
    io.transcript.add(msg.raw);
    const n = this.#n;
    return andThen(n.session.processServerKeyExchange(msg.body, selection(n)), () => new ExpectCertificateRequestOrServerHelloDone(n));
  }
}

export class ExpectCertificateRequestOrServerHelloDone extends ClientState {
  readonly name: ClientStateName = 'ExpectCertificateRequestOrServerHelloDone';
  readonly #n: Authenticated;
  readonly #request: CertificateRequest | undefined;
  protected get flow(): KexFlow {
    return this.#n.flow;
  }

  constructor(n: Authenticated, request?: CertificateRequest) {
    super();
    this.#n = n;
    this.#request = request;
  }

  handle(msg: HandshakeMessage, io: HandshakeIo): Step {
    if (msg.type === HandshakeType.certificate_request) {
      const request = decodeCertificateRequest(new ByteReader(msg.body, 'certificate_request'));
      io.transcript.add(msg.raw);
      return new ExpectServerHelloDone(this.#n, request);
    }
    decodeServerHelloDone(new ByteReader(msg.body, 'server_hello_done'));
    io.transcript.add(msg.raw);
    const n = this.#n;
    const sel = selection(n);
    const request = this.#request;
    const signer = request === undefined ? undefined : clientSigner(n.config, request);
    return andThen(n.session.clientKeyExchange(sel), (result) => {
      // RFC 5246 §7.4.6: our chain if we have one that fits the request, else an empty list.
      if (request !== undefined) {
        const certs = signer === undefined ? [] : signer.chain.map((c) => c.raw);
        io.sendHandshake(HandshakeType.certificate, encodeBody((w) => encodeCertificate(w, { certificates: certs })));
      }
      io.sendHandshake(HandshakeType.client_key_exchange, encodeBody((w) => encodeClientKeyExchange(w, { body: result.body })));
      // RFC 7627 §3: session_hash covers the transcript through ClientKeyExchange.
      const sessionHash = n.ems ? io.transcript.current() : undefined;
      if (signer !== undefined) {
        // RFC 5246 §7.4.8: sign all handshake messages so far.
        const signature = signTls(signer.key, signer.scheme, io.transcript.bytes(), n.config.random, n.config.signatures);
        io.sendHandshake(HandshakeType.certificate_verify, encodeBody((w) => encodeCertificateVerify(w, { signatureScheme: signer.scheme, signature })));
      }
      const secrets = establishKeys(io, 'client', n.suite, result.premaster, n.clientRandom, sel.serverRandom, sessionHash, n.config.aeadProvider);
      io.sendChangeCipherSpec();
      sendFinished(io, secrets, 'client finished');
      io.flush();
      return n.expectTicket ? new ExpectNewSessionTicket(n, secrets, {}) : new ExpectChangeCipherSpec(n, secrets, {});
    });
  }
}

/** After a CertificateRequest: only ServerHelloDone may follow. */
export class ExpectServerHelloDone extends ExpectCertificateRequestOrServerHelloDone {
  override readonly name: ClientStateName = 'ExpectServerHelloDone';
  constructor(n: Authenticated, request: CertificateRequest) {
    super(n, request);
  }
}

/** RFC 5246 §7.4.4 ClientCertificateType: rsa_sign(1), ecdsa_sign(64) (RFC 8422 §5.5). */
const certTypeFor = { rsa: 1, ec: 64 } as const;

/** Our client certificate and scheme, if the key type and a signature scheme fit the request. */
function clientSigner(config: ClientEngineConfig, req: CertificateRequest): { chain: readonly Certificate[]; key: NonNullable<ClientEngineConfig['privateKey']>; scheme: number } | undefined {
  const chain = config.certificateChain;
  const key = config.privateKey;
  if (chain === undefined || chain.length === 0 || key === undefined) return undefined;
  if (!req.certificateTypes.includes(certTypeFor[key.type])) return undefined;
  const scheme = chooseScheme(key, req.signatureAlgorithms);
  return scheme === undefined ? undefined : { chain, key, scheme };
}

/** RFC 5077 §3.3: the ticket the server announced, before its ChangeCipherSpec. */
export class ExpectNewSessionTicket extends ClientState {
  readonly name = 'ExpectNewSessionTicket';
  readonly #n: Authenticated;
  readonly #secrets: Secrets;
  readonly #ending: Ending;
  protected get flow(): KexFlow {
    return this.#n.flow;
  }

  constructor(n: Authenticated, secrets: Secrets, ending: Ending) {
    super();
    this.#n = n;
    this.#secrets = secrets;
    this.#ending = ending;
  }

  handle(msg: HandshakeMessage, io: HandshakeIo): State {
    const t = decodeNewSessionTicket(new ByteReader(msg.body, 'new_session_ticket'));
    io.transcript.add(msg.raw);
    // RFC 5077 §3.3: an empty ticket means the server will not issue one after all.
    const ending: Ending = t.ticket.length === 0 ? this.#ending : { ...this.#ending, ticket: { ticket: t.ticket.slice(), lifetimeHint: t.lifetimeHint } };
    return new ExpectChangeCipherSpec(this.#n, this.#secrets, ending);
  }
}

export class ExpectChangeCipherSpec extends ClientState {
  readonly name = 'ExpectChangeCipherSpec';
  readonly #n: Authenticated;
  readonly #secrets: Secrets;
  readonly #ending: Ending;
  protected get flow(): KexFlow {
    return this.#n.flow;
  }

  constructor(n: Authenticated, secrets: Secrets, ending: Ending) {
    super();
    this.#n = n;
    this.#secrets = secrets;
    this.#ending = ending;
  }

  handle(): never {
    throw new TypeError('ExpectChangeCipherSpec accepts no handshake message');
  }

  handleChangeCipherSpec(io: HandshakeIo): State {
    io.activateRead();
    return new ExpectFinished(this.#n, this.#secrets, this.#ending);
  }
}

export class ExpectFinished extends ClientState {
  readonly name = 'ExpectFinished';
  readonly #n: Authenticated;
  readonly #secrets: Secrets;
  readonly #ending: Ending;
  protected get flow(): KexFlow {
    return this.#n.flow;
  }

  constructor(n: Authenticated, secrets: Secrets, ending: Ending) {
    super();
    this.#n = n;
    this.#secrets = secrets;
    this.#ending = ending;
  }

  handle(msg: HandshakeMessage, io: HandshakeIo): State {
    const n = this.#n;
    const proof = verifyPeerFinished(msg, finishedData(this.#secrets, 'server finished', io.transcript.current()));
    io.transcript.add(msg.raw);
    const { resumed } = this.#ending;
    // RFC 5246 §7.3 Figure 2: on an abbreviated handshake the server finishes first.
    if (resumed !== undefined) {
      io.sendChangeCipherSpec();
      sendFinished(io, this.#secrets, 'client finished');
      io.flush();
    }
    const session = sessionToKeep(n, this.#secrets, this.#ending);
    const info: HandshakeInfo = {
      suite: n.suite,
      protocol: 'TLSv1.2',
      ...(n.session.group === undefined ? {} : { group: n.session.group }),
      ...(n.config.servername === undefined ? {} : { servername: n.config.servername }),
      extendedMasterSecret: n.ems,
      peerCertificates: n.peerCertificates,
      // Milagro flows have no certificate: authentication is the key confirmation just verified.
      authorized: n.flow.serverCertificate ? n.authorized : true,
      ...(n.authorizationError === undefined ? {} : { authorizationError: n.authorizationError }),
      ...(n.session.peerIdentity === undefined ? {} : { peerIdentity: n.session.peerIdentity }),
      sessionId: n.serverHello.sessionId,
      ...(n.alpnProtocol === undefined ? {} : { alpnProtocol: n.alpnProtocol }),
      resumed: resumed !== undefined,
      ...(session === undefined ? {} : { session }),
    };
    const traffic = new Traffic('client', info, proof);
    io.secure(info, this.#secrets);
    return traffic;
  }
}


/**
 * The session the application may resume later: a renewed ticket replaces the old one; a full
 * handshake gives a new session when the server offered an ID or a ticket. Milagro sessions are
 * never resumable (milagro.md §7.10).
 */
function sessionToKeep(n: Authenticated, secrets: Secrets, ending: Ending): SessionState | undefined {
  if (isMilagro(n.suite)) return undefined;
  const { resumed, ticket } = ending;
  if (resumed !== undefined) {
    return ticket === undefined ? resumed : { ...resumed, ticket: ticket.ticket, ticketLifetime: ticket.lifetimeHint, createdAt: n.config.clock() };
  }
  if (n.serverHello.sessionId.length === 0 && ticket === undefined) return undefined;
  return {
    suiteId: n.suite.id,
    master: secrets.master.slice(),
    extendedMasterSecret: n.ems,
    createdAt: n.config.clock(),
    peerCertificates: n.peerCertificates.map((c) => c.raw),
    authorized: n.authorized,
    sessionId: n.serverHello.sessionId,
    ...(ticket === undefined ? {} : { ticket: ticket.ticket, ticketLifetime: ticket.lifetimeHint }),
    ...(n.config.servername === undefined ? {} : { servername: n.config.servername }),
    ...(n.alpnProtocol === undefined ? {} : { alpnProtocol: n.alpnProtocol }),
  };
}

/** Decode an application-held session buffer (node:tls `session` option); undefined if unusable. */
export function sessionFromBytes(bytes: Uint8Array): SessionState | undefined {
  try {
    return decodeSessionState(bytes);
  } catch {
    return undefined;
  }
}
