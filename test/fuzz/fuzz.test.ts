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
const runsFor = (t: { readonly name: string; readonly async?: boolean }): number => (t.async !== true ? 250 : t.name.includes('milagro') ? 5 : 15);

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
        if (s.label.startsWith('openssl-')) continue; // a lone ClientHello
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
