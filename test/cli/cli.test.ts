/**
 * The `milagro-ts` command as a user runs it (bin/milagro-ts.js through tsx): server and client
 * against each other and against node:tls, --www, and the error messages for common mistakes.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import * as nodeTls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..', '..');
const bin = resolve(root, 'bin', 'milagro-ts.js');
const certs = resolve(root, 'test', 'fixtures', 'certs');
const f = (name: string): string => resolve(certs, name);

interface Run {
  readonly proc: ChildProcessWithoutNullStreams;
  stdout: string;
  stderr: string;
}

const running: Run[] = [];

function run(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Run {
  const proc = spawn(process.execPath, [bin, ...args], { cwd: root, stdio: 'pipe', env });
  const r: Run = { proc, stdout: '', stderr: '' };
  proc.stdout.setEncoding('utf8');
  proc.stderr.setEncoding('utf8');
  proc.stdout.on('data', (d: string) => (r.stdout += d));
  proc.stderr.on('data', (d: string) => (r.stderr += d));
  running.push(r);
  return r;
}

async function exitCode(r: Run): Promise<number | null> {
  if (r.proc.exitCode !== null) return r.proc.exitCode;
  const [code] = (await once(r.proc, 'exit')) as [number | null];
  return code;
}

async function waitFor(r: Run, re: RegExp, ms = 20_000): Promise<RegExpMatchArray> {
  const t0 = Date.now();
  for (;;) {
    const m = (r.stdout + r.stderr).match(re);
    if (m !== null) return m;
    if (r.proc.exitCode !== null || Date.now() - t0 > ms) throw new Error(`no ${String(re)} in output:\n${r.stdout}\n${r.stderr}`);
    await new Promise((res) => setTimeout(res, 20));
  }
}

async function startServer(extra: readonly string[] = []): Promise<{ r: Run; port: number }> {
  const r = run(['server', '--port', '0', '--host', '127.0.0.1', '--cert', f('server-ec256.pem'), '--key', f('server-ec256.key'), ...extra]);
  const m = await waitFor(r, /listening on 127\.0\.0\.1:(\d+)/);
  return { r, port: Number(m[1]) };
}

afterEach(() => {
  for (const r of running.splice(0)) if (r.proc.exitCode === null) r.proc.kill('SIGKILL');
});

describe('milagro-ts CLI', () => {
  it('without a command prints the command table and exits 2; unknown commands are named', async () => {
    const r = run([]);
    expect(await exitCode(r)).toBe(2);
    expect(r.stderr).toMatch(/usage: milagro-ts <command>/);
    expect(r.stderr).toMatch(/server\s+TLS server/);
    const u = run(['frobnicate']);
    expect(await exitCode(u)).toBe(2);
    expect(u.stderr).toMatch(/unknown command "frobnicate"/);
  });

  it('missing files and flags say what to pass', async () => {
    const a = run(['server', '--port', '0', '--cert', f('nope.pem'), '--key', f('server-ec256.key')]);
    expect(await exitCode(a)).toBe(2);
    expect(a.stderr).toMatch(/--cert .*nope\.pem: no such file; pass a PEM certificate file/);
    const b = run(['server', '--port', '0']);
    expect(await exitCode(b)).toBe(2);
    expect(b.stderr).toMatch(/--cert FILE and --key FILE are required/);
    const c = run(['client', 'localhost']);
    expect(await exitCode(c)).toBe(2);
    expect(c.stderr).toMatch(/expected HOST:PORT/);
    const d = run(['client', 'localhost:1']);
    expect(await exitCode(d)).toBe(2);
    expect(d.stderr).toMatch(/pass --ca FILE \(PEM\) or --insecure/);
    const e = run(['server', '--port', '0', '--cert', f('server-ec256.pem'), '--key', f('server-ec256.key'), '--ciphers', 'RC4-MD5']);
    expect(await exitCode(e)).toBe(2);
    expect(e.stderr).toMatch(/unknown cipher suite "RC4-MD5"/);
  });

  it('client ↔ server: stdin echoed to stdout, summary on stderr, one log line per handshake', async () => {
    const { r: srv, port } = await startServer();
    const cli = run(['client', `localhost:${port}`, '--ca', f('ca-ec.pem'), '--ciphers', 'ECDHE-ECDSA-CHACHA20-POLY1305']);
    cli.proc.stdin.end('ping through milagro-ts\n');
    expect(await exitCode(cli)).toBe(0);
    expect(cli.stdout).toBe('ping through milagro-ts\n');
    expect(cli.stderr).toMatch(/cipher ECDHE-ECDSA-CHACHA20-POLY1305/);
    expect(cli.stderr).toMatch(/verification: ok/);
    expect(cli.stderr).toMatch(/24 bytes sent, 24 bytes received/);
    await waitFor(srv, /handshake ok: TLSv1\.2 ECDHE-ECDSA-CHACHA20-POLY1305 X25519 sni=localhost/);
  });

  it('SSLKEYLOGFILE: client and server append the same NSS key-log line', async () => {
    const { mkdtempSync, readFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(resolve(tmpdir(), 'milagro-keylog-'));
    const srvLog = resolve(dir, 'server.keys');
    const cliLog = resolve(dir, 'client.keys');
    const srv = run(['server', '--port', '0', '--host', '127.0.0.1', '--cert', f('server-ec256.pem'), '--key', f('server-ec256.key')], { ...process.env, SSLKEYLOGFILE: srvLog });
    const port = Number((await waitFor(srv, /listening on 127\.0\.0\.1:(\d+)/))[1]);
    const cli = run(['client', `localhost:${port}`, '--ca', f('ca-ec.pem'), '--quiet'], { ...process.env, SSLKEYLOGFILE: cliLog });
    cli.proc.stdin.end('k\n');
    expect(await exitCode(cli)).toBe(0);
    await waitFor(srv, /handshake ok/);
    const line = readFileSync(cliLog, 'latin1');
    expect(line).toMatch(/^CLIENT_RANDOM [0-9a-f]{64} [0-9a-f]{96}\n$/);
    expect(readFileSync(srvLog, 'latin1')).toBe(line);
  });

  it('server logs a failed handshake with the alert it sent; the client reports it and exits 1', async () => {
    const { r: srv, port } = await startServer(['--ciphers', 'ECDHE-ECDSA-AES128-GCM-SHA256']);
    const cli = run(['client', `127.0.0.1:${port}`, '--ca', f('ca-ec.pem'), '--ciphers', 'ECDHE-ECDSA-AES256-GCM-SHA384']);
    cli.proc.stdin.end();
    expect(await exitCode(cli)).toBe(1);
    expect(cli.stderr).toMatch(/handshake failed: peer sent alert handshake_failure/);
    await waitFor(srv, /handshake failed: alert handshake_failure sent/);
  });

  it('client refuses an untrusted server unless --insecure', async () => {
    const { port } = await startServer();
    const bad = run(['client', `localhost:${port}`, '--ca', f('ca-rsa.pem')]);
    bad.proc.stdin.end();
    expect(await exitCode(bad)).toBe(1);
    expect(bad.stderr).toMatch(/alert unknown_ca sent/);
    const ok = run(['client', `localhost:${port}`, '--insecure']);
    ok.proc.stdin.end('x\n');
    expect(await exitCode(ok)).toBe(0);
    expect(ok.stdout).toBe('x\n');
    expect(ok.stderr).toMatch(/verification: FAILED .*continuing because of --insecure/);
  });

  it('server --www answers an HTTP request (node:tls client) and closes with close_notify', async () => {
    const { port } = await startServer(['--www']);
    const c = nodeTls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: (await import('node:fs')).readFileSync(f('ca-ec.pem')) });
    await once(c, 'secureConnect');
    c.write('GET /status HTTP/1.0\r\n\r\n');
    let body = '';
    c.setEncoding('utf8');
    c.on('data', (d: string) => (body += d));
    const errors: Error[] = [];
    c.on('error', (e) => errors.push(e));
    await once(c, 'end');
    expect(body).toMatch(/^HTTP\/1\.0 200 OK\r\n/);
    expect(body).toMatch(/Cipher: ECDHE-ECDSA-AES128-GCM-SHA256/);
    expect(body).toMatch(/Request: GET \/status HTTP\/1\.0/);
    expect(errors).toEqual([]);
  });
});
