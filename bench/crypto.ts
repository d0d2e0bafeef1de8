/**
 * BNCX crypto benchmark (issue 2): pairing vs noble's bn254 pairing in the same process, the
 * 2-pairing product, G1/G2 scalar multiplication, GT exponentiation and the M-Pin / WCC
 * operations. Targets: BNCX pairing ≤ 1.0× noble bn254; server check ≤ 2.5 pairings;
 * client key + server key ≤ 3 pairings.
 *
 *   npx tsx bench/crypto.ts [--json] [--wall]
 */
import { Bench } from 'tinybench';
import { bn254 } from '@noble/curves/bn254.js';
import { pathToFileURL } from 'node:url';
import {
  bncx, R, pairing, pairing2, mulG1, mulG1Once, mulG2, mulG2Once, gtPow, encodeScalar, hashId, Q_PREPARED,
} from '../src/crypto/bncx/index.ts';
import * as mpin from '../src/crypto/mpin.ts';
import * as wcc from '../src/crypto/wcc.ts';
import { AmclRng } from '../src/crypto/amcl-rng.ts';

export interface CryptoBenchResult {
  readonly name: string;
  readonly median_ms: number;
  readonly samples: number;
}
export interface CryptoBenchReport {
  readonly results: readonly CryptoBenchResult[];
  readonly ratios: Readonly<Record<string, number>>;
}

/** Deterministic benchmark inputs (AMCL generator with a fixed seed; not for production). */
function fixture() {
  const rng = new AmclRng(Uint8Array.from({ length: 32 }, (_, i) => i + 7)).source;
  const sc = (): bigint => mpin.amclRandomScalar(rng).reduce((a, b) => (a << 8n) | BigInt(b), 0n) % R || 1n;
  const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
  const id = enc('client@miracl.com');
  const hid = hashId(id);
  const ms = encodeScalar(sc());
  const date = 20785;
  const token = mpin.extractPin(id, 1234, mpin.clientSecretShare(ms, hid));
  const permit = mpin.timePermitShare(ms, hid, date);
  const sst = mpin.ServerSecret.fromBytes(mpin.serverSecretShare(ms));
  const cp = mpin.clientPass({ identity: id, pin: 1234, token, timePermit: { permit, date }, timeValue: 1_800_000_000, rng });
  const { w, W } = mpin.serverEphemeral({ hashId: hid, date, rng });
  const { r, R: Rpt } = mpin.clientEphemeral({ hashId: hid, rng });
  const h = mpin.transcriptHash({ hashId: hid, UT: cp.UT, y: cp.y, V: cp.V, R: Rpt, W });
  const pre = mpin.ClientPrecompute.compute(token, hid);

  const idA = enc('server.miracl.com');
  const hA = wcc.hashId(idA);
  const aKey = wcc.senderKeyShare(ms, hA);
  const bKey = wcc.receiverKeyShare(ms, hid);
  const snd = wcc.senderEphemeral({ hashIdA: hA, rng });
  const rcv = wcc.receiverEphemeral({ hashIdA: hA, hashIdB: hid, rng });
  const pia = wcc.pia(snd.PaG1, rcv.PbG2, rcv.PgG1, id);
  const pib = wcc.pib(rcv.PbG2, snd.PaG1, rcv.PgG1, idA);

  const P = mulG1(bncx.G1.BASE, sc());
  const Q = mulG2(bncx.G2.BASE, sc());
  const P2 = mulG1(bncx.G1.BASE, sc());
  const Q2 = mulG2(bncx.G2.BASE, sc());
  const nP = bn254.G1.Point.BASE.multiply(12345678901234567890n);
  const nQ = bn254.G2.Point.BASE.multiply(98765432109876543210n);
  const gt = pairing(P, Q_PREPARED);
  return { id, hid, token, permit, date, sst, cp, w, W, r, Rpt, h, pre, idA, aKey, bKey, snd, rcv, pia, pib, P, Q, P2, Q2, nP, nQ, gt, sc };
}

/** Process CPU time (user + system) in ms. */
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  if (s.length === 0) return Number.NaN;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

export interface CryptoBenchOptions {
  readonly json: boolean;
  /** Measure wall-clock time instead of process CPU time. */
  readonly wallClock?: boolean;
  readonly rounds?: number;
  readonly timePerCaseMs?: number;
}

