import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CertificateError, decodePem, loadPrivateKey, encodePem } from '../../src/x509/index.ts';
import { fixture, seededRandom } from './helpers.ts';

function nodeEcPoint(pem: string): Uint8Array {
  const jwk = createPublicKey(pem).export({ format: 'jwk' });
  const x = Buffer.from(jwk.x ?? '', 'base64url');
  const y = Buffer.from(jwk.y ?? '', 'base64url');
  return new Uint8Array(Buffer.concat([Buffer.from([4]), x, y]));
}

describe('loadPrivateKey (RFC 5208 PKCS#8, RFC 5915 SEC1, RFC 8017 PKCS#1)', () => {
  for (const [file, curve] of [
    ['server-ec256.key', 'P-256'],
    ['server-ec256-sec1.key', 'P-256'],
    ['server-ec384.key', 'P-384'],
    ['server-ec384-sec1.key', 'P-384'],
  ] as const) {
    it(`${file}: PEM loads as ${curve} with the public point node:crypto derives`, () => {
      const pem = fixture(file);
      const key = loadPrivateKey(pem);
      expect(key.type).toBe('ec');
      if (key.type !== 'ec') return;
      expect(key.curve).toBe(curve);
      expect(key.d.length).toBe(curve === 'P-256' ? 32 : 48);
      expect(key.publicKey.point).toEqual(nodeEcPoint(pem));
    });
    it(`${file}: DER and Uint8Array PEM give the same key`, () => {
      const pem = fixture(file);
      const block = decodePem(pem)[0];
      if (block === undefined) throw new Error('no block');
      expect(loadPrivateKey(block.der)).toEqual(loadPrivateKey(pem));
      expect(loadPrivateKey(new TextEncoder().encode(pem))).toEqual(loadPrivateKey(pem));
    });
  }

  it('PKCS#8 and SEC1 forms of one key agree', () => {
    expect(loadPrivateKey(fixture('server-ec256.key'))).toEqual(loadPrivateKey(fixture('server-ec256-sec1.key')));
  });

  it('loads RSA PKCS#8 and PKCS#1 keys', () => {
    const pem = fixture('server-rsa2048.key');
    const key = loadPrivateKey(pem);
    expect(key.type).toBe('rsa');
    if (key.type !== 'rsa') return;
    expect(key.bits).toBe(2048);
    const jwk = createPublicKey(pem).export({ format: 'jwk' });
    expect(key.n).toBe(BigInt('0x' + Buffer.from(jwk.n ?? '', 'base64url').toString('hex')));
    const pkcs1 = createPrivateKey(pem).export({ format: 'pem', type: 'pkcs1' }).toString();
    expect(pkcs1).toContain('BEGIN RSA PRIVATE KEY');
    expect(loadPrivateKey(pkcs1)).toEqual(key);
  });

  it('rejects unsupported curves and encrypted keys with CertificateError', () => {
    const p521 = generateKeyPairSync('ec', { namedCurve: 'P-521' }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    expect(() => loadPrivateKey(p521)).toThrow(CertificateError);
    const ed = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    expect(() => loadPrivateKey(ed)).toThrow(CertificateError);
    const enc = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .privateKey.export({ format: 'pem', type: 'pkcs8', cipher: 'aes-128-cbc', passphrase: 'x' })
      .toString();
    expect(() => loadPrivateKey(enc)).toThrow(CertificateError);
    expect(() => loadPrivateKey('no key here')).toThrow(CertificateError);
  });

  it('rejects a SEC1 key whose embedded public key does not match', () => {
    const a = decodePem(fixture('server-ec256-sec1.key'))[0];
    const b = decodePem(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'sec1' }).toString())[0];
    if (a === undefined || b === undefined) throw new Error('no block');
    // Same layout for both (30 77 02 01 01 04 20 <d> a0 0a ... a1 44 03 42 00 04 ...): swap d.
    const mixed = Uint8Array.from(a.der);
    mixed.set(b.der.subarray(7, 39), 7);
    expect(() => loadPrivateKey(encodePem('EC PRIVATE KEY', mixed))).toThrow(/does not match/);
  });

  it('truncated and mutated key DER throws only CertificateError', () => {
    const rnd = seededRandom(42);
    for (const file of ['server-ec256.key', 'server-ec384-sec1.key', 'server-rsa2048.key']) {
      const der = decodePem(fixture(file))[0]?.der ?? new Uint8Array();
      for (let n = 0; n < der.length; n += der.length > 500 ? 37 : 1) {
        expect(() => loadPrivateKey(der.subarray(0, n))).toThrow(CertificateError);
      }
      for (let i = 0; i < 300; i++) {
        const m = Uint8Array.from(der);
        const at = (rnd(2)[0] as number) * 256 + (rnd(1)[0] as number);
        m[at % m.length] = rnd(1)[0] as number;
        try {
          loadPrivateKey(m);
        } catch (e) {
          expect(e).toBeInstanceOf(CertificateError);
        }
      }
    }
  });
});
