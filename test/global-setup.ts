/**
 * vitest globalSetup: brings dist/ (the compiled build) and its browser bundles (dist/web/) up to
 * date before any test starts. The tests run the compiled build wherever a new process or thread
 * starts: the CLI (test/helpers/cli.ts), the Milagro worker threads (MILAGRO_TS_FROM_DIST=1 in
 * vitest.config.ts; src/kex/milagro/worker.js) and the plain-JavaScript fixtures that import
 * 'milagro-ts'. Loading TypeScript through tsx there cost ~0.4 s of CPU per thread or process.
 * Building first rather than in the background costs no wall time on a busy machine (tsc would
 * take the same cores from the tests) and no test can see a half-written dist/.
 *
 * Cheap when nothing changed: the newest mtime under src/ is compared with a stamp written after the
 * last build. Type errors do not stop the run (tsc still emits; `npm run typecheck` reports them).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { buildWebAssets } from '../scripts/web-bundle.ts';
import { distDir, distMain, pendingFile, repoRoot as root, stampFile } from './helpers/build.ts';

function newestMtime(dir: string): number {
  let newest = statSync(dir).mtimeMs; // a deleted or renamed file changes its folder
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

function isFresh(): boolean {
  const inputs = Math.max(newestMtime(join(root, 'src')), ...['tsconfig.build.json', 'tsconfig.types.json', 'tsconfig.json', 'scripts/web-bundle.ts'].map((f) => statSync(join(root, f)).mtimeMs));
  return existsSync(stampFile) && existsSync(distMain) && statSync(stampFile).mtimeMs >= inputs;
}

async function build(): Promise<void> {
  const t0 = Date.now();
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  // The two halves of `npm run build` (JavaScript, declarations), in parallel. --noCheck: the same
  // declarations without type-checking src/ (~5 s of CPU less; `npm run typecheck` checks).
  const outs = await Promise.all(
    [['-p', join(root, 'tsconfig.build.json')], ['-p', join(root, 'tsconfig.types.json'), '--noCheck']].map(
      (args) =>
        new Promise<{ code: number | null; text: string }>((resolve, reject) => {
          const child = spawn(process.execPath, [tsc, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
          let text = '';
          child.stdout.on('data', (d: Buffer) => (text += d.toString()));
          child.stderr.on('data', (d: Buffer) => (text += d.toString()));
          child.on('error', reject);
          child.on('close', (code) => resolve({ code, text }));
        }),
    ),
  );
  for (const out of outs) if (out.code !== 0) process.stderr.write(`\n[global-setup] WARNING: tsc reported errors (dist/ emitted anyway):\n${out.text}\n`);
  // The browser bundles, as `npm run build` makes them (the package listing test expects them).
  await buildWebAssets({ outDir: join(distDir, 'web') });
  writeFileSync(stampFile, `${new Date().toISOString()}\n`);
  process.stderr.write(`[global-setup] built dist/ in ${Date.now() - t0} ms\n`);
}

export default async function setup(): Promise<void> {
  if (isFresh()) return;
  mkdirSync(distDir, { recursive: true });
  writeFileSync(pendingFile, String(process.pid)); // another vitest run waits for it (ensureBuilt)
  try {
    await build();
  } finally {
    rmSync(pendingFile, { force: true });
  }
}
