/**
 * Issue 11 §2 over real sockets: memory bounded per connection and slots bounded per server.
 * - While a key-exchange step is pending (a gated fake Milagro kex standing in for a pairing in
 *   the worker pool), the server stops reading: a client streaming megabytes after its hello
 *   fills its own TCP window, the server holds no more than a read or two.
 * - `maxConnections` (as net.Server) and `maxHandshakesPerSource` refuse connections with 'drop';
 *   a handshake slot is freed by completion, by close, and by `handshakeTimeout`.
 * - The `milagro-ts server` flags map to these options.
 */
import { once } from 'node:events';
import { connect as netConnect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, createServer, TlsOptionError, type DropInfo, type Server, type TLSSocket } from '../../src/index.ts';
import { sourceKey } from '../../src/source-key.ts';
import { serverOptionsFromFlags } from '../../src/cli/server.ts';
import { gatedFakeMilagro, type GatedKex } from '../handshake/fake-kex.ts';
import { ca, cert256, closeServer, key256, listen, sleep } from './helpers.ts';

const P2P = 'TLS_MILAGRO_P2P_WITH_AES_128_GCM_SHA256';

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

function track<T extends Socket | TLSSocket>(s: T): T {
  s.on('error', () => undefined);
  cleanup.push(() => s.destroy());
  return s;
}

async function serve(server: Server): Promise<number> {
  const port = await listen(server);
  cleanup.push(() => closeServer(server));
  return port;
}

/**
 * A fake-Milagro client over a raw socket; only its first write (the ClientHello) goes out, the
 * test writes the rest with `send`.
 */
function helloOnly(g: GatedKex, port: number): { raw: Socket; tls: TLSSocket; send: (b: Uint8Array) => boolean } {
  const raw = track(netConnect({ port, host: '127.0.0.1' }));
  const write = raw.write.bind(raw) as (b: Uint8Array) => boolean;
  let writes = 0;
  (raw as unknown as { write: (b: Uint8Array) => boolean }).write = (b) => (writes++ === 0 ? write(b) : true);
  const tls = track(connect({ socket: raw, kex: g.kex, ciphers: P2P }));
  return { raw, tls, send: write };
}

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  for (let t = 0; t < ms && !cond(); t += 10) await sleep(10);
  expect(cond()).toBe(true);
}

describe('backpressure while a key-exchange step is pending', () => {
  it('a client streaming 8 MiB after its hello makes the server read at most a few chunks until the step completes', async () => {
    const g = gatedFakeMilagro();
    const server = createServer({ kex: g.kex, ciphers: P2P });
    const accepted: Socket[] = [];
    const errors: Array<{ code: string | undefined; socket: boolean }> = [];
    server.on('connection', (s: Socket) => accepted.push(s));
    server.on('tlsClientError', (e: Error & { code?: string }, s?: TLSSocket) => errors.push({ code: e.code ?? e.name, socket: s !== undefined }));
    const port = await serve(server);
    const { send } = helloOnly(g, port);
    await g.entered;
    const serverSide = accepted[0] as Socket;
    const helloBytes = serverSide.bytesRead;
    const junk = Buffer.alloc(64 * 1024, 0x17);
    const total = 8 * 1024 * 1024;
    for (let sent = 0; sent < total; sent += junk.length) send(junk);
    await sleep(300);
    const readWhilePending = serverSide.bytesRead - helloBytes;
    // Node reads ahead at most its high-water mark plus one socket read before it stops.
    expect(readWhilePending).toBeLessThanOrEqual(256 * 1024);
    expect(serverSide.isPaused()).toBe(true);
    // The step completes: reading resumes, the junk is refused, the connection ends.
    g.open();
    await until(() => errors.length > 0);
    expect(errors[0]?.socket).toBe(true);
    await until(() => serverSide.destroyed);
  });

  it('a legitimate client whose step was pending still completes and echoes (reading resumed)', async () => {
    const g = gatedFakeMilagro();
    const server = createServer({ kex: g.kex, ciphers: P2P }, (s) => s.pipe(s));
    const port = await serve(server);
    const c = track(connect({ port, host: '127.0.0.1', kex: g.kex, ciphers: P2P }));
    await g.entered;
    await sleep(20);
    g.open();
    await once(c, 'secureConnect');
    c.write('after the wait');
    const [d] = (await once(c, 'data')) as [Buffer];
    expect(d.toString()).toBe('after the wait');
  });
});

