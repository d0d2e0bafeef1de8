/**
 * The walk-through in src/identity/README.md, run as written (ports and scratch directory swapped
 * for free ones): the commands a new user pastes must work.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { cliEnv } from '../helpers/cli.ts';
import { ensureBuilt } from '../helpers/build.ts';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const readme = readFileSync(join(repo, 'src/identity/README.md'), 'utf8');

function firstShellBlock(md: string): string {
  const m = /```sh\n([\s\S]*?)```/.exec(md);
  if (m?.[1] === undefined) throw new Error('no ```sh block in the README');
  return m[1];
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

describe('README walk-through (src/identity/README.md)', () => {
  let dir = '';
  afterAll(async () => {
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  it('runs as pasted: DTAs start, alice registers, keys export, PINs verify, bob redeems a bundle, revocation works', async () => {
    ensureBuilt(); // the alias runs bin/milagro-ts.js; cliEnv() makes it use dist/ (no tsx start-up per command)
    dir = await mkdtemp(join(tmpdir(), 'milagro-readme-'));
    let script = firstShellBlock(readme).replaceAll('/tmp/milagro-demo', dir);
    for (const p of ['8101', '8102', '8103']) script = script.replaceAll(p, String(await freePort()));
    // If a step fails before `kill %1 %2 %3`, still stop the DTAs this script started.
    // A pasted script runs in an interactive shell, where aliases expand; here we ask for it. If a
    // step fails before `kill %1 %2 %3`, the EXIT trap still stops the DTAs this script started.
    script = `shopt -s expand_aliases\ntrap 'kill $(jobs -p) 2>/dev/null' EXIT\n${script}`;
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn('bash', ['-c', script], { cwd: repo, env: cliEnv({ ...process.env, MILAGRO_DTAS: '' }), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      // Last resort: stop the script's whole process group (only what this test started).
      const guard = setTimeout(() => {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      }, 150_000);
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.on('close', (c) => {
        clearTimeout(guard);
        resolve({ code: c, stdout: out, stderr: err });
      });
    });
    const context = `stdout:\n${stdout}\nstderr:\n${stderr}`;
    expect(code, context).toBe(0);
    expect(stdout, context).toMatch(/"fingerprint": "[0-9a-f]{64}"/);
    expect(stdout, context).toMatch(/\{"ok":true,"hashId":"[0-9a-f]{64}"\}/);
    expect(stdout, context).toMatch(/"reason":"wrong-pin".*"pinError":6/);
    expect(stderr, context).toMatch(/registered alice@example.com with 3 DTAs/);
    expect(stderr, context).toMatch(/registered bob@example.com with 3 DTAs/);
    expect(stderr, context).toMatch(/revoked alice@example.com/);
    const sizes: Record<string, number> = { CSClientKey: 130, CSTimePermit: 130, CSServerKey: 256, P2PServerKey: 130, P2PClientKey: 256 };
    for (const [name, size] of Object.entries(sizes)) {
      const text = await readFile(join(dir, name), 'utf8');
      expect(text).toMatch(new RegExp(`^[0-9a-f]{${size}}$`));
      expect((await stat(join(dir, name))).mode & 0o777).toBe(0o600);
    }
    for (const f of ['admin.key', 'alice.keystore.json', 'bob.keystore.json', 'dta1/master-share.json', 'dta1/revocations.json']) {
      expect((await stat(join(dir, f))).mode & 0o777, f).toBe(0o600);
    }
    expect(await readFile(join(dir, 'dta2/revocations.json'), 'utf8')).toContain('laptop stolen');
  }, 180_000);
});
