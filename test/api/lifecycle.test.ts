/**
 * Connection lifecycle: end() sends close_notify (RFC 5246 §7.2.1), handshake timeouts on both
 * sides, option validation, and a server that keeps serving good clients while bad ones send
 * garbage, stall mid-handshake or reset the connection.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect as netConnect, createServer as netCreateServer, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { connect, createServer, TlsError, TlsOptionError, type TLSSocket } from '../../src/index.ts';
import { ca, cert256, closeServer, key256, listen, readAll, secure, sleep } from './helpers.ts';

const CONTENT_ALERT = 21;
const CONTENT_APPLICATION_DATA = 23;

/** TLS records in a byte stream (type, length) — the outer framing only (RFC 5246 §6.2.1). */
function recordTypes(bytes: Buffer): number[] {
  const types: number[] = [];
  let off = 0;
  while (off + 5 <= bytes.length) {
    types.push(bytes[off] ?? -1);
    off += 5 + bytes.readUInt16BE(off + 3);
  }
  return types;
}

describe('end() and close_notify', () => {
  it('client end(): the last record on the wire is an (encrypted) alert, then FIN; the server sees a clean end', async () => {
    let serverEnded = false;
    const server = createServer({ key: key256, cert: cert256 }, (s) => {
      s.on('end', () => {
        serverEnded = true;
      });
      s.resume();
    });
    const port = await listen(server);
    const raw = netConnect({ host: '127.0.0.1', port });
    const written: Buffer[] = [];
    const origWrite = raw.write.bind(raw) as (chunk: Uint8Array) => boolean;
    (raw as unknown as { write: (chunk: Uint8Array) => boolean }).write = (chunk: Uint8Array) => {
      written.push(Buffer.from(chunk));
      return origWrite(chunk);
    };
    const c = connect({ socket: raw, servername: 'localhost', ca });
    await secure(c);
    c.write('some data');
    c.end();
    await once(c, 'close');
    const types = recordTypes(Buffer.concat(written));
    expect(types.at(-2)).toBe(CONTENT_APPLICATION_DATA);
    expect(types.at(-1)).toBe(CONTENT_ALERT);
    expect(raw.writableEnded).toBe(true);
    await sleep(50);
    expect(serverEnded).toBe(true);
    await closeServer(server);
  });

  it('server end(): the client reads the data then a clean end, and closes without error', async () => {
    const server = createServer({ key: key256, cert: cert256 }, (s) => s.end('goodbye'));
    const port = await listen(server);
    const c = connect({ host: 'localhost', port, ca });
    const errors: Error[] = [];
    c.on('error', (e) => errors.push(e));
    expect((await readAll(c)).toString()).toBe('goodbye');
    if (!c.closed) await once(c, 'close');
    expect(c.closed).toBe(true);
    expect(errors).toEqual([]);
    await closeServer(server);
  });

  it('destroy() closes the transport at once', async () => {
    const server = createServer({ key: key256, cert: cert256 }, (s) => {
      s.on('error', () => {});
      s.resume();
    });
    const port = await listen(server);
    const c = connect({ host: 'localhost', port, ca });
    await secure(c);
    c.destroy();
    await once(c, 'close');
    expect(c.destroyed).toBe(true);
    await closeServer(server);
  });
});

describe('handshakeTimeout', () => {
  it('server: a client that connects and says nothing gets tlsClientError ERR_TLS_HANDSHAKE_TIMEOUT and is disconnected', async () => {
    const server = createServer({ key: key256, cert: cert256, handshakeTimeout: 200 });
    const errors: (Error & { code?: string })[] = [];
    server.on('tlsClientError', (e: Error) => errors.push(e));
    const port = await listen(server);
    const raw = netConnect({ host: '127.0.0.1', port });
    raw.on('error', () => {});
    const t0 = Date.now();
    raw.resume();
    await once(raw, 'close');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(150);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.code).toBe('ERR_TLS_HANDSHAKE_TIMEOUT');
    await closeServer(server);
  });

  it('client: a server that never answers → error ERR_TLS_HANDSHAKE_TIMEOUT', async () => {
    const silent = netCreateServer((s) => {
      s.on('error', () => {});
      s.resume();
    });
    const port = await listen(silent);
    const c = connect({ host: '127.0.0.1', port, ca, handshakeTimeout: 200 });
    const [err] = (await once(c, 'error')) as [Error & { code?: string }];
    expect(err.code).toBe('ERR_TLS_HANDSHAKE_TIMEOUT');
    await closeServer(silent);
  });
});

