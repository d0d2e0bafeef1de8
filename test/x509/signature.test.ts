import { createPrivateKey, createPublicKey, generateKeyPairSync, sign as nodeSign, verify as nodeVerify, constants, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { systemRandom } from '../../src/providers.ts';
import {
  SignatureScheme,
  chooseScheme,
  loadPrivateKey,
  signTls,
  supportedSchemes,
  verifyTls,
  type PrivateKey,
} from '../../src/x509/index.ts';
import { fixture, seededRandom } from './helpers.ts';

const data = new TextEncoder().encode('client_random || server_random || ServerECDHParams');

const hashOf = (scheme: number): string => ({ 0x04: 'sha256', 0x05: 'sha384', 0x06: 'sha512', 0x08: '' })[scheme >> 8] ?? '';
const pssHash = (scheme: number): string => ({ 0x04: 'sha256', 0x05: 'sha384', 0x06: 'sha512' })[scheme & 0xff] ?? '';

function nodeSignScheme(key: KeyObject, scheme: number, msg: Uint8Array): Uint8Array {
  if (scheme >> 8 === 0x08) {
    return nodeSign(pssHash(scheme), msg, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST });
  }
  return nodeSign(hashOf(scheme), msg, { key, dsaEncoding: 'der' });
}

function nodeVerifyScheme(key: KeyObject, scheme: number, msg: Uint8Array, sig: Uint8Array): boolean {
  if (scheme >> 8 === 0x08) {
    return nodeVerify(pssHash(scheme), msg, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }, sig);
  }
  return nodeVerify(hashOf(scheme), msg, { key, dsaEncoding: 'der' }, sig);
}

const cases: { file: string; schemes: number[] }[] = [
  { file: 'server-ec256.key', schemes: [0x0403, 0x0503, 0x0603] },
  { file: 'server-ec384.key', schemes: [0x0503, 0x0403, 0x0603] },
  { file: 'server-rsa2048.key', schemes: [0x0401, 0x0501, 0x0601, 0x0804, 0x0805, 0x0806] },
];

