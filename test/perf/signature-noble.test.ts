/**
 * The caching noble backend (signature-noble.ts): its table-based SEC 1 §4.1.4 verification must
 * accept exactly what noble's `verify` accepts — for both curves, every hash (including digests
 * longer than the group order, RFC 6979 §2.3.2 truncation), high-S signatures, and forgeries.
 */
import { p256, p384 } from '@noble/curves/nist.js';
import { describe, expect, it } from 'vitest';
import { NobleSignatureBackend } from '../../src/x509/signature-noble.ts';
import { SignatureScheme, nobleSignatures, signTls, verifyTls } from '../../src/x509/signature.ts';
import { fixtureKey, seededRandom } from '../handshake/helpers.ts';

const schemes = [SignatureScheme.ecdsa_secp256r1_sha256, SignatureScheme.ecdsa_secp384r1_sha384, SignatureScheme.ecdsa_secp521r1_sha512];

/** The same signature with s replaced by n − s (the high-S twin), DER re-encoded. */
function highS(der: Uint8Array, curve: typeof p256): Uint8Array {
  const sig = curve.Signature.fromBytes(der, 'der');
  const n = curve.Point.CURVE().n;
  return new curve.Signature(sig.r, n - sig.s).toBytes('der');
}

describe('SEC 1 §4.1.4 ECDSA verification with a per-key table agrees with noble', () => {
  for (const [file, curve] of [
    ['server-ec256.key', p256],
    ['server-ec384.key', p384],
  ] as const) {
    it(`${file}: 60 random messages × 3 hashes, good, high-S and forged signatures`, () => {
      const key = fixtureKey(file);
      const random = seededRandom(file);
      const cached = new NobleSignatureBackend();
      for (let i = 0; i < 60; i++) {
        const scheme = schemes[i % 3] as number;
        const data = random(1 + (i % 97));
        const sig = signTls(key, scheme, data, random, nobleSignatures);
        const forged = Uint8Array.from(sig);
        forged[forged.length - 1 - (i % 8)] = (forged[forged.length - 1 - (i % 8)] as number) ^ (1 << i % 8);
        const other = Uint8Array.from(data);
        other[0] = (other[0] as number) ^ 0x80;
        for (const [s, d] of [
          [sig, data],
          [highS(sig, curve), data],
          [forged, data],
          [sig, other],
        ] as const) {
          expect(verifyTls(key.publicKey, scheme, d, s, cached)).toBe(verifyTls(key.publicKey, scheme, d, s, nobleSignatures));
        }
        expect(verifyTls(key.publicKey, scheme, data, sig, cached)).toBe(true);
      }
      expect(cached.size).toBe(1);
    });
  }

  it('malformed DER, r or s out of range are refused once the table exists', () => {
    const key = fixtureKey('server-ec256.key');
    const cached = new NobleSignatureBackend();
    const data = new Uint8Array(40).fill(3);
    const sig = signTls(key, SignatureScheme.ecdsa_secp256r1_sha256, data, seededRandom('x'), nobleSignatures);
    expect(verifyTls(key.publicKey, SignatureScheme.ecdsa_secp256r1_sha256, data, sig, cached)).toBe(true);
    expect(verifyTls(key.publicKey, SignatureScheme.ecdsa_secp256r1_sha256, data, sig, cached)).toBe(true);
    const n = p256.Point.CURVE().n;
    const zero = Uint8Array.of(0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x01);
    const big = new p256.Signature(1n, 1n).toBytes('der');
    big[big.length - 1] = 1;
    const nAsR = new Uint8Array([0x30, 0x26, 0x02, 0x21, 0x00, ...p256.Point.Fn.toBytes(n - 1n), 0x02, 0x01, 0x01]);
    nAsR[4 + 32] = (nAsR[4 + 32] as number) + 1; // r = n: out of range
    for (const bad of [new Uint8Array(0), zero, sig.subarray(0, sig.length - 1), Uint8Array.of(...sig, 0), nAsR]) {
      expect(verifyTls(key.publicKey, SignatureScheme.ecdsa_secp256r1_sha256, data, bad, cached)).toBe(false);
    }
  });

  it('keeps at most maxKeys keys, dropping the oldest', () => {
    const cached = new NobleSignatureBackend({ maxKeys: 2 });
    const random = seededRandom('keys');
    const data = new Uint8Array(8);
    for (const file of ['server-ec256.key', 'server-ec384.key', 'client-only.key']) {
      const key = fixtureKey(file);
      const scheme = SignatureScheme.ecdsa_secp256r1_sha256;
      const sig = signTls(key, scheme, data, random, nobleSignatures);
      expect(verifyTls(key.publicKey, scheme, data, sig, cached)).toBe(true);
    }
    expect(cached.size).toBe(2);
  });
});
