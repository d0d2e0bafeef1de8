/** CLI flags of issue 4: --reconnect, --alpn, --request-cert, client --cert/--key, SSLKEYLOGFILE on resumed handshakes. */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..', '..');
const bin = resolve(root, 'bin', 'milagro-ts.js');
const f = (name: string): string => resolve(root, 'test', 'fixtures', 'certs', name);
const running: ChildProcessWithoutNullStreams[] = [];

function run(args: readonly string[], env: NodeJS.ProcessEnv = process.env, input?: string) {
  const proc = spawn(process.execPath, [bin, ...args], { cwd: root, stdio: 'pipe', env });
  running.push(proc);
  const out = { stdout: '', stderr: '' };
  proc.stdout.setEncoding('utf8').on('data', (d: string) => (out.stdout += d));
  proc.stderr.setEncoding('utf8').on('data', (d: string) => (out.stderr += d));
  if (input !== undefined) proc.stdin.end(input);
  const exit = once(proc, 'exit').then(([code]) => code as number | null);
  return { proc, out, exit };
}

async function waitFor(o: { stdout: string; stderr: string }, re: RegExp, ms = 20_000): Promise<RegExpMatchArray> {
  const t0 = Date.now();
  for (;;) {
    const m = (o.stdout + o.stderr).match(re);
    if (m !== null) return m;
    if (Date.now() - t0 > ms) throw new Error(`no ${String(re)} in:\n${o.stdout}\n${o.stderr}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

afterEach(() => {
  for (const p of running.splice(0)) if (p.exitCode === null) p.kill('SIGKILL');
});

describe('milagro-ts CLI, issue 4 flags', () => {
  it('client --reconnect 2 --alpn --cert/--key against server --request-cert --alpn; keys logged for every handshake', async () => {
    const server = run(['server', '--port', '0', '--host', '127.0.0.1', '--cert', f('server-ec256.pem'), '--key', f('server-ec256.key'), '--ca', f('ca-ec.pem'), '--request-cert', '--alpn', 'h2,http/1.1']);
    const port = (await waitFor(server.out, /listening on 127\.0\.0\.1:(\d+)/))[1] ?? '';
    const keylog = join(mkdtempSync(join(tmpdir(), 'h9-')), 'keys.txt');
    const client = run(
      ['client', `localhost:${port}`, '--ca', f('ca-ec.pem'), '--cert', f('client-only.pem'), '--key', f('client-only.key'), '--alpn', 'http/1.1', '--reconnect', '2'],
      { ...process.env, SSLKEYLOGFILE: keylog },
      'ping\n',
    );
    expect(await client.exit).toBe(0);
    expect(client.out.stdout).toBe('ping\n');
    expect(client.out.stderr).toMatch(/connection 1: new session/);
    expect(client.out.stderr).toMatch(/connection 2: resumed/);
    expect(client.out.stderr).toMatch(/connection 3: resumed/);
    expect(client.out.stderr).toMatch(/ALPN http\/1\.1/);
    await waitFor(server.out, /resumed client-cert="localhost" verified[\s\S]*resumed client-cert="localhost" verified/);
    expect(server.out.stdout).toMatch(/alpn=http\/1\.1/);
    expect(readFileSync(keylog, 'utf8').trim().split('\n')).toHaveLength(3);

    // Without a client certificate the server refuses (handshake_failure) and keeps serving.
    const anon = run(['client', `localhost:${port}`, '--ca', f('ca-ec.pem'), '--quiet'], process.env, 'x');
    expect(await anon.exit).toBe(1);
    expect(anon.out.stderr).toMatch(/handshake_failure/);
    await waitFor(server.out, /handshake failed/);
  }, 60_000);

  it('rejects a bad --reconnect or --max-fragment value', async () => {
    const a = run(['client', 'localhost:1', '--insecure', '--reconnect', '-1']);
    expect(await a.exit).not.toBe(0);
    expect(a.out.stderr).toMatch(/--reconnect/);
    const b = run(['client', 'localhost:1', '--insecure', '--max-fragment', '100']);
    expect(await b.exit).not.toBe(0);
    expect(b.out.stderr).toMatch(/--max-fragment/);
  });
});

describe('ticket keys shared across processes (--ticket-keys, node:tls ticketKeys)', () => {
  it('a ticket from one server process resumes on another with the same keys, not on one without', async () => {
    const keys = 'ab'.repeat(48);
    const start = async (extra: string[]) => {
      const s = run(['server', '--port', '0', '--host', '127.0.0.1', '--cert', f('server-ec256.pem'), '--key', f('server-ec256.key'), ...extra]);
      return Number((await waitFor(s.out, /listening on 127\.0\.0\.1:(\d+)/))[1]);
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
    const bad = run(['server', '--port', '0', '--cert', f('server-ec256.pem'), '--key', f('server-ec256.key'), '--ticket-keys', 'xyz']);
    expect(await bad.exit).not.toBe(0);
    expect(bad.out.stderr).toMatch(/96 hex digits/);
  }, 60_000);
});
