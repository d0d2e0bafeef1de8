import { constants, createPrivateKey, generateKeyPairSync, sign as nodeSign, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadPrivateKey, SignatureScheme, signTls, verifyTls } from '../../src/x509/index.ts';
import { modPow, rsaPkcs1Verify, rsaPssVerify, type HashName } from '../../src/x509/rsa.ts';
import { fixture, seededRandom } from './helpers.ts';

const msg = new TextEncoder().encode('RFC 8017 test message');

function rsaKeyFrom(k: KeyObject): { n: bigint; e: bigint } {
  const jwk = k.export({ format: 'jwk' });
  const big = (s: string | undefined): bigint => BigInt('0x' + Buffer.from(s ?? '', 'base64url').toString('hex'));
  return { n: big(jwk.n), e: big(jwk.e) };
}

describe('RFC 8017 RSA verification cross-checked with node:crypto', () => {
  const k2048 = createPrivateKey(fixture('server-rsa2048.key'));
  const k3072 = generateKeyPairSync('rsa', { modulusLength: 3072 }).privateKey;
  // An odd modulus size exercises emLen < k in EMSA-PSS (RFC 8017 §9.1.2 step 3 with emBits % 8 = 0).
  const k2049 = generateKeyPairSync('rsa', { modulusLength: 2049 }).privateKey;
  const keys: [string, KeyObject][] = [
    ['2048', k2048],
    ['3072', k3072],
    ['2049', k2049],
  ];
  const hashes: HashName[] = ['sha256', 'sha384', 'sha512'];

  for (const [size, key] of keys) {
    const pub = rsaKeyFrom(key);
    for (const hash of hashes) {
      it(`PKCS#1 v1.5 ${size} ${hash}`, () => {
        const sig = nodeSign(hash, msg, key);
        expect(rsaPkcs1Verify(pub, hash, msg, sig)).toBe(true);
        expect(rsaPkcs1Verify(pub, hash === 'sha256' ? 'sha384' : 'sha256', msg, sig)).toBe(false);
        expect(rsaPssVerify(pub, hash, msg, sig)).toBe(false);
      });
      for (const salt of [0, 20, 32, constants.RSA_PSS_SALTLEN_MAX_SIGN]) {
        it(`PSS ${size} ${hash} salt ${salt === constants.RSA_PSS_SALTLEN_MAX_SIGN ? 'max' : salt}`, () => {
          const sig = nodeSign(hash, msg, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: salt });
          expect(rsaPssVerify(pub, hash, msg, sig)).toBe(true); // salt length recovered
          if (salt >= 0) {
            expect(rsaPssVerify(pub, hash, msg, sig, salt)).toBe(true);
            expect(rsaPssVerify(pub, hash, msg, sig, salt + 1)).toBe(false);
          }
          expect(rsaPkcs1Verify(pub, hash, msg, sig)).toBe(false);
        });
      }
    }
    it(`signTls with a ${size}-bit key verifies in node:crypto`, () => {
      const ours = loadPrivateKey(key.export({ format: 'pem', type: 'pkcs8' }).toString());
      for (const scheme of [SignatureScheme.rsa_pkcs1_sha384, SignatureScheme.rsa_pss_rsae_sha512]) {
        const sig = signTls(ours, scheme, msg, seededRandom(scheme));
        const pss = scheme === SignatureScheme.rsa_pss_rsae_sha512;
        expect(
          nodeVerify(pss ? 'sha512' : 'sha384', msg, pss ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 64 } : key, sig),
        ).toBe(true);
        expect(verifyTls(ours.publicKey, scheme, msg, sig)).toBe(true);
      }
    });
  }

  it('rejects signatures of the wrong length or ≥ n', () => {
    const pub = rsaKeyFrom(k2048);
    const sig = nodeSign('sha256', msg, k2048);
    expect(rsaPkcs1Verify(pub, 'sha256', msg, sig.subarray(1))).toBe(false);
    expect(rsaPkcs1Verify(pub, 'sha256', msg, Uint8Array.of(0, ...sig))).toBe(false);
    expect(rsaPkcs1Verify(pub, 'sha256', msg, new Uint8Array(256).fill(0xff))).toBe(false);
    expect(rsaPssVerify(pub, 'sha256', msg, new Uint8Array(256).fill(0xff))).toBe(false);
  });

  it('modPow agrees with square-and-multiply on random inputs', () => {
    const rnd = seededRandom(5);
    const big = (n: number): bigint => BigInt('0x' + Buffer.from(rnd(n)).toString('hex'));
    const naive = (b: bigint, e: bigint, m: bigint): bigint => {
      let r = 1n;
      let x = b % m;
      for (let k = e; k > 0n; k >>= 1n, x = (x * x) % m) if (k & 1n) r = (r * x) % m;
      return r;
    };
    for (let i = 0; i < 50; i++) {
      const m = big(64) | 1n;
      const b = big(70);
      const e = i < 20 ? BigInt(i) : big(1 + (i % 40));
      expect(modPow(b, e, m)).toBe(naive(b, e, m));
    }
    expect(modPow(5n, 3n, 1n)).toBe(0n);
  });
});
