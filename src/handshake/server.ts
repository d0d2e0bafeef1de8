/**
 * The TLS 1.2 server handshake (RFC 5246 §7.3) as typed states (style.md §5): full handshakes
 * (optionally with a CertificateRequest, §7.4.4) and abbreviated ones resuming a session from the
 * session-ID cache or an RFC 5077 ticket (session/store.ts).
 */
import {
  AlertDescription,
  DecryptError,
  HandshakeFailureError,
  IllegalParameterError,
  ProtocolVersionError,
  TlsError,
} from '../alerts.ts';
import { ByteReader } from '../codec/reader.ts';
import { supportedSchemes, verifyTls } from '../x509/index.ts';
import type { Certificate } from '../x509/types.ts';
import type { SessionState } from './session/state.ts';
import { decodeCertificate } from './messages/certificate.ts';
import { encodeCertificateRequest } from './messages/certificate-request.ts';
import { decodeCertificateVerify } from './messages/certificate-verify.ts';
import { encodeNewSessionTicket } from './messages/new-session-ticket.ts';
import { decodeAlpn, encodeAlpn } from './messages/extensions/alpn.ts';
import { decodeMaxFragmentLength, encodeMaxFragmentLength, type MaxFragmentLength } from './messages/extensions/max-fragment-length.ts';
import { decodeRecordSizeLimit, encodeRecordSizeLimit } from './messages/extensions/record-size-limit.ts';
import { TLS_EMPTY_RENEGOTIATION_INFO_SCSV, type CipherSuite, type KexName } from '../suites.ts';
import type { KexFlow, ServerKexSelection, ServerKeyExchangeSession } from '../kex/key-exchange.ts';
import type { ServerEngineConfig } from './config.ts';
import { serverExpects, type ServerStateName } from './flows.ts';
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
  type FinishedVerified,
  type HandshakeInfo,
  type HandshakeIo,
  type MaybePromise,
  type Secrets,
  type State,
  type Step,
} from './common.ts';
import { decodeClientHello } from './messages/client-hello.ts';
import { encodeServerHello } from './messages/server-hello.ts';
import { encodeCertificate } from './messages/certificate.ts';
import { encodeServerKeyExchange } from './messages/server-key-exchange.ts';
import { encodeServerHelloDone } from './messages/server-hello-done.ts';
import { decodeClientKeyExchange } from './messages/client-key-exchange.ts';
import { findExtension } from './messages/extensions/index.ts';
import { decodeServerName } from './messages/extensions/server-name.ts';
import { decodeExtendedMasterSecret, encodeExtendedMasterSecret } from './messages/extensions/extended-master-secret.ts';
import { decodeRenegotiationInfo, encodeRenegotiationInfo } from './messages/extensions/renegotiation-info.ts';
import { ExtensionType, HandshakeType, type ClientHello, type Extension, type HandshakeMessage } from './messages/types.ts';

interface Negotiated {
  readonly config: ServerEngineConfig;
  readonly suite: CipherSuite;
  readonly flow: KexFlow;
  readonly session: ServerKeyExchangeSession;
  readonly selection: ServerKexSelection;
  readonly ems: boolean;
  readonly servername: string | undefined;
  readonly sessionId: Uint8Array;
  readonly alpnProtocol: string | undefined;
  /** The client asked for a ticket and we will send NewSessionTicket before our CCS (RFC 5077 §3.3). */
  readonly issueTicket: boolean;
  /** Client certificate chain (after our CertificateRequest) and its verification. */
  readonly peerCertificates: readonly Certificate[];
  readonly authorized: boolean;
  readonly authorizationError?: { readonly code: string; readonly message: string };
}

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

function isMilagro(s: CipherSuite): boolean {
  return s.kex === 'MILAGRO_CS' || s.kex === 'MILAGRO_P2P';
}

/** What the ClientHello's optional extensions ask for, and what we answer. */
interface HelloOptions {
  readonly alpnProtocol: string | undefined;
  readonly extensions: readonly Extension[];
}

/**
 * ALPN (RFC 7301 §3.2: our first protocol the client also offers; none in common →
 * no_application_protocol), max_fragment_length (RFC 6066 §4) and record_size_limit (RFC 8449;
 * it wins over max_fragment_length, §5). Applies the fragment limits to `io`.
 */
