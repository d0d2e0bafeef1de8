/**
 * Issue 11 §3 flood rows of `npm run bench -- milagro`: legitimate MILAGRO_CS / MILAGRO_P2P
 * handshakes while 150 attacker connections send junk at ~15 handshakes/s in total, the attack
 * measured on the original main (0 of 2 legitimate logins within 30 s).
 *
 * - CS junk: a ClientHello with extension 37 carrying a random 32-byte identity hash, one reused
 *   valid point and V, and the current time — no crypto for the attacker; the server spends a
 *   pairing on each (its resolveIdentity is not used here: the worst case).
 * - P2P junk: a ClientHello for the P2P suite, then, after the server's flight, a
 *   ClientKeyExchange with a random identity and reused valid PgG1/PbG2 — one pairing each.
 * The attacker connects from 127.0.0.2, the legitimate clients from 127.0.0.1 (the pool queues
 * per source address). Both in this process; the server's pairings in a 2-worker pool.
 */
import { once } from 'node:events';
import { connect as netConnect, type AddressInfo, type Socket } from 'node:net';
import { connect, createServer, InProcessCsCompute, InProcessP2pCompute, MilagroWorkerPool, type ConnectionOptions, type Server, type ServerOptions } from '../src/index.ts';
import { ByteWriter } from '../src/codec/writer.ts';
import { encodeClientHello } from '../src/handshake/messages/client-hello.ts';
import { encodeHandshake } from '../src/handshake/messages/handshake.ts';
import { encodeCsExtension } from '../src/kex/milagro/cs-wire.ts';
import { encodeP2pClientKeyExchange } from '../src/kex/milagro/p2p-wire.ts';
import { systemRandom } from '../src/providers.ts';
import { randomScalar, encodeScalar } from '../src/crypto/bncx/index.ts';
import { hashId as wccHashId } from '../src/crypto/wcc.ts';

export interface FloodResult {
  readonly kind: 'MILAGRO_CS' | 'MILAGRO_P2P';
  readonly attempted: number;
  readonly succeeded: number;
  readonly success_rate: number;
  readonly p95_ms: number;
  readonly median_ms: number;
  /** Junk handshakes the attacker sent during the run. */
  readonly junk_sent: number;
  readonly junk_per_s: number;
  /** Server refusals by logged reason during the whole run (junk: bad-credentials / invalid-point / overloaded ...). */
  readonly refusals: Readonly<Record<string, number>>;
  /** The same legitimate handshakes with no flood, just before (same machine, same load): p95 ms. */
  readonly baseline_p95_ms: number;
}

export interface CsFloodKeys {
  readonly identity: string;
  readonly pin: number;
  readonly serverSecret: Uint8Array;
  readonly token: Uint8Array;
  readonly timePermit: Uint8Array;
}

export interface P2pFloodKeys {
  readonly server: string;
  readonly client: string;
  readonly senderKey: Uint8Array;
  readonly receiverKey: Uint8Array;
}

const ATTACKER = '127.0.0.2';
const LEGIT = '127.0.0.1';

function record(type: number, body: Uint8Array): Buffer {
  const w = new ByteWriter(body.length + 5);
  w.u8(type).u16(0x0303).u16(body.length).bytes(body);
  return Buffer.from(w.finish());
}

function clientHello(suite: number, extensions: { type: number; data: Uint8Array }[]): Buffer {
  const w = new ByteWriter();
  encodeClientHello(w, { version: 0x0303, random: systemRandom(32), sessionId: new Uint8Array(0), cipherSuites: [suite], compressionMethods: [0], extensions });
  return record(22, encodeHandshake(1, w.finish()));
}

/**
 * `connections` attacker sockets; a ticker sends `rate` junk handshakes per second in total,
 * round-robin over the sockets, reopening a socket the server closed. `send` writes one junk
 * handshake on a fresh connection.
 */
