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
import { TLS_EMPTY_RENEGOTIATION_INFO_SCSV, type CipherSuite, type KexName } from '../suites.ts';
import type {
  ClientKexSelection,
  ClientKeyExchangeSession,
  KexFlow,
  KeyExchangeProvider,
} from '../kex/key-exchange.ts';
import { checkServerIdentity, parseCertificate, supportedSchemes, verifyChain } from '../x509/index.ts';
import type { Certificate } from '../x509/types.ts';
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
  encodeBody,
  establishKeys,
  finishedData,
  sendFinished,
  andThen,
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
import { decodeServerHelloDone } from './messages/server-hello-done.ts';
import { encodeClientKeyExchange } from './messages/client-key-exchange.ts';
import { encodeServerName, isServerNameAck } from './messages/extensions/server-name.ts';
import { encodeSignatureAlgorithms } from './messages/extensions/signature-algorithms.ts';
import { decodeExtendedMasterSecret, encodeExtendedMasterSecret } from './messages/extensions/extended-master-secret.ts';
import { decodeRenegotiationInfo } from './messages/extensions/renegotiation-info.ts';
import { decodeEcPointFormats } from './messages/extensions/ec-point-formats.ts';
import { ExtensionType, HandshakeType, type Extension, type HandshakeMessage, type ServerHello } from './messages/types.ts';

/** Everything fixed when the ClientHello was written. */
interface Hello {
  readonly config: ClientEngineConfig;
  readonly clientRandom: Uint8Array;
  readonly offered: readonly CipherSuite[];
  readonly sessions: ReadonlyMap<KexName, ClientKeyExchangeSession>;
  readonly sentExtensions: ReadonlySet<number>;
  readonly offeredEms: boolean;
}

/** After ServerHello. */
interface Negotiated extends Hello {
  readonly suite: CipherSuite;
  readonly flow: KexFlow;
  readonly session: ClientKeyExchangeSession;
  readonly serverHello: ServerHello;
  readonly ems: boolean;
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

    // RFC 5746 §3.3: signal secure renegotiation with the SCSV (as mbedTLS does), not the extension.
    const body = encodeBody((w) =>
      encodeClientHello(w, {
        version: TLS12,
        random: clientRandom,
        sessionId: new Uint8Array(0),
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
    });
  });
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
    const n: Negotiated = { ...h, suite, flow: provider.flow, session, serverHello: sh, ems: ems && h.offeredEms };
    return nextAfter(clientStateAfterServerHello(provider.flow), noCertificate(n));
  }
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

/** node:tls / OpenSSL verification codes → the alert a rejecting client sends (RFC 5246 §7.2.2). */
function alertForVerifyCode(code: string): AlertDescription {
  switch (code) {
    case 'CERT_HAS_EXPIRED':
    case 'CERT_NOT_YET_VALID':
      return AlertDescription.certificate_expired;
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'UNABLE_TO_GET_ISSUER_CERT':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
      return AlertDescription.unknown_ca;
    default:
      return AlertDescription.bad_certificate;
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
    let chain: Certificate[];
    try {
      chain = certificates.map((der) => parseCertificate(der));
    } catch (e) {
      throw new TlsError(AlertDescription.bad_certificate, 'server certificate does not parse', { cause: e });
    }
    const leaf = chain[0];
    if (leaf === undefined) throw new TlsError(AlertDescription.bad_certificate, 'server sent an empty certificate list');
    const { config } = n;
    let failure: { code: string; message: string } | undefined;
    const result = verifyChain(chain, { ca: config.ca, now: new Date(config.clock()) });
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
      throw new TlsError(alertForVerifyCode(failure.code), `server certificate rejected: ${failure.code}: ${failure.message}`);
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
  readonly #certificateRequested: boolean;
  protected get flow(): KexFlow {
    return this.#n.flow;
  }

  constructor(n: Authenticated, certificateRequested = false) {
    super();
    this.#n = n;
    this.#certificateRequested = certificateRequested;
  }

  handle(msg: HandshakeMessage, io: HandshakeIo): Step {
    if (msg.type === HandshakeType.certificate_request) {
      decodeCertificateRequest(new ByteReader(msg.body, 'certificate_request'));
      io.transcript.add(msg.raw);
      return new ExpectServerHelloDone(this.#n);
    }
    decodeServerHelloDone(new ByteReader(msg.body, 'server_hello_done'));
    io.transcript.add(msg.raw);
    const n = this.#n;
    const sel = selection(n);
    return andThen(n.session.clientKeyExchange(sel), (result) => {
      // RFC 5246 §7.4.6: asked for a certificate we do not have → an empty Certificate message.
      if (this.#certificateRequested) io.sendHandshake(HandshakeType.certificate, encodeBody((w) => encodeCertificate(w, { certificates: [] })));
      io.sendHandshake(HandshakeType.client_key_exchange, encodeBody((w) => encodeClientKeyExchange(w, { body: result.body })));
      // RFC 7627 §3: session_hash covers the transcript through ClientKeyExchange.
      const sessionHash = n.ems ? io.transcript.current() : undefined;
      const secrets = establishKeys(io, 'client', n.suite, result.premaster, n.clientRandom, sel.serverRandom, sessionHash, n.config.aeadProvider);
      io.sendChangeCipherSpec();
      sendFinished(io, secrets, 'client finished');
      io.flush();
      return new ExpectChangeCipherSpec(n, secrets);
    });
  }
}

/** After a CertificateRequest: only ServerHelloDone may follow. */
export class ExpectServerHelloDone extends ExpectCertificateRequestOrServerHelloDone {
  override readonly name: ClientStateName = 'ExpectServerHelloDone';
  constructor(n: Authenticated) {
    super(n, true);
  }
}

export class ExpectChangeCipherSpec extends ClientState {
  readonly name = 'ExpectChangeCipherSpec';
  readonly #n: Authenticated;
  readonly #secrets: Secrets;
  protected get flow(): KexFlow {
    return this.#n.flow;
  }

  constructor(n: Authenticated, secrets: Secrets) {
    super();
    this.#n = n;
    this.#secrets = secrets;
  }

  handle(): never {
    throw new TypeError('ExpectChangeCipherSpec accepts no handshake message');
  }

  handleChangeCipherSpec(io: HandshakeIo): State {
    io.activateRead();
    return new ExpectFinished(this.#n, this.#secrets);
  }
}

export class ExpectFinished extends ClientState {
  readonly name = 'ExpectFinished';
  readonly #n: Authenticated;
  readonly #secrets: Secrets;
  protected get flow(): KexFlow {
    return this.#n.flow;
  }

  constructor(n: Authenticated, secrets: Secrets) {
    super();
    this.#n = n;
    this.#secrets = secrets;
  }

  handle(msg: HandshakeMessage, io: HandshakeIo): State {
    const n = this.#n;
    const proof = verifyPeerFinished(msg, finishedData(this.#secrets, 'server finished', io.transcript.current()));
    io.transcript.add(msg.raw);
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
    };
    const traffic = new Traffic('client', info, proof);
    io.secure(info);
    return traffic;
  }
}