function negotiateOptions(config: ServerEngineConfig, ch: ClientHello, io: HandshakeIo): HelloOptions {
  const extensions: Extension[] = [];
  let alpnProtocol: string | undefined;
  const alpnExt = findExtension(ch.extensions, ExtensionType.application_layer_protocol_negotiation);
  const ours = config.alpnProtocols ?? [];
  // Checked even when we do not use ALPN (a malformed list, e.g. an empty name, is decode_error,
  // as OpenSSL and GnuTLS answer).
  const offered = alpnExt === undefined ? undefined : decodeAlpn(alpnExt.data);
  if (offered !== undefined && ours.length > 0) {
    const theirs = offered.map((b) => {
      try {
        return utf8Decoder.decode(b);
      } catch {
        return undefined;
      }
    });
    alpnProtocol = ours.find((p) => theirs.includes(p));
    if (alpnProtocol === undefined) throw new TlsError(AlertDescription.no_application_protocol, 'no ALPN protocol in common');
    extensions.push({ type: ExtensionType.application_layer_protocol_negotiation, data: encodeAlpn([utf8.encode(alpnProtocol)]) });
  }
  const rslExt = findExtension(ch.extensions, ExtensionType.record_size_limit);
  const mflExt = findExtension(ch.extensions, ExtensionType.max_fragment_length);
  if (rslExt !== undefined) {
    const limit = Math.min(decodeRecordSizeLimit(rslExt.data), 1 << 14);
    // We can receive full records; what we send to the client respects its limit.
    extensions.push({ type: ExtensionType.record_size_limit, data: encodeRecordSizeLimit(1 << 14) });
    io.setFragmentLimits(limit, undefined);
  } else if (mflExt !== undefined) {
    const mfl: MaxFragmentLength = decodeMaxFragmentLength(mflExt.data);
    extensions.push({ type: ExtensionType.max_fragment_length, data: encodeMaxFragmentLength(mfl) });
    // Incoming records are not held to the limit (harmless for us; see client.ts).
    io.setFragmentLimits(mfl, undefined);
  }
  return { alpnProtocol, extensions };
}

abstract class ServerState implements State {
  abstract readonly name: ServerStateName;
  abstract handle(msg: HandshakeMessage, io: HandshakeIo): Step;
  protected abstract readonly flow: KexFlow | undefined;
  get expects(): readonly number[] {
    return serverExpects(this.name, this.flow);
  }
}

export function startServer(config: ServerEngineConfig): State {
  return new ExpectClientHello(config);
}

export class ExpectClientHello extends ServerState {
  readonly name = 'ExpectClientHello';
  protected readonly flow = undefined;
  readonly #config: ServerEngineConfig;

  constructor(config: ServerEngineConfig) {
    super();
    this.#config = config;
  }

