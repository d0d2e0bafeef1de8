/**
 * A `SignatureBackend` on node:crypto (native OpenSSL): ECDSA P-256/P-384 and RSA PKCS#1 v1.5 /
 * PSS sign and verify for TLS handshake signatures and certificate chains. The scheme rules stay
 * in signature.ts and chain.ts; this file only does the arithmetic.
 *
 * KeyObjects are built once per key object and kept in WeakMaps owned by the backend instance
 * (no module state): a server's private key and a client's trust anchors are converted once.
 * A peer's certificate is parsed afresh each handshake, so public keys are also remembered by
 * value in a small bounded map: a client reconnecting to the same server imports its key once.
 *
 * Randomness: OpenSSL draws the ECDSA nonce and the PSS salt from its own CSPRNG, so the
 * injected RandomSource is not used for signing here (recorded-handshake replays use noble).
 */
import { constants, createPrivateKey, createPublicKey, sign, verify, type JsonWebKey, type KeyObject } from 'node:crypto';
import { bigIntToBytes } from './der.ts';
import { curveByteLength } from './keys.ts';
import type { HashName } from './rsa.ts';
import type { EcPrivateKey, EcPublicKey, RsaPrivateKey, RsaPublicKey, SignatureBackend } from './signature.ts';

function b64url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

/** Unsigned big-endian, minimal length (JWK RFC 7518 §6.3.1: no leading zero octets). */
function intB64(n: bigint): string {
  const len = Math.max(1, Math.ceil(n.toString(16).length / 2));
  return b64url(bigIntToBytes(n, len));
}

function ecJwk(curve: EcPublicKey['curve'], point: Uint8Array): JsonWebKey {
  const len = curveByteLength(curve);
  // The point is stored uncompressed and validated (keys.ts): 0x04 ‖ X ‖ Y.
  if (point.length !== 1 + 2 * len || point[0] !== 0x04) throw new TypeError(`malformed ${curve} point`);
  return { kty: 'EC', crv: curve, x: b64url(point.subarray(1, 1 + len)), y: b64url(point.subarray(1 + len)) };
}

const view = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

/** Public keys remembered by value per backend instance. */
const MAX_KEYS_BY_VALUE = 32;

function publicKeyId(key: EcPublicKey | RsaPublicKey): string {
  return key.type === 'ec' ? `ec:${key.curve}:${view(key.point).toString('hex')}` : `rsa:${key.e.toString(16)}:${key.n.toString(16)}`;
}

export class NodeSignatureBackend implements SignatureBackend {
  readonly name = 'node';
  readonly #public = new WeakMap<object, KeyObject>();
  readonly #private = new WeakMap<object, KeyObject>();
  readonly #byValue = new Map<string, KeyObject>();

  #publicKey(key: EcPublicKey | RsaPublicKey): KeyObject {
    let ko = this.#public.get(key);
    if (ko !== undefined) return ko;
    const id = publicKeyId(key);
    ko = this.#byValue.get(id);
    if (ko === undefined) {
      const jwk: JsonWebKey = key.type === 'ec' ? ecJwk(key.curve, key.point) : { kty: 'RSA', n: intB64(key.n), e: intB64(key.e) };
      ko = createPublicKey({ key: jwk, format: 'jwk' });
      if (this.#byValue.size >= MAX_KEYS_BY_VALUE) {
        const oldest = this.#byValue.keys().next();
        if (oldest.done !== true) this.#byValue.delete(oldest.value);
      }
      this.#byValue.set(id, ko);
    }
    this.#public.set(key, ko);
    return ko;
  }

  #privateKey(key: EcPrivateKey | RsaPrivateKey): KeyObject {
    let ko = this.#private.get(key);
    if (ko === undefined) {
      const jwk: JsonWebKey =
        key.type === 'ec'
          ? { ...ecJwk(key.curve, key.publicKey.point), d: b64url(key.d) }
          : {
              kty: 'RSA',
              n: intB64(key.n),
              e: intB64(key.e),
              d: intB64(key.d),
              p: intB64(key.p),
              q: intB64(key.q),
              dp: intB64(key.dp),
              dq: intB64(key.dq),
              qi: intB64(key.qi),
            };
      ko = createPrivateKey({ key: jwk, format: 'jwk' });
      this.#private.set(key, ko);
    }
    return ko;
  }

  ecdsaSign(key: EcPrivateKey, hash: HashName, data: Uint8Array): Uint8Array {
    return new Uint8Array(sign(hash, view(data), { key: this.#privateKey(key), dsaEncoding: 'der' }));
  }

  ecdsaVerify(key: EcPublicKey, hash: HashName, data: Uint8Array, derSignature: Uint8Array): boolean {
    return verify(hash, view(data), { key: this.#publicKey(key), dsaEncoding: 'der' }, view(derSignature));
  }

  rsaPkcs1Sign(key: RsaPrivateKey, hash: HashName, data: Uint8Array): Uint8Array {
    return new Uint8Array(sign(hash, view(data), { key: this.#privateKey(key), padding: constants.RSA_PKCS1_PADDING }));
  }

  rsaPkcs1Verify(key: RsaPublicKey, hash: HashName, data: Uint8Array, signature: Uint8Array): boolean {
    return verify(hash, view(data), { key: this.#publicKey(key), padding: constants.RSA_PKCS1_PADDING }, view(signature));
  }

  rsaPssSign(key: RsaPrivateKey, hash: HashName, data: Uint8Array): Uint8Array {
    return new Uint8Array(
      sign(hash, view(data), { key: this.#privateKey(key), padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }),
    );
  }

  rsaPssVerify(key: RsaPublicKey, hash: HashName, data: Uint8Array, signature: Uint8Array, saltLength: number): boolean {
    return verify(hash, view(data), { key: this.#publicKey(key), padding: constants.RSA_PKCS1_PSS_PADDING, saltLength }, view(signature));
  }
}

/** A fresh node:crypto signature backend with its own KeyObject caches. */
export function createNodeSignatures(): SignatureBackend {
  return new NodeSignatureBackend();
}
