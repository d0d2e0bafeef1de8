/**
 * Issue 13 §4: multi-process load test. For N = 1, 2, 4 server processes (node:cluster, one port,
 * bench/cluster-server.ts) sharing one store (a SQLite file; Redis too when redis-server is
 * installed), runs full MILAGRO_CS and ECDHE-ECDSA handshakes (each followed by one round trip)
 * with ~16 concurrent clients from this process, and prints handshakes/s and the ratio to N = 1.
 * The client reuses one InProcessCsCompute (token precomputation stays warm) and the node:crypto
 * provider, so most of the client cost is kept small; it still shares the machine's cores with the
 * servers, which caps the scaling on a small machine.
 *
 * Then checks, with two separate server processes A and B sharing the store:
 *  (a) a MILAGRO_CS ClientHello captured on its way to A and replayed raw to B gets a fatal alert;
 *  (b) a TLS ticket issued by A resumes on B.
 *
 *   npm run bench -- cluster [--quick] [--json]
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { type AddressInfo, type Socket, connect as netConnect, createServer as netCreateServer } from 'node:net';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { InProcessCsCompute, connect, createSecureContext, type TLSSocket } from '../src/index.ts';
import { bytesToHex } from '../src/codec/bytes.ts';
import { issueCsKeys, type CsKeys } from '../test/milagro/keys.ts';
import { startRedis } from '../test/helpers/redis-server.ts';
import type { ClusterServerConfig } from './cluster-server.ts';
import { freePort } from '../interop/process.ts';

const certs = resolve(import.meta.dirname, '..', 'test', 'fixtures', 'certs');
const ca = readFileSync(resolve(certs, 'ca-ec.pem'));
const CONCURRENCY = 16;

interface Row {
  readonly store: string;
  readonly n: number;
  readonly cs_per_s: number;
  readonly ecdhe_per_s: number;
  readonly cs_ratio: number;
  readonly ecdhe_ratio: number;
  readonly errors: number;
  readonly pids: number;
}


interface Group {
  readonly port: number;
  stop(): Promise<void>;
}

async function startGroup(workers: number, store: string, keys: CsKeys): Promise<Group> {
  const port = await freePort();
  const cfg: ClusterServerConfig = { workers, port, store, serverSecret: bytesToHex(keys.serverSecret), hashId: bytesToHex(keys.hashId), identity: keys.identity };
  const child: ChildProcess = fork(resolve(import.meta.dirname, 'cluster-server.ts'), [], {
    env: { ...process.env, MILAGRO_BENCH_CLUSTER: JSON.stringify(cfg) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  await new Promise<void>((res, rej) => {
    const t = setTimeout(() => rej(new Error('bench cluster server did not start in 60 s')), 60_000);
    child.once('exit', (c) => rej(new Error(`bench cluster server exited with ${String(c)} before listening`)));
    child.on('message', (m: unknown) => {
      if (typeof m === 'object' && m !== null && 'ready' in m) {
        clearTimeout(t);
        res();
      }
    });
  });
  return {
    port,
    stop: async () => {
      const exited = once(child, 'exit');
      child.disconnect();
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** One handshake + one round trip; resolves with the serving pid and the socket. */
function exchange(socket: TLSSocket): Promise<{ pid: number; socket: TLSSocket }> {
  return new Promise((res, rej) => {
    let out = '';
    socket.on('error', rej);
    socket.once('secureConnect', () => socket.write('x'));
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      out += d;
    });
    socket.on('end', () => res({ pid: Number(out), socket }));
  });
}