  handle(msg: HandshakeMessage, io: HandshakeIo): Step {
    const config = this.#config;
    const ch = decodeClientHello(new ByteReader(msg.body, 'client_hello'));
    io.transcript.add(msg.raw);
    // RFC 5246 App. E.1: a client whose highest version is below TLS 1.2 cannot talk to us.
    if (ch.version < TLS12) throw new ProtocolVersionError(`client offers at most version 0x${ch.version.toString(16)}`);
    // RFC 5246 §7.4.1.2: the null method MUST be offered; we never compress.
    if (!ch.compressionMethods.includes(0)) throw new IllegalParameterError('client does not offer null compression');

    // RFC 5746 §3.6: SCSV or an empty renegotiation_info signals support; non-empty → abort.
    const ri = findExtension(ch.extensions, ExtensionType.renegotiation_info);
    if (ri !== undefined && decodeRenegotiationInfo(ri.data).length !== 0) {
      throw new HandshakeFailureError('renegotiation_info not empty on the initial handshake');
    }
    const secureRenegotiation = ri !== undefined || ch.cipherSuites.includes(TLS_EMPTY_RENEGOTIATION_INFO_SCSV);
    const emsExt = findExtension(ch.extensions, ExtensionType.extended_master_secret);
    if (emsExt !== undefined) decodeExtendedMasterSecret(emsExt.data);
    const ems = emsExt !== undefined && config.extendedMasterSecret !== false;
    const sni = findExtension(ch.extensions, ExtensionType.server_name);
    const servername = sni === undefined ? undefined : decodeServerName(sni.data);
    const ticketExt = findExtension(ch.extensions, ExtensionType.session_ticket);
    const options = negotiateOptions(config, ch, io);
    const baseExtensions: Extension[] = [];
    if (secureRenegotiation) baseExtensions.push({ type: ExtensionType.renegotiation_info, data: encodeRenegotiationInfo() });
    if (ems) baseExtensions.push({ type: ExtensionType.extended_master_secret, data: encodeExtendedMasterSecret() });
    baseExtensions.push(...options.extensions);

    // A shared session store answers asynchronously; the in-process one synchronously.
    return andThen(findResumable(config, ch, ems, emsExt !== undefined, servername, ticketExt?.data), (resumed) => {
      if (resumed !== undefined) {
        // RFC 5077 §3.3: a client that sent session_ticket gets a fresh ticket on resumption too
        // (as OpenSSL/node:tls and GnuTLS do), e.g. sealed under the current ticket key.
        const renew = ticketExt !== undefined && config.sessionStore?.tickets === true;
        if (renew) baseExtensions.push({ type: ExtensionType.session_ticket, data: new Uint8Array(0) });
        return resume(config, ch, io, resumed, baseExtensions, options.alpnProtocol, renew);
      }
      return fullHandshake(config, ch, io, baseExtensions, options, ems, servername, ticketExt !== undefined);
    });
  }
}

function fullHandshake(
  config: ServerEngineConfig,
  ch: ClientHello,
  io: HandshakeIo,
  baseExtensions: readonly Extension[],
  options: { readonly alpnProtocol: string | undefined },
  ems: boolean,
  servername: string | undefined,
  ticketOffered: boolean,
): Step {
  return andThen(selectSuite(config, ch), ({ suite, session }) => {
    const provider = config.kex.get(suite.kex);
    if (provider === undefined) throw new TypeError(`no provider for ${suite.kex}`);
    const serverRandom = config.random(32);
    const sessionId = config.random(32);
    const sel: ServerKexSelection = { suite, clientHello: ch, clientRandom: ch.random, serverRandom };
    const extensions: Extension[] = [...baseExtensions];
    for (const e of session.serverHelloExtensions?.() ?? []) extensions.push(e);
    // RFC 5077 §3.2: acknowledge a session_ticket extension with an empty one when we will issue
    // a ticket. Milagro sessions are never resumed (milagro.md §7.10).
    const store = config.sessionStore;
    const issueTicket = ticketOffered && store !== undefined && store.tickets && !isMilagro(suite);
    if (issueTicket) extensions.push({ type: ExtensionType.session_ticket, data: new Uint8Array(0) });

    io.transcript.setHash(suite.prfHash);
    io.setRecordVersion(TLS12, TLS12);
    io.sendHandshake(
      HandshakeType.server_hello,
      encodeBody((w) =>
        encodeServerHello(w, { version: TLS12, random: serverRandom, sessionId, cipherSuite: suite.id, compressionMethod: 0, extensions }),
      ),
    );
    const flow = provider.flow;
    if (flow.serverCertificate) {
      const chain = config.certificateChain ?? [];
      if (chain.length === 0) throw new HandshakeFailureError('server: suite needs a certificate but none is configured');
      io.sendHandshake(HandshakeType.certificate, encodeBody((w) => encodeCertificate(w, { certificates: chain.map((c) => c.raw) })));
    }
    const n: Negotiated = {
      config,
      suite,
      flow,
      session,
      selection: sel,
      ems,
      servername,
      sessionId,
      alpnProtocol: options.alpnProtocol,
      issueTicket,
      peerCertificates: [],
      authorized: false,
    };
    const ske: MaybePromise<Uint8Array | undefined> = flow.serverKeyExchange ? session.serverKeyExchange(sel) : undefined;
    return andThen(ske, (body) => {
      if (body !== undefined) io.sendHandshake(HandshakeType.server_key_exchange, encodeBody((w) => encodeServerKeyExchange(w, { body })));
      const askCert = config.requestCert === true && flow.certificateRequestAllowed;
      if (askCert) {
        // RFC 5246 §7.4.4: rsa_sign(1), ecdsa_sign(64, RFC 8422 §5.5); the schemes we verify; our CAs.
        const certificateAuthorities = (config.ca ?? []).map((c) => c.subject.raw);
        io.sendHandshake(
          HandshakeType.certificate_request,
          encodeBody((w) => encodeCertificateRequest(w, { certificateTypes: [1, 64], signatureAlgorithms: supportedSchemes(), certificateAuthorities })),
        );
      }
      io.sendHandshake(HandshakeType.server_hello_done, encodeBody((w) => encodeServerHelloDone(w)));
      io.flush();
      return askCert ? new ExpectCertificate(n) : new ExpectClientKeyExchange(n);
    });
  });
}

