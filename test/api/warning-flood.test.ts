/**
 * Issue 11 §5 through the public API: a client that sends warning alerts forever (here 20,000)
 * is cut off at once with a fatal unexpected_message, the server's 'tlsClientError' fires and the
 * socket closes — instead of the alerts being ignored until the handshake timeout.
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AlertDescription, createServer, type Server } from '../../src/index.ts';

const certs = new URL('../fixtures/certs/', import.meta.url);
let server: Server;
let port: number;
const clientErrors: Error[] = [];

beforeAll(async () => {
  // A long handshake timeout: the test shows the flood ends the connection, not the timer.
  server = createServer({ cert: readFileSync(new URL('server-ec256.pem', certs)), key: readFileSync(new URL('server-ec256.key', certs)), handshakeTimeout: 60_000 }, (s) => s.end());
  server.on('tlsClientError', (e: Error) => clientErrors.push(e));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as net.AddressInfo).port;
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});

it('20,000 warning alerts before the ClientHello: fatal unexpected_message and the socket closes within a second', async () => {
  const alert = Uint8Array.of(21, 3, 3, 0, 2, 1, AlertDescription.user_canceled);
  const flood = Buffer.concat(Array.from({ length: 20_000 }, () => alert));
  const t0 = Date.now();
  const received = await new Promise<Buffer>((resolve) => {
    const chunks: Buffer[] = [];
    const s = net.connect(port, '127.0.0.1', () => s.write(flood, () => {}));
    // Before the fix the server ignored the alerts and kept the socket open: give up after 5 s.
    const timer = setTimeout(() => s.destroy(), 5000);
    s.on('data', (d) => chunks.push(d));
    s.on('error', () => {});
    s.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
  });
  expect(Date.now() - t0).toBeLessThan(1000);
  // One fatal alert record: 21 03 03 00 02 02 0a.
  expect([...received.subarray(0, 7)]).toEqual([21, 3, 3, 0, 2, 2, AlertDescription.unexpected_message]);
  await new Promise((r) => setTimeout(r, 50));
  expect(clientErrors.length).toBe(1);
  expect(clientErrors[0]?.message).toMatch(/warning alerts in a row/);
});