describe('option validation', () => {
  it('refuses TLS versions other than 1.2 with a clear error', () => {
    expect(() => connect({ port: 1, minVersion: 'TLSv1.3' })).toThrow(TlsOptionError);
    expect(() => connect({ port: 1, maxVersion: 'TLSv1.1' })).toThrow(/TLS 1\.2 only/);
    expect(() => createServer({ key: key256, cert: cert256, minVersion: 'SSLv3' })).toThrow(/not a TLS version name/);
    expect(() => createServer({ key: key256, cert: cert256, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' })).not.toThrow();
  });

  it('names unknown cipher suites and groups', () => {
    expect(() => connect({ port: 1, ciphers: 'RC4-MD5' })).toThrow(/unknown cipher suite "RC4-MD5"/);
    expect(() => connect({ port: 1, ecdhCurve: 'P-521' })).toThrow(/unknown ECDH group "P-521"/);
  });

  it('a server needs a certificate and key for the ECDHE suites; bad PEM is reported per option', () => {
    expect(() => createServer({})).toThrow(/needs `cert` and `key`/);
    expect(() => createServer({ cert: cert256 })).toThrow(/together/);
    expect(() => createServer({ key: 'not a key', cert: cert256 })).toThrow(/^key: /);
    expect(() => connect({ port: 1, ca: 'garbage' })).toThrow(/^ca: /);
  });
});

describe('a server under bad input keeps serving', () => {
  async function goodClient(port: number, text: string): Promise<string> {
    const c = connect({ host: 'localhost', port, ca });
    c.end(text);
    return (await readAll(c)).toString();
  }

  it('survives random bytes, half a ClientHello then silence, an immediate RST and plain HTTP, while serving good clients', async () => {
    const server = createServer({ key: key256, cert: cert256, handshakeTimeout: 400 }, (s: TLSSocket) => s.pipe(s));
    const errors: Error[] = [];
    server.on('tlsClientError', (e: Error) => errors.push(e));
    const port = await listen(server);

    const rawClient = async (bytes: Buffer | undefined, mode: 'end' | 'silence' | 'reset'): Promise<Buffer> => {
      const s: Socket = netConnect({ host: '127.0.0.1', port });
      s.on('error', () => {});
      await once(s, 'connect');
      if (bytes !== undefined) s.write(bytes);
      const received: Buffer[] = [];
      s.on('data', (d: Buffer) => received.push(d));
      if (mode === 'reset') s.resetAndDestroy();
      else if (mode === 'end') s.end();
      if (!s.destroyed) await once(s, 'close');
      return Buffer.concat(received);
    };

    // A real ClientHello, captured from our own client, cut in half.
    const hello = await new Promise<Buffer>((resolve) => {
      const sink = netCreateServer((s) => s.once('data', (d: Buffer) => { resolve(d); s.destroy(); }));
      sink.listen(0, '127.0.0.1', () => {
        const a = sink.address();
        const c = connect({ host: 'localhost', port: typeof a === 'object' && a !== null ? a.port : 0, ca });
        c.on('error', () => sink.close());
      });
    });
    expect(hello[0]).toBe(22); // handshake record

    const results = await Promise.all([
      rawClient(randomBytes(3000), 'end'),
      rawClient(hello.subarray(0, Math.floor(hello.length / 2)), 'silence'),
      rawClient(undefined, 'reset'),
      rawClient(Buffer.from('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n'), 'end'),
      goodClient(port, 'first good client'),
    ]);
    expect(results[4]).toBe('first good client');
    // The HTTP client is answered with a fatal alert record (RFC 5246 §7.2), not silence.
    expect(results[3][0]).toBe(CONTENT_ALERT);
    await sleep(50);
    expect(errors.length).toBeGreaterThanOrEqual(3);
    expect(errors.some((e) => e instanceof TlsError)).toBe(true);
    expect(errors.some((e) => (e as Error & { code?: string }).code === 'ERR_TLS_HANDSHAKE_TIMEOUT')).toBe(true);
    // Still alive afterwards.
    expect(await goodClient(port, 'second good client')).toBe('second good client');
    await closeServer(server);
  });
});

describe('mutated ClientHellos over real sockets', () => {
  it('40 connections with a byte-mutated ClientHello each end in an alert or a close; the server keeps serving', async () => {
    // Deterministic mutations (xorshift32), so a failure reproduces.
    let seed = 0x9e3779b9;
    const rnd = (n: number): number => {
      seed ^= seed << 13;
      seed >>>= 0;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      seed >>>= 0;
      return seed % n;
    };
    const hello = await new Promise<Buffer>((resolve) => {
      const sink = netCreateServer((s) => s.once('data', (d: Buffer) => { resolve(d); s.destroy(); sink.close(); }));
      sink.listen(0, '127.0.0.1', () => {
        const a = sink.address();
        const c = connect({ host: 'localhost', port: typeof a === 'object' && a !== null ? a.port : 0, ca });
        c.on('error', () => {});
      });
    });
    const server = createServer({ key: key256, cert: cert256, handshakeTimeout: 1500 }, (s: TLSSocket) => s.pipe(s));
    let clientErrors = 0;
    server.on('tlsClientError', () => clientErrors++);
    const port = await listen(server);
    const one = async (): Promise<'alert' | 'closed'> => {
      const m = Buffer.from(hello);
      const flips = 1 + rnd(4);
      for (let i = 0; i < flips; i++) {
        const at = rnd(m.length);
        m[at] = (m[at] ?? 0) ^ (1 + rnd(255));
      }
      const s = netConnect({ host: '127.0.0.1', port });
      s.on('error', () => {});
      const got: Buffer[] = [];
      s.on('data', (d: Buffer) => got.push(d));
      await once(s, 'connect');
      s.write(m);
      if (!s.closed) await once(s, 'close');
      const all = Buffer.concat(got);
      return recordTypes(all).includes(CONTENT_ALERT) ? 'alert' : 'closed';
    };
    const outcomes: string[] = [];
    for (let batch = 0; batch < 4; batch++) outcomes.push(...(await Promise.all(Array.from({ length: 10 }, one))));
    expect(outcomes).toHaveLength(40);
    // Most mutations are caught by the parser and answered with a fatal alert.
    expect(outcomes.filter((o) => o === 'alert').length).toBeGreaterThan(0);
    expect(clientErrors).toBeGreaterThan(0);
    const c = connect({ host: 'localhost', port, ca });
    c.end('still serving');
    expect((await readAll(c)).toString()).toBe('still serving');
    await closeServer(server);
  });
});

describe('key-exchange hook (options.kex)', () => {
  it('a function receives the default registry and its result is used', async () => {
    const { KexRegistry } = await import('../../src/index.ts');
    let seen: unknown;
    const server = createServer({
      key: key256,
      cert: cert256,
      kex: (defaults) => {
        seen = defaults;
        return defaults;
      },
    }, (s) => s.pipe(s));
    expect(seen).toBeInstanceOf(KexRegistry);
    const port = await listen(server);
    const c = connect({ host: 'localhost', port, ca, kex: (r) => r });
    c.end('via kex hook');
    expect((await readAll(c)).toString()).toBe('via kex hook');
    await closeServer(server);
  });

  it('a registry without the suites\' key exchange leaves no usable suite, and says which exchanges exist', async () => {
    const { KexRegistry } = await import('../../src/index.ts');
    expect(() => connect({ port: 1, kex: KexRegistry.of() })).toThrow(/no usable cipher suite/);
  });
});

describe('transport failures', () => {
  it('connection refused surfaces as an error event with the errno code', async () => {
    const probe = netCreateServer();
    const port = await listen(probe);
    await closeServer(probe);
    const c = connect({ host: '127.0.0.1', port, ca });
    const [err] = (await once(c, 'error')) as [Error & { code?: string }];
    expect(err.code).toBe('ECONNREFUSED');
  });

  it('a server that resets mid-handshake → client error, not a hang', async () => {
    const rude = netCreateServer((s) => s.once('data', () => s.resetAndDestroy()));
    const port = await listen(rude);
    const c = connect({ host: '127.0.0.1', port, ca, handshakeTimeout: 5000 });
    const [err] = (await once(c, 'error')) as [Error & { code?: string }];
    expect(err.code).toBe('ECONNRESET');
    await closeServer(rude);
  });
});
