/** Shared helpers for the API tests: fixtures, listening servers, one-shot exchanges. */
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type { AddressInfo, Server as NetServer } from 'node:net';
import { resolve } from 'node:path';
import { connect, type ConnectionOptions, type Server, type TLSSocket } from '../../src/index.ts';

const dir = resolve(import.meta.dirname, '..', 'fixtures', 'certs');

export function fixture(name: string): Buffer {
  return readFileSync(resolve(dir, name));
}

export const ca = fixture('ca-ec.pem');
export const cert256 = fixture('server-ec256.pem');
export const key256 = fixture('server-ec256.key');
export const cert384 = fixture('server-ec384.pem');
export const key384 = fixture('server-ec384.key');

export async function listen(server: Server | NetServer): Promise<number> {
  (server as NetServer).listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

export async function closeServer(server: Server | NetServer): Promise<void> {
  await new Promise<void>((r) => (server as NetServer).close(() => r()));
}

/** Collects everything a readable stream delivers until it ends. */
export async function readAll(s: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks);
}

/** Resolves when the socket finished its handshake (secureConnect), rejects on error/close first. */
export function secure(s: TLSSocket, event: 'secureConnect' | 'secure' = 'secureConnect'): Promise<void> {
  return new Promise((res, rej) => {
    s.once(event, () => res());
    s.once('error', rej);
    s.once('close', () => rej(new Error('closed before the handshake completed')));
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * One connection to 127.0.0.1:`port` (servername localhost, the test CA unless `opts` says
 * otherwise): "hi" echoed back, then a clean close. Waits for the echo before close_notify: after
 * the peer's close_notify a server drops its writes (RFC 5246 §7.2.1).
 */
export async function roundTrip(port: number, opts: ConnectionOptions = {}): Promise<{ socket: TLSSocket; echoed: string; session: Buffer | undefined }> {
  const socket = connect({ host: '127.0.0.1', port, ca, servername: 'localhost', ...opts });
  let session: Buffer | undefined;
  socket.on('session', (s: Buffer) => {
    session = s;
  });
  await secure(socket);
  socket.write('hi');
  const [chunk] = (await once(socket, 'data')) as [Buffer];
  socket.end();
  await readAll(socket);
  return { socket, echoed: chunk.toString(), session };
}

/** Connection options resuming `session`, or none. */
export const withSession = (session: Buffer | undefined): ConnectionOptions => (session === undefined ? {} : { session });