describe('maxConnections and maxHandshakesPerSource', () => {
  it('maxConnections: connections beyond the limit are closed on accept with a drop event', async () => {
    const server = createServer({ key: key256, cert: cert256, maxConnections: 1 }, (s) => s.pipe(s));
    const drops: DropInfo[] = [];
    server.on('drop', (d: DropInfo) => drops.push(d));
    const port = await serve(server);
    expect(server.maxConnections).toBe(1);
    const first = track(connect({ port, host: 'localhost', ca }));
    await once(first, 'secureConnect');
    const second = track(netConnect({ port, host: '127.0.0.1' }));
    await once(second, 'close');
    expect(drops).toMatchObject([{ reason: 'maxConnections', remoteAddress: '127.0.0.1' }]);
    first.write('still here');
    const [d] = (await once(first, 'data')) as [Buffer];
    expect(d.toString()).toBe('still here');
  });

  it('maxHandshakesPerSource: a source at its limit of unfinished handshakes is refused; completed handshakes do not count', async () => {
    const g = gatedFakeMilagro();
    const server = createServer({ kex: g.kex, ciphers: P2P, maxHandshakesPerSource: 2 }, (s) => s.pipe(s));
    const drops: DropInfo[] = [];
    server.on('drop', (d: DropInfo) => drops.push(d));
    const port = await serve(server);
    const a = track(connect({ port, host: '127.0.0.1', kex: g.kex, ciphers: P2P }));
    const b = track(connect({ port, host: '127.0.0.1', kex: g.kex, ciphers: P2P }));
    await until(() => g.started() === 2);
    const third = track(netConnect({ port, host: '127.0.0.1' }));
    await once(third, 'close');
    expect(drops).toMatchObject([{ reason: 'maxHandshakesPerSource', remoteAddress: '127.0.0.1' }]);
    g.open();
    await Promise.all([once(a, 'secureConnect'), once(b, 'secureConnect')]);
    // Both slots are free again although a and b stay connected.
    const c = track(connect({ port, host: '127.0.0.1', kex: g.kex, ciphers: P2P }));
    const d = track(connect({ port, host: '127.0.0.1', kex: g.kex, ciphers: P2P }));
    await Promise.all([once(c, 'secureConnect'), once(d, 'secureConnect')]);
    expect(drops.length).toBe(1);
  });

  it('a slow client holds its slot only until handshakeTimeout; a closed one frees it at once', async () => {
    const server = createServer({ key: key256, cert: cert256, maxHandshakesPerSource: 1, handshakeTimeout: 300 });
    const drops: DropInfo[] = [];
    const clientErrors: string[] = [];
    server.on('drop', (d: DropInfo) => drops.push(d));
    server.on('tlsClientError', (e: Error & { code?: string }) => clientErrors.push(e.code ?? e.name));
    const port = await serve(server);
    const silent = track(netConnect({ port, host: '127.0.0.1' }));
    await once(silent, 'connect');
    await sleep(30);
    const refused = track(netConnect({ port, host: '127.0.0.1' }));
    await once(refused, 'close');
    expect(drops.length).toBe(1);
    await once(silent, 'close'); // the server's handshake timeout
    expect(clientErrors).toContain('ERR_TLS_HANDSHAKE_TIMEOUT');
    const next = track(netConnect({ port, host: '127.0.0.1' }));
    await once(next, 'connect');
    await sleep(30);
    next.destroy();
    await sleep(50);
    const ok = track(connect({ port, host: 'localhost', ca }));
    await once(ok, 'secureConnect');
    expect(drops.length).toBe(1);
  });

  it('counts IPv4-mapped addresses as IPv4 and IPv6 sources per /64', () => {
    expect(sourceKey('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(sourceKey('192.0.2.7')).toBe('192.0.2.7');
    expect(sourceKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(sourceKey('2001:db8:1:2:bbbb:cccc:dddd:eeee')).toBe('2001:db8:1:2::/64');
    expect(sourceKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(sourceKey('::1')).toBe('0:0:0:0::/64');
  });

  it('rejects limits that are not positive integers', () => {
    expect(() => createServer({ key: key256, cert: cert256, maxConnections: 0 })).toThrow(TlsOptionError);
    expect(() => createServer({ key: key256, cert: cert256, maxHandshakesPerSource: 1.5 })).toThrow(TlsOptionError);
    expect(() => createServer({ key: key256, cert: cert256, maxHandshakeBuffer: 1000 })).toThrow(TlsOptionError);
  });
});

describe('milagro-ts server flags', () => {
  const base = { cert: 'test/fixtures/certs/server-ec256.pem', key: 'test/fixtures/certs/server-ec256.key', provider: 'noble' };
  it('--max-connections and --max-handshakes-per-source map to the server options', () => {
    const o = serverOptionsFromFlags({ ...base, 'max-connections': '500', 'max-handshakes-per-source': '8' } as Parameters<typeof serverOptionsFromFlags>[0]);
    expect(o.maxConnections).toBe(500);
    expect(o.maxHandshakesPerSource).toBe(8);
    expect(() => serverOptionsFromFlags({ ...base, 'max-connections': '0' } as Parameters<typeof serverOptionsFromFlags>[0])).toThrow(/positive integer/);
  });
});
