/**
 * The `milagro-ts` command as a user runs it (bin/milagro-ts.js on the compiled build, test/helpers/cli.ts): server and client
 * against each other and against node:tls, --www, and the error messages for common mistakes.
 */
import { once } from 'node:events';
import { resolve } from 'node:path';
import * as nodeTls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { runCli, spawnCli, type CliProcess } from '../helpers/cli.ts';

const root = resolve(import.meta.dirname, '..', '..');
const certs = resolve(root, 'test', 'fixtures', 'certs');
const f = (name: string): string => resolve(certs, name);

// --workers 1: one process instead of one per core (node:cluster is tested in test/store/cli-workers.test.ts).
async function startServer(extra: readonly string[] = []): Promise<{ r: CliProcess; port: number }> {
  const r = spawnCli(['server', '--port', '0', '--host', '127.0.0.1', '--workers', '1', '--cert', f('server-ec256.pem'), '--key', f('server-ec256.key'), ...extra]);
  const m = await r.waitFor(/listening on 127\.0\.0\.1:(\d+)/);
  return { r, port: Number(m[1]) };
}

describe('milagro-ts CLI', () => {
  it('without a command prints the command table and exits 2; unknown commands are named', async () => {
    const r = spawnCli([]);
    expect(await r.exit).toBe(2);
    expect(r.stderr).toMatch(/usage: milagro-ts <command>/);
    expect(r.stderr).toMatch(/server\s+TLS server/);
    const u = spawnCli(['frobnicate']);
    expect(await u.exit).toBe(2);
    expect(u.stderr).toMatch(/unknown command "frobnicate"/);
  });

  it('--version prints the package version; --help prints the table on stdout and exits 0', async () => {
    const { readFileSync } = await import('node:fs');
    const { version } = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const v = await runCli([flag]);
      expect(v.code).toBe(0);
      expect(v.stdout).toBe(`milagro-ts ${version}\n`);
    }
    const h = await runCli(['--help']);
    expect(h.code).toBe(0);
    expect(h.stdout).toMatch(/usage: milagro-ts <command>[\s\S]*--version/);
  });

  it('missing files and flags say what to pass', async () => {
    const a = spawnCli(['server', '--port', '0', '--cert', f('nope.pem'), '--key', f('server-ec256.key')]);
    expect(await a.exit).toBe(2);
    expect(a.stderr).toMatch(/--cert .*nope\.pem: no such file; pass a PEM certificate file/);
    const b = spawnCli(['server', '--port', '0']);
    expect(await b.exit).toBe(2);
    expect(b.stderr).toMatch(/--cert FILE and --key FILE are required/);
    const c = spawnCli(['client', 'localhost']);
    expect(await c.exit).toBe(2);
    expect(c.stderr).toMatch(/expected HOST:PORT/);
    // A --ca that is not PEM certificates is named (here: a private key file).
    const d = spawnCli(['client', 'localhost:1', '--ca', f('server-ec256.key')]);
    expect(await d.exit).toBe(2);
    expect(d.stderr).toMatch(/--ca .*server-ec256\.key: not a usable PEM file of CA certificates/);
    const e = spawnCli(['server', '--port', '0', '--cert', f('server-ec256.pem'), '--key', f('server-ec256.key'), '--ciphers', 'RC4-MD5']);
    expect(await e.exit).toBe(2);
    expect(e.stderr).toMatch(/unknown cipher suite "RC4-MD5"/);
  });

  it('client ↔ server: stdin echoed to stdout, summary on stderr, one log line per handshake', async () => {
    const { r: srv, port } = await startServer();
    const cli = spawnCli(['client', `localhost:${port}`, '--ca', f('ca-ec.pem'), '--ciphers', 'ECDHE-ECDSA-CHACHA20-POLY1305']);
    cli.proc.stdin.end('ping through milagro-ts\n');
    expect(await cli.exit).toBe(0);
    expect(cli.stdout).toBe('ping through milagro-ts\n');
    expect(cli.stderr).toMatch(/cipher ECDHE-ECDSA-CHACHA20-POLY1305/);
    expect(cli.stderr).toMatch(/verification: ok/);
    expect(cli.stderr).toMatch(/24 bytes sent, 24 bytes received/);
    await srv.waitFor(/handshake ok: TLSv1\.2 ECDHE-ECDSA-CHACHA20-POLY1305 X25519 sni=localhost/);
  });

  it('SSLKEYLOGFILE: client and server append the same NSS key-log line', async () => {
    const { mkdtempSync, readFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(resolve(tmpdir(), 'milagro-keylog-'));
    const srvLog = resolve(dir, 'server.keys');
    const cliLog = resolve(dir, 'client.keys');
    const srv = spawnCli(['server', '--port', '0', '--host', '127.0.0.1', '--cert', f('server-ec256.pem'), '--key', f('server-ec256.key')], { env: { ...process.env, SSLKEYLOGFILE: srvLog } });
    const port = Number((await srv.waitFor(/listening on 127\.0\.0\.1:(\d+)/))[1]);
    const cli = spawnCli(['client', `localhost:${port}`, '--ca', f('ca-ec.pem'), '--quiet'], { env: { ...process.env, SSLKEYLOGFILE: cliLog } });
    cli.proc.stdin.end('k\n');
    expect(await cli.exit).toBe(0);
    await srv.waitFor(/handshake ok/);
    const line = readFileSync(cliLog, 'latin1');
    expect(line).toMatch(/^CLIENT_RANDOM [0-9a-f]{64} [0-9a-f]{96}\n$/);
    expect(readFileSync(srvLog, 'latin1')).toBe(line);
  });

  it('server logs a failed handshake with the alert it sent; the client reports it and exits 1', async () => {
    const { r: srv, port } = await startServer(['--ciphers', 'ECDHE-ECDSA-AES128-GCM-SHA256']);
    const cli = spawnCli(['client', `127.0.0.1:${port}`, '--ca', f('ca-ec.pem'), '--ciphers', 'ECDHE-ECDSA-AES256-GCM-SHA384']);
    cli.proc.stdin.end();
    expect(await cli.exit).toBe(1);
    expect(cli.stderr).toMatch(/handshake failed: peer sent alert handshake_failure/);
    await srv.waitFor(/handshake failed: alert handshake_failure sent/);
  });

  it('client refuses an untrusted server unless --insecure', async () => {
    const { port } = await startServer();
    const bad = spawnCli(['client', `localhost:${port}`, '--ca', f('ca-rsa.pem')]);
    bad.proc.stdin.end();
    expect(await bad.exit).toBe(1);
    expect(bad.stderr).toMatch(/alert unknown_ca sent/);
    // Without --ca the bundled roots apply (node:tls): our test CA is not among them.
    const roots = spawnCli(['client', `localhost:${port}`, '--handshake-timeout', '30000']);
    roots.proc.stdin.end();
    expect(await roots.exit).toBe(1);
    expect(roots.stderr).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
    const ok = spawnCli(['client', `localhost:${port}`, '--insecure']);
    ok.proc.stdin.end('x\n');
    expect(await ok.exit).toBe(0);
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
