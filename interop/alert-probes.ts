/**
 * `npx tsx interop/alert-probes.ts`: which alert a TLS 1.2 server answers to inputs where RFC 5246
 * leaves the choice open, for `openssl s_server`, `gnutls-serv` and milagro-ts (issue 11 §5). Each
 * probe opens a fresh loopback connection, sends crafted bytes (or runs our client engine with one
 * record rewritten in flight) and reports the first alert the server sends, `accepted` when it
 * answers with its first flight instead, or `closed`/`silent`. The table this prints is the one in
 * src/handshake/README.md ("Alerts where RFC 5246 leaves the choice open").
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { alertName } from '../src/alerts.ts';
import { concatBytes } from '../src/codec/bytes.ts';
import { ByteWriter } from '../src/codec/writer.ts';
import { TlsEngine } from '../src/handshake/engine.ts';
import { clientConfig } from '../src/handshake/config.ts';
import { encodeClientHello } from '../src/handshake/messages/client-hello.ts';
import { encodeEcPointFormats } from '../src/handshake/messages/extensions/ec-point-formats.ts';
import { encodeSignatureAlgorithms } from '../src/handshake/messages/extensions/signature-algorithms.ts';
import { encodeSupportedGroups } from '../src/handshake/messages/extensions/supported-groups.ts';
import type { ClientHello, Extension } from '../src/handshake/messages/types.ts';
import { createServer } from '../src/index.ts';
import { Suites } from '../src/suites.ts';
import { loadCertificates } from '../src/x509/certificate.ts';
import { PeerProcess, freePort } from './process.ts';

const certs = new URL('../test/fixtures/certs/', import.meta.url);
const CERT = new URL('server-ec256.pem', certs).pathname;
const KEY = new URL('server-ec256.key', certs).pathname;
const CA = new URL('ca-ec.pem', certs).pathname;

const rec = (type: number, data: Uint8Array, version = 0x0303): Uint8Array =>
  concatBytes(Uint8Array.of(type, version >> 8, version & 0xff, data.length >> 8, data.length & 0xff), data);
const hs = (type: number, body: Uint8Array): Uint8Array => concatBytes(Uint8Array.of(type, body.length >> 16, (body.length >> 8) & 0xff, body.length & 0xff), body);

const baseExt: readonly Extension[] = [
  { type: 10, data: encodeSupportedGroups([29, 23]) },
  { type: 11, data: encodeEcPointFormats([0]) },
  { type: 13, data: encodeSignatureAlgorithms([0x0403, 0x0804, 0x0401]) },
];

function helloBody(over: Partial<ClientHello> = {}): Uint8Array {
  const w = new ByteWriter();
  encodeClientHello(w, {
    version: 0x0303,
    random: new Uint8Array(32).fill(3),
    sessionId: new Uint8Array(0),
    cipherSuites: [Suites.ECDHE_ECDSA_WITH_AES_128_GCM_SHA256.id, 0x00ff],
    compressionMethods: [0],
    extensions: baseExt,
    ...over,
  });
  return w.finish();
}
const hello = (over: Partial<ClientHello> = {}): Uint8Array => rec(22, hs(1, helloBody(over)), 0x0301);
const withExt = (type: number, data: Uint8Array): Partial<ClientHello> => ({ extensions: [...baseExt.filter((e) => e.type !== type), { type, data }] });
const u8 = (...b: number[]): Uint8Array => Uint8Array.from(b);

interface Probe {
  readonly name: string;
  /** Raw bytes to send, or a rewrite of one record our client engine sends. */
  readonly bytes?: Uint8Array;
  readonly rewrite?: (record: Uint8Array) => Uint8Array;
}

const ccsRecord = rec(20, u8(1));
const probes: Probe[] = [
  { name: 'ChangeCipherSpec of 2 bytes, in its place (after ClientKeyExchange)', rewrite: (r) => (eq(r, ccsRecord) ? rec(20, u8(1, 1)) : r) },
  { name: 'ChangeCipherSpec of value 2, in its place', rewrite: (r) => (eq(r, ccsRecord) ? rec(20, u8(2)) : r) },
  { name: 'ChangeCipherSpec of 2 bytes before the ClientHello', bytes: rec(20, u8(1, 1)) },
  { name: 'ChangeCipherSpec before the ClientHello', bytes: rec(20, u8(1)) },
  { name: 'ec_point_formats without uncompressed(0)', bytes: hello(withExt(11, encodeEcPointFormats([1, 2]))) },
  { name: 'alert record of 3 bytes', bytes: rec(21, u8(1, 0, 0)) },
  { name: 'alert level 3', bytes: rec(21, u8(3, 0)) },
  { name: 'unknown record content type 99', bytes: rec(99, u8(1)) },
  { name: 'zero-length handshake record', bytes: rec(22, new Uint8Array(0), 0x0301) },
  { name: 'unknown handshake type 99 first', bytes: rec(22, hs(99, u8(0)), 0x0301) },
  { name: 'ClientHello without null compression', bytes: hello({ compressionMethods: [1] }) },
  { name: 'ClientHello with a trailing byte', bytes: rec(22, hs(1, concatBytes(helloBody(), u8(0))), 0x0301) },
  { name: 'duplicate extension', bytes: hello({ extensions: [...baseExt, { type: 23, data: new Uint8Array(0) }, { type: 23, data: new Uint8Array(0) }] }) },
  { name: 'extended_master_secret with data', bytes: hello(withExt(23, u8(0))) },
  { name: 'renegotiation_info not empty', bytes: hello(withExt(0xff01, u8(1, 0))) },
  { name: 'max_fragment_length code 5', bytes: hello(withExt(1, u8(5))) },
  { name: 'supported_groups of odd length', bytes: hello(withExt(10, u8(0, 3, 0, 29, 0))) },
  { name: 'ALPN with an empty name', bytes: hello(withExt(16, u8(0, 1, 0))) },
  { name: 'server_name with two host_names', bytes: hello(withExt(0, u8(0, 8, 0, 0, 1, 0x61, 0, 0, 1, 0x62))) },
  { name: 'no suite in common', bytes: hello({ cipherSuites: [0x1301] }) },
  { name: 'client_version 0x0302 (TLS 1.1 only)', bytes: hello({ version: 0x0302 }) },
  { name: '6 warning alerts (user_canceled) before the ClientHello', bytes: concatBytes(...Array.from({ length: 6 }, () => rec(21, u8(1, 90)))) },
  { name: '200 warning alerts (user_canceled) before the ClientHello', bytes: concatBytes(...Array.from({ length: 200 }, () => rec(21, u8(1, 90)))) },
];

