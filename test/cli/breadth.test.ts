/** CLI flags of issue 4: --reconnect, --alpn, --request-cert, client --cert/--key, SSLKEYLOGFILE on resumed handshakes. */
import { once } from 'node:events';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot as root, spawnCli } from '../helpers/cli.ts';

const f = (name: string): string => resolve(root, 'test', 'fixtures', 'certs', name);
describe('milagro-ts CLI, issue 4 flags', () => {
  it('client --reconnect 2 --alpn --cert/--key against server --request-cert --alpn; keys logged for every handshake', async () => {
    // --workers 1: one process instead of one per core (node:cluster: test/store/cli-workers.test.ts).
    const server = spawnCli(['server', '--port', '0', '--host', '127.0.0.1', '--workers', '1', '--cert', f('server-ec256.pem'), '--key', f('server-ec256.key'), '--ca', f('ca-ec.pem'), '--request-cert', '--alpn', 'h2,http/1.1']);
    const port = (await server.waitFor(/listening on 127\.0\.0\.1:(\d+)/))[1] ?? '';
    const keylog = join(mkdtempSync(join(tmpdir(), 'h9-')), 'keys.txt');
    const client = spawnCli(
      ['client', `localhost:${port}`, '--ca', f('ca-ec.pem'), '--cert', f('client-only.pem'), '--key', f('client-only.key'), '--alpn', 'http/1.1', '--reconnect', '2'],
      { env: { ...process.env, SSLKEYLOGFILE: keylog }, input: 'ping\n' },
    );
    expect(await client.exit).toBe(0);
    expect(client.stdout).toBe('ping\n');
    expect(client.stderr).toMatch(/connection 1: new session/);
    expect(client.stderr).toMatch(/connection 2: resumed/);
    expect(client.stderr).toMatch(/connection 3: resumed/);
    expect(client.stderr).toMatch(/ALPN http\/1\.1/);
    await server.waitFor(/resumed client-cert="localhost" verified[\s\S]*resumed client-cert="localhost" verified/);
    expect(server.stdout).toMatch(/alpn=http\/1\.1/);
    expect(readFileSync(keylog, 'utf8').trim().split('\n')).toHaveLength(3);

    // Without a client certificate the server refuses (handshake_failure) and keeps serving.
    const anon = spawnCli(['client', `localhost:${port}`, '--ca', f('ca-ec.pem'), '--quiet'], { input: 'x' });
    expect(await anon.exit).toBe(1);
    expect(anon.stderr).toMatch(/handshake_failure/);
    await server.waitFor(/handshake failed/);
  }, 60_000);

  it('rejects a bad --reconnect or --max-fragment value', async () => {
    const a = spawnCli(['client', 'localhost:1', '--insecure', '--reconnect', '-1']);
    expect(await a.exit).not.toBe(0);
    expect(a.stderr).toMatch(/--reconnect/);
    const b = spawnCli(['client', 'localhost:1', '--insecure', '--max-fragment', '100']);
    expect(await b.exit).not.toBe(0);
    expect(b.stderr).toMatch(/--max-fragment/);
  });
});

describe('ticket keys shared across processes (--ticket-keys, node:tls ticketKeys)', () => {
  it('a ticket from one server process resumes on another with the same keys, not on one without', async () => {
    const keys = 'ab'.repeat(48);
    const start = async (extra: string[]) => {
      const s = spawnCli(['server', '--port', '0', '--host', '127.0.0.1', '--workers', '1', '--cert', f('server-ec256.pem'), '--key', f('server-ec256.key'), ...extra]);
      return Number((await s.waitFor(/listening on 127\.0\.0\.1:(\d+)/))[1]);
    };
    const [p1, p2, p3] = [await start(['--ticket-keys', keys]), await start(['--ticket-keys', keys]), await start([])];
    const { connect } = await import('../../src/index.ts');
    const ca = readFileSync(f('ca-ec.pem'));
    const hello = async (port: number, session?: Buffer) => {
      const s = connect({ host: '127.0.0.1', port, servername: 'localhost', ca, ...(session === undefined ? {} : { session }) });
      const got = new Promise<Buffer | undefined>((r) => {
        s.once('session', r);
        s.once('close', () => r(undefined));
      });
      await once(s, 'secureConnect');
      const reused = s.isSessionReused();
      const sess = await got;
      s.destroy();
      return { reused, sess };
    };
    const first = await hello(p1);
    expect(first.reused).toBe(false);
    expect((await hello(p2, first.sess)).reused).toBe(true);
    expect((await hello(p3, first.sess)).reused).toBe(false);
    const bad = spawnCli(['server', '--port', '0', '--cert', f('server-ec256.pem'), '--key', f('server-ec256.key'), '--ticket-keys', 'xyz']);
    expect(await bad.exit).not.toBe(0);
    expect(bad.stderr).toMatch(/96 hex digits/);
  }, 60_000);
});
