/**
 * `milagro-ts server --workers 2 --store sqlite:FILE`: the two worker processes share the ticket
 * keys and session cache through the store, so a session made on one resumes on the other
 * (node:cluster hands connections out round-robin).
 */
import { once } from 'node:events';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { connect, type ConnectionOptions } from '../../src/index.ts';
import { ca, readAll, secure } from '../api/helpers.ts';
import { spawnCli } from '../helpers/cli.ts';

const certs = resolve(import.meta.dirname, '..', 'fixtures', 'certs');
const dir = mkdtempSync(join(tmpdir(), 'milagro-workers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function hello(port: number, opts: ConnectionOptions): Promise<{ reused: boolean; session: Buffer | undefined }> {
  const s = connect({ host: '127.0.0.1', port, ca, servername: 'localhost', ...opts });
  let session: Buffer | undefined;
  s.on('session', (b: Buffer) => (session = b));
  await secure(s);
  s.write('x');
  await once(s, 'data');
  s.end();
  await readAll(s);
  return { reused: s.isSessionReused(), session };
}

describe('server --workers with a shared store', () => {
  it('a session made on one worker resumes on the other', async () => {
    const db = join(dir, 'state.db');
    const srv = spawnCli([
      'server', '--port', '0', '--host', '127.0.0.1', '--workers', '2', '--store', `sqlite:${db}`,
      '--cert', join(certs, 'server-ec256.pem'), '--key', join(certs, 'server-ec256.key'),
    ]);
    const port = Number((await srv.waitFor(/listening on 127\.0\.0\.1:(\d+) \(echo mode, 2 workers, store sqlite:/))[1]);
    expect(statSync(db).mode & 0o777).toBe(0o600);
    const first = await hello(port, {});
    expect(first.reused).toBe(false);
    for (let i = 0; i < 3; i++) expect((await hello(port, first.session === undefined ? {} : { session: first.session })).reused).toBe(true);
    const lines = srv.stdout.split('\n');
    const full = lines.find((l) => /handshake ok/.test(l) && !/resumed/.test(l));
    const pidOf = (l: string | undefined): string | undefined => /\[worker (\d+)\]/.exec(l ?? '')?.[1];
    const resumedPids = new Set(lines.filter((l) => /handshake ok.* resumed/.test(l)).map(pidOf));
    expect(pidOf(full)).toBeDefined();
    // At least one resumption happened in the worker that did not make the session.
    expect([...resumedPids].some((p) => p !== pidOf(full))).toBe(true);
    // SIGTERM stops every worker cleanly and at once (a worker's IPC channel used to keep it
    // alive until the primary's 5 s SIGKILL).
    const t0 = Date.now();
    srv.proc.kill('SIGTERM');
    expect(await srv.exit).toBe(0);
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(srv.stdout + srv.stderr).not.toMatch(/died|SIGKILL/);
  });
});
