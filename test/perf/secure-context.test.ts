/**
 * The API side of the crypto provider: `cryptoProvider` resolution, and createSecureContext()
 * sharing trust anchors, provider and SignatureCache across connects — against our server and
 * against node:tls in both directions with the node:crypto provider.
 */
import { once } from 'node:events';
import * as nodeTls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { connect, createSecureContext, createServer, nobleAeadProvider, nodeAeadProvider, TlsOptionError } from '../../src/index.ts';
import { resolveCryptoProvider } from '../../src/api/config.ts';
import { nobleCryptoProvider } from '../../src/crypto/provider.ts';
import { nobleEcdh } from '../../src/kex/ecdh.ts';
import { nodeEcdh } from '../../src/kex/ecdh-node.ts';
import { nobleSignatures } from '../../src/x509/signature.ts';
import { ca, cert256, closeServer, fixture, key256, listen, secure } from '../api/helpers.ts';

describe('cryptoProvider option', () => {
  it("'noble' and undefined give a pure-TypeScript provider with its own key cache", () => {
    for (const p of [resolveCryptoProvider(undefined), resolveCryptoProvider('noble')]) {
      expect(p.name).toBe('noble');
      expect(p.aead).toBe(nobleAeadProvider);
      expect(p.ecdh).toBe(nobleEcdh);
      expect(p.signatures).not.toBe(nobleSignatures);
    }
    expect(resolveCryptoProvider('noble').signatures).not.toBe(resolveCryptoProvider('noble').signatures);
  });

  it("'node' gives node:crypto for AEAD, ECDH and signatures, a fresh instance each time", () => {
    const a = resolveCryptoProvider('node');
    const b = resolveCryptoProvider('node');
    expect(a.aead).toBe(nodeAeadProvider);
    expect(a.ecdh).toBe(nodeEcdh);
    expect(a.signatures.name).toBe('node');
    expect(a.signatures).not.toBe(b.signatures);
  });

  it('a bare AeadProvider keeps noble ECDH and signatures; a CryptoProvider passes through', () => {
    const p = resolveCryptoProvider(nodeAeadProvider);
    expect(p.aead).toBe(nodeAeadProvider);
    expect(p.ecdh).toBe(nobleEcdh);
    expect(p.signatures).toBe(nobleSignatures);
    const custom = { ...nobleCryptoProvider, name: 'custom', aead: nobleAeadProvider };
    expect(resolveCryptoProvider(custom)).toBe(custom);
  });

  it('anything else is a TlsOptionError', () => {
    expect(() => resolveCryptoProvider('openssl' as 'node')).toThrow(TlsOptionError);
    expect(() => connect({ port: 1, cryptoProvider: {} as never })).toThrow(TlsOptionError);
  });
});

describe('createSecureContext', () => {
  it('reconnects verify the server chain once: the cache holds the link after the first connect', async () => {
    for (const cryptoProvider of ['noble', 'node'] as const) {
      const server = createServer({ key: key256, cert: cert256, cryptoProvider }, (s) => s.end());
      const port = await listen(server);
      const ctx = createSecureContext({ ca, cryptoProvider });
      expect(ctx.certificateCache.size).toBe(0);
      for (let i = 0; i < 3; i++) {
        const c = connect({ host: '127.0.0.1', port, servername: 'localhost', secureContext: ctx });
        await secure(c);
        expect(c.authorized).toBe(true);
        expect(ctx.certificateCache.size).toBe(1);
        c.destroy();
      }
      await closeServer(server);
    }
  });

  it('a context with the wrong anchors still refuses the server (nothing cached)', async () => {
    const server = createServer({ key: key256, cert: cert256 }, (s) => s.end());
    server.on('tlsClientError', () => {});
    const port = await listen(server);
    const ctx = createSecureContext({ ca: fixture('ca-rsa.pem'), cryptoProvider: 'node' });
    const c = connect({ host: '127.0.0.1', port, servername: 'localhost', secureContext: ctx });
    const [err] = (await once(c, 'error')) as [Error];
    expect(err).toBeInstanceOf(Error);
    expect(c.getProtocol()).toBeNull();
    const c2 = connect({ host: '127.0.0.1', port, servername: 'localhost', secureContext: ctx, rejectUnauthorized: false });
    await secure(c2);
    expect(c2.authorized).toBe(false);
    expect(c2.authorizationError).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    expect(ctx.certificateCache.size).toBe(0);
    c2.destroy();
    await closeServer(server);
  });

  it('explicit ca on connect wins over the context (and the cache is still used)', async () => {
    const server = createServer({ key: key256, cert: cert256 }, (s) => s.end());
    const port = await listen(server);
    const ctx = createSecureContext({ ca: fixture('ca-rsa.pem') });
    const c = connect({ host: '127.0.0.1', port, servername: 'localhost', ca, secureContext: ctx });
    await secure(c);
    expect(c.authorized).toBe(true);
    expect(ctx.certificateCache.size).toBe(1);
    c.destroy();
    await closeServer(server);
  });

  it('bad options are TlsOptionErrors', () => {
    expect(() => createSecureContext({ ca: 'not a certificate' })).toThrow(TlsOptionError);
    expect(() => createSecureContext({ signatureCacheSize: 0 })).toThrow(TlsOptionError);
  });
});

describe('node:crypto provider against node:tls', () => {
  it('node:tls client → our server (ECDSA P-256, X25519)', async () => {
    const server = createServer({ key: key256, cert: cert256, cryptoProvider: 'node' }, (s) => s.end('hello'));
    const port = await listen(server);
    const c = nodeTls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca, maxVersion: 'TLSv1.2' });
    await once(c, 'secureConnect');
    expect(c.authorized).toBe(true);
    const [d] = (await once(c, 'data')) as [Buffer];
    expect(d.toString()).toBe('hello');
    c.destroy();
    await closeServer(server);
  });

  it('our client → node:tls server (RSA-2048 certificate: PSS ServerKeyExchange verified by node:crypto)', async () => {
    const server = nodeTls.createServer({ key: fixture('server-rsa2048.key'), cert: fixture('server-rsa2048.pem'), maxVersion: 'TLSv1.2' }, (s) => s.end('hi'));
    const port = await listen(server);
    const c = connect({ host: '127.0.0.1', port, servername: 'localhost', ca: fixture('ca-rsa.pem'), cryptoProvider: 'node' });
    await secure(c);
    expect(c.authorized).toBe(true);
    expect(c.getCipher()?.name).toMatch(/^ECDHE-RSA-/);
    const [d] = (await once(c, 'data')) as [Buffer];
    expect(d.toString()).toBe('hi');
    c.destroy();
    await closeServer(server);
  });
});
