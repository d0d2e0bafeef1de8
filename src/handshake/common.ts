/**
 * Pieces shared by the client and server state machines: the state interface, what states may
 * ask of the engine (`HandshakeIo`), the key-schedule glue (RFC 5246 §8.1, §6.3, §7.4.9;
 * RFC 7627), branded proof values, and the Traffic state.
 */
import { AlertDescription, DecryptError, TlsError } from '../alerts.ts';
import { ByteReader } from '../codec/reader.ts';
import { ByteWriter } from '../codec/writer.ts';
import { bytesToHex, equalBytes } from '../codec/bytes.ts';
import { extendedMasterSecret, keyBlock, masterSecret, verifyData, type Transcript } from '../crypto/prf.ts';
import type { AeadProvider } from '../crypto/aead/provider.ts';
import { aeadProtection, type RecordProtection } from '../record/protection.ts';
import type { CipherSuite } from '../suites.ts';
import type { MaybePromise, PeerIdentity } from '../kex/key-exchange.ts';
import { parseCertificate, verifyChain, type ChainResult, type VerifyChainOptions } from '../x509/index.ts';
import type { Certificate } from '../x509/types.ts';
import type { Clock } from '../providers.ts';
import { decodeFinished, encodeFinished } from './messages/finished.ts';
import { HandshakeType, type HandshakeMessage } from './messages/types.ts';
import type { ClientStateName, ServerStateName } from './flows.ts';
import type { SessionState } from './session/state.ts';

export type { MaybePromise, PeerIdentity };

export interface HandshakeInfo {
  readonly suite: CipherSuite;
  readonly protocol: 'TLSv1.2';
  /** 'x25519' | 'secp256r1' | 'secp384r1' for ECDHE. */
  readonly group?: string;
  /** Client: what it asked for; server: what the client sent (SNI). */
  readonly servername?: string;
  readonly extendedMasterSecret: boolean;
  /** Leaf first; empty for Milagro suites. */
  readonly peerCertificates: readonly Certificate[];
  /** node:tls semantics: client side, the server chain and host name verified. */
  readonly authorized: boolean;
  readonly authorizationError?: { readonly code: string; readonly message: string };
  readonly peerIdentity?: PeerIdentity;
  readonly sessionId: Uint8Array;
  /** ALPN protocol agreed (RFC 7301), if any. */
  readonly alpnProtocol?: string;
  /** An abbreviated handshake resumed an earlier session (RFC 5246 §7.3). */
  readonly resumed?: boolean;
  /** Client: the state to resume this session later (absent for Milagro suites, spec §7.10). */
  readonly session?: SessionState;
}

/** What a state may ask of the engine. Output is buffered and flushed in order. */
export interface HandshakeIo {
  readonly transcript: Transcript;
  /** Append a handshake message to the transcript and to the outgoing flight. */
  sendHandshake(type: number, body: Uint8Array): void;
  /** Flush the flight, send ChangeCipherSpec and switch the write side to the pending keys. */
  sendChangeCipherSpec(): void;
  /** Flush the pending flight into records. */
  flush(): void;
  setPendingProtection(read: RecordProtection, write: RecordProtection): void;
  /** At a received ChangeCipherSpec (RFC 5246 §7.1). */
  activateRead(): void;
  /** Record-layer version for outgoing records and the one required on incoming records. */
  setRecordVersion(write: number, expectRead: number | undefined): void;
  /**
   * Fragment outgoing records at `send` bytes of plaintext (RFC 6066 §4, RFC 8449 §4) and, when
   * `receive` is given, refuse larger incoming plaintexts with record_overflow.
   */
  setFragmentLimits(send: number, receive: number | undefined): void;
  sendWarning(alert: AlertDescription): void;
  keylog(line: string): void;
  /** The handshake is complete; `secrets` back the RFC 5705 exporter. */
  secure(info: HandshakeInfo, secrets: Secrets): void;
}

export type Step = State | Promise<State>;

