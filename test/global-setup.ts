/**
 * vitest globalSetup: brings dist/ (the compiled build the CLI tests spawn, see test/helpers/cli.ts)
 * and its browser bundles (dist/web/) up to date once per run. Cheap when nothing changed: it compares the newest mtime under src/
 * with a stamp written after the last build, and only then runs the incremental tsc build
 * (tsconfig.build.json). Type errors do not stop the run (tsc still emits; `npm run typecheck`
 * reports them), they are printed as a warning.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { buildWebAssets } from '../scripts/web-bundle.ts';

const root = resolve(import.meta.dirname, '..');
const stamp = join(root, 'dist', '.build-stamp');

function newestMtime(dir: string): number {
  let newest = statSync(dir).mtimeMs; // a deleted or renamed file changes its folder
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

export async function buildDist(): Promise<void> {
  const inputs = Math.max(newestMtime(join(root, 'src')), statSync(join(root, 'tsconfig.build.json')).mtimeMs, statSync(join(root, 'tsconfig.json')).mtimeMs);
  if (existsSync(stamp) && existsSync(join(root, 'dist', 'cli', 'main.js')) && statSync(stamp).mtimeMs >= inputs) return;
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { cwd: root, encoding: 'utf8' });
  if (r.error !== undefined) throw r.error;
  if (!existsSync(join(root, 'dist', 'cli', 'main.js'))) throw new Error(`tsc produced no dist/:\n${r.stdout}${r.stderr}`);
  if (r.status !== 0) process.stderr.write(`\n[global-setup] WARNING: tsc reported errors (dist/ emitted anyway):\n${r.stdout}${r.stderr}\n`);
  // The browser bundles, as `npm run build` makes them (the package listing test expects them).
  await buildWebAssets({ outDir: join(root, 'dist', 'web') });
  writeFileSync(stamp, `${new Date().toISOString()}\n`);
  process.stderr.write(`[global-setup] built dist/ in ${Date.now() - t0} ms\n`);
}

export default async function setup(): Promise<void> {
  await buildDist();
}