/**
 * Server preference order (like mbedTLS's default): the first of our suites that the client
 * offers and whose key exchange accepts this client. Each key exchange is asked once.
 */
function selectSuite(config: ServerEngineConfig, ch: ClientHello): MaybePromise<{ suite: CipherSuite; session: ServerKeyExchangeSession }> {
  const candidates = config.suites.filter((s) => ch.cipherSuites.includes(s.id) && config.kex.supports(s));
  const sessions = new Map<KexName, ServerKeyExchangeSession>();
  const verdicts = new Map<KexName, boolean>();
  const step = (i: number): MaybePromise<{ suite: CipherSuite; session: ServerKeyExchangeSession }> => {
    const suite = candidates[i];
    if (suite === undefined) throw new HandshakeFailureError('no cipher suite in common');
    const provider = config.kex.get(suite.kex);
    if (provider === undefined) return step(i + 1);
    let session = sessions.get(suite.kex);
    if (session === undefined) {
      session = provider.server({
        groups: config.groups,
        certificateChain: config.certificateChain,
        privateKey: config.privateKey,
        random: config.random,
        clock: config.clock,
        peerAddress: config.peerAddress,
      });
      sessions.set(suite.kex, session);
    }
    const s = session;
    const known = verdicts.get(suite.kex);
    const verdict = known ?? s.acceptClient(ch);
    return andThen(verdict, (ok) => {
      verdicts.set(suite.kex, ok);
      return ok ? { suite, session: s } : step(i + 1);
    });
  };
  return step(0);
}

/**
 * A cached or ticketed session this ClientHello may resume (RFC 5246 §7.4.1.2, RFC 5077 §3.4),
 * or undefined → full handshake. Conditions: the suite is still ours and offered; the extended
 * master secret use is the same (RFC 7627 §5.3: otherwise a full handshake); the SNI is the same
 * (RFC 6066 §3); a server that requires client certificates only resumes verified ones.
 */
function findResumable(
  config: ServerEngineConfig,
  ch: ClientHello,
  ems: boolean,
  emsOffered: boolean,
  servername: string | undefined,
  ticket: Uint8Array | undefined,
): MaybePromise<{ readonly state: SessionState; readonly suite: CipherSuite } | undefined> {
  const store = config.sessionStore;
  if (store === undefined) return undefined;
  // A non-empty ticket is the only candidate (no fallback to the ID cache); otherwise the ID.
  const found = ticket !== undefined && ticket.length > 0 ? (store.tickets ? store.open(ticket) : undefined) : store.lookup(ch.sessionId);
  return andThen(found, (st) => (st === undefined ? undefined : resumable(config, ch, ems, emsOffered, servername, st)));
}

function resumable(
  config: ServerEngineConfig,
  ch: ClientHello,
  ems: boolean,
  emsOffered: boolean,
  servername: string | undefined,
  st: SessionState,
): { readonly state: SessionState; readonly suite: CipherSuite } | undefined {
  const suite = config.suites.find((s) => s.id === st.suiteId);
  if (suite === undefined || isMilagro(suite) || !ch.cipherSuites.includes(suite.id) || !config.kex.supports(suite)) return undefined;
  // RFC 7627 §5.3: a non-EMS session is not resumed by an EMS hello (full handshake instead).
  if (!st.extendedMasterSecret && ems) return undefined;
  // An EMS session while we no longer use EMS (configuration changed): full handshake.
  if (st.extendedMasterSecret && !ems && emsOffered) return undefined;
  if ((st.servername ?? '') !== (servername ?? '')) return undefined;
  if (config.requestCert === true && config.rejectUnauthorized === true && !st.authorized) return undefined;
  // RFC 7627 §5.3: "If the original session used the extension but the new ClientHello does not
  // contain it, the server MUST abort the abbreviated handshake" (OpenSSL: handshake_failure).
  if (st.extendedMasterSecret && !emsOffered) throw new HandshakeFailureError('resumption of an extended-master-secret session offered without extended_master_secret (RFC 7627 §5.3)');
  return { state: st, suite };
}

