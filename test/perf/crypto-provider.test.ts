/**
 * The node:crypto provider against the noble one: signatures cross-verify both ways, certificate
 * chains get the same verdicts, and full handshakes (both key types, every group, mutual TLS)
 * complete with each provider — the same checks the noble default passes.
 */
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { nobleCryptoProvider, type CryptoProvider } from '../../src/crypto/provider.ts';
import { createNodeCryptoProvider } from '../../src/crypto/provider-node.ts';
import type { ClientEngineConfig, ServerEngineConfig } from '../../src/handshake/config.ts';
import { NamedGroup } from '../../src/handshake/messages/types.ts';
import { defaultKexRegistry } from '../../src/kex/registry.ts';
import { Suites } from '../../src/suites.ts';
import { SignatureCache, verifyChain } from '../../src/x509/chain.ts';
import { SignatureScheme, nobleSignatures, signTls, verifyTls, type SignatureBackend } from '../../src/x509/signature.ts';
import { createNodeSignatures } from '../../src/x509/signature-node.ts';
import type { Certificate, PrivateKey } from '../../src/x509/types.ts';
import { concat, defaultClient, defaultServer, fixedClock, fixtureCerts, fixtureKey, handshake, seededRandom, text, untext } from '../handshake/helpers.ts';

const data = text('client_random ‖ server_random ‖ ServerECDHParams, as signed in RFC 8422 §5.4');

const keys: readonly { readonly file: string; readonly schemes: readonly number[] }[] = [
  { file: 'server-ec256.key', schemes: [SignatureScheme.ecdsa_secp256r1_sha256, SignatureScheme.ecdsa_secp384r1_sha384, SignatureScheme.ecdsa_secp521r1_sha512] },
  { file: 'server-ec384.key', schemes: [SignatureScheme.ecdsa_secp384r1_sha384, SignatureScheme.ecdsa_secp256r1_sha256] },
  {
    file: 'server-rsa2048.key',
    schemes: [
      SignatureScheme.rsa_pkcs1_sha256,
      SignatureScheme.rsa_pkcs1_sha384,
      SignatureScheme.rsa_pkcs1_sha512,
      SignatureScheme.rsa_pss_rsae_sha256,
      SignatureScheme.rsa_pss_rsae_sha384,
      SignatureScheme.rsa_pss_rsae_sha512,
    ],
  },
];

describe('RFC 5246 §7.4.1.4.1 signatures: node:crypto backend agrees with noble', () => {
  const node = createNodeSignatures();
  const random = seededRandom('sig');
  for (const { file, schemes } of keys) {
    const key: PrivateKey = fixtureKey(file);
    for (const scheme of schemes) {
      it(`${file} 0x${scheme.toString(16)}: each backend verifies the other's signature`, () => {
        const byNoble = signTls(key, scheme, data, random, nobleSignatures);
        const byNode = signTls(key, scheme, data, random, node);
        expect(verifyTls(key.publicKey, scheme, data, byNoble, node)).toBe(true);
        expect(verifyTls(key.publicKey, scheme, data, byNode, nobleSignatures)).toBe(true);
        expect(verifyTls(key.publicKey, scheme, data, byNode, node)).toBe(true);
      });
      it(`${file} 0x${scheme.toString(16)}: altered data, altered or junk signatures are refused by both (never thrown)`, () => {
        const sig = signTls(key, scheme, data, random, node);
        const otherData = Uint8Array.from(data);
        otherData[0] = (otherData[0] as number) ^ 1;
        const flipped = Uint8Array.from(sig);
        flipped[flipped.length - 1] = (flipped[flipped.length - 1] as number) ^ 0x40;
        for (const backend of [node, nobleSignatures] as const) {
          expect(verifyTls(key.publicKey, scheme, otherData, sig, backend)).toBe(false);
          expect(verifyTls(key.publicKey, scheme, data, flipped, backend)).toBe(false);
          expect(verifyTls(key.publicKey, scheme, data, new Uint8Array(0), backend)).toBe(false);
          expect(verifyTls(key.publicKey, scheme, data, Uint8Array.of(0x30, 0x03, 0x02, 0x01), backend)).toBe(false);
        }
      });
    }
  }

  it('an ECDSA scheme never verifies under an RSA key and vice versa (both backends)', () => {
    const ec = fixtureKey('server-ec256.key');
    const rsa = fixtureKey('server-rsa2048.key');
    const ecSig = signTls(ec, SignatureScheme.ecdsa_secp256r1_sha256, data, random, node);
    for (const backend of [node, nobleSignatures] as const) {
      expect(verifyTls(rsa.publicKey, SignatureScheme.ecdsa_secp256r1_sha256, data, ecSig, backend)).toBe(false);
      expect(verifyTls(rsa.publicKey, SignatureScheme.rsa_pkcs1_sha256, data, ecSig, backend)).toBe(false);
    }
    expect(() => signTls(rsa, SignatureScheme.ecdsa_secp256r1_sha256, data, random, node)).toThrow(TypeError);
  });

  it('a signature made with one key does not verify under another of the same curve', () => {
    const a = fixtureKey('server-ec256.key');
    const b = fixtureKey('client-only.key');
    const sig = signTls(a, SignatureScheme.ecdsa_secp256r1_sha256, data, random, node);
    expect(verifyTls(b.publicKey, SignatureScheme.ecdsa_secp256r1_sha256, data, sig, node)).toBe(false);
  });
});

