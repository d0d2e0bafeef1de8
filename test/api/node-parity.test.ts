/**
 * node:tls parity that ported programs rely on (issue 12 §4): error codes, authorizationError,
 * 'close' hadError, exportKeyingMaterial, getFinished / getPeerFinished, checkServerIdentity,
 * rootCertificates, getCiphers, version bounds, address(), newSession / resumeSession, default
 * trust and the key/certificate mismatch check. Each is compared with node:tls where node has it.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import * as tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import {
  checkServerIdentity,
  connect,
  createServer,
  DEFAULT_MAX_VERSION,
  DEFAULT_MIN_VERSION,
  getCiphers,
  rootCertificates,
  type Server,
  type TLSSocket,
} from '../../src/index.ts';
import { resolveClientOptions } from '../../src/api/config.ts';
import { ca, cert256, closeServer, fixture, key256, listen, secure } from './helpers.ts';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0)) await f();
});

async function nodeServer(opts: tls.TlsOptions = {}, onConn?: (s: tls.TLSSocket) => void): Promise<{ port: number; server: tls.Server }> {
  const server = tls.createServer({ key: key256, cert: cert256, maxVersion: 'TLSv1.2', ...opts }, (s) => {
    s.on('error', () => undefined);
    onConn?.(s);
  });
  server.on('tlsClientError', () => undefined);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanup.push(() => new Promise<void>((r) => server.close(() => r())));
  return { port: (server.address() as AddressInfo).port, server };
}

async function ourServer(opts: Parameters<typeof createServer>[0] = { key: key256, cert: cert256 }, onConn?: (s: TLSSocket) => void): Promise<{ port: number; server: Server }> {
  const server = createServer(opts, (s) => onConn?.(s));
  server.on('tlsClientError', () => undefined);
  const port = await listen(server);
  cleanup.push(() => closeServer(server));
  return { port, server };
}

/** The error a client gets, or undefined when it connected. */
function outcome(sock: tls.TLSSocket | TLSSocket): Promise<Error | undefined> {
  return new Promise((resolve) => {
    sock.once('secureConnect', () => {
      resolve(undefined);
      sock.destroy();
    });
    sock.once('error', (e: Error) => resolve(e));
  });
}

