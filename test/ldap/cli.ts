// TEMPORARY: until test/helpers/cli.ts (package engineer) is on main.
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll } from 'vitest';

const root = resolve(import.meta.dirname, '..', '..');
const procs: ReturnType<typeof spawn>[] = [];
afterAll(() => {
  for (const p of procs) p.kill('SIGKILL');
});

export function spawnCli(args: readonly string[]): { waitFor(re: RegExp, ms?: number): Promise<RegExpMatchArray> } {
  const p = spawn(process.execPath, [resolve(root, 'bin', 'milagro-ts.js'), ...args], { cwd: root, stdio: 'pipe' });
  procs.push(p);
  let out = '';
  p.stdout.on('data', (d: Buffer) => (out += d.toString()));
  p.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return {
    async waitFor(re: RegExp, ms = 20_000): Promise<RegExpMatchArray> {
      const t0 = Date.now();
      for (;;) {
        const m = out.match(re);
        if (m !== null) return m;
        if (p.exitCode !== null || Date.now() - t0 > ms) throw new Error(`no ${String(re)} in: ${out}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}