function startAttacker(port: number, connections: number, rate: number, send: (s: Socket) => void): { stop: () => void; sent: () => number } {
  const slots: (Socket | undefined)[] = new Array(connections).fill(undefined);
  let sent = 0;
  let next = 0;
  let stopped = false;
  const open = (i: number): Socket => {
    const s = netConnect({ port, host: '127.0.0.1', localAddress: ATTACKER });
    s.on('error', () => undefined);
    s.on('data', () => undefined);
    s.on('close', () => {
      if (slots[i] === s) slots[i] = undefined;
    });
    slots[i] = s;
    return s;
  };
  for (let i = 0; i < connections; i++) open(i);
  const timer = setInterval(() => {
    if (stopped) return;
    const i = next;
    next = (next + 1) % connections;
    const prev = slots[i];
    // One handshake per connection: a used one is replaced by a fresh connection.
    prev?.destroy();
    const s = open(i);
    s.once('connect', () => {
      sent++;
      send(s);
    });
  }, 1000 / rate);
  return {
    stop: () => {
      stopped = true;
      clearInterval(timer);
      for (const s of slots) s?.destroy();
    },
    sent: () => sent,
  };
}

function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] as number;
}

/** Legitimate handshakes, `parallel` at a time, each given `timeoutMs`; wall time per success. */
async function legitimate(n: number, parallel: number, timeoutMs: number, one: () => Promise<number>): Promise<number[]> {
  const times: number[] = [];
  let started = 0;
  const worker = async (): Promise<void> => {
    while (started < n) {
      started++;
      const t = await Promise.race([one().catch(() => Number.NaN), new Promise<number>((r) => setTimeout(() => r(Number.NaN), timeoutMs).unref())]);
      if (!Number.isNaN(t)) times.push(t);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return times;
}

function handshakeTime(start: () => import('../src/index.ts').TLSSocket): Promise<number> {
  return new Promise((res, rej) => {
    const t0 = performance.now();
    const s = start();
    s.once('secureConnect', () => {
      res(performance.now() - t0);
      s.destroy();
    });
    s.once('error', (e) => {
      s.destroy();
      rej(e);
    });
  });
}

async function listen(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

function summarise(
  kind: FloodResult['kind'],
  attempted: number,
  times: readonly number[],
  junk: number,
  seconds: number,
  refusals: Record<string, number>,
  baseline: readonly number[],
): FloodResult {
  return {
    refusals,
    baseline_p95_ms: Number(percentile(baseline, 95).toFixed(1)),
    kind,
    attempted,
    succeeded: times.length,
    success_rate: Number(((100 * times.length) / attempted).toFixed(1)),
    p95_ms: Number(percentile(times, 95).toFixed(1)),
    median_ms: Number(percentile(times, 50).toFixed(1)),
    junk_sent: junk,
    junk_per_s: Number((junk / seconds).toFixed(1)),
  };
}

export interface FloodOptions {
  readonly legit: number;
  readonly connections: number;
  readonly rate: number;
  /** Warm-up seconds of flood before the first legitimate handshake. */
  readonly warmupSeconds: number;
}

/** What one flood scenario plugs into `flood`. */
interface Scenario {
  readonly kind: FloodResult['kind'];
  /** The server options (the `workers` pool and `logger` are added). */
  server(pool: MilagroWorkerPool, logger: (e: { kind: string; reason?: string }) => void): ServerOptions;
  /** A legitimate client's connect options for `port`. */
  client(port: number): ConnectionOptions;
  /** Write one junk handshake on a fresh attacker connection. */
  junk(s: Socket): void;
}

/** Server with a 2-worker pool; warm-up, a no-flood baseline, then the same handshakes under the flood. */
async function flood(sc: Scenario, o: FloodOptions): Promise<FloodResult> {
  // The pool's idle workers are unref'd and this run has moments without a socket (pool start,
  // between phases): keep the process alive until the rows are done.
  const keepAlive = setInterval(() => undefined, 60_000);
  const pool = new MilagroWorkerPool({ size: 2 });
  await pool.warmup();
  const refusals: Record<string, number> = {};
  const count = (e: { kind: string; reason?: string }): void => {
    if (e.reason !== undefined) refusals[e.reason] = (refusals[e.reason] ?? 0) + 1;
  };
  const server = createServer(sc.server(pool, count), (s) => s.on('error', () => undefined));
  server.on('tlsClientError', () => undefined);
  const port = await listen(server);
  const opts = { ...sc.client(port), localAddress: LEGIT };
  const one = (): Promise<number> => handshakeTime(() => connect(opts));
  let attacker: ReturnType<typeof startAttacker> | undefined;
  try {
    // Warm-up (JIT, the identity's tables in both workers), then the no-flood baseline.
    await legitimate(4, 2, 10_000, one);
    const baseline = await legitimate(o.legit, 2, 10_000, one);
    attacker = startAttacker(port, o.connections, o.rate, sc.junk);
    await new Promise((r) => setTimeout(r, o.warmupSeconds * 1000));
    const junk0 = attacker.sent();
    const t0 = performance.now();
    const times = await legitimate(o.legit, 2, 10_000, one);
    const seconds = (performance.now() - t0) / 1000;
    return summarise(sc.kind, o.legit, times, attacker.sent() - junk0, seconds, refusals, baseline);
  } finally {
    attacker?.stop();
    await new Promise<void>((r) => server.close(() => r()));
    await pool.close();
    clearInterval(keepAlive);
  }
}

export function csFlood(keys: CsFloodKeys, o: FloodOptions): Promise<FloodResult> {
  // One valid (UT, V) pair, reused by every junk hello.
  const now = Date.now();
  const sample = new InProcessCsCompute().clientHello({
    identity: new TextEncoder().encode(keys.identity),
    pin: keys.pin,
    token: keys.token,
    timePermit: { permit: keys.timePermit, date: Math.floor(now / 86_400_000) },
    x: encodeScalar(randomScalar(systemRandom)),
    timeValue: Math.floor(now / 1000),
  });
  const clientCompute = new InProcessCsCompute();
  return flood(
    {
      kind: 'MILAGRO_CS',
      server: (workers, logger) => ({ milagro: { serverSecret: keys.serverSecret, timePermits: true, workers, logger } }),
      client: (port) => ({ port, host: '127.0.0.1', milagro: { identity: keys.identity, token: keys.token, pin: keys.pin, timePermit: keys.timePermit, compute: clientCompute } }),
      junk: (s) => {
        const ext = encodeCsExtension({ hashId: systemRandom(32), point: sample.point, V: sample.V, timeValue: Math.floor(Date.now() / 1000) });
        s.write(clientHello(0xc0b1, [{ type: 37, data: ext }]));
      },
    },
    o,
  );
}

export function p2pFlood(keys: P2pFloodKeys, o: FloodOptions): Promise<FloodResult> {
  // One valid (PgG1, PbG2) pair from a real receiver computation, reused by every junk CKE.
  const other = 'other-server.example.org';
  const PaG1 = new InProcessP2pCompute().senderEphemeral({ hashIdA: wccHashId(new TextEncoder().encode(other)), date: 0, x: encodeScalar(randomScalar(systemRandom)) });
  const sample = new InProcessP2pCompute().receiverKeyExchange({
    date: 0,
    idA: new TextEncoder().encode(other),
    idB: new TextEncoder().encode(keys.client),
    w: encodeScalar(randomScalar(systemRandom)),
    y: encodeScalar(randomScalar(systemRandom)),
    PaG1,
    receiverKey: keys.receiverKey,
  });
  const clientCompute = new InProcessP2pCompute();
  return flood(
    {
      kind: 'MILAGRO_P2P',
      server: (workers, logger) => ({ milagroP2p: { identity: keys.server, senderKey: keys.senderKey, workers, logger } }),
      client: (port) => ({ port, host: '127.0.0.1', milagroP2p: { identity: keys.client, receiverKey: keys.receiverKey, serverIdentity: keys.server, compute: clientCompute } }),
      junk: (s) => {
        s.write(clientHello(0xc0b2, []));
        let got = Buffer.alloc(0);
        const onData = (d: Buffer): void => {
          got = Buffer.concat([got, d]);
          // The server's first flight ends with ServerHelloDone (handshake type 14, empty body).
          if (got.includes(Buffer.from([14, 0, 0, 0]))) {
            s.off('data', onData);
            const identity = new TextEncoder().encode(`junk-${Buffer.from(systemRandom(8)).toString('hex')}@example.org`);
            s.write(record(22, encodeHandshake(16, encodeP2pClientKeyExchange({ identity, PgG1: sample.PgG1, PbG2: sample.PbG2 }))));
          }
        };
        s.on('data', onData);
      },
    },
    o,
  );
}
