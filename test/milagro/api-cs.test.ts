/**
 * Issue 6 items 2, 3, 6 over real sockets: the `milagro` option of connect/createServer,
 * getPeerIdentity(), the server's worker pool, and bad input answered with an alert while the
 * server keeps serving.
 */
import { once } from 'node:events';
import { connect as netConnect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertDescription, PeerAlertError, connect, createServer, type MilagroCsEvent, type Server, type TLSSocket } from '../../src/index.ts';
import { bytesToHex } from '../../src/codec/bytes.ts';
import { ByteWriter } from '../../src/codec/writer.ts';
import { encodeClientHello } from '../../src/handshake/messages/client-hello.ts';
import { encodeHandshake } from '../../src/handshake/messages/handshake.ts';
import { encodeCsExtension } from '../../src/kex/milagro/cs-wire.ts';
import { closeServer, listen } from '../api/helpers.ts';
import { issueCsKeys } from './keys.ts';

const keys = issueCsKeys({ now: Date.now(), identity: 'bob@example.org', pin: 4321 });
const events: MilagroCsEvent[] = [];
const clientErrors: Error[] = [];
let server: Server;
let port = 0;

beforeAll(async () => {
  server = createServer({
    milagro: {
      serverSecret: bytesToHex(keys.serverSecret), // hex, as in the CSServerKey file
      timePermits: true,
      resolveIdentity: (h) => (bytesToHex(h) === bytesToHex(keys.hashId) ? keys.identity : undefined),
      logger: (e) => events.push(e),
      workers: 2,
    },
  });
  server.on('tlsClientError', (e: Error) => clientErrors.push(e));
  server.on('secureConnection', (s: TLSSocket) => {
    s.on('data', (d: Buffer) => s.end(`${s.getPeerIdentity()?.identity ?? '?'} said ${d.toString()}`));
    s.on('error', () => undefined);
  });
  port = await listen(server);
});
afterAll(() => closeServer(server));

function login(pin: number, extra: Record<string, unknown> = {}): TLSSocket {
  return connect({
    port,
    host: '127.0.0.1',
    milagro: { identity: keys.identity, token: keys.token, pin, timePermit: keys.timePermit, ...extra },
  });
}

async function exchange(s: TLSSocket, msg: string): Promise<string> {
  await once(s, 'secureConnect');
  s.write(msg);
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
}

function rawHello(ext37: Uint8Array | undefined, copies = 1): Uint8Array {
  const w = new ByteWriter();
  encodeClientHello(w, {
    version: 0x0303,
    random: new Uint8Array(32).fill(7),
    sessionId: new Uint8Array(0),
    cipherSuites: [0xc0b1, 0x00ff],
    compressionMethods: [0],
    extensions: ext37 === undefined ? [] : Array.from({ length: copies }, () => ({ type: 37, data: ext37 })),
  });
  const hs = encodeHandshake(1, w.finish());
  const r = new ByteWriter();
  r.u8(22).u16(0x0301).u16(hs.length).bytes(hs);
  return r.finish();
}

/** Send raw bytes, collect what the server answers until it closes. */
async function raw(bytes: Uint8Array): Promise<Buffer> {
  const s = netConnect({ port, host: '127.0.0.1' });
  await once(s, 'connect');
  s.write(bytes);
  const chunks: Buffer[] = [];
  s.on('data', (d: Buffer) => chunks.push(d));
  await once(s, 'close');
  return Buffer.concat(chunks);
}

