/**
 * A synchronous AEAD behind a small provider interface, so the record layer can run on
 * @noble/ciphers (default, pure JS) or node:crypto (selectable) and both pass the same tests.
 *
 * One `Aead` is created per traffic key; nonces and AAD are supplied per record by
 * `src/record/protection.ts` (RFC 5288 / RFC 7905 nonce construction lives there, not here).
 */
import type { AeadName } from '../../suites.ts';

export interface Aead {
  /** Returns ciphertext ‖ tag (tag is 16 bytes for every AEAD we implement). */
  seal(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array;
  /** Returns the plaintext, or undefined when authentication fails (never throws for bad input). */
  open(nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Uint8Array | undefined;
  /**
   * Optional fast path for bulk data: writes ciphertext ‖ tag into `out` at `at` (room for
   * plaintext.length + 16 bytes is the caller's job) and returns the bytes written, so the record
   * layer can assemble several records in one buffer without intermediate copies.
   */
  sealInto?(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, out: Uint8Array, at: number): number;
  /** Best-effort wipe of the key copy; the Aead must not be used afterwards. */
  destroy?(): void;
}

export interface AeadProvider {
  readonly name: string;
  create(alg: AeadName, key: Uint8Array): Aead;
  /**
   * Optional: a buffer of n bytes that the caller will overwrite entirely (no zero-filling), for
   * record-sized outputs. Must never be a view into shared memory (e.g. Node's Buffer pool).
   */
  allocate?(n: number): Uint8Array;
}

export const AEAD_TAG_LENGTH = 16;

/** Key length each algorithm requires; providers reject anything else with a TypeError (a local bug, not peer input). */
export function aeadKeyLength(alg: AeadName): number {
  switch (alg) {
    case 'AES-128-GCM':
      return 16;
    case 'AES-256-GCM':
    case 'CHACHA20-POLY1305':
      return 32;
    default: {
      const never: never = alg;
      throw new TypeError(`unknown AEAD ${String(never)}`);
    }
  }
}

export function checkAeadKey(alg: AeadName, key: Uint8Array): void {
  const want = aeadKeyLength(alg);
  if (key.length !== want) throw new TypeError(`${alg}: key must be ${want} bytes, got ${key.length}`);
}
