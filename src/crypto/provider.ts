/**
 * The crypto provider: one choice for all the arithmetic a connection does — record AEAD, ECDHE,
 * and signatures (ServerKeyExchange, CertificateVerify, certificate chains). `noble` (pure
 * TypeScript, the default) and `node` (node:crypto, provider-node.ts) implement the same three
 * small interfaces and pass the same tests; the protocol code never knows which one runs.
 *
 * This module sits above `kex` and `x509` only to compose their backends (type and value
 * imports); nothing below `api` imports it.
 */
import { nobleAeadProvider } from './aead/noble.ts';
import type { AeadProvider } from './aead/provider.ts';
import { nobleEcdh, type EcdhBackend } from '../kex/ecdh.ts';
import { nobleSignatures, type SignatureBackend } from '../x509/signature.ts';
import { createNobleSignatures } from '../x509/signature-noble.ts';

export interface CryptoProvider {
  readonly name: string;
  /** Record-layer AEAD (RFC 5288, RFC 7905). */
  readonly aead: AeadProvider;
  /** ECDHE groups (RFC 8422, RFC 7748), with peer-point validation. */
  readonly ecdh: EcdhBackend;
  /** ECDSA / RSA sign and verify (RFC 5246 §7.4.1.4.1, RFC 5280 §6.1.3). */
  readonly signatures: SignatureBackend;
}

/** Pure TypeScript: @noble/ciphers, @noble/curves and our bigint RSA. Stateless, so one shared instance. */
export const nobleCryptoProvider: CryptoProvider = Object.freeze({
  name: 'noble',
  aead: nobleAeadProvider,
  ecdh: nobleEcdh,
  signatures: nobleSignatures,
});

/**
 * A noble provider with its own state: ECDSA keys verified more than once (a server a client
 * reconnects to) get precomputed tables (signature-noble.ts). What `cryptoProvider: 'noble'`
 * resolves to, one per server, secure context or client connection.
 */
export function createNobleCryptoProvider(): CryptoProvider {
  return Object.freeze({ name: 'noble', aead: nobleAeadProvider, ecdh: nobleEcdh, signatures: createNobleSignatures() });
}

/** Whether `x` is a whole CryptoProvider (as opposed to a bare AeadProvider). */
export function isCryptoProvider(x: unknown): x is CryptoProvider {
  if (typeof x !== 'object' || x === null) return false;
  const p = x as Partial<CryptoProvider>;
  return (
    typeof p.aead === 'object' &&
    p.aead !== null &&
    typeof p.aead.create === 'function' &&
    typeof p.ecdh === 'object' &&
    p.ecdh !== null &&
    Array.isArray(p.ecdh.groups) &&
    typeof p.signatures === 'object' &&
    p.signatures !== null &&
    typeof p.signatures.ecdsaVerify === 'function'
  );
}