async function runMany(total: number, one: () => Promise<{ pid: number }>): Promise<{ perS: number; errors: number; pids: Set<number> }> {
  let next = 0;
  let errors = 0;
  const pids = new Set<number>();
  const t0 = performance.now();
  const lane = async (): Promise<void> => {
    while (next < total) {
      next++;
      try {
        pids.add((await one()).pid);
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, lane));
  return { perS: (total - errors) / ((performance.now() - t0) / 1000), errors, pids };
}

/** The first TLS record a client sends (its ClientHello), captured by a TCP relay in front of `port`. */
async function captureClientHello(port: number, run: (relayPort: number) => Promise<unknown>): Promise<Buffer> {
  let captured = Buffer.alloc(0);
  const relay = netCreateServer((c: Socket) => {
    const up = netConnect(port, '127.0.0.1');
    c.on('data', (d: Buffer) => {
      if (captured.length < 5 || captured.length < 5 + captured.readUInt16BE(3)) captured = Buffer.concat([captured, d]);
      up.write(d);
    });
    up.pipe(c);
    c.on('end', () => up.end());
    c.on('error', () => up.destroy());
    up.on('error', () => c.destroy());
  });
  relay.listen(0, '127.0.0.1');
  await once(relay, 'listening');
  await run((relay.address() as AddressInfo).port);
  relay.close();
  return captured.subarray(0, 5 + captured.readUInt16BE(3));
}

/** Sends raw bytes, returns everything the server answers until it closes (bounded by 5 s). */
async function rawReplay(port: number, bytes: Buffer): Promise<Buffer> {
  const s = netConnect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  s.on('data', (d: Buffer) => chunks.push(d));
  s.on('error', () => undefined);
  s.write(bytes);
  const t = setTimeout(() => s.destroy(), 5000);
  await once(s, 'close');
  clearTimeout(t);
  return Buffer.concat(chunks);
}

export async function runClusterBench(opts: { json: boolean; quick: boolean }): Promise<{ rows: Row[]; checks: Record<string, string> }> {
  const csTotal = opts.quick ? 48 : 500;
  const ecdheTotal = opts.quick ? 96 : 500;
  const counts = [1, 2, 4];
  const keys = issueCsKeys({ now: Date.now(), identity: 'load@example.org' });
  const clientCompute = new InProcessCsCompute();
  const ctx = createSecureContext({ ca });
  const cs = (port: number) => () =>
    exchange(connect({ host: '127.0.0.1', port, milagro: { identity: keys.identity, token: keys.token, pin: keys.pin, timePermit: keys.timePermit, compute: clientCompute } }));
  const ecdhe = (port: number, session?: Buffer) => () =>
    exchange(connect({ host: '127.0.0.1', port, servername: 'localhost', secureContext: ctx, cryptoProvider: 'node', ...(session ? { session } : {}) }));

  const dir = mkdtempSync(join(tmpdir(), 'milagro-bench-cluster-'));
  const redis = await startRedis();
  const stores: { name: string; spec: (run: string) => string }[] = [{ name: 'sqlite', spec: (run) => `sqlite:${join(dir, `${run}.db`)}` }];
  if (redis !== undefined) stores.push({ name: 'redis', spec: () => redis.url });
  else console.warn('redis-server not installed: Redis rows skipped');
  const rows: Row[] = [];
  const checks: Record<string, string> = {};
  const log = (s: string): void => {
    if (!opts.json) console.log(s);
  };
  log(`cluster bench: ${csTotal} MILAGRO_CS + ${ecdheTotal} ECDHE-ECDSA full handshakes per N, ${CONCURRENCY} concurrent clients, ${availableParallelism()} cores, load ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  try {
    for (const st of stores) {
      let base: { cs: number; ec: number } | undefined;
      for (const n of counts) {
        const g = await startGroup(n, st.spec(`n${n}`), keys);
        try {
          // Warm-up: JIT, the client's token precomputation, the ticket key in every worker.
          await runMany(CONCURRENCY, cs(g.port));
          await runMany(CONCURRENCY, ecdhe(g.port));
          const c = await runMany(csTotal, cs(g.port));
          const e = await runMany(ecdheTotal, ecdhe(g.port));
          base ??= { cs: c.perS, ec: e.perS };
          const row: Row = {
            store: st.name, n, cs_per_s: c.perS, ecdhe_per_s: e.perS, cs_ratio: c.perS / base.cs, ecdhe_ratio: e.perS / base.ec,
            errors: c.errors + e.errors, pids: new Set([...c.pids, ...e.pids]).size,
          };
          rows.push(row);
          log(`  ${st.name.padEnd(6)} N=${n}  MILAGRO_CS ${row.cs_per_s.toFixed(1).padStart(6)}/s (×${row.cs_ratio.toFixed(2)})  ECDHE ${row.ecdhe_per_s.toFixed(1).padStart(6)}/s (×${row.ecdhe_ratio.toFixed(2)})  served by ${row.pids} pids, ${row.errors} errors`);
        } finally {
          await g.stop();
        }
      }
    }

    // Cross-process checks: two separate server processes sharing one store.
    for (const st of stores) {
      const spec = st.spec('checks');
      const a = await startGroup(1, spec, keys);
      const b = await startGroup(1, spec, keys);
      try {
        let pidA = 0;
        const hello = await captureClientHello(a.port, async (relayPort) => {
          pidA = (await cs(relayPort)()).pid;
        });
        const answer = await rawReplay(b.port, hello);
        const fatal = answer.length >= 7 && answer[0] === 21 && answer[5] === 2;
        checks[`${st.name}: CS proof replayed to another process`] = fatal
          ? `refused: fatal alert ${String(answer[6])} (ClientHello ${hello.length} bytes, accepted first by pid ${pidA})`
          : `NOT REFUSED (answer ${answer.subarray(0, 16).toString('hex')})`;
        let session: Buffer | undefined;
        const first = connect({ host: '127.0.0.1', port: a.port, servername: 'localhost', secureContext: ctx, cryptoProvider: 'node' });
        first.on('session', (s: Buffer) => {
          session = s;
        });
        const r1 = await exchange(first);
        const r2 = await exchange(connect({ host: '127.0.0.1', port: b.port, servername: 'localhost', secureContext: ctx, cryptoProvider: 'node', ...(session ? { session } : {}) }));
        checks[`${st.name}: ticket from one process resumes on another`] =
          session !== undefined && r2.socket.isSessionReused() && r1.pid !== r2.pid
            ? `resumed (issued by pid ${r1.pid}, resumed on pid ${r2.pid})`
            : `NOT RESUMED (session ${session === undefined ? 'missing' : 'offered'}, pids ${r1.pid}/${r2.pid})`;
      } finally {
        await a.stop();
        await b.stop();
      }
    }
    checks['lockout shared across processes'] = 'not checked by this bench (test/web/rp-state.test.ts checks it with two RelyingParty instances on separate store connections, in one process)';
  } finally {
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  if (opts.json) console.log(JSON.stringify({ rows, checks, loadavg: loadavg() }, null, 2));
  else {
    for (const [k, v] of Object.entries(checks)) console.log(`  check ${k}: ${v}`);
    console.log(`load after: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  }
  return { rows, checks };
}