export interface State {
  readonly name: ClientStateName | ServerStateName;
  /** Handshake types this state accepts; the engine refuses others with unexpected_message. */
  readonly expects: readonly number[];
  handle(msg: HandshakeMessage, io: HandshakeIo): Step;
  /** Only ExpectChangeCipherSpec implements this (style.md §5). */
  handleChangeCipherSpec?(io: HandshakeIo): Step;
}

/** Continue with `f` once `v` is available, staying synchronous when `v` is. */
export function andThen<T, U>(v: MaybePromise<T>, f: (t: T) => MaybePromise<U>): MaybePromise<U> {
  return v instanceof Promise ? v.then(f) : f(v);
}

export const TLS12 = 0x0303;

// ---- Branded proofs (style.md §5): only the verifying functions can create them. ----

declare const finishedVerifiedBrand: unique symbol;
/** Proof that the peer's Finished matched our transcript (RFC 5246 §7.4.9). */
export interface FinishedVerified {
  readonly [finishedVerifiedBrand]: true;
}

/** Compare the peer's verify_data in constant time; the only way to obtain `FinishedVerified`. */
export function verifyPeerFinished(msg: HandshakeMessage, expected: Uint8Array): FinishedVerified {
  const r = new ByteReader(msg.body, 'finished');
  const { verifyData: received } = decodeFinished(r);
  if (!equalBytes(received, expected)) throw new DecryptError('peer Finished verify_data does not match');
  return Object.freeze({}) as FinishedVerified;
}

