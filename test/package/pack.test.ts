/**
 * Issue 12 §1: what `npm pack` ships. The listing of `npm pack --dry-run` (dist/ as the global
 * setup built it) must hold the compiled build, the browser bundles, bin, LICENSE and README, and
 * nothing else: no tests, fixtures, private keys, sources, benchmarks, interop or demo code; at
 * most 600 kB packed. The compiled JavaScript must import only Node built-ins, its own files and
 * declared dependencies (no TypeScript loader or bundler at run time), and load through
 * require() (require of ESM, Node >= 20.19). The full install-and-run check is
 * scripts/consumer-test.mjs (.ci/run).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, repoRoot } from '../helpers/build.ts';

interface PackFile {
  readonly path: string;
  readonly size: number;
}
interface PackInfo {
  readonly size: number;
  readonly unpackedSize: number;
  readonly entryCount: number;
  readonly files: readonly PackFile[];
}

const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
  name: string;
  exports: Record<string, string | Record<string, string>>;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  bin: Record<string, string>;
};
let info: PackInfo;
let paths: Set<string>;

beforeAll(() => {
  ensureBuilt();
  const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: repoRoot, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  info = (JSON.parse(r.stdout) as PackInfo[])[0] as PackInfo;
  paths = new Set(info.files.map((f) => f.path));
  process.stderr.write(`[npm pack --dry-run] ${info.size} bytes packed, ${info.unpackedSize} unpacked, ${info.entryCount} files\n`);
}, 300_000); // may wait for the global setup's build of dist/

describe('npm pack --dry-run listing', () => {
  it('is at most 600 kB packed', () => {
    expect(info.size).toBeLessThanOrEqual(600_000);
  });

  it('holds only dist/, bin/, LICENSE, README.md and package.json: no tests, fixtures, keys, sources or tooling', () => {
    const unexpected = [...paths].filter((p) => !/^(dist\/.+\.(js|d\.ts|js\.map)|bin\/milagro-ts\.js|LICENSE|README\.md|package\.json)$/.test(p));
    expect(unexpected).toEqual([]);
    expect([...paths].filter((p) => /\.(pem|key|der|p12)$|(^|\/)(test|fixtures|screenshots)\//.test(p))).toEqual([]);
    for (const p of ['LICENSE', 'README.md', 'package.json', 'bin/milagro-ts.js', 'dist/index.js', 'dist/cli/main.js', 'dist/kex/milagro/worker-main.js']) expect(paths.has(p), p).toBe(true);
    expect(readFileSync(join(repoRoot, 'LICENSE'), 'utf8')).toMatch(/Apache License\s+Version 2\.0/);
  });

  it('every exports target and the bin are in the package; every module has its .d.ts and source map', () => {
    const targets = Object.values(pkg.exports).flatMap((t) => (typeof t === 'string' ? [t] : Object.values(t)));
    for (const t of [...targets, ...Object.values(pkg.bin)]) expect(paths.has(t.replace(/^\.\//, '')), t).toBe(true);
    const bundles = new Set(['dist/web/mpin-web.js', 'dist/web/mpin-override.js']);
    for (const p of paths) {
      if (!p.endsWith('.js') || !p.startsWith('dist/') || bundles.has(p)) continue;
      expect(paths.has(p.replace(/\.js$/, '.d.ts')), `${p}: .d.ts`).toBe(true);
      expect(paths.has(`${p}.map`), `${p}: .js.map`).toBe(true);
    }
  });

  it('the compiled JavaScript imports only built-ins, its own files and declared dependencies', () => {
    // The package's own name: doc comments show `import … from 'milagro-ts/identity'` (a self-reference).
    const allowed = new Set([pkg.name, ...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.optionalDependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {})]);
    const builtins = new Set(builtinModules);
    const bad: string[] = [];
    for (const p of paths) {
      // bin/milagro-ts.js loads tsx only in a clone (src/ present); the consumer test runs it installed.
      if (!p.endsWith('.js') || p.startsWith('bin/')) continue;
      const text = readFileSync(join(repoRoot, p), 'utf8');
      for (const m of text.matchAll(/(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^import\s*['"]([^'"]+)['"]/gm)) {
        const spec = m[1] ?? m[2] ?? m[3] ?? '';
        if (spec.startsWith('.')) {
          if (!spec.endsWith('.js') && !spec.endsWith('.json')) bad.push(`${p}: relative import ${spec} (not rewritten to .js)`);
          continue;
        }
        const name = spec.startsWith('node:') ? spec : spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : (spec.split('/')[0] ?? spec);
        if (spec.startsWith('node:') ? !builtins.has(spec.slice(5)) && !builtins.has(spec) : !allowed.has(name) && !builtins.has(name)) bad.push(`${p}: imports ${spec}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it("require('…/dist/index.js') works from CommonJS (require of ESM, no top-level await)", () => {
    const r = spawnSync(process.execPath, ['-e', "const m = require('./dist/index.js'); const i = require('./dist/identity/index.js'); process.stdout.write(typeof m.connect + ' ' + typeof i.loadKeystore)"], {
      cwd: repoRoot,
      encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('function function');
  });
});
