/** Runs race-worker.mjs (plain JavaScript on the compiled build) in several processes against one store and returns their summaries. */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ensureBuilt } from '../helpers/build.ts';

const worker = fileURLToPath(new URL('./race-worker.mjs', import.meta.url));

export interface RaceResult {
  readonly won: number;
  readonly counts: number[];
}

export async function raceProcesses(spec: string, prefix: string, processes: number, rounds: number): Promise<RaceResult[]> {
  ensureBuilt();
  const children: ChildProcess[] = [];
  const outputs = Array.from({ length: processes }, () => '');
  const ready: Promise<void>[] = [];
  const done: Promise<void>[] = [];
  for (let i = 0; i < processes; i++) {
    const child = spawn(process.execPath, [worker, spec, prefix, String(rounds)], { stdio: ['pipe', 'pipe', 'inherit'] });
    children.push(child);
    child.stdout!.setEncoding('utf8');
    ready.push(
      new Promise((resolve, reject) => {
        child.stdout!.on('data', (d: string) => {
          outputs[i] += d;
          if (outputs[i]!.startsWith('ready\n')) resolve();
        });
        child.once('exit', (code) => reject(new Error(`race worker exited with ${String(code)} before it was ready`)));
      }),
    );
    done.push(
      new Promise((resolve, reject) =>
        child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`race worker exited with ${String(code)}`)))),
      ),
    );
  }
  try {
    await Promise.all(ready);
    for (const c of children) c.stdin!.end('go\n');
    await Promise.all(done);
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill();
  }
  return outputs.map((o) => JSON.parse(o.slice('ready\n'.length)) as RaceResult);
}