/** RFC 5246 §7.3 Figure 2: ServerHello, ChangeCipherSpec, Finished with the session's master secret. */
function resume(
  config: ServerEngineConfig,
  ch: ClientHello,
  io: HandshakeIo,
  r: { readonly state: SessionState; readonly suite: CipherSuite },
  extensions: readonly Extension[],
  alpnProtocol: string | undefined,
  renewTicket: boolean,
): Step {
  const serverRandom = config.random(32);
  // RFC 5077 §3.4: echo the client's session_id to signal that the ticket was accepted.
  const sessionId = ch.sessionId;
  io.transcript.setHash(r.suite.prfHash);
  io.setRecordVersion(TLS12, TLS12);
  io.sendHandshake(
    HandshakeType.server_hello,
    encodeBody((w) => encodeServerHello(w, { version: TLS12, random: serverRandom, sessionId, cipherSuite: r.suite.id, compressionMethod: 0, extensions: [...extensions] })),
  );
  const store = config.sessionStore;
  if (renewTicket && store !== undefined) {
    // The renewed ticket carries the session unchanged, creation time included: resuming does
    // not extend a session's life; the hint is what is left of it.
    const left = store.lifetimeSeconds - Math.floor((config.clock() - r.state.createdAt) / 1000);
    // A shared ticket key may need a store round-trip (once per rotation period per process).
    return andThen(store.seal(r.state), (ticket) => {
      io.sendHandshake(HandshakeType.new_session_ticket, encodeBody((w) => encodeNewSessionTicket(w, { lifetimeHint: Math.max(0, left), ticket })));
      return resumeFinish(config, ch, io, r, alpnProtocol, serverRandom, sessionId);
    });
  }
  return resumeFinish(config, ch, io, r, alpnProtocol, serverRandom, sessionId);
}

function resumeFinish(
  config: ServerEngineConfig,
  ch: ClientHello,
  io: HandshakeIo,
  r: { readonly state: SessionState; readonly suite: CipherSuite },
  alpnProtocol: string | undefined,
  serverRandom: Uint8Array,
  sessionId: Uint8Array,
): State {
  const secrets = installKeys(io, 'server', r.suite, r.state.master.slice(), ch.random, serverRandom, config.aeadProvider);
  io.sendChangeCipherSpec();
  sendFinished(io, secrets, 'server finished');
  io.flush();
  const peerCertificates = storedPeerCertificates(r.state.peerCertificates);
  const info: HandshakeInfo = {
    suite: r.suite,
    protocol: 'TLSv1.2',
    ...(r.state.servername === undefined ? {} : { servername: r.state.servername }),
    extendedMasterSecret: r.state.extendedMasterSecret,
    peerCertificates,
    authorized: r.state.authorized,
    sessionId,
    ...(alpnProtocol === undefined ? {} : { alpnProtocol }),
    resumed: true,
  };
  return new ExpectResumedChangeCipherSpec(secrets, info);
}

/** RFC 5246 §7.4.6: the client's certificate chain after our CertificateRequest. */
export class ExpectCertificate extends ServerState {
  readonly name = 'ExpectCertificate';
  readonly #n: Negotiated;
  protected get flow(): KexFlow {
    return this.#n.flow;
  }

  constructor(n: Negotiated) {
    super();
    this.#n = n;
  }