describe('error codes as node:tls', () => {
  it('a peer alert carries the same ERR_SSL_* code node:tls reports (no shared cipher → handshake_failure)', async () => {
    const { port } = await nodeServer({ ciphers: 'ECDHE-ECDSA-AES256-GCM-SHA384' });
    const nodeErr = await outcome(tls.connect({ port, host: '127.0.0.1', ca, servername: 'localhost', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256', maxVersion: 'TLSv1.2' }));
    const ourErr = await outcome(connect({ port, host: '127.0.0.1', ca, servername: 'localhost', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' }));
    expect((nodeErr as NodeJS.ErrnoException).code).toBe('ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE');
    expect((ourErr as NodeJS.ErrnoException).code).toBe((nodeErr as NodeJS.ErrnoException).code);
  });

  it.each([
    ['unknown CA', { ca: fixture('ca-rsa.pem'), servername: 'localhost' }],
    ['host name mismatch', { ca, servername: 'not-this-host.example' }],
    ['no ca: node bundled roots', { servername: 'localhost' }],
  ])('certificate rejection (%s): err.code equals node:tls', async (_name, extra) => {
    const { port } = await nodeServer();
    const nodeErr = await outcome(tls.connect({ port, host: '127.0.0.1', maxVersion: 'TLSv1.2', ...extra }));
    const { port: ourPort } = await ourServer();
    const ourErr = await outcome(connect({ port: ourPort, host: '127.0.0.1', ...extra }));
    expect(typeof (nodeErr as NodeJS.ErrnoException).code).toBe('string');
    expect((ourErr as NodeJS.ErrnoException).code).toBe((nodeErr as NodeJS.ErrnoException).code);
  });

  it('a locally detected failure carries an ERR_SSL_* code too', async () => {
    const { port } = await ourServer({ key: key256, cert: cert256, ciphers: 'ECDHE-ECDSA-AES256-GCM-SHA384' });
    const nodeErr = await outcome(tls.connect({ port, host: '127.0.0.1', ca, servername: 'localhost', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256', maxVersion: 'TLSv1.2' }));
    expect((nodeErr as NodeJS.ErrnoException).code).toBe('ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE');
    const ours = await ourServer({ key: key256, cert: cert256, ciphers: 'ECDHE-ECDSA-AES256-GCM-SHA384' });
    const serverErr = new Promise<Error>((r) => ours.server.once('tlsClientError', (e: Error) => r(e)));
    await outcome(connect({ port: ours.port, host: '127.0.0.1', ca, servername: 'localhost', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' }));
    expect((await serverErr as NodeJS.ErrnoException).code).toBe('ERR_SSL_HANDSHAKE_FAILURE');
  });
});

describe('TLSSocket accessors as node:tls', () => {
  it('authorizationError is null when authorized, node string code when not; close hadError is boolean', async () => {
    const { port } = await ourServer();
    const ok = connect({ port, host: '127.0.0.1', ca, servername: 'localhost' });
    await secure(ok);
    expect(ok.authorized).toBe(true);
    expect(ok.authorizationError).toBeNull();
    const closed = once(ok, 'close');
    ok.end();
    expect(await closed).toEqual([false]);

    const bad = connect({ port, host: '127.0.0.1', ca, servername: 'wrong.example', rejectUnauthorized: false });
    await secure(bad);
    const nodeBad = tls.connect({ port, host: '127.0.0.1', ca, servername: 'wrong.example', rejectUnauthorized: false });
    await once(nodeBad, 'secureConnect');
    expect(bad.authorizationError).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    expect(bad.authorizationError).toBe(nodeBad.authorizationError instanceof Error ? (nodeBad.authorizationError as NodeJS.ErrnoException).code : nodeBad.authorizationError);
    nodeBad.destroy();
    // events.once would reject on the 'error' that precedes 'close': listen directly.
    bad.on('error', () => undefined);
    const badClosed = new Promise<unknown[]>((r) => bad.once('close', (...args: unknown[]) => r(args)));
    bad.destroy(new Error('boom'));
    expect(await badClosed).toEqual([true]);
  });

  it('exportKeyingMaterial equals node:tls on the other end, with and without context (both roles)', async () => {
    // our client ↔ node server
    let nodeSide: tls.TLSSocket | undefined;
    const { port } = await nodeServer({}, (s) => (nodeSide = s));
    const c = connect({ port, host: '127.0.0.1', ca, servername: 'localhost' });
    await secure(c);
    await new Promise((r) => setTimeout(r, 20));
    const peer = nodeSide as tls.TLSSocket;
    // @types/node requires `context`, node itself does not (no context = RFC 5705 without one).
    const noContext = peer.exportKeyingMaterial.bind(peer) as (length: number, label: string) => Buffer;
    expect(c.exportKeyingMaterial(48, 'EXPORTER-test')).toEqual(noContext(48, 'EXPORTER-test'));
    expect(c.exportKeyingMaterial(32, 'EXPORTER-ctx', Buffer.from('context'))).toEqual(peer.exportKeyingMaterial(32, 'EXPORTER-ctx', Buffer.from('context')));
    expect(c.exportKeyingMaterial(32, 'EXPORTER-ctx', Buffer.alloc(0))).toEqual(peer.exportKeyingMaterial(32, 'EXPORTER-ctx', Buffer.alloc(0)));
    expect(c.exportKeyingMaterial(32, 'EXPORTER-ctx')).not.toEqual(c.exportKeyingMaterial(32, 'EXPORTER-ctx', Buffer.alloc(0)));
    // Finished messages: ours is node's peer's, and the other way round.
    expect(c.getFinished()).toEqual(peer.getPeerFinished());
    expect(c.getPeerFinished()).toEqual(peer.getFinished());
    expect(c.getFinished()?.length).toBe(12);
    c.destroy();

    // node client ↔ our server
    let ourSide: TLSSocket | undefined;
    const ours = await ourServer({ key: key256, cert: cert256 }, (s) => (ourSide = s));
    const n = tls.connect({ port: ours.port, host: '127.0.0.1', ca, servername: 'localhost', maxVersion: 'TLSv1.2' });
    await once(n, 'secureConnect');
    await new Promise((r) => setTimeout(r, 20));
    const s = ourSide as TLSSocket;
    expect(s.exportKeyingMaterial(20, 'EXPORTER-x', Buffer.from([1, 2, 3]))).toEqual(n.exportKeyingMaterial(20, 'EXPORTER-x', Buffer.from([1, 2, 3])));
    expect(s.getFinished()).toEqual(n.getPeerFinished());
    expect(s.getPeerFinished()).toEqual(n.getFinished());
    // address() is the transport's, as node:net reports it.
    expect(s.address()).toEqual({ address: '127.0.0.1', family: 'IPv4', port: ours.port });
    n.destroy();
  });

  it('exportKeyingMaterial before the handshake throws, as node:tls does', () => {
    const c = connect({ port: 1, host: '127.0.0.1', ca });
    c.on('error', () => undefined);
    expect(() => c.exportKeyingMaterial(32, 'x')).toThrow(/securely established/);
    expect(c.getFinished()).toBeUndefined();
    c.destroy();
  });
});

describe('module members as node:tls', () => {
  it('rootCertificates, getCiphers, DEFAULT_MIN_VERSION / DEFAULT_MAX_VERSION', () => {
    expect(rootCertificates).toBe(tls.rootCertificates);
    const ours = getCiphers();
    expect(ours).toContain('ecdhe-ecdsa-aes128-gcm-sha256');
    // Every standard suite we implement is one node knows under the same name.
    const nodeCiphers = new Set(tls.getCiphers());
    for (const name of ours.filter((n) => n.startsWith('ecdhe-'))) expect(nodeCiphers.has(name)).toBe(true);
    expect(DEFAULT_MIN_VERSION).toBe('TLSv1.2');
    expect(DEFAULT_MAX_VERSION).toBe('TLSv1.2');
  });

  it('checkServerIdentity on getPeerCertificate() answers as node:tls; the option receives that object', async () => {
    const { port } = await ourServer();
    let seen: unknown;
    const c = connect({
      port,
      host: '127.0.0.1',
      ca,
      servername: 'localhost',
      checkServerIdentity: (host, cert) => {
        seen = cert;
        return checkServerIdentity(host, cert);
      },
    });
    await secure(c);
    const pc = c.getPeerCertificate();
    for (const host of ['localhost', 'other.example', '127.0.0.1']) {
      const mine = checkServerIdentity(host, pc as Parameters<typeof checkServerIdentity>[1]);
      const node = tls.checkServerIdentity(host, pc as unknown as tls.PeerCertificate);
      expect(mine?.message).toBe(node?.message);
    }
    expect((seen as { subject?: { CN?: string } }).subject?.CN).toBe((pc as { subject: { CN?: string } }).subject.CN);
    c.destroy();
  });

  it('no ca: node bundled roots are the trust anchors (parsed once per process)', () => {
    const r = resolveClientOptions({ host: 'example.org', port: 443 });
    expect(r.engine.ca.length).toBeGreaterThan(100);
    expect(r.engine.ca.length).toBeLessThanOrEqual(tls.rootCertificates.length);
    const again = resolveClientOptions({ host: 'example.org', port: 443 });
    expect(again.engine.ca[0]).toBe(r.engine.ca[0]);
    expect(resolveClientOptions({ host: 'example.org', port: 443, ca }).engine.ca.length).toBe(1);
  });
});

describe('configuration checks as node:tls', () => {
  it('a certificate whose public key does not match key is refused at createServer ("key values mismatch")', () => {
    expect(() => tls.createSecureContext({ key: fixture('server-ec384.key'), cert: cert256 })).toThrow(/key values mismatch/);
    expect(() => createServer({ key: fixture('server-ec384.key'), cert: cert256 })).toThrow(/key values mismatch/);
    expect(() => createServer({ key: fixture('server-rsa2048.key'), cert: cert256 })).toThrow(/key values mismatch/);
    expect(() => connect({ port: 1, key: fixture('server-ec384.key'), cert: cert256 })).toThrow(/key values mismatch/);
  });
});

describe("server 'newSession' / 'resumeSession' (external session cache)", () => {
  it('sessions go to the application cache and resume from it, with node:tls as the client', async () => {
    const cache = new Map<string, Buffer>();
    const ours = await ourServer({ key: key256, cert: cert256, sessionTickets: false });
    ours.server.on('newSession', (id: Buffer, data: Buffer, cb: () => void) => {
      cache.set(id.toString('hex'), data);
      cb();
    });
    let asked = 0;
    ours.server.on('resumeSession', (id: Buffer, cb: (err: Error | null, data: Buffer | null) => void) => {
      asked++;
      cb(null, cache.get(id.toString('hex')) ?? null);
    });
    const first = tls.connect({ port: ours.port, host: '127.0.0.1', ca, servername: 'localhost', maxVersion: 'TLSv1.2' });
    const session = await new Promise<Buffer>((r) => first.once('session', r));
    first.destroy();
    expect(cache.size).toBe(1);
    const second = tls.connect({ port: ours.port, host: '127.0.0.1', ca, servername: 'localhost', maxVersion: 'TLSv1.2', session });
    await once(second, 'secureConnect');
    expect(second.isSessionReused()).toBe(true);
    expect(asked).toBe(1);
    second.destroy();
    // An unknown session: the callback answers null → full handshake.
    cache.clear();
    const third = tls.connect({ port: ours.port, host: '127.0.0.1', ca, servername: 'localhost', maxVersion: 'TLSv1.2', session });
    await once(third, 'secureConnect');
    expect(third.isSessionReused()).toBe(false);
    third.destroy();
  });
});
