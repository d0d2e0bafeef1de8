/**
 * Issue 12 §5: every shell block in README.md and the folder READMEs runs as pasted on a fresh
 * clone. Each block is either run here (fixed ports swapped for free ones, scratch folders for
 * temporary ones, the CLI on dist/ as in test/helpers/cli.ts) or names where it is run instead.
 * A new ```sh block fails the first test until it is added to PLAN.
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, runShellBlock, shellBlocks } from '../../scripts/readme-blocks.mjs';
import { ensureBuilt } from '../helpers/build.ts';
import { cliCommandLine, cliEnv, repoRoot } from '../helpers/cli.ts';
import { systemBinary } from '../helpers/system-binary.ts';

/** README.md and every README.md below the repository's own folders. */
function readmes(dir = repoRoot): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name.startsWith('.') || e.name === 'node_modules' || e.name === 'dist' || e.name === 'test-artifacts') continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...readmes(p));
    else if (e.name === 'README.md') out.push(relative(repoRoot, p));
  }
  return out.sort();
}

/** run: by a test below; elsewhere: by the named test or script; notRun: not runnable as pasted, and why (printed). */
type Plan = { readonly run: string } | { readonly elsewhere: string } | { readonly notRun: string };
/** Key: file and the block's first line. */
const PLAN: Readonly<Record<string, Plan>> = {
  'README.md: npm ci && npm run demo': { elsewhere: '.ci/run (npm ci, npm test and npm run demo on a fresh clone)' },
  'README.md: mkdir -p /tmp/milagro-app': { elsewhere: 'scripts/consumer-test.mjs (.ci/run): it packs and installs the package' },
  'README.md: alias milagro-ts=': { run: 'identity quick start' },
  'README.md: npm run demo:web': { run: 'web demo' },
  'README.md: npx milagro-ts server --port 4433': { run: 'certificate CLI' },
  'src/api/README.md: # a server like `openssl s_server`': { run: 'CLI against OpenSSL' },
  'src/identity/README.md: alias milagro-ts=': { elsewhere: 'test/identity/readme-cli.test.ts' },
  'src/web/README.md: npm run demo:web': { run: 'web demo' },
  'src/web/README.md: curl -s -H': { notRun: 'a template (<tokenVerifySecret>, https://site); the endpoint itself is tested in test/web' },
  'README.md: npm run demo:ldap': { notRun: 'needs slapd and runs until ^C; not verified here (ldap owner, issue 15)' },
  'src/ldap/README.md: npm run demo:ldap': { notRun: 'needs slapd and runs until ^C; not verified here (ldap owner, issue 15)' },
  'README.md: # broker side: TLS on 8883': { notRun: 'a two-host deployment sketch (broker.plant.example); the tunnel is tested in test/tunnel (tunnel owner, issue 14)' },
  'src/cli/README.md: # on the broker host': { notRun: 'a docker deployment (eclipse-mosquitto image, example hosts); the tunnel is tested in test/tunnel (tunnel owner, issue 14)' },
  'src/cli/README.md: milagro-ts identity p2p-key broker.plant.example': { notRun: 'needs running DTAs, mosquitto on a unix socket and two hosts; the tunnel is tested in test/tunnel (tunnel owner, issue 14)' },
  'src/ldap/README.md: # the proxy, verifying tokens': { notRun: 'a configuration reference (login.example.org, `...`, $VERIFY_SECRET); the proxy is tested in test/ldap' },
};

function planKey(file: string, block: string): string | undefined {
  const first = block.split('\n')[0] ?? '';
  return Object.keys(PLAN).find((k) => {
    const [f, prefix] = [k.slice(0, k.indexOf(': ')), k.slice(k.indexOf(': ') + 2)];
    return f === file && first.startsWith(prefix);
  });
}

function block(file: string, prefix: string): string {
  const b = shellBlocks(join(repoRoot, file)).find((x) => (x.split('\n')[0] ?? '').startsWith(prefix));
  if (b === undefined) throw new Error(`${file}: no shell block starting with ${prefix}`);
  return b;
}

const scratch: string[] = [];
afterAll(async () => {
  for (const d of scratch) await rm(d, { recursive: true, force: true });
});

async function run(script: string, opts: { ports?: number[]; replace?: [string, string][]; errexit?: boolean } = {}) {
  ensureBuilt();
  const tmp = await mkdtemp(join(tmpdir(), 'milagro-readme-'));
  scratch.push(tmp);
  // `npx milagro-ts` in a clone loads npm and resolves the clone into npm's cache: ~1 s of CPU per
  // call, and the blocks poll with it. It runs the same bin/milagro-ts.js, so the blocks call that
  // directly; the npx resolution itself is checked once below.
  const replace: [string, string][] = [['npx milagro-ts', cliCommandLine], ...(opts.replace ?? [])];
  // TMPDIR: `mktemp -d` in a block lands in our scratch folder and is removed with it.
  const r = await runShellBlock(script, { cwd: repoRoot, env: cliEnv({ ...process.env, TMPDIR: tmp, MILAGRO_DTAS: '' }), ...opts, replace });
  return { ...r, tmp, context: `script:\n${r.script}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}` };
}