  handle(msg: HandshakeMessage, io: HandshakeIo): State {
    const n = this.#n;
    const { config } = n;
    const { certificates } = decodeCertificate(new ByteReader(msg.body, 'certificate'));
    io.transcript.add(msg.raw);
    const required = config.rejectUnauthorized === true;
    if (certificates.length === 0) {
      // §7.4.6: the server may go on without client authentication, or abort with handshake_failure.
      if (required) throw new HandshakeFailureError('client sent no certificate');
      return new ExpectClientKeyExchange({ ...n, authorizationError: { code: 'UNABLE_TO_GET_ISSUER_CERT', message: 'peer did not send a certificate' } });
    }
    const { chain, result } = verifyPeerChain(certificates, 'client', config);
    if (!result.authorized && required) {
      throw new TlsError(alertForVerifyCode(result.code), `client certificate rejected: ${result.code}: ${result.message}`, { code: result.code });
    }
    const next: Negotiated = {
      ...n,
      peerCertificates: chain,
      authorized: result.authorized,
      ...(result.authorized ? {} : { authorizationError: { code: result.code, message: result.message } }),
    };
    return new ExpectClientKeyExchange(next);
  }
}

export class ExpectClientKeyExchange extends ServerState {
  readonly name = 'ExpectClientKeyExchange';
  readonly #n: Negotiated;
  protected get flow(): KexFlow {
    return this.#n.flow;
  }

  constructor(n: Negotiated) {
    super();
    this.#n = n;
  }

  handle(msg: HandshakeMessage, io: HandshakeIo): Step {
    const n = this.#n;
    const { body } = decodeClientKeyExchange(new ByteReader(msg.body, 'client_key_exchange'));
    io.transcript.add(msg.raw);
    // RFC 7627 §3: session_hash through ClientKeyExchange (no client CertificateVerify here).
    const sessionHash = n.ems ? io.transcript.current() : undefined;
    return andThen(n.session.processClientKeyExchange(body, n.selection), (premaster) => {
      const secrets = establishKeys(
        io,
        'server',
        n.suite,
        premaster,
        n.selection.clientRandom,
        n.selection.serverRandom,
        sessionHash,
        n.config.aeadProvider,
      );
      return n.peerCertificates.length > 0 ? new ExpectCertificateVerify(n, secrets) : new ExpectChangeCipherSpec(n, secrets);
    });
  }
}

/** RFC 5246 §7.4.8: proof that the client holds its certificate's key. */
export class ExpectCertificateVerify extends ServerState {
  readonly name = 'ExpectCertificateVerify';
  readonly #n: Negotiated;
  readonly #secrets: Secrets;
  protected get flow(): KexFlow {
    return this.#n.flow;
  }

  constructor(n: Negotiated, secrets: Secrets) {
    super();
    this.#n = n;
    this.#secrets = secrets;
  }

  handle(msg: HandshakeMessage, io: HandshakeIo): State {
    const n = this.#n;
    const { signatureScheme, signature } = decodeCertificateVerify(new ByteReader(msg.body, 'certificate_verify'));
    const leaf = n.peerCertificates[0];
    if (leaf === undefined) throw new TypeError('CertificateVerify without a client certificate');
    // §7.4.8: signed over all handshake messages up to (not including) this one, with a scheme
    // from our CertificateRequest.
    if (!supportedSchemes().includes(signatureScheme)) throw new IllegalParameterError(`client signed with scheme 0x${signatureScheme.toString(16)} we did not offer`);
    if (!verifyTls(leaf.publicKey, signatureScheme, io.transcript.bytes(), signature, n.config.signatures)) {
      throw new DecryptError('client CertificateVerify signature does not verify');
    }
    io.transcript.add(msg.raw);
    return new ExpectChangeCipherSpec(n, this.#secrets);
  }
}

export class ExpectChangeCipherSpec extends ServerState {
  readonly name = 'ExpectChangeCipherSpec';
  readonly #n: Negotiated;
  readonly #secrets: Secrets;
  protected get flow(): KexFlow {
    return this.#n.flow;
  }

