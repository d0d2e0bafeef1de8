/**
 * AEAD provider on node:crypto (OpenSSL): much faster bulk encryption, selectable by option.
 * Outputs are converted from Buffer to plain Uint8Array views at this boundary (style.md §1).
 */
import { createCipheriv, createDecipheriv, type CipherGCMTypes, type CipherChaCha20Poly1305Types } from 'node:crypto';
import type { AeadName } from '../../suites.ts';
import { AEAD_TAG_LENGTH, checkAeadKey, type Aead, type AeadProvider } from './provider.ts';

type NodeAlg = CipherGCMTypes | CipherChaCha20Poly1305Types;

function nodeName(alg: AeadName): NodeAlg {
  switch (alg) {
    case 'AES-128-GCM':
      return 'aes-128-gcm';
    case 'AES-256-GCM':
      return 'aes-256-gcm';
    case 'CHACHA20-POLY1305':
      return 'chacha20-poly1305';
    default: {
      const never: never = alg;
      throw new TypeError(`unknown AEAD ${String(never)}`);
    }
  }
}

/**
 * A plain Uint8Array over a Buffer's bytes. Small Buffers live in Node's shared pool; those are
 * copied so that `.buffer` of a returned plaintext never exposes neighbouring pool memory.
 */
function own(b: Buffer): Uint8Array {
  if (b.byteOffset === 0 && b.byteLength === b.buffer.byteLength) return new Uint8Array(b.buffer, 0, b.byteLength);
  return new Uint8Array(b); // copies
}

class NodeAead implements Aead {
  readonly #alg: NodeAlg;
  readonly #key: Uint8Array;

  constructor(alg: NodeAlg, key: Uint8Array) {
    this.#alg = alg;
    this.#key = key.slice();
  }

  seal(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array {
    const out = new Uint8Array(plaintext.length + AEAD_TAG_LENGTH);
    this.sealInto(nonce, aad, plaintext, out, 0);
    return out;
  }

  sealInto(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, out: Uint8Array, at: number): number {
    // One cipher object per record is inherent to node's GCM API (no re-keying with a new IV).
    // The overload union needs one concrete algorithm type per call; all three take authTagLength.
    const c = createCipheriv(this.#alg as 'aes-128-gcm', this.#key, nonce, { authTagLength: AEAD_TAG_LENGTH });
    // plaintextLength is only required for CCM; GCM and ChaCha20-Poly1305 stream the AAD.
    c.setAAD(aad);
    const body = c.update(plaintext);
    out.set(body, at);
    let n = body.length;
    const fin = c.final(); // empty for GCM and ChaCha20-Poly1305 (stream modes)
    if (fin.length > 0) {
      out.set(fin, at + n);
      n += fin.length;
    }
    out.set(c.getAuthTag(), at + n);
    return n + AEAD_TAG_LENGTH;
  }

  open(nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Uint8Array | undefined {
    if (sealed.length < AEAD_TAG_LENGTH) return undefined;
    const ctLen = sealed.length - AEAD_TAG_LENGTH;
    try {
      const d = createDecipheriv(this.#alg as 'aes-128-gcm', this.#key, nonce, { authTagLength: AEAD_TAG_LENGTH });
      d.setAuthTag(sealed.subarray(ctLen));
      d.setAAD(aad);
      const body = d.update(sealed.subarray(0, ctLen));
      const fin = d.final(); // throws on a bad tag
      if (fin.length === 0) return own(body);
      const out = new Uint8Array(body.length + fin.length);
      out.set(body, 0);
      out.set(fin, body.length);
      return out;
    } catch {
      return undefined;
    }
  }

  destroy(): void {
    this.#key.fill(0);
  }
}

export const nodeAeadProvider: AeadProvider = Object.freeze({
  name: 'node',
  create(alg: AeadName, key: Uint8Array): Aead {
    checkAeadKey(alg, key);
    return new NodeAead(nodeName(alg), key);
  },
  allocate(n: number): Uint8Array {
    // allocUnsafeSlow: never from the shared pool, and no zero-fill (a record buffer is fully
    // overwritten; profiling put zero-filling 64 KiB writes at ~3% of bulk CPU).
    const b = Buffer.allocUnsafeSlow(n);
    return new Uint8Array(b.buffer, b.byteOffset, n);
  },
});
