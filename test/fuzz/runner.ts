/**
 * Runs one fuzz target with fast-check: mutated corpus seeds and random bytes (mutate.ts), the
 * target's typed-error property, and a CPU-time bound per execution (unbounded work is a finding
 * like a crash). fast-check shrinks a failing input before it is reported.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { inputArb } from './mutate.ts';
import type { FuzzTarget } from './targets.ts';

export interface Finding {
  readonly target: string;
  readonly kind: 'crash' | 'slow';
  readonly input: Uint8Array;
  readonly error: string;
  /** Short content hash, used as the file name of the saved input. */
  readonly id: string;
}

export interface RunOptions {
  /** Executions (fast-check runs) to attempt; with `timeLimitMs`, whichever ends first. */
  readonly numRuns?: number;
  readonly timeLimitMs?: number;
  readonly seed: number;
  /** CPU time one execution may take before it counts as unbounded work. Default 2000 ms. */
  readonly maxCpuMs?: number;
}

export interface RunResult {
  readonly target: string;
  executions: number;
  readonly findings: Finding[];
  /** Most CPU time one execution took (ms). */
  slowestMs: number;
}

class Finding_ extends Error {
  constructor(
    readonly kind: 'crash' | 'slow',
    message: string,
  ) {
    super(message);
  }
}

function describe(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}\n${(e.stack ?? '').split('\n').slice(1, 8).join('\n')}`;
  return String(e);
}

const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** One execution: throws Finding_ for an untyped error or one that ran too long. */
async function once(t: FuzzTarget, input: Uint8Array, maxCpuMs: number, result: RunResult): Promise<void> {
  result.executions++;
  const start = cpuMs();
  try {
    await t.run(input);
  } catch (e) {
    if (!t.typed(e)) throw new Finding_('crash', describe(e));
  }
  const spent = cpuMs() - start;
  if (spent > result.slowestMs) result.slowestMs = spent;
  if (spent > maxCpuMs) throw new Finding_('slow', `one execution took ${spent.toFixed(0)} ms of CPU (bound ${maxCpuMs} ms)`);
}

function onceSync(t: FuzzTarget, input: Uint8Array, maxCpuMs: number, result: RunResult): void {
  result.executions++;
  const start = cpuMs();
  try {
    const r = t.run(input);
    if (r instanceof Promise) throw new TypeError(`target ${t.name} is asynchronous but not marked async`);
  } catch (e) {
    if (!t.typed(e)) throw new Finding_('crash', describe(e));
  }
  const spent = cpuMs() - start;
  if (spent > result.slowestMs) result.slowestMs = spent;
  if (spent > maxCpuMs) throw new Finding_('slow', `one execution took ${spent.toFixed(0)} ms of CPU (bound ${maxCpuMs} ms)`);
}

export function findingId(input: Uint8Array): string {
  return createHash('sha256').update(input).digest('hex').slice(0, 16);
}

/** Check one input outside fast-check (seed and regression replays). */
export async function checkInput(t: FuzzTarget, input: Uint8Array, maxCpuMs = 2000): Promise<Finding | undefined> {
  const r: RunResult = { target: t.name, executions: 0, findings: [], slowestMs: 0 };
  try {
    if (t.async === true) await once(t, input, maxCpuMs, r);
    else onceSync(t, input, maxCpuMs, r);
    return undefined;
  } catch (e) {
    const f = e instanceof Finding_ ? e : new Finding_('crash', describe(e));
    return { target: t.name, kind: f.kind, input, error: f.message, id: findingId(input) };
  }
}

export async function fuzz(t: FuzzTarget, seeds: readonly Uint8Array[], o: RunOptions): Promise<RunResult> {
  const result: RunResult = { target: t.name, executions: 0, findings: [], slowestMs: 0 };
  const maxCpuMs = o.maxCpuMs ?? 2000;
  const arb = inputArb(seeds, t.maxRandom ?? 512);
  const params: fc.Parameters<[Uint8Array]> = {
    seed: o.seed,
    numRuns: o.numRuns ?? 1_000_000_000,
    ...(o.timeLimitMs === undefined ? {} : { interruptAfterTimeLimit: o.timeLimitMs, markInterruptAsFailure: false }),
  };
  const details =
    t.async === true
      ? await fc.check(fc.asyncProperty(arb, (input) => once(t, input, maxCpuMs, result)), params)
      : fc.check(fc.property(arb, (input) => onceSync(t, input, maxCpuMs, result)), params);
  if (details.failed && details.counterexample !== null) {
    const [input] = details.counterexample;
    const e = details.errorInstance;
    const kind = e instanceof Finding_ ? e.kind : 'crash';
    result.findings.push({ target: t.name, kind, input, error: e instanceof Error ? e.message : String(e), id: findingId(input) });
  }
  return result;
}