describe('RFC 5280 §6 chains: node:crypto backend gives the verdicts noble gives', () => {
  const node = createNodeSignatures();
  const anchors = [...fixtureCerts('ca-ec.pem'), ...fixtureCerts('ca-rsa.pem')];
  const now = new Date(fixedClock());
  const dir = new URL('../fixtures/certs/', import.meta.url);
  const leaves = readdirSync(dir).filter((f) => f.endsWith('.pem') && !f.startsWith('ca-'));

  for (const file of leaves) {
    it(`${file}: same result with both backends`, () => {
      const chain = fixtureCerts(file);
      const byNoble = verifyChain(chain, { ca: anchors, now, host: 'localhost', signatures: nobleSignatures });
      const byNode = verifyChain(chain, { ca: anchors, now, host: 'localhost', signatures: node });
      expect(byNode).toEqual(byNoble);
    });
  }

  it('ECDSA and RSA (PKCS#1 and PSS) certificate signatures verify with node:crypto', () => {
    for (const file of ['server-ec256.pem', 'server-ec384.pem', 'server-rsa2048.pem', 'server-rsa-pss.pem']) {
      expect(verifyChain(fixtureCerts(file), { ca: anchors, now, host: 'localhost', signatures: node })).toEqual({ authorized: true });
    }
  });

  it('a tampered certificate signature is CERT_SIGNATURE_FAILURE with both backends', () => {
    for (const file of ['server-ec256.pem', 'server-rsa2048.pem', 'server-rsa-pss.pem']) {
      const [leaf, ...rest] = fixtureCerts(file);
      if (leaf === undefined) throw new Error('fixture without a certificate');
      const signature = Uint8Array.from(leaf.signature);
      signature[signature.length - 2] = (signature[signature.length - 2] as number) ^ 0x01;
      const forged: Certificate = { ...leaf, signature };
      for (const backend of [node, nobleSignatures] as const) {
        const r = verifyChain([forged, ...rest], { ca: anchors, now, signatures: backend });
        expect(r).toMatchObject({ authorized: false, code: 'CERT_SIGNATURE_FAILURE' });
      }
    }
  });

  it('a SignatureCache remembers only good links, and a hit still needs the same bytes', () => {
    const cache = new SignatureCache();
    const chain = fixtureCerts('server-ec256.pem');
    expect(verifyChain(chain, { ca: anchors, now, cache, signatures: node })).toEqual({ authorized: true });
    expect(cache.size).toBe(1);
    // Same bytes: answered from the cache (a backend that refuses everything is not consulted).
    const refuseAll: SignatureBackend = { ...nobleSignatures, name: 'refuse', ecdsaVerify: () => false };
    expect(verifyChain(chain, { ca: anchors, now, cache, signatures: refuseAll })).toEqual({ authorized: true });
    // Different signature bytes: not a hit, checked and refused.
    const [leaf] = chain;
    if (leaf === undefined) throw new Error('fixture without a certificate');
    const signature = Uint8Array.from(leaf.signature);
    signature[signature.length - 2] = (signature[signature.length - 2] as number) ^ 0x01;
    const raw = Uint8Array.from(leaf.raw);
    raw[raw.length - 2] = (raw[raw.length - 2] as number) ^ 0x01;
    expect(verifyChain([{ ...leaf, raw, signature }], { ca: anchors, now, cache, signatures: node })).toMatchObject({ code: 'CERT_SIGNATURE_FAILURE' });
    expect(cache.size).toBe(1);
  });
});

