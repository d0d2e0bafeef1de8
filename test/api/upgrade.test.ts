/**
 * Server#upgrade: TLS started on an already-connected plain socket (StartTLS), with the plain
 * protocol's bytes before the switch left alone, and handshake failures reported as on accepted
 * sockets ('tlsClientError', socket closed) without taking the server down.
 */
import { once } from 'node:events';
import { createServer as netCreateServer, connect as netConnect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, createServer, type TLSSocket } from '../../src/index.ts';
import { ca, cert256, closeServer, key256, listen } from './helpers.ts';

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0)) await f();
});

describe('Server#upgrade (StartTLS on an existing socket)', () => {
  it('plain greeting, then TLS on the same TCP connection; echo over TLS', async () => {
    const tls = createServer({ cert: cert256, key: key256 });
    const secured: TLSSocket[] = [];
    tls.on('secureConnection', (s: TLSSocket) => secured.push(s));
    const plain = netCreateServer((raw: Socket) => {
      raw.once('data', (d: Buffer) => {
        expect(d.toString()).toBe('STARTTLS\n');
        raw.write('GO\n', () => {
          const s = tls.upgrade(raw);
          s?.on('data', (x: Buffer) => s.write(x));
        });
      });
    });
    const port = await listen(plain);
    cleanup.push(() => closeServer(plain));
    const raw = netConnect({ port, host: '127.0.0.1' });
    await once(raw, 'connect');
    raw.write('STARTTLS\n');
    const [go] = (await once(raw, 'data')) as [Buffer];
    expect(go.toString()).toBe('GO\n');
    const c = connect({ socket: raw, ca, servername: 'localhost' });
    await once(c, 'secureConnect');
    expect(c.authorized).toBe(true);
    c.write('over tls');
    const [echo] = (await once(c, 'data')) as [Buffer];
    expect(echo.toString()).toBe('over tls');
    expect(secured).toHaveLength(1);
    c.destroy();
  });

  it('a failed handshake on an upgraded socket is a tlsClientError and closes that socket only', async () => {
    const tls = createServer({ cert: cert256, key: key256 });
    const errors: Error[] = [];
    tls.on('tlsClientError', (e: Error) => errors.push(e));
    const plain = netCreateServer((raw: Socket) => {
      tls.upgrade(raw);
    });
    const port = await listen(plain);
    cleanup.push(() => closeServer(plain));
    const raw = netConnect({ port, host: '127.0.0.1' });
    await once(raw, 'connect');
    const closed = once(raw, 'close');
    raw.on('data', () => undefined);
    raw.write('not a ClientHello at all, just text\r\n');
    await closed;
    expect(errors).toHaveLength(1);
  });
});