function eq(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** The first alert in the server's answer (or what else it did). */
function verdict(received: Uint8Array, closed: boolean): string {
  for (let at = 0; at + 5 <= received.length; ) {
    const type = received[at] as number;
    const len = ((received[at + 3] as number) << 8) | (received[at + 4] as number);
    if (type === 21 && len === 2 && at + 7 <= received.length) return alertName(received[at + 6] as number);
    if (type === 21) return 'alert (encrypted)';
    if (type === 22 && received[at + 5] === 2) return 'accepted';
    at += 5 + len;
  }
  return closed ? 'closed' : 'silent';
}

async function rawProbe(port: number, bytes: Uint8Array): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const s = net.connect(port, '127.0.0.1', () => s.write(bytes));
    const done = (closed: boolean): void => {
      clearTimeout(timer);
      s.destroy();
      resolve(verdict(Buffer.concat(chunks), closed));
    };
    const timer = setTimeout(() => done(false), 1500);
    s.on('data', (d) => {
      chunks.push(d);
      const v = verdict(Buffer.concat(chunks), false);
      if (v !== 'silent') done(false);
    });
    s.on('close', () => done(true));
    s.on('error', () => {});
  });
}

/** Our client engine against `port`, with `rewrite` applied to every outgoing record; the server's first alert. */
async function engineProbe(port: number, rewrite: (r: Uint8Array) => Uint8Array): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let answer = 'silent';
    const finish = (v: string): void => {
      clearTimeout(timer);
      s.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => finish(answer), 3000);
    const engine = TlsEngine.client(clientConfig({ ca: loadCertificates(readFileSync(CA, 'utf8')), servername: 'localhost', rejectUnauthorized: true, suites: [Suites.ECDHE_ECDSA_WITH_AES_128_GCM_SHA256] }), {
      onOutgoing: (bytes) => {
        const out: Uint8Array[] = [];
        for (let at = 0; at + 5 <= bytes.length; ) {
          const len = ((bytes[at + 3] as number) << 8) | (bytes[at + 4] as number);
          out.push(rewrite(bytes.subarray(at, at + 5 + len)));
          at += 5 + len;
        }
        s.write(concatBytes(...out));
      },
      onData: () => {},
      onSecure: () => {
        answer = 'accepted (handshake completed)';
      },
      onKeylog: () => {},
      onPeerClose: () => finish('close_notify'),
      onError: (e) => finish('alert' in e && typeof e.alert === 'number' ? alertName(e.alert) : `our error: ${e.message}`),
    });
    s.on('data', (d) => engine.receive(new Uint8Array(d)));
    s.on('close', () => finish(answer === 'silent' ? 'closed' : answer));
    s.on('error', () => {});
    s.on('connect', () => engine.start());
  });
}

interface Server {
  readonly name: string;
  readonly port: number;
  stop(): void;
}

async function openssl(): Promise<Server> {
  const p = new PeerProcess('openssl', ['s_server', '-accept', '127.0.0.1:0', '-cert', CERT, '-key', KEY, '-tls1_2']);
  const m = await p.waitFor(/ACCEPT [^\n]*:(\d+)/, 10_000);
  return { name: 'openssl s_server', port: Number(m[1]), stop: () => p.kill() };
}

async function gnutls(): Promise<Server> {
  const port = await freePort();
  const p = new PeerProcess('gnutls-serv', ['--echo', '-p', String(port), '--x509certfile', CERT, '--x509keyfile', KEY, '--priority', 'NORMAL:-VERS-ALL:+VERS-TLS1.2']);
  await p.waitFor(/listening on IPv4[^\n]*done/, 10_000);
  return { name: 'gnutls-serv', port, stop: () => p.kill() };
}

async function ours(): Promise<Server> {
  const server = createServer({ cert: readFileSync(CERT), key: readFileSync(KEY) }, (s) => s.pipe(s));
  server.on('tlsClientError', () => {});
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { name: 'milagro-ts', port: (server.address() as net.AddressInfo).port, stop: () => server.close() };
}

const servers = [await openssl(), await gnutls(), await ours()];
const rows: string[][] = [];
for (const probe of probes) {
  const row = [probe.name];
  for (const srv of servers) {
    row.push(probe.bytes !== undefined ? await rawProbe(srv.port, probe.bytes) : await engineProbe(srv.port, probe.rewrite ?? ((r) => r)));
  }
  rows.push(row);
}
for (const s of servers) s.stop();
const header = ['input', ...servers.map((s) => s.name)];
console.log(`| ${header.join(' | ')} |`);
console.log(`|${header.map(() => '---').join('|')}|`);
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
process.exit(0);