/** Engine configs wired to one provider (what src/api/config.ts does for `cryptoProvider`). */
function wired(p: CryptoProvider): { aeadProvider: CryptoProvider['aead']; signatures: SignatureBackend; kex: ReturnType<typeof defaultKexRegistry> } {
  return { aeadProvider: p.aead, signatures: p.signatures, kex: defaultKexRegistry({ ecdh: p.ecdh, signatures: p.signatures }) };
}

describe('RFC 5246 §7.3 full handshakes with each crypto provider', () => {
  const providers: readonly (readonly [string, () => CryptoProvider])[] = [
    ['noble', () => nobleCryptoProvider],
    ['node', createNodeCryptoProvider],
  ];
  const groups = [
    ['x25519', NamedGroup.x25519],
    ['secp256r1', NamedGroup.secp256r1],
    ['secp384r1', NamedGroup.secp384r1],
  ] as const;
  const servers = [
    ['ECDSA P-256', Suites.ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, 'server-ec256', 'ca-ec.pem'],
    ['ECDSA P-384', Suites.ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, 'server-ec384', 'ca-ec.pem'],
    ['RSA-2048', Suites.ECDHE_RSA_WITH_AES_128_GCM_SHA256, 'server-rsa2048', 'ca-rsa.pem'],
    ['RSA-PSS cert', Suites.ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, 'server-rsa-pss', 'ca-rsa.pem'],
  ] as const;

  for (const [clientName, clientProvider] of providers) {
    for (const [serverName, serverProvider] of providers) {
      for (const [label, suite, base, caFile] of servers) {
        for (const [groupName, group] of groups) {
          it(`client ${clientName} ↔ server ${serverName}: ${label}, ${groupName}, ${suite.opensslName}`, async () => {
            const c: ClientEngineConfig = defaultClient({ suites: [suite], groups: [group], ca: fixtureCerts(caFile), ...wired(clientProvider()) });
            const s: ServerEngineConfig = defaultServer({
              suites: [suite],
              certificateChain: fixtureCerts(`${base}.pem`),
              privateKey: fixtureKey(`${base}.key`),
              ...wired(serverProvider()),
            });
            const w = await handshake(c, s);
            expect(w.client.errors).toEqual([]);
            expect(w.server.errors).toEqual([]);
            expect(w.client.secure?.suite).toBe(suite);
            expect(w.client.secure?.group).toBe(groupName);
            expect(w.client.secure?.authorized).toBe(true);
            w.client.engine.write(text('ping'));
            w.server.engine.write(text('pong'));
            await w.settle();
            expect(untext(concat(w.server.data))).toBe('ping');
            expect(untext(concat(w.client.data))).toBe('pong');
          });
        }
      }
    }
  }

  for (const [name, provider] of providers) {
    it(`mutual TLS (RFC 5246 §7.4.8) with ECDSA and RSA client certificates, ${name} provider on both sides`, async () => {
      for (const client of ['client-only', 'server-rsa2048'] as const) {
        const w = await handshake(
          defaultClient({ certificateChain: fixtureCerts(`${client}.pem`), privateKey: fixtureKey(`${client}.key`), ...wired(provider()) }),
          defaultServer({
            requestCert: true,
            rejectUnauthorized: true,
            ca: [...fixtureCerts('ca-ec.pem'), ...fixtureCerts('ca-rsa.pem')],
            ...wired(provider()),
          }),
        );
        expect(w.client.errors).toEqual([]);
        expect(w.server.errors).toEqual([]);
        expect(w.server.secure?.authorized).toBe(true);
      }
    });

    it(`${name} provider: a forged ServerKeyExchange signature is decrypt_error`, async () => {
      // Flip one byte near the end of the server's first flight: inside the SKE signature, before ServerHelloDone (4 bytes).
      const w = await handshake(defaultClient({ ...wired(provider()) }), defaultServer({ ...wired(provider()) }), (dir, bytes, index) => {
        if (dir !== 's2c' || index !== 0) return bytes;
        const out = Uint8Array.from(bytes);
        out[out.length - 10] = (out[out.length - 10] as number) ^ 0x01;
        return out;
      });
      expect(w.client.secure).toBeUndefined();
      expect(w.client.errors[0]?.name).toBe('DecryptError');
    });
  }
});
