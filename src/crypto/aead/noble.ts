/**
 * AEAD provider on @noble/ciphers: AES-GCM (NIST SP 800-38D) and ChaCha20-Poly1305 (RFC 8439).
 * The default provider: pure JavaScript, audited, no native code.
 */
import { gcm } from '@noble/ciphers/aes.js';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import type { AeadName } from '../../suites.ts';
import { AEAD_TAG_LENGTH, checkAeadKey, type Aead, type AeadProvider } from './provider.ts';

type NobleCipherFactory = (key: Uint8Array, nonce: Uint8Array, aad?: Uint8Array) => {
  encrypt(plaintext: Uint8Array): Uint8Array;
  decrypt(ciphertext: Uint8Array): Uint8Array;
};

function factoryFor(alg: AeadName): NobleCipherFactory {
  switch (alg) {
    case 'AES-128-GCM':
    case 'AES-256-GCM':
      return gcm;
    case 'CHACHA20-POLY1305':
      return chacha20poly1305;
    default: {
      const never: never = alg;
      throw new TypeError(`unknown AEAD ${String(never)}`);
    }
  }
}

class NobleAead implements Aead {
  readonly #key: Uint8Array;
  readonly #make: NobleCipherFactory;

  constructor(make: NobleCipherFactory, key: Uint8Array) {
    this.#make = make;
    // Own copy: the caller may wipe or reuse its key-block buffer.
    this.#key = key.slice();
  }

  seal(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array {
    return this.#make(this.#key, nonce, aad).encrypt(plaintext);
  }

  sealInto(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, out: Uint8Array, at: number): number {
    // noble's GCM takes no output buffer; one copy of a record is small next to the cipher work.
    const sealed = this.#make(this.#key, nonce, aad).encrypt(plaintext);
    out.set(sealed, at);
    return sealed.length;
  }

  open(nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Uint8Array | undefined {
    if (sealed.length < AEAD_TAG_LENGTH) return undefined;
    try {
      return this.#make(this.#key, nonce, aad).decrypt(sealed);
    } catch {
      // noble throws on a bad tag; the record layer turns undefined into bad_record_mac.
      return undefined;
    }
  }

  destroy(): void {
    this.#key.fill(0);
  }
}

export const nobleAeadProvider: AeadProvider = Object.freeze({
  name: 'noble',
  create(alg: AeadName, key: Uint8Array): Aead {
    checkAeadKey(alg, key);
    return new NobleAead(factoryFor(alg), key);
  },
});
