/**
 * `npm run bench -- tunnel [--json] [--quick]` (issue 14 §3): what a tunnel costs. Four paths to
 * the same plaintext targets, in one run:
 *
 *   direct             app → target (TCP on loopback)
 *   milagro-ts noble   app → tunnel client → MILAGRO_P2P → tunnel server → target (pure TS crypto)
 *   milagro-ts node    the same with cryptoProvider 'node' (node:crypto AEAD)
 *   node:tls fwd       app → node:tls forwarder → TLS 1.2 ECDHE-ECDSA-AES128-GCM → node:tls forwarder → target
 *
 * Bulk: MB/s of a one-way transfer (64 KiB writes with backpressure) until the target has counted
 * every byte and answered with one byte. Latency: round trips of 64-byte messages through an echo
 * target; "added" is the median round trip minus the direct path's. Handshakes are not timed here
 * (see `bench -- milagro`); every path's connection is established before the clock starts.
 * Target: milagro-ts node ≥ 0.5× the node:tls forwarders' bulk throughput.
 */
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { connect as netConnect, createServer as netCreateServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { resolve } from 'node:path';
import * as nodeTls from 'node:tls';
import { createTunnelClient, createTunnelServer, type TunnelClient, type TunnelServer } from '../src/tunnel/index.ts';
import { issueP2p } from './milagro.ts';

const certs = resolve(import.meta.dirname, '..', 'test', 'fixtures', 'certs');
const CIPHERS = 'ECDHE-ECDSA-AES128-GCM-SHA256';

interface Closable {
  close(): Promise<void>;
}

async function listen(s: NetServer | nodeTls.Server): Promise<number> {
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  return (s.address() as AddressInfo).port;
}

function closeNet(s: NetServer | nodeTls.Server): Closable {
  return { close: () => new Promise<void>((r) => s.close(() => r())) };
}

/** Counts an 8-byte length header's worth of bytes, then answers one byte. */
async function sinkTarget(): Promise<{ port: number } & Closable> {
  const server = netCreateServer((s) => {
    s.on('error', () => undefined);
    let expect = -1;
    let got = 0;
    let head = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      if (expect < 0) {
        head = Buffer.concat([head, d]);
        if (head.length < 8) return;
        expect = Number(head.readBigUInt64BE(0));
        got = head.length - 8;
      } else got += d.length;
      if (got >= expect) {
        expect = -1;
        head = Buffer.alloc(0);
        s.write('k');
      }
    });
  });
  return { port: await listen(server), ...closeNet(server) };
}

async function echoTarget(): Promise<{ port: number } & Closable> {
  const server = netCreateServer((s) => {
    s.setNoDelay(true);
    s.on('error', () => undefined);
    s.pipe(s);
  });
  return { port: await listen(server), ...closeNet(server) };
}

