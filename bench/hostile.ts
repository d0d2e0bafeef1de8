/**
 * Hostile-client benchmark (issue 11 §2): what one unauthenticated connection costs the server
 * against what it costs the sender.
 *
 * Scenario (as measured in the issue: ~380 MB of server RSS before the fix): N connections each
 * send a junk MILAGRO_CS ClientHello — a real client's hello with a random identity hash in
 * extension 37 (valid points, fresh time: it passes every check before the pairing, which then
 * fails) — and stream M MiB of junk right behind it without waiting for an answer. The server runs in its own
 * process (bench/hostile-server.ts, written like the README: `(s) => s.pipe(s)`), warmed up by two
 * real logins first so the worker pool and its tables are not counted. Reported: the server's
 * peak RSS growth over its baseline (total and per connection), the bytes it read from the
 * network, and the bytes the senders got into their sockets.
 *
 *   npx tsx bench/hostile.ts [--json] [--quick]      (or: npm run bench -- hostile)
 *   --connections N (default 10), --mib M (default 40; --quick: 4 × 8)
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect as netConnect, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { resolve } from 'node:path';
import { loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import { randomBytes } from 'node:crypto';
import { connect } from '../src/index.ts';
import { bytesToHex } from '../src/codec/bytes.ts';
import { issueCsKeys, type CsKeys } from '../test/milagro/keys.ts';

export interface HostileBenchReport {
  readonly connections: number;
  readonly mib_per_connection: number;
  /** Server peak RSS above its warmed-up baseline, MB (10^6 bytes). */
  readonly server_peak_rss_growth_mb: number;
  readonly server_peak_rss_growth_per_connection_kb: number;
  /** Bytes the server read from these connections (all of it is junk after each hello). */
  readonly server_bytes_read_per_connection_kb: number;
  /** Bytes the senders handed to their sockets before the server closed them. */
  readonly sender_bytes_per_connection_kb: number;
  readonly refused_by_server: number;
  readonly seconds: number;
  readonly load_average: number;
}

interface ServerReport {
  readonly rss: number;
  readonly peakRss: number;
  readonly baseRss: number;
  readonly bytesRead: number;
  readonly connections: number;
  readonly refused: number;
}

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? Number(process.argv[i + 1]) : NaN;
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

function login(keys: CsKeys, socket: Socket): ReturnType<typeof connect> {
  return connect({ socket, milagro: { identity: keys.identity, token: keys.token, pin: keys.pin, timePermit: keys.timePermit } });
}

/** A real login with one echo (warm-up). */
async function realLogin(keys: CsKeys, port: number): Promise<void> {
  const s = login(keys, netConnect({ port, host: '127.0.0.1' }));
  const failed = new Promise<never>((_, reject) => s.once('error', (e) => reject(new Error(`warm-up login failed: ${e.message}`))));
  await Promise.race([failed, once(s, 'secureConnect')]);
  s.write('x');
  await Promise.race([failed, once(s, 'data')]);
  s.end();
  if (!s.closed) await once(s, 'close');
  failed.catch(() => undefined);
}

/** The ClientHello record with the identity hash in extension 37 (after its three u16 lengths 32, 65, 65) randomised. */
function junkIdentity(hello: Uint8Array): Uint8Array {
  const out = Buffer.from(hello);
  const at = out.indexOf(Buffer.from([0x00, 0x20, 0x00, 0x41, 0x00, 0x41]));
  if (at < 0) throw new Error('no MILAGRO_CS extension in the ClientHello');
  randomBytes(32).copy(out, at + 6);
  return out;
}

/**
 * One hostile connection: the client's ClientHello goes out (its later flights do not), then
 * `bytes` of junk as fast as the socket takes it. Resolves with the bytes the socket accepted.
 */
