/**
 * ECDH groups for ECDHE (RFC 8422 §5.10, RFC 7748): key generation from injected randomness and
 * a validating shared-secret step. Two interchangeable backends implement the same table:
 * @noble/curves here (the default, pure TypeScript) and node:crypto in ecdh-node.ts (native
 * OpenSSL, much faster; selected like the AEAD provider).
 *
 * Peer points are validated at this boundary: exact length, uncompressed form for the NIST
 * curves (the only format we advertise, RFC 8422 §5.1.2), on the curve, X25519 low-order inputs
 * and an all-zero shared secret rejected (RFC 8422 §5.11, RFC 7748 §6.1). Backend errors are
 * wrapped into IllegalParameterError.
 */
import { x25519 } from '@noble/curves/ed25519.js';
import { p256, p384 } from '@noble/curves/nist.js';
import { IllegalParameterError } from '../alerts.ts';
import type { RandomSource } from '../providers.ts';
import { NamedGroup } from '../handshake/messages/types.ts';

export type EcdhGroupName = 'x25519' | 'secp256r1' | 'secp384r1';

/** An ephemeral key pair; the secret stays inside. */
export interface EcdhKeyPair {
  readonly publicKey: Uint8Array;
  /** Premaster secret with the peer's encoded point; throws IllegalParameterError for a bad point. */
  sharedSecret(peerPublic: Uint8Array): Uint8Array;
  /** Best-effort wipe of the secret. */
  destroy(): void;
}

export interface EcdhGroup {
  readonly id: number;
  readonly name: EcdhGroupName;
  /** Exact encoded public key length on the wire. */
  readonly publicKeyLength: number;
  generate(random: RandomSource): EcdhKeyPair;
}

/** A backend: one implementation per group. */
export interface EcdhBackend {
  readonly name: string;
  readonly groups: readonly EcdhGroup[];
}

export function invalidPoint(group: string, cause?: unknown): IllegalParameterError {
  return new IllegalParameterError(`${group}: invalid peer public key`, cause === undefined ? undefined : { cause });
}

/** RFC 8422 §5.11 / RFC 7748 §6.1: abort on an all-zero X25519 output. */
export function rejectAllZero(shared: Uint8Array, group: string): Uint8Array {
  let acc = 0;
  for (const b of shared) acc |= b;
  if (acc === 0) throw invalidPoint(group);
  return shared;
}

/** Uncompressed SEC1 point check done before any backend sees the bytes: 0x04 ‖ X ‖ Y. */
export function checkUncompressed(peerPublic: Uint8Array, fieldLength: number, group: string): void {
  if (peerPublic.length !== 1 + 2 * fieldLength || peerPublic[0] !== 0x04) throw invalidPoint(group);
}

/** NIST scalars from injected randomness: noble's FIPS 186-5 style reduction of a 48/72-byte seed. */
export function nistSecretKey(curve: 'secp256r1' | 'secp384r1', random: RandomSource): Uint8Array {
  const c = curve === 'secp256r1' ? p256 : p384;
  return c.utils.randomSecretKey(random(c.lengths.seed ?? 48));
}

const nobleX25519: EcdhGroup = Object.freeze({
  id: NamedGroup.x25519,
  name: 'x25519',
  publicKeyLength: 32,
  generate(random: RandomSource): EcdhKeyPair {
    const secretKey = random(32);
    return {
      publicKey: x25519.getPublicKey(secretKey),
      sharedSecret(peerPublic: Uint8Array): Uint8Array {
        if (peerPublic.length !== 32) throw invalidPoint('x25519');
        let shared: Uint8Array;
        try {
          shared = x25519.getSharedSecret(secretKey, peerPublic);
        } catch (e) {
          throw invalidPoint('x25519', e); // low-order point
        }
        return rejectAllZero(shared, 'x25519');
      },
      destroy: () => secretKey.fill(0),
    };
  },
} satisfies EcdhGroup);

function nobleNist(curve: typeof p256, id: number, name: 'secp256r1' | 'secp384r1', fieldLength: number): EcdhGroup {
  return Object.freeze({
    id,
    name,
    publicKeyLength: 1 + 2 * fieldLength,
    generate(random: RandomSource): EcdhKeyPair {
      const secretKey = nistSecretKey(name, random);
      return {
        publicKey: curve.getPublicKey(secretKey, false),
        sharedSecret(peerPublic: Uint8Array): Uint8Array {
          // The identity has no uncompressed encoding; `getSharedSecret` decodes with
          // `fromBytes`, which checks the curve equation.
          checkUncompressed(peerPublic, fieldLength, name);
          let shared: Uint8Array;
          try {
            shared = curve.getSharedSecret(secretKey, peerPublic, true);
          } catch (e) {
            throw invalidPoint(name, e);
          }
          // RFC 8422 §5.10: the premaster secret is the x-coordinate, FE2OSP-encoded.
          return shared.slice(1);
        },
        destroy: () => secretKey.fill(0),
      };
    },
  } satisfies EcdhGroup);
}

export const nobleEcdh: EcdhBackend = Object.freeze({
  name: 'noble',
  groups: Object.freeze([
    nobleX25519,
    nobleNist(p256, NamedGroup.secp256r1, 'secp256r1', 32),
    nobleNist(p384, NamedGroup.secp384r1, 'secp384r1', 48),
  ]),
});

export function groupById(backend: EcdhBackend, id: number): EcdhGroup | undefined {
  return backend.groups.find((g) => g.id === id);
}
