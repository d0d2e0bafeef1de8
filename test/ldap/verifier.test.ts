/**
 * The HTTP token verifier against a stand-in endpoint: the contract's answers map to the
 * relying party's reasons; anything else (wrong secret, 5xx, junk, huge bodies, no server) is
 * `unavailable`, which the proxy answers with LDAP `unavailable`, not `invalidCredentials`.
 * Also the CLI's --listen parsing and flag mistakes.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseListen, proxyOptionsFromFlags } from '../../src/cli/ldap-proxy.ts';
import { CliError } from '../../src/cli/common.ts';
import { HttpTokenVerifier, looksLikeToken } from '../../src/ldap/verifier.ts';

let server: Server;
let base: string;
let lastBody: unknown;
beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      lastBody = JSON.parse(body);
      const auth = req.headers.authorization;
      const path = req.url ?? '';
      if (auth !== 'Bearer s3cret-s3cret-s3cret') res.writeHead(401).end('{"ok":false,"error":"unauthorized"}');
      else if (path === '/ok') res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true,"identity":"alice@example.org","audience":"ldap"}');
      else if (path === '/replayed') res.writeHead(403).end('{"ok":false,"error":"replayed"}');
      else if (path === '/junk') res.writeHead(200).end('<html>');
      else if (path === '/huge') res.writeHead(200).end(`{"ok":true,"identity":"${'a'.repeat(100_000)}","audience":"ldap"}`);
      else res.writeHead(500).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => {
  server.close();
});

const v = (path: string, secret = 's3cret-s3cret-s3cret'): HttpTokenVerifier => new HttpTokenVerifier({ url: `${base}${path}`, secret, timeoutMs: 3000 });
const req = { token: `mpin-token:${'x'.repeat(43)}`, audience: 'ldap' };

describe('HttpTokenVerifier', () => {
  it('200 → ok with the identity; the request carries token and audience', async () => {
    expect(await v('/ok').verify(req)).toEqual({ ok: true, identity: 'alice@example.org', audience: 'ldap' });
    expect(lastBody).toEqual(req);
  });
  it("403 → the relying party's reason", async () => {
    expect(await v('/replayed').verify(req)).toEqual({ ok: false, error: 'replayed' });
  });
  it.each([
    ['a wrong secret (401)', '/ok', 'wrong-secret-wrong', /HTTP 401 \(wrong --verify-secret-file\?\)/],
    ['a 500', '/boom', 's3cret-s3cret-s3cret', /HTTP 500/],
    ['a non-JSON answer', '/junk', 's3cret-s3cret-s3cret', /non-JSON/],
    ['an oversized answer', '/huge', 's3cret-s3cret-s3cret', /larger than/],
  ])('%s → unavailable', async (_what, path, secret, detail) => {
    const r = await v(path, secret).verify(req);
    expect(r.ok).toBe(false);
    expect(r.ok === false && r.error).toBe('unavailable');
    expect(r.ok === false ? r.detail : '').toMatch(detail);
  });
  it('no server → unavailable', async () => {
    const r = await new HttpTokenVerifier({ url: 'http://127.0.0.1:1/verify', secret: 'x' }).verify(req);
    expect(r).toMatchObject({ ok: false, error: 'unavailable' });
  });
  it('only http(s) endpoints', () => {
    expect(() => new HttpTokenVerifier({ url: 'ldap://x/', secret: 'x' })).toThrow(/http/);
  });
  it('token shape: the prefix and base64url', () => {
    expect(looksLikeToken(`mpin-token:${'A'.repeat(43)}`)).toBe(true);
    expect(looksLikeToken('mpin-token:short')).toBe(false);
    expect(looksLikeToken(`mpin-token:${'A'.repeat(42)}!`)).toBe(false);
    expect(looksLikeToken('hunter2')).toBe(false);
  });
});

describe('ldap-proxy flags', () => {
  it.each([
    ['127.0.0.1:1389', { implicitTls: false, host: '127.0.0.1', port: 1389 }],
    ['ldap://localhost:389', { implicitTls: false, host: 'localhost', port: 389 }],
    ['ldaps://127.0.0.1:1636/', { implicitTls: true, host: '127.0.0.1', port: 1636 }],
    ['[::1]:0', { implicitTls: false, host: '::1', port: 0 }],
  ])('--listen %s', (flag, want) => {
    expect(parseListen(flag)).toEqual(want);
  });
  it.each(['1389', 'http://x:1', '127.0.0.1:99999', 'ldap://:1'])('--listen %s is refused', (flag) => {
    expect(() => parseListen(flag)).toThrow(CliError);
  });

  const flags = {
    listen: '127.0.0.1:0',
    target: 'ldap://127.0.0.1:389',
    verify: 'http://127.0.0.1:1/mpin/token/verify',
    'verify-secret-file': 'test/ldap/verifier.test.ts',
    'bind-dn': 'cn=proxy',
    'bind-password-file': 'test/ldap/verifier.test.ts',
    audience: 'ldap',
    'identity-attribute': 'mail',
    mode: 'force',
    'proxy-authz': false,
    'max-message-size': '1048576',
    'max-connections': '1024',
    'idle-timeout': '300000',
    help: false,
  };
  it('builds options from flags', () => {
    const { listen, options } = proxyOptionsFromFlags(flags);
    expect(listen.port).toBe(0);
    expect(options).toMatchObject({ mode: 'force', identityAttribute: 'mail', target: { secure: false, host: '127.0.0.1', port: 389 } });
  });
  it.each([
    [{ mode: 'maybe' }, /--mode must be force or prefer/],
    [{ listen: 'ldaps://127.0.0.1:0' }, /needs --cert FILE --key FILE/],
    [{ cert: 'x.pem' }, /--cert and --key go together/],
    [{ target: 'http://x' }, /--target: .*ldap:\/\/ or ldaps:\/\//],
    [{ 'target-ca': 'ca.pem' }, /--target-ca applies to an ldaps:\/\/ --target only/],
    [{ 'bind-password-file': '/nonexistent' }, /--bind-password-file \/nonexistent: no such file/],
    [{ verify: 'ftp://x' }, /--verify: .*http/],
    [{ 'max-message-size': '10' }, /--max-message-size must be an integer/],
  ])('refuses %o', (over, message) => {
    expect(() => proxyOptionsFromFlags({ ...flags, ...over })).toThrow(message);
  });
});
