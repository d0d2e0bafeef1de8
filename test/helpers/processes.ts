/**
 * Child processes a test started and must not outlive it. Test files share their worker process
 * (isolate: false in vitest.config.ts), so the clean-up cannot be a module-level afterEach in a
 * helper: that would be registered for the first file only. test/setup.ts registers it for every
 * file; helpers that spawn call `track()`.
 */
import type { ChildProcess } from 'node:child_process';

const running = new Set<ChildProcess>();

/** Killed (SIGKILL) after the current test if still running. */
export function track(proc: ChildProcess): void {
  running.add(proc);
  proc.once('close', () => running.delete(proc));
}

export function killTracked(): void {
  for (const p of running) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  running.clear();
}