/** node:tls / OpenSSL verification codes → the alert a rejecting peer sends (RFC 5246 §7.2.2). */
export function alertForVerifyCode(code: string): AlertDescription {
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

/** What verifying a peer's chain reads from either role's engine config. */
export interface PeerChainConfig {
  readonly ca?: readonly Certificate[];
  readonly clock: Clock;
  readonly signatures?: VerifyChainOptions['signatures'];
  readonly certificateCache?: VerifyChainOptions['cache'];
}

/**
 * Most certificates we parse from one peer Certificate message (issue 11 §4). Real chains carry
 * 2–5; parsing costs ~0.1 ms each on the event loop, so a list of hundreds of look-alike
 * intermediates is refused (bad_certificate) before any of it is parsed or verified.
 */
export const MAX_PEER_CERTIFICATES = 16;

/**
 * The peer's non-empty certificate_list (RFC 5246 §7.4.2 server, §7.4.6 client) parsed and checked
 * against `config.ca` at the config's clock; the leaf must suit the peer's role (extKeyUsage
 * serverAuth / clientAuth). A chain that does not parse, or longer than MAX_PEER_CERTIFICATES, is
 * bad_certificate; path building runs within the x509 chain budget (DEFAULT_CHAIN_BUDGET);
 * whether an unverified chain is fatal is the caller's policy.
 */
export function verifyPeerChain(certificates: readonly Uint8Array[], peer: 'server' | 'client', config: PeerChainConfig): { chain: Certificate[]; result: ChainResult } {
  if (certificates.length > MAX_PEER_CERTIFICATES) {
    throw new TlsError(AlertDescription.bad_certificate, `${peer} sent ${certificates.length} certificates; at most ${MAX_PEER_CERTIFICATES} are accepted`);
  }
  let chain: Certificate[];
  try {
    chain = certificates.map((der) => parseCertificate(der));
  } catch (e) {
    throw new TlsError(AlertDescription.bad_certificate, `${peer} certificate does not parse`, { cause: e });
  }
  const result = verifyChain(chain, {
    ca: config.ca ?? [],
    now: new Date(config.clock()),
    purpose: peer,
    ...(config.signatures === undefined ? {} : { signatures: config.signatures }),
    ...(config.certificateCache === undefined ? {} : { cache: config.certificateCache }),
  });
  return { chain, result };
}

/**
 * The peer chain kept in a session being resumed (RFC 5246 §7.3): it was checked when the session
 * was made (the outcome is stored with it), so it is only parsed; a stored chain that no longer
 * parses yields none rather than failing the resumption.
 */
export function storedPeerCertificates(ders: readonly Uint8Array[]): Certificate[] {
  try {
    return ders.map((d) => parseCertificate(d));
  } catch {
    return [];
  }
}

// ---- Key schedule glue. ----

export interface Secrets {
  readonly suite: CipherSuite;
  readonly master: Uint8Array;
  /** The hello randoms the keys were derived with (also the RFC 5705 exporter's seed). */
  readonly clientRandom: Uint8Array;
  readonly serverRandom: Uint8Array;
}

/**
 * master_secret from the premaster (RFC 5246 §8.1), or the extended master secret over the
 * session hash (RFC 7627 §4, the transcript through ClientKeyExchange), then the key block
 * (§6.3) installed as pending protections for both directions, and the NSS key-log line.
 */
export function establishKeys(
  io: HandshakeIo,
  role: 'client' | 'server',
  suite: CipherSuite,
  premaster: Uint8Array,
  clientRandom: Uint8Array,
  serverRandom: Uint8Array,
  sessionHash: Uint8Array | undefined,
  provider: AeadProvider,
): Secrets {
  const master =
    sessionHash === undefined
      ? masterSecret(suite.prfHash, premaster, clientRandom, serverRandom)
      : extendedMasterSecret(suite.prfHash, premaster, sessionHash);
  premaster.fill(0);
  return installKeys(io, role, suite, master, clientRandom, serverRandom, provider);
}

/**
 * The key block (RFC 5246 §6.3) from a master secret — a fresh one or, on an abbreviated
 * handshake, the resumed session's with the new randoms — installed as pending protections, and
 * the NSS key-log line (also for resumed handshakes, so captures of them decrypt too).
 */
export function installKeys(
  io: HandshakeIo,
  role: 'client' | 'server',
  suite: CipherSuite,
  master: Uint8Array,
  clientRandom: Uint8Array,
  serverRandom: Uint8Array,
  provider: AeadProvider,
): Secrets {
  const keys = keyBlock(suite, master, clientRandom, serverRandom);
  const client = aeadProtection(suite.aead, keys.clientWriteKey, keys.clientWriteIv, provider);
  const server = aeadProtection(suite.aead, keys.serverWriteKey, keys.serverWriteIv, provider);
  keys.clientWriteKey.fill(0);
  keys.serverWriteKey.fill(0);
  if (role === 'client') io.setPendingProtection(server, client);
  else io.setPendingProtection(client, server);
  io.keylog(`CLIENT_RANDOM ${bytesToHex(clientRandom)} ${bytesToHex(master)}`);
  return { suite, master, clientRandom, serverRandom };
}

/** verify_data for our side's or the peer's Finished over the transcript so far. */
export function finishedData(secrets: Secrets, label: 'client finished' | 'server finished', transcriptHash: Uint8Array): Uint8Array {
  return verifyData(secrets.suite.prfHash, secrets.master, label, transcriptHash);
}

export function sendFinished(io: HandshakeIo, secrets: Secrets, label: 'client finished' | 'server finished'): void {
  const w = new ByteWriter(12);
  encodeFinished(w, { verifyData: finishedData(secrets, label, io.transcript.current()) });
  io.sendHandshake(HandshakeType.finished, w.finish());
}

export function encodeBody(encode: (w: ByteWriter) => void): Uint8Array {
  const w = new ByteWriter();
  encode(w);
  return w.finish();
}

/**
 * The connection after both Finished messages were verified. Building it requires the
 * `FinishedVerified` proof. Renegotiation is refused (RFC 5746 §4.2, §4.4): a HelloRequest (client)
 * or ClientHello (server) is answered with a no_renegotiation warning and otherwise ignored, which
 * is what OpenSSL and mbedTLS (with renegotiation disabled) do.
 */
export class Traffic implements State {
  readonly name = 'Traffic';
  readonly expects: readonly number[];
  readonly info: HandshakeInfo;

  constructor(role: 'client' | 'server', info: HandshakeInfo, _proof: FinishedVerified) {
    this.info = info;
    this.expects = role === 'client' ? [HandshakeType.hello_request] : [HandshakeType.client_hello];
  }

  handle(_msg: HandshakeMessage, io: HandshakeIo): State {
    io.sendWarning(AlertDescription.no_renegotiation);
    return this;
  }
}