  constructor(n: Negotiated, secrets: Secrets) {
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

export class ExpectFinished extends ServerState {
  readonly name = 'ExpectFinished';
  readonly #n: Negotiated;
  readonly #secrets: Secrets;
  protected get flow(): KexFlow {
    return this.#n.flow;
  }

  constructor(n: Negotiated, secrets: Secrets) {
    super();
    this.#n = n;
    this.#secrets = secrets;
  }

  handle(msg: HandshakeMessage, io: HandshakeIo): Step {
    const n = this.#n;
    const proof = verifyPeerFinished(msg, finishedData(this.#secrets, 'client finished', io.transcript.current()));
    io.transcript.add(msg.raw);
    const state = sessionState(n, this.#secrets);
    const store = n.config.sessionStore;
    if (state === undefined || store === undefined) return this.#finish(io, proof);
    store.store(n.sessionId, state);
    if (!n.issueTicket) return this.#finish(io, proof);
    // A shared ticket key may need a store round-trip (once per rotation period per process).
    return andThen(store.seal(state), (ticket) => {
      io.sendHandshake(HandshakeType.new_session_ticket, encodeBody((w) => encodeNewSessionTicket(w, { lifetimeHint: store.lifetimeSeconds, ticket })));
      return this.#finish(io, proof);
    });
  }

  #finish(io: HandshakeIo, proof: FinishedVerified): State {
    const n = this.#n;
    io.sendChangeCipherSpec();
    sendFinished(io, this.#secrets, 'server finished');
    io.flush();
    const info: HandshakeInfo = {
      suite: n.suite,
      protocol: 'TLSv1.2',
      ...(n.session.group === undefined ? {} : { group: n.session.group }),
      ...(n.servername === undefined ? {} : { servername: n.servername }),
      extendedMasterSecret: n.ems,
      peerCertificates: n.peerCertificates,
      // A certificate client is authorized when its chain verified; a Milagro client by its key
      // exchange plus the Finished just verified (milagro.md §7.7).
      authorized: n.authorized || n.session.peerIdentity !== undefined,
      ...(n.authorizationError === undefined || n.session.peerIdentity !== undefined ? {} : { authorizationError: n.authorizationError }),
      ...(n.session.peerIdentity === undefined ? {} : { peerIdentity: n.session.peerIdentity }),
      sessionId: n.sessionId,
      ...(n.alpnProtocol === undefined ? {} : { alpnProtocol: n.alpnProtocol }),
      resumed: false,
    };
    const traffic = new Traffic('server', info, proof);
    io.secure(info, this.#secrets);
    return traffic;
  }
}

/** What the server keeps to resume this session (never for Milagro suites, milagro.md §7.10). */
function sessionState(n: Negotiated, secrets: Secrets): SessionState | undefined {
  if (isMilagro(n.suite) || n.config.sessionStore === undefined) return undefined;
  return {
    suiteId: n.suite.id,
    master: secrets.master.slice(),
    extendedMasterSecret: n.ems,
    createdAt: n.config.clock(),
    peerCertificates: n.peerCertificates.map((c) => c.raw),
    authorized: n.authorized,
    sessionId: n.sessionId,
    ...(n.servername === undefined ? {} : { servername: n.servername }),
    ...(n.alpnProtocol === undefined ? {} : { alpnProtocol: n.alpnProtocol }),
  };
}

/** Abbreviated handshake: our Finished is out; the client's ChangeCipherSpec comes next. */
class ExpectResumedChangeCipherSpec implements State {
  readonly name = 'ExpectChangeCipherSpec';
  readonly expects: readonly number[] = [];
  readonly #secrets: Secrets;
  readonly #info: HandshakeInfo;

  constructor(secrets: Secrets, info: HandshakeInfo) {
    this.#secrets = secrets;
    this.#info = info;
  }

  handle(): never {
    throw new TypeError('ExpectChangeCipherSpec accepts no handshake message');
  }

  handleChangeCipherSpec(io: HandshakeIo): State {
    io.activateRead();
    return new ExpectResumedFinished(this.#secrets, this.#info);
  }
}

class ExpectResumedFinished implements State {
  readonly name = 'ExpectFinished';
  readonly expects: readonly number[] = [HandshakeType.finished];
  readonly #secrets: Secrets;
  readonly #info: HandshakeInfo;

  constructor(secrets: Secrets, info: HandshakeInfo) {
    this.#secrets = secrets;
    this.#info = info;
  }

  handle(msg: HandshakeMessage, io: HandshakeIo): State {
    const proof = verifyPeerFinished(msg, finishedData(this.#secrets, 'client finished', io.transcript.current()));
    io.transcript.add(msg.raw);
    const traffic = new Traffic('server', this.#info, proof);
    io.secure(this.#info, this.#secrets);
    return traffic;
  }
}