describe('MILAGRO_CS through connect/createServer', () => {
  it('authenticates the client: getPeerIdentity() on the server, data both ways, suite reported', async () => {
    const s = login(keys.pin);
    const reply = await exchange(s, 'hello');
    expect(reply).toBe(`${keys.identity} said hello`);
    expect(s.getCipher()?.name).toBe('MILAGRO-CS-AES128-GCM-SHA256');
    expect(s.getPeerIdentity()).toBeNull(); // the server proves no identity in MILAGRO_CS
    expect(s.getPeerCertificate()).toEqual({});
    expect(events.at(-1)).toMatchObject({ kind: 'accepted', hashId: bytesToHex(keys.hashId) });
  });

  it('accepts a keystore (identity layer) with today\'s permit', async () => {
    const keystore = { identity: keys.identity, token: keys.token, permits: new Map([[keys.date, keys.timePermit]]) };
    const s = connect({ port, host: '127.0.0.1', milagro: { keystore, pin: keys.pin } });
    expect(await exchange(s, 'from keystore')).toBe(`${keys.identity} said from keystore`);
  });

  it('a wrong PIN is refused with access_denied; the server keeps serving', async () => {
    const s = login(keys.pin + 1);
    const [err] = (await once(s, 'error')) as [Error];
    expect(err).toBeInstanceOf(PeerAlertError);
    expect((err as PeerAlertError).alert).toBe(AlertDescription.access_denied);
    expect(events.at(-1)).toMatchObject({ kind: 'rejected', reason: 'bad-credentials' });
    expect(await exchange(login(keys.pin), 'again')).toBe(`${keys.identity} said again`);
  });

  it('a client without time permits is refused by a server that requires them', async () => {
    const s = connect({ port, host: '127.0.0.1', milagro: { identity: keys.identity, token: keys.token, pin: keys.pin } });
    const [err] = (await once(s, 'error')) as [Error];
    expect((err as PeerAlertError).alert).toBe(AlertDescription.access_denied);
  });

  it('raw bad ClientHellos (zero/oversized lengths, truncated, stale time, bad point, no or duplicate extension) get alerts; the server stays up', async () => {
    const t = Math.floor(Date.now() / 1000);
    const good = encodeCsExtension({ hashId: keys.hashId, point: keys.timePermit, V: keys.token, timeValue: t });
    const zero = good.slice();
    zero.set([0, 0], 0);
    const big = good.slice();
    big.set([0xff, 0xff], 2);
    const stale = encodeCsExtension({ hashId: keys.hashId, point: keys.timePermit, V: keys.token, timeValue: t - 3600 });
    const offCurve = good.slice();
    offCurve[171 - 4] = (offCurve[171 - 4] ?? 0) ^ 1;
    const expectations: [Uint8Array, number][] = [
      [zero, AlertDescription.illegal_parameter],
      [big, AlertDescription.illegal_parameter],
      [good.subarray(0, 100), AlertDescription.decode_error],
      [stale, AlertDescription.access_denied],
      [offCurve, AlertDescription.illegal_parameter],
      [good, AlertDescription.access_denied], // well-formed, but not a valid proof
    ];
    for (const [ext, alert] of expectations) {
      const answer = await raw(rawHello(ext));
      expect([...answer.subarray(0, 1)]).toEqual([21]);
      expect([...answer.subarray(5, 7)]).toEqual([2, alert]);
    }
    // MILAGRO_CS offered without the extension; the extension twice.
    expect([...(await raw(rawHello(undefined))).subarray(5, 7)]).toEqual([2, AlertDescription.handshake_failure]);
    expect([...(await raw(rawHello(good, 2))).subarray(5, 7)]).toEqual([2, AlertDescription.illegal_parameter]);
    expect(await exchange(login(keys.pin), 'still here')).toBe(`${keys.identity} said still here`);
  });

  it('issue 11 §3: a junk hello with an identity hash resolveIdentity does not know is refused before any pairing', async () => {
    const t = Math.floor(Date.now() / 1000);
    const junk = encodeCsExtension({ hashId: new Uint8Array(32).fill(0x5a), point: keys.timePermit, V: keys.token, timeValue: t });
    const answer = await raw(rawHello(junk));
    expect([...answer.subarray(5, 7)]).toEqual([2, AlertDescription.access_denied]);
    expect(events.at(-1)).toMatchObject({ kind: 'rejected', reason: 'unknown-identity', hashId: '5a'.repeat(32) });
  });

  it('option errors are thrown synchronously', () => {
    expect(() => createServer({ milagro: { serverSecret: 'zz', timePermits: true } })).toThrow(/hex/);
    expect(() => createServer({ milagro: { serverSecret: new Uint8Array(128), timePermits: true } })).toThrow(/milagro/);
    expect(() => connect({ port, milagro: { identity: 'x', token: new Uint8Array(65), pin: 1 } })).toThrow(/milagro/);
    expect(() => connect({ port, milagro: { identity: 'x', token: keys.token, pin: 10000 } })).toThrow(/PIN/);
  });
});
