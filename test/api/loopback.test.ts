/**
 * The node:tls-shaped API over real loopback sockets: our client ↔ our server, and node:tls
 * (OpenSSL inside Node) as a real peer in both roles.
 */
import { once } from 'node:events';
import * as nodeTls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { connect, createServer, Suites, type CipherSuite, type TLSSocket } from '../../src/index.ts';
import { ca, cert256, cert384, closeServer, key256, key384, listen, readAll, secure } from './helpers.ts';

const suites: readonly CipherSuite[] = [
  Suites.ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
  Suites.ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
  Suites.ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
];

/** Our echo server: returns the port and the server. */
async function echoServer(opts: Parameters<typeof createServer>[0]) {
  const server = createServer(opts, (s) => s.pipe(s));
  const port = await listen(server);
  return { server, port };
}

describe('our client ↔ our server', () => {
  for (const suite of suites) {
    for (const provider of ['noble', 'node'] as const) {
      it(`${suite.opensslName} (${provider} AEAD): data round-trips, accessors report the session`, async () => {
        const serverSide: TLSSocket[] = [];
        const server = createServer({ key: key256, cert: cert256, ciphers: suite.opensslName, cryptoProvider: provider }, (s) => {
          serverSide.push(s);
          s.pipe(s);
        });
        const port = await listen(server);
        const c = connect({ host: '127.0.0.1', port, servername: 'localhost', ca, ciphers: suite.name, cryptoProvider: provider });
        expect(c.getCipher()).toBeNull();
        expect(c.getProtocol()).toBeNull();
        await secure(c);
        expect(c.getCipher()).toEqual({ name: suite.opensslName, standardName: suite.name, version: 'TLSv1.2' });
        expect(c.getProtocol()).toBe('TLSv1.2');
        expect(c.authorized).toBe(true);
        expect(c.authorizationError).toBeNull();
        expect(c.encrypted).toBe(true);
        expect(c.alpnProtocol).toBe(false);
        const peer = c.getPeerCertificate();
        expect(peer).not.toBeNull();
        expect((peer as { subject: { CN?: string } }).subject.CN).toBe('localhost');
        const message = Buffer.from(`hello over ${suite.name}`);
        c.end(message);
        const echoed = await readAll(c);
        expect(echoed.equals(message)).toBe(true);
        expect(serverSide).toHaveLength(1);
        expect(serverSide[0]?.getCipher()?.standardName).toBe(suite.name);
        expect(serverSide[0]?.servername).toBe('localhost');
        await closeServer(server);
      });
    }
  }

  it('negotiates each configured group (ecdhCurve) and reports it', async () => {
    for (const [curve, name, cert, key] of [
      ['X25519', 'X25519', cert256, key256],
      ['P-256', 'prime256v1', cert256, key256],
      ['P-384', 'secp384r1', cert384, key384],
    ] as const) {
      const { server, port } = await echoServer({ key, cert, ecdhCurve: curve });
      const c = connect({ host: 'localhost', port, ca, ecdhCurve: curve });
      await secure(c);
      expect(c.getEphemeralKeyInfo()).toMatchObject({ type: 'ECDH', name });
      c.end();
      await once(c, 'close');
      await closeServer(server);
    }
  });

  it('emits keylog lines in NSS format, the same line on both sides', async () => {
    const serverLines: string[] = [];
    const { server, port } = await echoServer({ key: key256, cert: cert256 });
    server.on('keylog', (line: Buffer) => serverLines.push(line.toString('latin1')));
    const c = connect({ host: 'localhost', port, ca });
    const clientLines: string[] = [];
    c.on('keylog', (line: Buffer) => clientLines.push(line.toString('latin1')));
    await secure(c);
    c.end();
    await once(c, 'close');
    expect(clientLines).toHaveLength(1);
    expect(clientLines[0]).toMatch(/^CLIENT_RANDOM [0-9a-f]{64} [0-9a-f]{96}\n$/);
    expect(serverLines).toEqual(clientLines);
    await closeServer(server);
  });

  it('rejectUnauthorized: unknown CA → error with the node:tls code; false → authorized=false with authorizationError', async () => {
    const { server, port } = await echoServer({ key: key256, cert: cert256 });
    const wrongCa = (await import('./helpers.ts')).fixture('ca-rsa.pem');
    const c1 = connect({ host: 'localhost', port, ca: wrongCa });
    const [err] = (await once(c1, 'error')) as [Error & { code?: string }];
    expect(err).toBeInstanceOf(Error);
    expect(c1.getProtocol()).toBeNull();

    const c2 = connect({ host: 'localhost', port, ca: wrongCa, rejectUnauthorized: false });
    await secure(c2);
    expect(c2.authorized).toBe(false);
    expect(c2.authorizationError).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    c2.end();
    await once(c2, 'close');
    await closeServer(server);
  });

  it('hostname mismatch is an authorization error (servername other than the certificate names)', async () => {
    const { server, port } = await echoServer({ key: key256, cert: cert256 });
    const c = connect({ host: '127.0.0.1', port, ca, servername: 'example.com', rejectUnauthorized: false });
    await secure(c);
    expect(c.authorized).toBe(false);
    expect(c.authorizationError).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    c.end();
    await once(c, 'close');
    await closeServer(server);
  });

  it('getPeerCertificate(true) links issuerCertificate through the chain to the trust anchor, like node:tls', async () => {
    const { fixture } = await import('./helpers.ts');
    const { server, port } = await echoServer({ key: fixture('chain-leaf.key'), cert: fixture('chain-leaf.pem') });
    const c = connect({ host: 'localhost', port, ca });
    await secure(c);
    expect(c.authorized).toBe(true);
    type PC = { subject: { CN?: string }; issuerCertificate?: PC };
    const leaf = c.getPeerCertificate(true) as PC;
    expect(leaf.subject.CN).toBe('localhost');
    expect(leaf.issuerCertificate?.subject.CN).toBe('milagro-ts test intermediate (EC)');
    const root = leaf.issuerCertificate?.issuerCertificate;
    expect(root?.subject.CN).toBe('milagro-ts test CA (EC)');
    expect(root?.issuerCertificate).toBe(root); // self-signed root points to itself, as in node
    c.end();
    await once(c, 'close');
    await closeServer(server);
  });

  it('connects to an IP address: verified against the IP SAN, not sent as SNI (RFC 6066 §3)', async () => {
    const serverSide: TLSSocket[] = [];
    const server = createServer({ key: key256, cert: cert256 }, (s) => {
      serverSide.push(s);
      s.pipe(s);
    });
    const port = await listen(server);
    const c = connect({ host: '127.0.0.1', port, ca });
    await secure(c);
    expect(c.authorized).toBe(true);
    await new Promise((r) => setImmediate(r));
    expect(serverSide[0]?.servername).toBe(false);
    c.end();
    await once(c, 'close');
    await closeServer(server);
  });

  it('writes made before the handshake completes are delivered after it', async () => {
    const { server, port } = await echoServer({ key: key256, cert: cert256 });
    const c = connect({ host: 'localhost', port, ca });
    c.write('early ');
    c.end('data');
    expect((await readAll(c)).toString()).toBe('early data');
    await closeServer(server);
  });

  it('runs over a caller-supplied socket (options.socket)', async () => {
    const { server, port } = await echoServer({ key: key256, cert: cert256 });
    const { connect: netConnect } = await import('node:net');
    const raw = netConnect({ host: '127.0.0.1', port });
    await once(raw, 'connect');
    const c = connect({ socket: raw, servername: 'localhost', ca });
    c.end('over a given socket');
    expect((await readAll(c)).toString()).toBe('over a given socket');
    await closeServer(server);
  });
});

