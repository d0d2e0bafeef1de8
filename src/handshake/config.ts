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
}

export interface ServerEngineConfig extends CommonEngineConfig {
  /** Leaf first (ECDHE suites). */
  readonly certificateChain?: readonly Certificate[];
  readonly privateKey?: PrivateKey;
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
