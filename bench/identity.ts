/**
 * Identity-layer benchmark (issue 5): DTA issuing on loopback — client-secret shares and time
 * permits, one request at a time (latency) and 8 in flight (throughput) — and a full registration
 * across 3 DTAs (client secret + 8 days of permits, recombined, PIN extracted), and an LDAP bind
 * through the proxy against a direct one (bench/ldap-bind.ts; needs slapd). Client and DTAs run
 * in this one process, so figures are wall clock and include both sides.
 *
 *   npx tsx bench/identity.ts [--json]      or      npm run bench -- identity [--json]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Bench } from 'tinybench';
import { bytesToHex } from '../src/codec/bytes.ts';
import { generateEnrolmentKey, type RequestParams, signRequest, type SignedRequest } from '../src/identity/auth.ts';
import { callDta } from '../src/identity/client/dta-client.ts';
import { hashIdHex, registerIdentity } from '../src/identity/client/mpin-client.ts';
import { DtaService } from '../src/identity/dta/server.ts';
import { MilagroCrypto } from '../src/identity/milagro-crypto.ts';
import { systemClock, systemRandom } from '../src/providers.ts';
import { ldapBindRows } from './ldap-bind.ts';

export interface IdentityBenchResult {
  readonly name: string;
  readonly median_ms: number;
  readonly samples: number;
}
export interface IdentityBenchReport {
  readonly results: readonly IdentityBenchResult[];
  readonly ratios: Readonly<Record<string, number>>;
}

export interface IdentityBenchOptions {
  readonly json: boolean;
  /** Shorter run (fewer requests), e.g. for CI smoke runs. */
  readonly quick?: boolean;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  if (s.length === 0) return Number.NaN;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** Sends `n` pre-signed requests with `concurrency` in flight; returns requests per second. */
async function throughput(url: string, path: string, requests: readonly SignedRequest[], concurrency: number): Promise<number> {
  let next = 0;
  const start = performance.now();
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      const r = requests[i];
      if (r === undefined) return;
      await callDta(url, path, r);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return (requests.length * 1000) / (performance.now() - start);
}

export async function runIdentityBench(opts: IdentityBenchOptions): Promise<IdentityBenchReport> {
  const crypto = new MilagroCrypto();
  const key = generateEnrolmentKey(systemRandom);
  const dirs: string[] = [];
  const services: DtaService[] = [];
  const urls: string[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      const dir = await mkdtemp(join(tmpdir(), 'milagro-dta-bench-'));
      dirs.push(dir);
      // A generous nonce cache: every benchmark request carries a fresh nonce.
      const s = await DtaService.open({ dataDir: dir, crypto, trustedKeys: [bytesToHex(key.publicKey)], maxNonces: 1_000_000 });
      services.push(s);
      urls.push(`http://127.0.0.1:${await s.listen(0)}`);
    }
    const url = urls[0] ?? '';
    const hashId = hashIdHex(crypto, 'bench@example.com');
    const today = Math.floor(systemClock() / 86_400_000);
    const sign = (p: RequestParams): SignedRequest => signRequest(key, p, { clock: systemClock, random: systemRandom });
    const csParams: RequestParams = { op: 'client-secret', hashId };
    const tp1: RequestParams = { op: 'time-permits', hashId, fromDay: today, toDay: today };
    const tp8: RequestParams = { op: 'time-permits', hashId };
    let user = 0;

    const bench = new Bench({ time: opts.quick === true ? 300 : 1500, iterations: 5, warmupIterations: 3, warmupTime: 100, retainSamples: true });
    bench.add('dta client-secret share (1 request)', async () => {
      await callDta(url, '/v1/client-secret', sign(csParams));
    });
    bench.add('dta time permit, 1 day (1 request)', async () => {
      await callDta(url, '/v1/time-permits', sign(tp1));
    });
    bench.add('dta time permits, 8 days (1 request)', async () => {
      await callDta(url, '/v1/time-permits', sign(tp8));
    });
    bench.add('registration across 3 DTAs (secret + 8 permits)', async () => {
      const identity = `user${user++}@example.com`;
      const h = hashIdHex(crypto, identity);
      await registerIdentity({
        crypto,
        identity,
        pin: '1234',
        dtas: urls,
        clientSecretRequest: sign({ op: 'client-secret', hashId: h }),
        timePermitRequest: sign({ op: 'time-permits', hashId: h }),
      });
    });
    await bench.run();
    const results: IdentityBenchResult[] = bench.tasks.map((t) => {
      const res = t.result;
      if (res.state !== 'completed') throw new Error(`benchmark ${t.name} did not complete (${res.state})`);
      const xs = res.latency.samples ?? [];
      return { name: t.name, median_ms: median(xs), samples: xs.length };
    });

    // Throughput with 8 requests in flight; requests are signed beforehand so only the DTA side
    // (verification, issuing, HTTP) and the client's HTTP handling are timed.
    const n = opts.quick === true ? 40 : 200;
    const rps = async (name: string, path: string, p: RequestParams): Promise<number> => {
      const reqs = Array.from({ length: n }, () => sign(p));
      const r = await throughput(url, path, reqs, 8);
      results.push({ name, median_ms: 1000 / r, samples: n });
      return r;
    };
    const csRps = await rps('dta client-secret share, 8 in flight (ms per request)', '/v1/client-secret', csParams);
    const tpRps = await rps('dta time permit 1 day, 8 in flight (ms per request)', '/v1/time-permits', tp1);
    // LDAP proxy (issue 15): proxied token bind vs a direct password bind against slapd.
    const ldap = await ldapBindRows(opts.quick === true);
    results.push(...ldap.rows.map((r) => ({ name: r.name, median_ms: median(r.samplesMs), samples: r.samplesMs.length })));
    if (ldap.skipped !== undefined) console.error(ldap.skipped);
    const med = (name: string): number => results.find((r) => r.name === name)?.median_ms ?? Number.NaN;
    const ratios = {
      'client_secret_requests_per_s (8 in flight)': csRps,
      'time_permit_requests_per_s (8 in flight)': tpRps,
      'registrations_per_s (3 DTAs, sequential)': 1000 / med('registration across 3 DTAs (secret + 8 permits)'),
      'time_permits_8_days / time_permit_1_day': med('dta time permits, 8 days (1 request)') / med('dta time permit, 1 day (1 request)'),
      ...(ldap.rows.length === 2 ? { 'ldap proxied token bind / direct bind': med(ldap.rows[1]?.name ?? '') / med(ldap.rows[0]?.name ?? '') } : {}),
    };
    const report: IdentityBenchReport = { results, ratios };
    if (opts.json) console.log(JSON.stringify(report, null, 1));
    else {
      console.log('Identity layer benchmark (wall clock, client and DTAs in one process, loopback HTTP)');
      for (const r of results) console.log(`  ${r.name.padEnd(56)} ${r.median_ms.toFixed(3).padStart(10)} ms  (${r.samples} samples)`);
      for (const [k, v] of Object.entries(ratios)) console.log(`  ${k.padEnd(56)} ${v.toFixed(2).padStart(10)}`);
    }
    return report;
  } finally {
    await Promise.all(services.map((s) => s.close()));
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  }
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly) {
  await runIdentityBench({ json: process.argv.includes('--json'), quick: process.argv.includes('--quick') });
}