describe('node:tls as the peer', () => {
  it('our client ↔ node:tls server: suite, data both ways, identical keylog line', async () => {
    const nodeKeylog: string[] = [];
    const server = nodeTls.createServer({ key: key256, cert: cert256, maxVersion: 'TLSv1.2' }, (s) => s.pipe(s));
    server.on('keylog', (line: Buffer) => nodeKeylog.push(line.toString('latin1')));
    const port = await listen(server);
    for (const suite of suites) {
      const c = connect({ host: 'localhost', port, ca, ciphers: suite.opensslName });
      const ours: string[] = [];
      c.on('keylog', (l: Buffer) => ours.push(l.toString('latin1')));
      await secure(c);
      expect(c.getCipher()?.name).toBe(suite.opensslName);
      const payload = Buffer.alloc(100_000, suite.opensslName);
      c.end(payload);
      expect((await readAll(c)).equals(payload)).toBe(true);
      expect(nodeKeylog).toContain(ours[0]);
    }
    await closeServer(server);
  });

  it('node:tls client ↔ our server: node verifies us, reports our suite, and data round-trips', async () => {
    for (const suite of suites) {
      const { server, port } = await echoServer({ key: key384, cert: cert384, ciphers: suite.opensslName });
      const c = nodeTls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca, maxVersion: 'TLSv1.2' });
      await once(c, 'secureConnect');
      expect(c.authorized).toBe(true);
      expect(c.getProtocol()).toBe('TLSv1.2');
      expect(c.getCipher().name).toBe(suite.opensslName);
      const payload = Buffer.alloc(70_000, 7);
      c.end(payload);
      expect((await readAll(c)).equals(payload)).toBe(true);
      await closeServer(server);
    }
  });

  it('node:tls client ↔ our server: both log the same key-log line (same master secret)', async () => {
    const ours: string[] = [];
    const server = createServer({ key: key256, cert: cert256 }, (s) => s.pipe(s));
    server.on('keylog', (line: Buffer) => ours.push(line.toString('latin1')));
    const port = await listen(server);
    const c = nodeTls.connect({ host: 'localhost', port, ca, maxVersion: 'TLSv1.2' });
    const theirs: string[] = [];
    c.on('keylog', (line: Buffer) => theirs.push(line.toString('latin1')));
    await once(c, 'secureConnect');
    c.end('x');
    await readAll(c);
    expect(theirs).toHaveLength(1);
    expect(ours).toEqual(theirs);
    await closeServer(server);
  });

  it('node:tls client sees our close_notify as a clean end', async () => {
    const server = createServer({ key: key256, cert: cert256 }, (s) => s.end('bye'));
    const port = await listen(server);
    const c = nodeTls.connect({ host: 'localhost', port, ca, maxVersion: 'TLSv1.2' });
    const errors: Error[] = [];
    c.on('error', (e) => errors.push(e));
    expect((await readAll(c)).toString()).toBe('bye');
    expect(errors).toEqual([]);
    await closeServer(server);
  });
});