export async function runCryptoBench(opts: CryptoBenchOptions): Promise<CryptoBenchReport> {
  const f = fixture();
  const k1 = f.sc();
  const k2 = f.sc();
  const cases: [string, () => unknown][] = [
    ['bncx pairing', () => pairing(f.P, f.Q)],
    ['noble bn254 pairing', () => bn254.pairing(f.nP, f.nQ)],
    ['bncx pairing (prepared G2)', () => pairing(f.P, Q_PREPARED)],
    ['bncx 2-pairing product', () => pairing2(f.P, f.Q, f.P2, f.Q2)],
    ['G1 scalar mult', () => mulG1(f.P, k1)],
    ['G1 scalar mult (mulG1Once)', () => mulG1Once(f.P, k1)],
    ['G2 scalar mult', () => mulG2(f.Q, k2)],
    ['G2 scalar mult (mulG2Once)', () => mulG2Once(f.Q, k2)],
    ['GT exponentiation', () => gtPow(f.gt, k1)],
    ['mpin client pass', () => mpin.clientPass({ identity: f.id, pin: 1234, token: f.token, timePermit: { permit: f.permit, date: f.date }, timeValue: 1_800_000_000, x: encodeScalar(k1) })],
    ['mpin server check', () => mpin.serverVerify({ serverSecret: f.sst, hashId: f.cp.hashId, point: f.cp.point, V: f.cp.V, timeValue: 1_800_000_000, date: f.date })],
    ['mpin client key', () => mpin.clientKey({ precompute: f.pre, pin: 1234, r: f.r, x: f.cp.x, h: f.h, W: f.W })],
    ['mpin server key', () => mpin.serverKey({ serverSecret: f.sst, hashId: f.hid, R: f.Rpt, h: f.h, w: f.w, point: f.cp.point })],
    ['wcc sender key', () => wcc.senderKey({ x: f.snd.x, pia: f.pia, pib: f.pib, PbG2: f.rcv.PbG2, PgG1: f.rcv.PgG1, senderKey: f.aKey, idB: f.id })],
    ['wcc receiver key', () => wcc.receiverKey({ y: f.rcv.y, w: f.rcv.w, pia: f.pia, pib: f.pib, PaG1: f.snd.PaG1, receiverKey: f.bKey, idA: f.idA })],
  ];
  // The machine is shared (2 cores, other jobs): time with process CPU time rather than wall
  // clock, and interleave the cases over several rounds so that drift hits all of them alike.
  const clock = opts.wallClock === true ? undefined : cpuMs;
  const rounds = opts.rounds ?? 4;
  const samples = new Map<string, number[]>(cases.map(([n]) => [n, []]));
  for (let round = 0; round < rounds; round++) {
    const bench = new Bench({
      time: opts.timePerCaseMs ?? 400,
      iterations: 3,
      warmup: round === 0,
      warmupIterations: 2,
      warmupTime: 100,
      retainSamples: true,
      ...(clock === undefined ? {} : { now: clock }),
    });
    for (const [name, fn] of cases) bench.add(name, fn);
    await bench.run();
    for (const t of bench.tasks) {
      const res = t.result;
      if (res.state !== 'completed') throw new Error(`benchmark ${t.name} did not complete (${res.state})`);
      samples.get(t.name)?.push(...(res.latency.samples ?? []));
    }
  }
  const results: CryptoBenchResult[] = cases.map(([name]) => {
    const xs = samples.get(name) ?? [];
    return { name, median_ms: median(xs), samples: xs.length };
  });
  const med = (n: string): number => {
    const r = results.find((x) => x.name === n);
    if (r === undefined) throw new Error(`missing ${n}`);
    return r.median_ms;
  };
  const pair = med('bncx pairing');
  const ratios = {
    'bncx_pairing / noble_bn254_pairing': med('bncx pairing') / med('noble bn254 pairing'),
    'mpin_server_check / bncx_pairing': med('mpin server check') / pair,
    '(mpin_client_key + mpin_server_key) / bncx_pairing': (med('mpin client key') + med('mpin server key')) / pair,
    'bncx_2pairing / bncx_pairing': med('bncx 2-pairing product') / pair,
  };
  const report: CryptoBenchReport = { results, ratios };
  if (opts.json) {
    console.log(JSON.stringify(report, null, 1));
  } else {
    console.log(`BNCX crypto benchmark (median ms per operation, ${opts.wallClock === true ? 'wall clock' : 'process CPU time'})`);
    for (const r of results) console.log(`  ${r.name.padEnd(30)} ${r.median_ms.toFixed(3).padStart(10)} ms  (${r.samples} samples)`);
    console.log('Ratios (targets: pairing ≤ 1.0, server check ≤ 2.5, client+server key ≤ 3.0):');
    for (const [k, v] of Object.entries(ratios)) console.log(`  ${k.padEnd(52)} ${v.toFixed(3)}`);
  }
  return report;
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly) {
  await runCryptoBench({ json: process.argv.includes('--json'), wallClock: process.argv.includes('--wall') });
}