/** Two node:tls-based forwarders (server terminates TLS, client originates it), like stunnel. */
async function nodeTlsPair(targetPort: number): Promise<{ port: number } & Closable> {
  const tls12 = { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', ciphers: CIPHERS } as const;
  const server = nodeTls.createServer({ key: readFileSync(resolve(certs, 'server-ec256.key')), cert: readFileSync(resolve(certs, 'server-ec256.pem')), ...tls12 }, (s) => {
    const t = netConnect({ host: '127.0.0.1', port: targetPort });
    t.setNoDelay(true);
    s.on('error', () => t.destroy());
    t.on('error', () => s.destroy());
    s.pipe(t).pipe(s);
  });
  const serverPort = await listen(server);
  const ctx = nodeTls.createSecureContext({ ca: readFileSync(resolve(certs, 'ca-ec.pem')), ...tls12 });
  const client = netCreateServer({ pauseOnConnect: true }, (local) => {
    local.setNoDelay(true);
    const t = nodeTls.connect({ host: '127.0.0.1', port: serverPort, servername: 'localhost', secureContext: ctx, ...tls12 });
    t.on('error', () => local.destroy());
    local.on('error', () => t.destroy());
    t.once('secureConnect', () => {
      t.setNoDelay(true);
      local.pipe(t).pipe(local);
      local.resume();
    });
  });
  const port = await listen(client);
  return {
    port,
    close: async () => {
      await closeNet(client).close();
      await closeNet(server).close();
    },
  };
}

async function milagroPair(targetPort: number, provider: 'noble' | 'node', keys: ReturnType<typeof issueP2p>): Promise<{ port: number } & Closable> {
  const quiet = { log: () => undefined, cryptoProvider: provider, idleTimeoutMs: 0 } as const;
  const server: TunnelServer = await createTunnelServer({
    ...quiet,
    listen: { host: '127.0.0.1', port: 0 },
    target: { host: '127.0.0.1', port: targetPort },
    credentials: { mode: 'p2p', identity: keys.server, key: { key: keys.senderKey }, allowIdentities: [keys.client] },
    workers: 1,
  });
  const client: TunnelClient = await createTunnelClient({
    ...quiet,
    listen: { host: '127.0.0.1', port: 0 },
    target: { host: '127.0.0.1', port: server.address().port },
    credentials: { mode: 'p2p', identity: keys.client, key: { key: keys.receiverKey }, serverIdentity: keys.server },
  });
  return {
    port: client.address().port,
    close: async () => {
      await client.close(0);
      await server.close(0);
    },
  };
}

async function open(port: number): Promise<Socket> {
  const s = netConnect({ host: '127.0.0.1', port });
  s.setNoDelay(true);
  await once(s, 'connect');
  return s;
}

/** One-way transfer of `bytes`; resolves with MB/s once the target has counted them all. */
async function bulk(port: number, bytes: number): Promise<number> {
  const s = await open(port);
  const chunk = Buffer.alloc(64 * 1024, 0xab);
  const head = Buffer.alloc(8);
  head.writeBigUInt64BE(BigInt(bytes));
  // Warm the path (the tunnel's handshake happens on the first bytes) before timing.
  const warm = Buffer.alloc(8);
  warm.writeBigUInt64BE(1n);
  s.write(Buffer.concat([warm, Buffer.from([0])]));
  await once(s, 'data');
  const ack = once(s, 'data');
  const t0 = performance.now();
  s.write(head);
  for (let sent = 0; sent < bytes; sent += chunk.length) {
    if (!s.write(chunk)) await once(s, 'drain');
  }
  await ack;
  const ms = performance.now() - t0;
  s.destroy();
  return bytes / 1e6 / (ms / 1000);
}

/** Median round trip (µs) of `n` 64-byte messages through an echo target. */
async function latency(port: number, n: number): Promise<number> {
  const s = await open(port);
  const msg = Buffer.alloc(64, 0x61);
  const times: number[] = [];
  const roundTrip = async (): Promise<number> => {
    let got = 0;
    const done = new Promise<void>((r) => {
      const on = (d: Buffer): void => {
        got += d.length;
        if (got >= msg.length) {
          s.off('data', on);
          r();
        }
      };
      s.on('data', on);
    });
    const t0 = performance.now();
    s.write(msg);
    await done;
    return (performance.now() - t0) * 1000;
  };
  for (let i = 0; i < 5; i++) await roundTrip(); // handshake and warm-up
  for (let i = 0; i < n; i++) times.push(await roundTrip());
  s.destroy();
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] ?? Number.NaN;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

export interface TunnelBenchRow {
  readonly name: string;
  readonly bulk_mb_s: number;
  readonly rtt_us: number;
  readonly added_latency_us: number;
}

export async function runTunnelBench(opts: { json: boolean; quick: boolean }): Promise<{ rows: TunnelBenchRow[]; ratios: Record<string, number>; load_average: number }> {
  const bytes = (opts.quick ? 8 : 64) * 1024 * 1024;
  const runs = opts.quick ? 2 : 3;
  const messages = opts.quick ? 100 : 500;
  const keys = issueP2p();
  const sink = await sinkTarget();
  const echo = await echoTarget();
  const toClose: Closable[] = [sink, echo];
  const paths: { name: string; sink: number; echo: number }[] = [{ name: 'direct TCP', sink: sink.port, echo: echo.port }];
  try {
    for (const provider of ['noble', 'node'] as const) {
      const a = await milagroPair(sink.port, provider, keys);
      const b = await milagroPair(echo.port, provider, keys);
      toClose.push(a, b);
      paths.push({ name: `milagro-ts tunnel, ${provider}`, sink: a.port, echo: b.port });
    }
    const a = await nodeTlsPair(sink.port);
    const b = await nodeTlsPair(echo.port);
    toClose.push(a, b);
    paths.push({ name: 'node:tls forwarders', sink: a.port, echo: b.port });

    const rows: TunnelBenchRow[] = [];
    let directRtt = Number.NaN;
    for (const p of paths) {
      const mbs: number[] = [];
      for (let i = 0; i < runs; i++) mbs.push(await bulk(p.sink, bytes));
      const rtt = await latency(p.echo, messages);
      if (p.name === 'direct TCP') directRtt = rtt;
      rows.push({ name: p.name, bulk_mb_s: median(mbs), rtt_us: rtt, added_latency_us: rtt - directRtt });
    }
    const nodeFwd = rows.find((r) => r.name === 'node:tls forwarders')?.bulk_mb_s ?? Number.NaN;
    const ratios: Record<string, number> = {};
    for (const r of rows) if (r.name.startsWith('milagro-ts')) ratios[`${r.name} / node:tls forwarders (bulk)`] = r.bulk_mb_s / nodeFwd;
    const load = loadavg()[0] ?? Number.NaN;
    if (opts.json) {
      console.log(JSON.stringify({ results: rows, ratios, load_average: load }, null, 2));
    } else {
      console.log(`tunnel bench: ${bytes / 1024 / 1024} MiB × ${runs} bulk runs, ${messages} round trips of 64 B; load average ${load.toFixed(2)}`);
      console.log('');
      console.log(`${'path'.padEnd(30)} ${'bulk MB/s'.padStart(10)} ${'RTT µs'.padStart(9)} ${'added µs'.padStart(9)}`);
      for (const r of rows) {
        console.log(`${r.name.padEnd(30)} ${r.bulk_mb_s.toFixed(1).padStart(10)} ${r.rtt_us.toFixed(0).padStart(9)} ${r.added_latency_us.toFixed(0).padStart(9)}`);
      }
      console.log('');
      for (const [k, v] of Object.entries(ratios)) console.log(`${k}: ${v.toFixed(2)}×${k.includes('node,') ? ' (target ≥ 0.5×)' : ''}`);
    }
    return { rows, ratios, load_average: load };
  } finally {
    for (const c of toClose.reverse()) await c.close();
  }
}