describe('README shell blocks', () => {
  it('every shell block is run here or names where it runs', () => {
    const unplanned: string[] = [];
    for (const file of readmes()) {
      for (const b of shellBlocks(join(repoRoot, file))) if (planKey(file, b) === undefined) unplanned.push(`${file}: ${b.split('\n')[0]}`);
    }
    expect(unplanned, 'add these blocks to PLAN in test/docs/readme-shell.test.ts (run them, or name the test that does)').toEqual([]);
    const notRun = Object.entries(PLAN).flatMap(([k, p]) => ('notRun' in p ? [`  ${k}: ${p.notRun}`] : []));
    if (notRun.length > 0) process.stderr.write(`\n*** README shell blocks NOT run as pasted:\n${notRun.join('\n')}\n\n`);
  });

  it('README.md identity quick start: three DTAs, alice registered, keys exported', async () => {
    const r = await run(block('README.md', 'alias milagro-ts='), { ports: [8101, 8102, 8103] });
    expect(r.code, r.context).toBe(0);
    expect(r.stderr, r.context).toMatch(/registered alice@example\.com with 3 DTAs/);
    const dirs = readdirSync(r.tmp);
    expect(dirs, r.context).toHaveLength(1); // the block's `mktemp -d`
    const work = join(r.tmp, dirs[0] ?? '');
    expect(await readFile(join(work, 'CSClientKey'), 'utf8')).toMatch(/^[0-9a-f]{130}$/);
    expect(await readFile(join(work, 'CSServerKey'), 'utf8')).toMatch(/^[0-9a-f]{256}$/);
  }, 180_000);

  it('README.md certificate CLI: server in the background, client echoes hello', async () => {
    const r = await run(block('README.md', 'npx milagro-ts server --port 4433'), { ports: [4433] });
    expect(r.code, r.context).toBe(0);
    expect(r.stdout, r.context).toMatch(/^hello$/m); // the echo, between the server's log lines
    expect(r.stdout, r.context).toMatch(/handshake ok: TLSv1\.2 ECDHE-ECDSA/);
    expect(r.stderr, r.context).toMatch(/verification: ok/);
  }, 120_000);

  it('`npx milagro-ts` in a clone runs this clone\'s command (what the blocks above call directly)', async () => {
    const r = await runShellBlock('npx milagro-ts --version', { cwd: repoRoot, env: cliEnv() });
    expect(r.code, r.stderr).toBe(0);
    const { version } = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
    expect(r.stdout.trim()).toBe(`milagro-ts ${version}`);
  }, 120_000);

  const openssl = systemBinary('openssl', 'openssl');
  it.skipIf(openssl === undefined)('src/api/README.md: milagro-ts and OpenSSL against each other', async () => {
    // Not errexit: the final `kill %1 %2` may race a job's own exit; what the reader sees is checked.
    const r = await run(block('src/api/README.md', '# a server like `openssl s_server`'), { ports: [4433, 4434], errexit: false });
    expect(r.stdout, r.context).toMatch(/^hello$/m); // milagro-ts client → milagro-ts server
    expect(r.stderr, r.context).toMatch(/CONNECTION ESTABLISHED[\s\S]*Verification: OK/); // openssl s_client → milagro-ts server
    expect(r.stdout, r.context).toMatch(/HTTP\/1\.0 200 ok/i); // milagro-ts client → openssl s_server -www
  }, 120_000);

  it('npm run demo:web (README.md, src/web/README.md): the site answers at the URL it prints', async () => {
    const command = (b: string): string => b.replace(/#.*$/m, '').trim();
    const text = command(block('README.md', 'npm run demo:web'));
    expect(command(block('src/web/README.md', 'npm run demo:web'))).toBe(text);
    // A server that runs until ^C: run the command (on a free port instead of 8080), fetch the page it announces, stop it.
    const port = await freePort();
    const child = spawn('bash', ['-c', `${text} -- --port ${port}`], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    try {
      const t0 = Date.now();
      let url: string | undefined;
      while (url === undefined) {
        url = /M-Pin web demo: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out)?.[1];
        if (child.exitCode !== null || Date.now() - t0 > 120_000) throw new Error(`no URL from ${text}:\n${out}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(url).toBe(`http://127.0.0.1:${port}/`);
      const page = await fetch(url);
      expect(page.status).toBe(200);
      expect(await page.text()).toMatch(/<html/i);
    } finally {
      if (child.pid !== undefined && child.exitCode === null) process.kill(-child.pid, 'SIGTERM');
    }
  }, 180_000);
});
