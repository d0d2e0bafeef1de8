/**
 * `npm run fuzz -- --minutes N`: fuzz every network decoder (test/fuzz/targets.ts) round-robin
 * until the time is up, then print executions and findings per target. Inputs that crash a decoder
 * (an untyped error) or take more than --max-cpu-ms of CPU are saved under test/fuzz/crashes/
 * <target>/<id>.hex; after the fix, move them to test/fuzz/regressions/ so `npm test` replays
 * them. Exit status 1 when anything was found.
 *
 * Options: --minutes N | --seconds N (default 1 minute), --target SUBSTRING (repeatable),
 * --seed N (default: time-based, printed), --slice-ms N (time per target per round, default 3000),
 * --max-cpu-ms N (default 2000), --no-web (skip the relying-party target, which starts a DTA).
 */
import { parseArgs } from 'node:util';
import { CORPUS_DIR, CRASHES_DIR, REGRESSIONS_DIR, loadSeeds, saveSeed } from './corpus.ts';
import { fuzz, type Finding } from './runner.ts';
import { createTargets } from './targets.ts';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string' },
    seconds: { type: 'string' },
    target: { type: 'string', multiple: true },
    seed: { type: 'string' },
    'slice-ms': { type: 'string' },
    'max-cpu-ms': { type: 'string' },
    'no-web': { type: 'boolean' },
    help: { type: 'boolean' },
  },
});
if (values.help === true) {
  console.log('usage: npm run fuzz -- [--minutes N | --seconds N] [--target NAME]... [--seed N] [--slice-ms N] [--max-cpu-ms N] [--no-web]');
  process.exit(0);
}
const num = (v: string | undefined, what: string): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${what} must be a non-negative number, got "${v}"`);
  return n;
};
const durationMs = (num(values.seconds, 'seconds') ?? (num(values.minutes, 'minutes') ?? 1) * 60) * 1000;
const sliceMs = num(values['slice-ms'], 'slice-ms') ?? 3000;
const maxCpuMs = num(values['max-cpu-ms'], 'max-cpu-ms') ?? 2000;
let seed = num(values.seed, 'seed') ?? Date.now() % 0x7fffffff;
const filters = values.target ?? [];

const set = await createTargets({
  web: values['no-web'] !== true,
  only: (name) => filters.length === 0 || filters.some((f) => name.includes(f)),
});
if (set.targets.length === 0) throw new Error(`no target matches ${filters.join(', ')}`);
const seeds = new Map(set.targets.map((t) => [t.name, [...loadSeeds(CORPUS_DIR, t.name), ...loadSeeds(REGRESSIONS_DIR, t.name)].map((s) => s.bytes)]));
const stats = new Map(set.targets.map((t) => [t.name, { executions: 0, slowestMs: 0 }]));
const findings = new Map<string, Finding>();

console.log(`fuzz: ${set.targets.length} targets, ${(durationMs / 1000).toFixed(0)} s, first seed ${seed}, ${sliceMs} ms per target per round`);
const started = Date.now();
const deadline = started + durationMs;
let total = 0;
let round = 0;
while (Date.now() < deadline) {
  round++;
  for (const t of set.targets) {
    const left = deadline - Date.now();
    if (left <= 0) break;
    const r = await fuzz(t, seeds.get(t.name) ?? [], { timeLimitMs: Math.min(sliceMs * (t.weight ?? 1), left), seed: seed++, maxCpuMs });
    const s = stats.get(t.name);
    if (s !== undefined) {
      s.executions += r.executions;
      s.slowestMs = Math.max(s.slowestMs, r.slowestMs);
    }
    total += r.executions;
    for (const f of r.findings) {
      const key = `${f.target}:${f.error.split('\n', 1)[0] ?? ''}`;
      if (findings.has(key)) continue;
      findings.set(key, f);
      const path = saveSeed(CRASHES_DIR, f.target, f.id, f.input);
      console.log(`FINDING (${f.kind}) in ${f.target}, input saved to ${path}\n${f.error}`);
    }
  }
  const secs = (Date.now() - started) / 1000;
  console.log(`round ${round}: ${total} executions in ${secs.toFixed(0)} s (${(total / secs).toFixed(0)}/s), ${findings.size} findings`);
}
await set.close();

console.log('\ntarget                               executions   slowest(ms CPU)');
for (const [name, s] of stats) console.log(`${name.padEnd(36)} ${String(s.executions).padStart(10)}   ${s.slowestMs.toFixed(1).padStart(8)}`);
const secs = (Date.now() - started) / 1000;
console.log(`\nfuzz: ${total} executions in ${secs.toFixed(0)} s, ${findings.size} findings (crashes: ${[...findings.values()].filter((f) => f.kind === 'crash').length}, slow: ${[...findings.values()].filter((f) => f.kind === 'slow').length})`);
process.exit(findings.size > 0 ? 1 : 0);
