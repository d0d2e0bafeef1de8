/**
 * Engine configuration (engine-contract "Config"). Plain readonly data: suites by reference,
 * injected randomness and time, the AEAD provider and the key-exchange registry. Credentials for
 * the Milagro key exchanges live in their providers inside `kex`.
 */
import type { AeadProvider } from '../crypto/aead/provider.ts';
import { nobleAeadProvider } from '../crypto/aead/noble.ts';
import { NamedGroup } from './messages/types.ts';
import { systemClock, systemRandom, type Clock, type RandomSource } from '../providers.ts';
import { Suites, type CipherSuite } from '../suites.ts';
import { defaultKexRegistry, type KexRegistry } from '../kex/registry.ts';
import type { Certificate, PrivateKey } from '../x509/types.ts';
import type { SignatureBackend } from '../x509/signature.ts';
import type { SignatureCache } from '../x509/chain.ts';
import type { MaxFragmentLength } from './messages/extensions/max-fragment-length.ts';
import type { SessionStore } from './session/store.ts';
import type { SessionState } from './session/state.ts';

export interface CommonEngineConfig {
  /** In preference order (the server picks by its own order). */
  readonly suites: readonly CipherSuite[];
  /** Named groups (RFC 8422), in preference order; default [x25519, secp256r1, secp384r1]. */
  readonly groups: readonly NamedGroup[];
  readonly random: RandomSource;
  readonly clock: Clock;
  readonly aeadProvider: AeadProvider;
  readonly kex: KexRegistry;
  /** Offer / accept the extended master secret (RFC 7627). Default true. */
  readonly extendedMasterSecret?: boolean;
  /**
   * Put each handshake message in its own record, as mbedTLS does, instead of one record per
   * flight. Wire-equivalent (RFC 5246 §6.2.1); used to reproduce milagro-tls recordings byte for
   * byte. Default false.
   */
  readonly recordPerHandshakeMessage?: boolean;
  /**
   * ALPN (RFC 7301) protocol names in preference order. Client: offered; server: the first of
   * ours the client also offers is chosen (server preference, like OpenSSL/node:tls), and a
   * client offering none of them gets no_application_protocol (§3.2).
   */
  readonly alpnProtocols?: readonly string[];
  /**
   * Signature arithmetic for certificate chains and CertificateVerify: noble (default) or
   * node:crypto (x509/signature-node.ts). The ServerKeyExchange signature belongs to the kex.
   */
  readonly signatures?: SignatureBackend;
  /** Certificate signatures already verified, shared by the handshakes of one configuration. */
  readonly certificateCache?: SignatureCache;
  /**
   * Peer bytes held unprocessed before the handshake completes (input queued while a key-exchange
   * step runs, partial records and messages); more → unexpected_message. Default 320 KiB
   * (DEFAULT_MAX_HANDSHAKE_BUFFER); it must exceed the largest message accepted (Certificate, 256 KiB).
   */
  readonly maxHandshakeBuffer?: number;
}

export interface ClientEngineConfig extends CommonEngineConfig {
  /** SNI (RFC 6066 §3; not sent for IP literals) and the name checked against the certificate. */
  readonly servername?: string;
  /** Trust anchors. */
  readonly ca: readonly Certificate[];
  /** Abort with a fatal alert (bad_certificate / unknown_ca / certificate_expired) if the chain is invalid. */
  readonly rejectUnauthorized: boolean;
  /** Replaces the built-in hostname check (node:tls semantics). */
  readonly checkServerIdentity?: (host: string, cert: Certificate) => Error | undefined;
  /** signature_algorithms to offer; default: everything src/x509 can verify. */
  readonly signatureSchemes?: readonly number[];
  /** A session to resume (RFC 5246 §7.3 abbreviated handshake; by ticket when it has one, RFC 5077). */
  readonly session?: SessionState;
  /** Ask for RFC 5077 tickets (default true). */
  readonly sessionTickets?: boolean;
  /** Client certificate chain and key, sent when the server asks (RFC 5246 §7.4.6). */
  readonly certificateChain?: readonly Certificate[];
  readonly privateKey?: PrivateKey;
  /** RFC 6066 §4 max_fragment_length to request. */
  readonly maxFragmentLength?: MaxFragmentLength;
  /** RFC 8449 record_size_limit to announce (64..16384). */
  readonly recordSizeLimit?: number;
}

export interface ServerEngineConfig extends CommonEngineConfig {
  /** Leaf first (ECDHE suites). */
  readonly certificateChain?: readonly Certificate[];
  readonly privateKey?: PrivateKey;
  /** Send a CertificateRequest (RFC 5246 §7.4.4) on full ECDHE handshakes. */
  readonly requestCert?: boolean;
  /** With requestCert: abort unless the client sends a certificate that verifies against `ca`. */
  readonly rejectUnauthorized?: boolean;
  /** Trust anchors for client certificates (also named in the CertificateRequest). */
  readonly ca?: readonly Certificate[];
  /** Session-ID cache and ticket keys shared by a server's connections; none → no resumption. */
  readonly sessionStore?: SessionStore;
  /**
   * This connection's remote address (set per connection by the API): key exchanges queue their
   * worker-pool jobs under it (fair scheduling, issue 11 §3).
   */
  readonly peerAddress?: string | undefined;
}

export const defaultGroups: readonly NamedGroup[] = Object.freeze([NamedGroup.x25519, NamedGroup.secp256r1, NamedGroup.secp384r1]);

export const defaultSuites: readonly CipherSuite[] = Object.freeze([
  Suites.ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
  Suites.ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
  Suites.ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
]);

type Defaulted = 'suites' | 'groups' | 'random' | 'clock' | 'aeadProvider' | 'kex';
type WithDefaults<T> = Omit<T, Defaulted> & Partial<Pick<T, Defaulted & keyof T>>;

function common(o: Partial<CommonEngineConfig>): CommonEngineConfig {
  return {
    suites: o.suites ?? defaultSuites,
    groups: o.groups ?? defaultGroups,
    random: o.random ?? systemRandom,
    clock: o.clock ?? systemClock,
    aeadProvider: o.aeadProvider ?? nobleAeadProvider,
    kex: o.kex ?? defaultKexRegistry(),
  };
}

/** Fill the defaults of a client config (system randomness/clock, noble AEAD, ECDHE suites). */
export function clientConfig(o: WithDefaults<ClientEngineConfig>): ClientEngineConfig {
  return { ...o, ...common(o) };
}

export function serverConfig(o: WithDefaults<ServerEngineConfig>): ServerEngineConfig {
  return { ...o, ...common(o) };
}
