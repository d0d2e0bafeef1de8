/**
 * The one interface every TLS 1.2 key exchange implements (style.md §7).
 *
 * The handshake stays agnostic of how a premaster secret is agreed: a key exchange
 *  - declares its message flow as data (`KexFlow`): does the server send a Certificate, is the
 *    ServerKeyExchange signed, may the server ask for a client certificate;
 *  - on the client, may add ClientHello extensions (built once, when the hello is written, and
 *    possibly asynchronously: MILAGRO_CS runs its M-Pin client pass there);
 *  - on the server, reads the whole ClientHello and decides whether it can serve this client
 *    BEFORE the suite is selected (MILAGRO_CS verifies the M-Pin proof there; ECDHE picks a
 *    group and a signature scheme);
 *  - owns the inner codec of the ServerKeyExchange and ClientKeyExchange bodies;
 *  - returns the premaster secret, and may report a peer identity.
 * Every method may return a Promise so expensive work (pairings) can leave the event loop; the
 * engine queues input meanwhile and never processes records out of order.
 *
 * Credentials (certificate keys, Milagro secrets) live in the provider objects registered in a
 * `KexRegistry` or in the engine config; sessions are created per connection.
 */
import type { Clock, RandomSource } from '../providers.ts';
import type { CipherSuite, KexName } from '../suites.ts';
import type { ClientHello, Extension, ServerHello } from '../handshake/messages/types.ts';
import type { Certificate, PrivateKey, PublicKey } from '../x509/types.ts';

export type MaybePromise<T> = T | Promise<T>;

/**
 * Which optional messages of RFC 5246 §7.3 (Figure 1) a key exchange uses. The handshake states
 * consult this; `src/handshake/flows.ts` turns it into the expected-message table.
 */
export interface KexFlow {
  /** Server sends Certificate (RFC 5246 §7.4.2). Milagro suites: no (milagro.md §7.2). */
  readonly serverCertificate: boolean;
  /** Server sends ServerKeyExchange (§7.4.3). */
  readonly serverKeyExchange: boolean;
  /** The ServerKeyExchange is signed with the certificate key (ECDHE); Milagro: unsigned. */
  readonly signedServerKeyExchange: boolean;
  /** Server may send CertificateRequest (§7.4.4); Milagro: never. */
  readonly certificateRequestAllowed: boolean;
}

/** Set by Milagro key exchanges: who the peer proved to be (engine-contract HandshakeInfo). */
export interface PeerIdentity {
  readonly kind: 'mpin' | 'wcc';
  readonly hashId: Uint8Array;
  readonly identity?: string;
}

/** What a client-side session gets when it is created (when the ClientHello is built). */
export interface ClientKexContext {
  /** The offered suites that use this key exchange, in preference order. */
  readonly suites: readonly CipherSuite[];
  /** Named groups we offer (supported_groups), in preference order. */
  readonly groups: readonly number[];
  /** Signature schemes we offer in signature_algorithms (RFC 5246 §7.4.1.4.1). */
  readonly signatureSchemes: readonly number[];
  readonly clientRandom: Uint8Array;
  readonly random: RandomSource;
  readonly clock: Clock;
  readonly servername?: string;
}

/** What the client knows once the server has chosen a suite of this key exchange. */
export interface ClientKexSelection {
  readonly suite: CipherSuite;
  readonly serverHello: ServerHello;
  readonly clientRandom: Uint8Array;
  readonly serverRandom: Uint8Array;
  /** Public key of the server's leaf certificate when the flow has a Certificate. */
  readonly serverPublicKey?: PublicKey;
}

export interface ClientKexResult {
  /** ClientKeyExchange body (after the 4-byte handshake header); the kex owns its codec. */
  readonly body: Uint8Array;
  readonly premaster: Uint8Array;
}

export interface ClientKeyExchangeSession {
  /** ClientHello extensions this key exchange adds; called once, when the hello is written. */
  helloExtensions?(): MaybePromise<readonly Extension[]>;
  /** Read (and, for signed flows, verify) the ServerKeyExchange body. */
  processServerKeyExchange(body: Uint8Array, selection: ClientKexSelection): MaybePromise<void>;
  /** Build the ClientKeyExchange body and compute the premaster secret. */
  clientKeyExchange(selection: ClientKexSelection): MaybePromise<ClientKexResult>;
  /** Group name for HandshakeInfo ('x25519', ...), once known. */
  readonly group?: string | undefined;
  readonly peerIdentity?: PeerIdentity | undefined;
}

/** What a server-side session gets when it is created (when a ClientHello arrives). */
export interface ServerKexContext {
  /** Our named groups in preference order. */
  readonly groups: readonly number[];
  readonly certificateChain?: readonly Certificate[] | undefined;
  readonly privateKey?: PrivateKey | undefined;
  readonly random: RandomSource;
  readonly clock: Clock;
  /**
   * The client's network address when known (the API's accepted sockets): expensive work is
   * queued per address so one source cannot starve the others (issue 11 §3). Never trusted for
   * authentication.
   */
  readonly peerAddress?: string | undefined;
}

export interface ServerKexSelection {
  readonly suite: CipherSuite;
  readonly clientHello: ClientHello;
  readonly clientRandom: Uint8Array;
  readonly serverRandom: Uint8Array;
}

export interface ServerKeyExchangeSession {
  /**
   * Read the ClientHello (all extensions) before suite selection and say whether this key
   * exchange can serve the client. `false` lets the server try its next suite; throwing a
   * TlsError aborts the handshake (e.g. a failed M-Pin proof → access_denied). Called at most
   * once per connection.
   */
  acceptClient(hello: ClientHello): MaybePromise<boolean>;
  /** Extensions to add to the ServerHello (none for ECDHE or Milagro). */
  serverHelloExtensions?(): readonly Extension[];
  /** Build the ServerKeyExchange body (signed when the flow says so). */
  serverKeyExchange(selection: ServerKexSelection): MaybePromise<Uint8Array>;
  /** Read the ClientKeyExchange body; return the premaster secret. */
  processClientKeyExchange(body: Uint8Array, selection: ServerKexSelection): MaybePromise<Uint8Array>;
  readonly group?: string | undefined;
  readonly peerIdentity?: PeerIdentity | undefined;
}

/** A key exchange as registered in the config: its flow plus factories for per-connection sessions. */
export interface KeyExchangeProvider {
  readonly name: KexName;
  readonly flow: KexFlow;
  client(ctx: ClientKexContext): ClientKeyExchangeSession;
  server(ctx: ServerKexContext): ServerKeyExchangeSession;
}
