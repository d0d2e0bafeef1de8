/**
 * Web relying-party benchmark (issue 11 §6): latency of the site's `GET /` while an attacker tries
 * to lock many identities with junk sign-ins (valid points, wrong proof: each costs the server two
 * pairings and a full PIN-error search) from 5 loopback source addresses, staying within the
 * default rate limits. Before the checks moved to the worker pool this pushed `GET /` from ~1 ms
 * to ~254 ms median.
 *
 *   npx tsx bench/web.ts [--json] [--quick]      or      npm run bench -- web [--json] [--quick]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DemoSite } from '../demo/web/site.ts';
import { bytesToHex } from '../src/codec/bytes.ts';
import { bncx, encodeG1 } from '../src/crypto/bncx/index.ts';
import { generateEnrolmentKey } from '../src/identity/auth.ts';
import { DtaService } from '../src/identity/dta/server.ts';
import { MilagroCrypto } from '../src/identity/milagro-crypto.ts';
import { systemRandom } from '../src/providers.ts';
import { RelyingParty } from '../src/web/server/relying-party.ts';
import { rawRequest } from '../test/web/helpers.ts';

export interface WebBenchOptions {
  readonly json: boolean;
  /** 40 identities instead of 200. */
  readonly quick?: boolean;
}

export interface WebBenchReport {
  readonly identities: number;
  readonly sources: number;
  readonly attackRequests: number;
  readonly attackSeconds: number;
  /** Victims locked at the end. */
  readonly locked: number;
  /** Answers to the junk sign-ins by HTTP status. */
  readonly statuses: Readonly<Record<string, number>>;
  readonly getIdle: { readonly median_ms: number; readonly p95_ms: number; readonly samples: number };
  readonly getUnderAttack: { readonly median_ms: number; readonly p95_ms: number; readonly samples: number };
}

function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : (s[Math.min(s.length - 1, Math.floor(q * s.length))] as number);
}

/** A raw HTTP request (test/web/helpers.ts), with the first Set-Cookie picked out. */
async function send(base: string, path: string, opts: Parameters<typeof rawRequest>[2] = {}): Promise<{ status: number; setCookie: string | undefined; body: string }> {
  const r = await rawRequest(base, path, opts);
  return { status: r.status, setCookie: r.headers['set-cookie']?.[0], body: r.body };
}

async function timeGet(base: string): Promise<number> {
  const t0 = performance.now();
  const r = await send(base, '/');
  if (r.status !== 200) throw new Error(`GET / answered ${r.status}`);
  return performance.now() - t0;
}

