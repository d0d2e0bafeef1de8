/**
 * The bounded fuzz run of `npm test` (issue 11 §7): every committed seed and regression input of
 * every target decodes to a value or its typed error, then a short seeded fast-check run per
 * target. Longer runs: `npm run fuzz -- --minutes N` (test/fuzz/main.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CORPUS_DIR, REGRESSIONS_DIR, loadSeeds } from './corpus.ts';
import { checkInput, fuzz } from './runner.ts';
import { ENGINES, createTargets, type TargetSet } from './targets.ts';

let set: TargetSet;
beforeAll(async () => {
  set = await createTargets();
});
afterAll(async () => {
  await set?.close();
});

/**
 * Runs per target, to keep this file near 10 s on a loaded 2-core machine: plain codecs take
 * ~10 µs an input, engine and HTTP targets ~5–10 ms, the Milagro engines up to ~100 ms (pairings).
 */
const runsFor = (t: { readonly name: string; readonly async?: boolean }): number => (t.async !== true ? 200 : t.name.includes('milagro') ? 3 : 10);

describe('fuzz targets (every network decoder)', () => {
  it('every target has committed seeds, and every seed and regression input passes', async () => {
    const missing: string[] = [];
    const findings: string[] = [];
    for (const t of set.targets) {
      const seeds = loadSeeds(CORPUS_DIR, t.name);
      if (seeds.length === 0) missing.push(t.name);
      for (const s of [...seeds, ...loadSeeds(REGRESSIONS_DIR, t.name)]) {
        const f = await checkInput(t, s.bytes);
        if (f !== undefined) findings.push(`${t.name}/${s.label}: ${f.error}`);
      }
    }
    expect(missing).toEqual([]);
    expect(findings).toEqual([]);
  });

  it('the recorded streams of the engine targets replay to a completed handshake (so mutations reach every state)', async () => {
    const incomplete: string[] = [];
    for (const [name, make] of Object.entries(ENGINES)) {
      for (const s of loadSeeds(CORPUS_DIR, name)) {
        // A lone ClientHello, and inputs the engine must refuse.
        if (s.label.startsWith('openssl-') || s.label.endsWith('-refused')) continue;
        let secure = false;
        const engine = make({ onOutgoing() {}, onData() {}, onSecure: () => (secure = true), onKeylog() {}, onPeerClose() {}, onError() {} });
        engine.start();
        engine.receive(s.bytes);
        await engine.idle;
        if (!secure) incomplete.push(`${name}/${s.label}`);
      }
    }
    expect(incomplete).toEqual([]);
  });

  it('a short seeded run of every target finds nothing', async () => {
    const findings: string[] = [];
    let executions = 0;
    for (const [i, t] of set.targets.entries()) {
      const seeds = [...loadSeeds(CORPUS_DIR, t.name), ...loadSeeds(REGRESSIONS_DIR, t.name)].map((s) => s.bytes);
      const r = await fuzz(t, seeds, { seed: 0x5eed + i, numRuns: runsFor(t), maxCpuMs: 5000 });
      executions += r.executions;
      for (const f of r.findings) findings.push(`${f.target} (${f.kind}): ${f.error}`);
    }
    expect(findings).toEqual([]);
    expect(executions).toBeGreaterThan(5000);
  });
});

describe('the harness itself', () => {
  it('finds and shrinks an untyped crash, and reports an execution that takes too much CPU', async () => {
    const crashing = {
      name: 'synthetic-crash',
      // A decoder with a bug: a TypeError when byte 3 is 0x42 and the input is long enough.
      run: (b: Uint8Array) => {
        if (b.length > 8 && b[3] === 0x42) throw new TypeError('synthetic bug');
      },
      typed: () => false,
    };
    const seed = Uint8Array.from({ length: 16 }, (_, i) => i);
    const r = await fuzz(crashing, [seed], { seed: 1, numRuns: 20_000 });
    expect(r.findings.length).toBe(1);
    expect(r.findings[0]?.kind).toBe('crash');
    expect(r.findings[0]?.error).toMatch(/TypeError: synthetic bug/);
    expect(r.findings[0]?.input[3]).toBe(0x42);

    const spinning = {
      name: 'synthetic-slow',
      // Burns 60 ms of CPU (not wall time: the machine may be busy) on inputs over 20 bytes.
      run: (b: Uint8Array) => {
        if (b.length <= 20) return;
        const cpu = (): number => {
          const u = process.cpuUsage();
          return (u.user + u.system) / 1000;
        };
        const until = cpu() + 60;
        while (cpu() < until);
      },
      typed: () => false,
    };
    const s = await fuzz(spinning, [new Uint8Array(32)], { seed: 2, numRuns: 50, maxCpuMs: 20 });
    expect(s.findings[0]?.kind).toBe('slow');
  });
});