describe('RFC 5246 §7.4.1.4.1 signatures cross-checked with node:crypto', () => {
  for (const { file, schemes } of cases) {
    const pem = fixture(file);
    const ours = loadPrivateKey(pem);
    const nodePriv = createPrivateKey(pem);
    const nodePub = createPublicKey(nodePriv);
    for (const scheme of schemes) {
      it(`${file} 0x${scheme.toString(16)}: ours → node:crypto verifies`, () => {
        const sig = signTls(ours, scheme, data, systemRandom);
        expect(nodeVerifyScheme(nodePub, scheme, data, sig)).toBe(true);
        expect(verifyTls(ours.publicKey, scheme, data, sig)).toBe(true);
      });
      it(`${file} 0x${scheme.toString(16)}: node:crypto → ours verifies; tampering fails`, () => {
        const sig = nodeSignScheme(nodePriv, scheme, data);
        expect(verifyTls(ours.publicKey, scheme, data, sig)).toBe(true);
        const bad = Uint8Array.from(sig);
        bad[bad.length - 5] = (bad[bad.length - 5] as number) ^ 1;
        expect(verifyTls(ours.publicKey, scheme, data, bad)).toBe(false);
        const otherData = Uint8Array.from(data);
        otherData[0] = (otherData[0] as number) ^ 0x80;
        expect(verifyTls(ours.publicKey, scheme, otherData, sig)).toBe(false);
      });
    }
  }

  it('accepts high-S ECDSA signatures, as OpenSSL does', async () => {
    const { p256 } = await import('@noble/curves/nist.js');
    const { sha256 } = await import('@noble/hashes/sha2.js');
    const key = loadPrivateKey(fixture('server-ec256.key'));
    if (key.type !== 'ec') throw new Error('expected EC');
    const sig = p256.Signature.fromBytes(p256.sign(sha256(data), key.d, { prehash: false, format: 'compact' }), 'compact');
    const n = p256.Point.CURVE().n;
    const high = new p256.Signature(sig.r, n - sig.s).toBytes('der');
    expect(verifyTls(key.publicKey, SignatureScheme.ecdsa_secp256r1_sha256, data, high)).toBe(true);
    expect(nodeVerify('sha256', data, { key: createPublicKey(fixture('server-ec256.key')), dsaEncoding: 'der' }, high)).toBe(true);
  });

  it('never throws on garbage signatures and rejects them', () => {
    const rnd = seededRandom(7);
    for (const file of ['server-ec256.key', 'server-rsa2048.key']) {
      const key = loadPrivateKey(fixture(file)).publicKey;
      for (const scheme of supportedSchemes()) {
        for (const len of [0, 1, 2, 8, 70, 71, 72, 104, 255, 256, 257]) {
          expect(verifyTls(key, scheme, data, rnd(len))).toBe(false);
        }
      }
    }
  });

  it('rejects a scheme that does not fit the key, and unknown schemes', () => {
    const ec = loadPrivateKey(fixture('server-ec256.key'));
    const sig = signTls(ec, SignatureScheme.ecdsa_secp256r1_sha256, data, systemRandom);
    expect(verifyTls(ec.publicKey, SignatureScheme.rsa_pkcs1_sha256, data, sig)).toBe(false);
    expect(verifyTls(ec.publicKey, 0x0203, data, sig)).toBe(false);
    expect(() => signTls(ec, SignatureScheme.rsa_pss_rsae_sha256, data, systemRandom)).toThrow(TypeError);
  });

  it('refuses RSA keys under 2048 bits for verification', () => {
    const pem = fixture('server-rsa1024.key');
    const pub = createPublicKey(pem).export({ format: 'jwk' });
    const n = BigInt('0x' + Buffer.from(pub.n ?? '', 'base64url').toString('hex'));
    const sig = nodeSign('sha256', data, createPrivateKey(pem));
    expect(verifyTls({ type: 'rsa', n, e: 65537n, bits: 1024 }, SignatureScheme.rsa_pkcs1_sha256, data, sig)).toBe(false);
    expect(() => loadPrivateKey(pem)).toThrow(/below the 2048-bit minimum/);
  });

  it('verifies with the other ECDSA hash than the curve default (TLS 1.2 names only the hash)', () => {
    const key = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const ours = loadPrivateKey(key.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString());
    const sig = nodeSign('sha256', data, { key: key.privateKey, dsaEncoding: 'der' });
    expect(verifyTls(ours.publicKey, SignatureScheme.ecdsa_secp256r1_sha256, data, sig)).toBe(true);
  });
});

describe('chooseScheme', () => {
  const ec256 = loadPrivateKey(fixture('server-ec256.key'));
  const ec384 = loadPrivateKey(fixture('server-ec384.key'));
  const rsa = loadPrivateKey(fixture('server-rsa2048.key'));
  it('prefers the hash matching the curve', () => {
    expect(chooseScheme(ec256, supportedSchemes())).toBe(SignatureScheme.ecdsa_secp256r1_sha256);
    expect(chooseScheme(ec384, supportedSchemes())).toBe(SignatureScheme.ecdsa_secp384r1_sha384);
    expect(chooseScheme(ec384, [SignatureScheme.ecdsa_secp256r1_sha256])).toBe(SignatureScheme.ecdsa_secp256r1_sha256);
  });
  it('prefers PSS for RSA and falls back to PKCS#1', () => {
    expect(chooseScheme(rsa, supportedSchemes())).toBe(SignatureScheme.rsa_pss_rsae_sha256);
    expect(chooseScheme(rsa, [0x0601, 0x0403])).toBe(SignatureScheme.rsa_pkcs1_sha512);
  });
  it('returns undefined without overlap', () => {
    const keys: PrivateKey[] = [ec256, rsa];
    for (const k of keys) expect(chooseScheme(k, [0x0201, 0x0203, 0x0807])).toBeUndefined();
    expect(chooseScheme(ec256, [])).toBeUndefined();
  });
  it('signTls is deterministic given the injected randomness', () => {
    const a = signTls(ec256, 0x0403, data, seededRandom(1));
    const b = signTls(ec256, 0x0403, data, seededRandom(1));
    const c = signTls(ec256, 0x0403, data, seededRandom(2));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });
});
