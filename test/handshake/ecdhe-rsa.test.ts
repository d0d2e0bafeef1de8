/** ECDHE_RSA (RFC 8422 §2.2) through the engine: every AEAD, PKCS#1 v1.5 and RSA-PSS signatures, small keys refused. */
import { describe, expect, it } from 'vitest';
import { generateKeyPairSync, createSign, createVerify, constants } from 'node:crypto';
import { AlertDescription, TlsError } from '../../src/alerts.ts';
import { Suites } from '../../src/suites.ts';
import { loadPrivateKey } from '../../src/x509/keys.ts';
import { SignatureScheme, signTls, verifyTls } from '../../src/x509/signature.ts';
import { defaultClient, defaultServer, fixtureCerts, fixtureKey, handshake, seededRandom, text, untext } from './helpers.ts';

const rsaSuites = [Suites.ECDHE_RSA_WITH_AES_128_GCM_SHA256, Suites.ECDHE_RSA_WITH_AES_256_GCM_SHA384, Suites.ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256];
const rsaServer = (over: Parameters<typeof defaultServer>[0] = {}) =>
  defaultServer({ suites: rsaSuites, certificateChain: fixtureCerts('server-rsa2048.pem'), privateKey: fixtureKey('server-rsa2048.key'), ...over });
const rsaClient = (over: Parameters<typeof defaultClient>[0] = {}) => defaultClient({ suites: rsaSuites, ca: fixtureCerts('ca-rsa.pem'), ...over });

describe('RFC 8422 §2.2 ECDHE_RSA', () => {
  for (const suite of rsaSuites) {
    it(`completes with ${suite.opensslName} and carries data`, async () => {
      const w = await handshake(rsaClient({ suites: [suite] }), rsaServer({ suites: [suite] }));
      expect(w.client.errors).toEqual([]);
      expect(w.server.errors).toEqual([]);
      expect(w.client.secure?.suite).toBe(suite);
      expect(w.client.secure?.authorized).toBe(true);
      expect(w.client.secure?.peerCertificates[0]?.publicKey.type).toBe('rsa');
      w.client.engine.write(text('ping'));
      await w.settle();
      expect(untext(w.server.data[0] ?? new Uint8Array())).toBe('ping');
    });
  }

  it('signs with rsa_pss_rsae_sha256 by default and with PKCS#1 v1.5 when that is all the client offers', async () => {
    for (const scheme of [SignatureScheme.rsa_pss_rsae_sha384, SignatureScheme.rsa_pkcs1_sha256, SignatureScheme.rsa_pkcs1_sha512]) {
      const w = await handshake(rsaClient({ signatureSchemes: [scheme] }), rsaServer());
      expect(w.client.errors).toEqual([]);
      expect(w.client.secure?.suite.kex).toBe('ECDHE_RSA');
    }
  });

  it('a certificate signed with RSASSA-PSS by the CA verifies (chain) and signs the key exchange', async () => {
    const w = await handshake(rsaClient(), rsaServer({ certificateChain: fixtureCerts('server-rsa-pss.pem'), privateKey: fixtureKey('server-rsa-pss.key') }));
    expect(w.client.errors).toEqual([]);
    expect(w.client.secure?.authorized).toBe(true);
    expect(w.client.secure?.peerCertificates[0]?.signatureAlgorithm).toBe('1.2.840.113549.1.1.10');
  });

  it('a server with both suite families picks the one its certificate fits', async () => {
    const w = await handshake(rsaClient({ suites: [Suites.ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, Suites.ECDHE_RSA_WITH_AES_128_GCM_SHA256] }), rsaServer({ suites: [Suites.ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, Suites.ECDHE_RSA_WITH_AES_128_GCM_SHA256] }));
    expect(w.client.secure?.suite).toBe(Suites.ECDHE_RSA_WITH_AES_128_GCM_SHA256);
  });

  it('no overlap of RSA schemes → handshake_failure', async () => {
    const w = await handshake(rsaClient({ signatureSchemes: [SignatureScheme.ecdsa_secp256r1_sha256] }), rsaServer());
    expect(w.server.errors[0]).toBeInstanceOf(TlsError);
    expect((w.server.errors[0] as TlsError).alert).toBe(AlertDescription.handshake_failure);
  });

  it('refuses a server RSA key under 2048 bits even without certificate verification', async () => {
    const w = await handshake(
      rsaClient({ rejectUnauthorized: false }),
      rsaServer({ certificateChain: fixtureCerts('server-rsa1024.pem') }),
    );
    expect(w.client.secure).toBeUndefined();
    expect((w.client.errors[0] as TlsError).alert).toBe(AlertDescription.insufficient_security);
  });

  it('refuses a server RSA certificate under 2048 bits during chain verification', async () => {
    const w = await handshake(rsaClient(), rsaServer({ certificateChain: fixtureCerts('server-rsa1024.pem') }));
    expect(w.client.secure).toBeUndefined();
    expect((w.client.errors[0] as TlsError).alert).toBe(AlertDescription.bad_certificate);
    expect(w.client.errors[0]?.message).toMatch(/EE_KEY_TOO_SMALL/);
  });

  it('refuses to load an RSA private key under 2048 bits', () => {
    expect(() => fixtureKey('server-rsa1024.key')).toThrow(/2048/);
  });
});

describe('RSA 3072/4096-bit signatures cross-checked with node:crypto', () => {
  for (const bits of [3072, 4096]) {
    it(`${bits}-bit PKCS#1 v1.5 and PSS both ways`, () => {
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: bits });
      const key = loadPrivateKey(privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
      const data = text(`tbs ${bits}`);
      const ours1 = signTls(key, SignatureScheme.rsa_pkcs1_sha384, data, seededRandom('r'));
      expect(createVerify('sha384').update(data).verify(publicKey, ours1)).toBe(true);
      const ours2 = signTls(key, SignatureScheme.rsa_pss_rsae_sha256, data, seededRandom('r'));
      expect(createVerify('sha256').update(data).verify({ key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, ours2)).toBe(true);
      const theirs = createSign('sha512').update(data).sign({ key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 64 });
      expect(verifyTls(key.publicKey, SignatureScheme.rsa_pss_rsae_sha512, data, theirs)).toBe(true);
      theirs[10] = (theirs[10] ?? 0) ^ 1;
      expect(verifyTls(key.publicKey, SignatureScheme.rsa_pss_rsae_sha512, data, theirs)).toBe(false);
    });
  }
});