export async function runWebBench(opts: WebBenchOptions): Promise<WebBenchReport> {
  const crypto = new MilagroCrypto();
  const key = generateEnrolmentKey(systemRandom);
  const dirs: string[] = [];
  const dtas: DtaService[] = [];
  const urls: string[] = [];
  let rp: RelyingParty | undefined;
  let site: DemoSite | undefined;
  try {
    for (let i = 0; i < 3; i++) {
      const dir = await mkdtemp(join(tmpdir(), 'milagro-web-bench-'));
      dirs.push(dir);
      const d = await DtaService.open({ dataDir: dir, crypto, trustedKeys: [bytesToHex(key.publicKey)] });
      dtas.push(d);
      urls.push(`http://127.0.0.1:${await d.listen(0)}`);
    }
    rp = await RelyingParty.create({ dtas: urls, enrolmentKey: key, allowInsecureLoopbackCookies: true });
    site = new DemoSite({ rp });
    const base = await site.listen(0);

    const idle: number[] = [];
    for (let i = 0; i < 50; i++) idle.push(await timeGet(base));

    const identities = opts.quick === true ? 40 : 200;
    // Registered victims (as if they had signed up): junk for unknown identities costs nothing.
    for (let i = 0; i < identities; i++) await rp.adoptRegistration(`victim${i}@example.org`);
    const sources = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5', '127.0.0.6'];
    const sessions = await Promise.all(
      sources.map(async (from) => {
        const r = await send(base, '/mpin/session', { from });
        return { from, cookie: (r.setCookie ?? '').split(';', 1)[0] ?? '', csrf: (JSON.parse(r.body) as { csrf: string }).csrf };
      }),
    );
    // Junk passes per identity: the pre-issue-13 lockout (3 failures) would lock each one.
    const perIdentity = 3;
    const jobs = Array.from({ length: identities * perIdentity }, (_, i) => ({ identity: `victim${i % identities}@example.org`, n: i }));
    const u = bytesToHex(encodeG1(bncx.G1.BASE.multiply(7n)));
    const ut = bytesToHex(encodeG1(bncx.G1.BASE));
    const statuses: Record<string, number> = {};
    let done = false;
    const t0 = performance.now();
    // Each source keeps 4 requests in flight.
    const attack = Promise.all(
      sessions.map(async (s, si) => {
        const mine = jobs.filter((j) => j.n % sources.length === si);
        let next = 0;
        await Promise.all(
          Array.from({ length: 4 }, async () => {
            for (;;) {
              const j = mine[next++];
              if (j === undefined) return;
              const r = await send(base, '/mpin/auth/pass', {
                method: 'POST',
                from: s.from,
                headers: { 'content-type': 'application/json', 'x-mpin-csrf': s.csrf, cookie: s.cookie },
                body: JSON.stringify({ identity: j.identity, u, ut, v: bytesToHex(encodeG1(bncx.G1.BASE.multiply(BigInt(j.n + 11)))), timeValue: Math.floor(Date.now() / 1000) }),
              });
              const code = r.status === 200 ? 'ok' : ((JSON.parse(r.body) as { error?: { code?: string } }).error?.code ?? 'unknown');
              const k = `${r.status} ${code}`;
              statuses[k] = (statuses[k] ?? 0) + 1;
            }
          }),
        );
      }),
    ).finally(() => {
      done = true;
    });
    const during: number[] = [];
    while (!done) {
      during.push(await timeGet(base));
      await new Promise((r) => setTimeout(r, 20));
    }
    await attack;
    const attackSeconds = (performance.now() - t0) / 1000;
    let locked = 0;
    for (let i = 0; i < identities; i++) {
      const reg = await rp.registration(`victim${i}@example.org`);
      if (reg !== undefined && (await rp.verifier.isLocked(bytesToHex(crypto.hashId(new TextEncoder().encode(reg.mpinId)))))) locked++;
    }
    const report: WebBenchReport = {
      identities,
      sources: sources.length,
      attackRequests: jobs.length,
      attackSeconds,
      locked,
      statuses,
      getIdle: { median_ms: quantile(idle, 0.5), p95_ms: quantile(idle, 0.95), samples: idle.length },
      getUnderAttack: { median_ms: quantile(during, 0.5), p95_ms: quantile(during, 0.95), samples: during.length },
    };
    if (opts.json) console.log(JSON.stringify(report, null, 1));
    else {
      console.log(`Web relying party under a lock-out attack (${identities} identities x ${perIdentity} junk passes from ${sources.length} addresses, 4 in flight each)`);
      console.log(`  GET / idle                          median ${report.getIdle.median_ms.toFixed(2).padStart(8)} ms   p95 ${report.getIdle.p95_ms.toFixed(2).padStart(8)} ms  (${idle.length} samples)`);
      console.log(`  GET / during the attack             median ${report.getUnderAttack.median_ms.toFixed(2).padStart(8)} ms   p95 ${report.getUnderAttack.p95_ms.toFixed(2).padStart(8)} ms  (${during.length} samples)`);
      console.log(`  attack: ${jobs.length} requests in ${attackSeconds.toFixed(1)} s; identities locked: ${locked} of ${identities}`);
      console.log(`  answers: ${JSON.stringify(statuses)}`);
    }
    return report;
  } finally {
    await site?.close();
    await rp?.close();
    await Promise.all(dtas.map((d) => d.close()));
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  }
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly) {
  await runWebBench({ json: process.argv.includes('--json'), quick: process.argv.includes('--quick') });
}
