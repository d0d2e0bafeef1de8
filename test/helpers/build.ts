/**
 * The compiled build (dist/) that tests spawning the CLI or packing the package need.
 * test/global-setup.ts builds it before the tests start when src/ changed; `ensureBuilt()` checks
 * it is there, and waits while another `vitest run` is still building it (synchronously: callers
 * are about to spawn a process anyway).
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export const repoRoot = resolve(import.meta.dirname, '..', '..');
export const distDir = resolve(repoRoot, 'dist');
export const distMain = resolve(distDir, 'cli', 'main.js');
/** Present while global-setup builds; holds the pid of the vitest process that builds. */
export const pendingFile = resolve(distDir, '.build-pending');
export const stampFile = resolve(distDir, '.build-stamp');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function ensureBuilt(timeoutMs = 300_000): void {
  const nap = new Int32Array(new SharedArrayBuffer(4));
  const deadline = Date.now() + timeoutMs;
  while (existsSync(pendingFile)) {
    const pid = Number(readFileSync(pendingFile, 'utf8'));
    if (!Number.isInteger(pid) || !alive(pid)) break; // a run that died while building
    if (Date.now() > deadline) throw new Error(`dist/ still building after ${timeoutMs} ms (${pendingFile})`);
    Atomics.wait(nap, 0, 0, 100);
  }
  if (!existsSync(distMain)) {
    throw new Error('dist/cli/main.js is missing: test/global-setup.ts builds it at the start of `vitest run` (see its output), or run `npm run build`');
  }
}
