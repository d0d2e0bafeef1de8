/**
 * Options accepted by `connect` and `createServer`, shaped like node:tls's so code written for
 * node:tls ports with few changes, plus the milagro-ts specifics (AEAD provider, injected
 * randomness/time, key-exchange registry hook).
 */
import type { AeadProvider } from '../crypto/aead/provider.ts';
import type { CryptoProvider } from '../crypto/provider.ts';
import type { KexRegistry } from '../kex/registry.ts';
import type { Clock, RandomSource } from '../providers.ts';
import type { KeyValueStore } from '../store/types.ts';
import type { PeerCertificate } from '../x509/index.ts';
import type { MilagroClientOptions, MilagroServerOptions } from './milagro-options.ts';
import type { MilagroP2pClientOptions, MilagroP2pServerOptions } from './milagro-p2p-options.ts';

/** PEM text or buffer, DER buffer, or a list of them (like node:tls `ca`/`cert`). */
export type PemInput = string | Uint8Array;
export type PemInputs = PemInput | readonly PemInput[];

export type CryptoProviderOption = 'noble' | 'node' | CryptoProvider | AeadProvider;

/** Only TLS 1.2 is implemented; the option exists so node:tls-style code keeps working. */
export type TlsVersionName = 'TLSv1.2';

export interface CommonTlsOptions {
  /** Private key for our certificate (PEM or DER; PKCS#8 or SEC1). */
  readonly key?: PemInput;
  /** Our certificate chain, leaf first (PEM may hold several). */
  readonly cert?: PemInputs;
  /** Trust anchors. */
  readonly ca?: PemInputs;
  /** node:tls-style cipher list ("ECDHE-ECDSA-AES128-GCM-SHA256:..."), OpenSSL or IANA names. */
  readonly ciphers?: string;
  /** node:tls-style curve list ("X25519:P-256:P-384"), or "auto" for the default. */
  readonly ecdhCurve?: string;
  readonly minVersion?: string;
  readonly maxVersion?: string;
  /** Milliseconds before an unfinished handshake is aborted (default 120000, as node:tls). */
  readonly handshakeTimeout?: number;
  /**
   * The arithmetic for records, ECDHE and signatures: 'noble' (pure TypeScript, default), 'node'
   * (node:crypto), a CryptoProvider, or a bare AeadProvider (records only; noble for the rest).
   */
  readonly cryptoProvider?: CryptoProviderOption;
  /** Injected randomness and time (tests, replay). Default: system sources. */
  readonly random?: RandomSource;
  readonly clock?: Clock;
  /**
   * Key-exchange hook: a registry to use instead of the default, or a function that extends the
   * default (e.g. `(r) => r.withProvider(milagroCs(credentials))`). Credentials for the Milagro
   * suites travel this way, so the handshake never sees them directly.
   */
  readonly kex?: KexRegistry | ((defaults: KexRegistry) => KexRegistry);
  /**
   * ALPN protocols (RFC 7301) in preference order: names, or node's wire form (a Buffer of
   * length-prefixed names). The server picks its first one the client offers.
   */
  readonly ALPNProtocols?: readonly string[] | Uint8Array;
}

export interface ConnectionOptions extends CommonTlsOptions {
  readonly host?: string;
  readonly port?: number;
  /** An already connected socket (a `net.Socket` or any Duplex) to run TLS over. */
  readonly socket?: import('node:stream').Duplex;
  /**
   * Shared state from createSecureContext(): its `ca` and crypto provider apply when the options
   * give none, and its SignatureCache spares re-verifying a known server chain on reconnects.
   */
  readonly secureContext?: import('./secure-context.ts').SecureContext;
  /** SNI and the name checked against the certificate (default: `host` unless it is an IP). */
  readonly servername?: string;
  /** Abort the handshake if the server certificate is not trusted (default true). */
  readonly rejectUnauthorized?: boolean;
  /**
   * Replaces the host-name check (node:tls semantics): called with the name connected to and the
   * server's leaf as `getPeerCertificate()` shows it; return an Error to refuse.
   */
  readonly checkServerIdentity?: (host: string, cert: PeerCertificate) => Error | undefined;
  /** Local interface/port for the TCP connection (passed to net.connect). */
  readonly localAddress?: string;
  /** Connect timeout: like net.Socket#setTimeout, emits 'timeout' and does nothing else. */
  readonly timeout?: number;
  /** MILAGRO_CS client credentials (identity, token, PIN, time permit); see milagro-options.ts. */
  readonly milagro?: MilagroClientOptions;
  /** MILAGRO_P2P client credentials (identity, receiver key, expected server identity); see milagro-p2p-options.ts. */
  readonly milagroP2p?: MilagroP2pClientOptions;
  /** A session to resume: the Buffer from a previous socket's 'session' event or getSession(). */
  readonly session?: Uint8Array;
  /** RFC 6066 §4 max_fragment_length to ask for: 512, 1024, 2048 or 4096. */
  readonly maxFragmentLength?: 512 | 1024 | 2048 | 4096;
  /** RFC 8449 record_size_limit to announce (64..16384). */
  readonly recordSizeLimit?: number;
}

export interface ServerOptions extends CommonTlsOptions {
  /** Start each accepted socket paused until TLS is set up (net.Server option). */
  readonly allowHalfOpen?: boolean;
  /** MILAGRO_CS server credentials (server secret, time-permit mode, worker pool); see milagro-options.ts. */
  readonly milagro?: MilagroServerOptions;
  /** MILAGRO_P2P server credentials (identity, sender key, allowed clients, worker pool); see milagro-p2p-options.ts. */
  readonly milagroP2p?: MilagroP2pServerOptions;
  /** Ask clients for a certificate (CertificateRequest). */
  readonly requestCert?: boolean;
  /** With requestCert: refuse clients without a certificate that verifies against `ca` (default true, as node:tls). */
  readonly rejectUnauthorized?: boolean;
  /** Seconds a session may be resumed (default 300, as node:tls). */
  readonly sessionTimeout?: number;
  /** 48 bytes of ticket keys shared by the workers of a cluster (node:tls `ticketKeys`). */
  readonly ticketKeys?: Uint8Array;
  /** Issue RFC 5077 tickets (default true); the session-ID cache works either way. */
  readonly sessionTickets?: boolean;
  /** Sessions kept in the session-ID cache (default 1024; 0 disables it). In-process cache only. */
  readonly sessionCacheSize?: number;
  /**
   * State shared by every process of the deployment (see src/store): the session-ID cache, the
   * ticket keys (rotated on a shared schedule unless `ticketKeys` is given) and the MILAGRO_CS
   * replay cache. Default: all three in this process only. The caller opens and closes it.
   */
  readonly store?: KeyValueStore;
  /** Refuse connections beyond this many open ones (net.Server `maxConnections`; 'drop' event). Default: no limit. */
  readonly maxConnections?: number;
  /**
   * Unfinished handshakes allowed at once from one source (an IPv4 address, or an IPv6 /64);
   * further connections from it are closed on accept ('drop' event). Default: no limit.
   */
  readonly maxHandshakesPerSource?: number;
  /**
   * Peer bytes held unprocessed per connection before its handshake completes (default 320 KiB;
   * at least 320 KiB so a 256 KiB client Certificate still fits); more → unexpected_message alert.
   */
  readonly maxHandshakeBuffer?: number;
}