function hostile(keys: CsKeys, port: number, bytes: number): Promise<number> {
  return new Promise((done) => {
    const raw = netConnect({ port, host: '127.0.0.1' });
    const write = raw.write.bind(raw) as (b: Uint8Array, cb?: (e?: Error | null) => void) => boolean;
    let writes = 0;
    let accepted = 0;
    const junk = Buffer.alloc(64 * 1024, 0x17);
    let closed = false;
    const pump = (): void => {
      while (!closed && accepted < bytes) {
        accepted += junk.length;
        if (!write(junk)) {
          raw.once('drain', pump);
          return;
        }
      }
      if (!closed) raw.end();
    };
    (raw as unknown as { write: (b: Uint8Array) => boolean }).write = (b) => {
      if (writes++ !== 0) return true;
      const r = write(junkIdentity(b));
      setImmediate(pump);
      return r;
    };
    const tls = login(keys, raw);
    tls.on('error', () => undefined);
    raw.on('error', () => undefined);
    raw.on('close', () => {
      closed = true;
      // What is still queued in our own socket never left: count what the kernel took.
      done(Math.max(0, accepted - raw.writableLength));
    });
  });
}

export async function runHostileBench(opts: { json: boolean; quick?: boolean }): Promise<HostileBenchReport> {
  const n = flag('--connections', opts.quick === true ? 4 : 10);
  const mib = flag('--mib', opts.quick === true ? 8 : 40);
  const keys = issueCsKeys({ now: Date.now(), identity: 'bench@example.org', seed: 'hostile bench' });
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', resolve(import.meta.dirname, 'hostile-server.ts'), bytesToHex(keys.serverSecret)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async <T>(): Promise<T> => {
    const r = await lines.next();
    if (r.done === true) throw new Error('bench server exited');
    return JSON.parse(r.value as string) as T;
  };
  const ask = async (cmd: string): Promise<ServerReport> => {
    child.stdin.write(`${cmd}\n`);
    return next<ServerReport>();
  };
  try {
    const { port } = await next<{ port: number }>();
    await realLogin(keys, port);
    await realLogin(keys, port);
    await ask('reset');
    const t0 = performance.now();
    const sent = await Promise.all(Array.from({ length: n }, () => hostile(keys, port, mib * 1024 * 1024)));
    const seconds = (performance.now() - t0) / 1000;
    await new Promise((r) => setTimeout(r, 100));
    const s = await ask('report');
    const growth = Math.max(0, s.peakRss - s.baseRss);
    const report: HostileBenchReport = {
      connections: n,
      mib_per_connection: mib,
      server_peak_rss_growth_mb: growth / 1e6,
      server_peak_rss_growth_per_connection_kb: growth / n / 1024,
      server_bytes_read_per_connection_kb: s.bytesRead / n / 1024,
      sender_bytes_per_connection_kb: sent.reduce((a, b) => a + b, 0) / n / 1024,
      refused_by_server: s.refused,
      seconds,
      load_average: loadavg()[0] ?? 0,
    };
    if (opts.json) console.log(JSON.stringify(report));
    else {
      console.log(`Hostile clients: ${n} connections, each a junk MILAGRO_CS hello (random identity, pairing in the pool) then ${mib} MiB of junk`);
      console.log(`  server peak RSS growth          ${report.server_peak_rss_growth_mb.toFixed(1).padStart(9)} MB   (${report.server_peak_rss_growth_per_connection_kb.toFixed(0)} KiB per connection)`);
      console.log(`  server read per connection      ${report.server_bytes_read_per_connection_kb.toFixed(0).padStart(9)} KiB`);
      console.log(`  sender wrote per connection     ${report.sender_bytes_per_connection_kb.toFixed(0).padStart(9)} KiB   (its cost: one 64 KiB buffer and the bandwidth)`);
      console.log(`  refused by the server           ${String(report.refused_by_server).padStart(9)}       (tlsClientError)`);
      console.log(`  took ${seconds.toFixed(2)} s, load average ${report.load_average.toFixed(2)}`);
    }
    return report;
  } finally {
    child.stdin.end();
    await Promise.race([once(child, 'exit'), new Promise((r) => setTimeout(r, 2000))]);
    if (child.exitCode === null) child.kill();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runHostileBench({ json: process.argv.includes('--json'), quick: process.argv.includes('--quick') });
}
