/**
 * Issue 15 §1: one-time login tokens minted after every kind of M-Pin sign-in, verified in process
 * (`verifyLoginToken`) and server to server (`POST /mpin/token/verify`, bearer secret), with
 * replay, expiry, wrong audience and wrong identity refused, and shared across relying-party
 * processes through the store. Also `milagro-ts identity token`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { token as tokenCli } from '../../src/cli/identity-token.ts';
import { login as loginCli } from '../../src/cli/identity-login.ts';
import { MemoryStore as KvMemoryStore } from '../../src/store/index.ts';
import { MpinWebClient } from '../../src/web/browser/client.ts';
import { MemoryStore } from '../../src/web/browser/store.ts';
import { LOGIN_TOKEN_PREFIX } from '../../src/web/protocol.ts';
import { RelyingParty } from '../../src/web/server/relying-party.ts';
import { jarFetch, TestClock, WebFixture } from './helpers.ts';

const SECRET = 'a-shared-secret-of-some-length';
const TOKEN_RE = /^mpin-token:[A-Za-z0-9_-]{43}$/;

let fx: WebFixture;
let shared: KvMemoryStore;
let dir: string;
beforeAll(async () => {
  const clock = new TestClock(Math.floor(Date.now() / 86_400_000) * 86_400_000 + 43_200_000);
  shared = new KvMemoryStore({ clock: clock.read });
  fx = await WebFixture.start({ clock, rp: { tokenVerifySecret: SECRET, store: shared, tokenAudiences: ['wiki', 'git'] } });
  dir = await mkdtemp(join(tmpdir(), 'milagro-web-token-'));
});
afterAll(async () => {
  await fx.close();
  await shared.close();
  await rm(dir, { recursive: true, force: true });
});

function client(): MpinWebClient {
  return new MpinWebClient({ store: new MemoryStore(), baseUrl: fx.url, fetch: jarFetch(), clock: fx.clock.read });
}

async function signedIn(identity: string, audience?: string): Promise<string> {
  const c = client();
  await c.register(identity, '1234');
  const r = await c.authenticate(identity, '1234', { purpose: 'token', ...(audience !== undefined ? { audience } : {}) });
  if (r.kind !== 'ok') throw new Error(`sign-in failed: ${r.kind}`);
  return r.token;
}

function verify(body: unknown, auth: string | null = `Bearer ${SECRET}`): Promise<Response> {
  return fetch(`${fx.url}/mpin/token/verify`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(auth !== null ? { authorization: auth } : {}) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

describe('issue 15 §1: one-time login tokens', () => {
  it('every sign-in mints one: session (two-pass and one-pass) and token purpose', async () => {
    const c = client();
    await c.register('tina@example.org', '4444');
    const a = await c.authenticate('tina@example.org', '4444', { mode: 'two-pass' });
    const b = await c.authenticate('tina@example.org', '4444', { mode: 'one-pass', purpose: 'token', audience: 'wiki' });
    expect(a).toMatchObject({ kind: 'ok', identity: 'tina@example.org', token: expect.stringMatching(TOKEN_RE) });
    expect(b).toMatchObject({ kind: 'ok', token: expect.stringMatching(TOKEN_RE) });
    const ta = a.kind === 'ok' ? a.token : '';
    const tb = b.kind === 'ok' ? b.token : '';
    expect(ta).not.toBe(tb);
    expect(await fx.rp.verifyLoginToken({ token: ta, audience: 'site' })).toEqual({ ok: true, identity: 'tina@example.org', audience: 'site' });
    expect(await fx.rp.verifyLoginToken({ token: tb, audience: 'wiki', identity: 'tina@example.org' })).toEqual({ ok: true, identity: 'tina@example.org', audience: 'wiki' });
  });

  it('single use: the second presentation is refused as replayed', async () => {
    const t = await signedIn('uma@example.org', 'wiki');
    expect(await fx.rp.verifyLoginToken({ token: t, audience: 'wiki' })).toMatchObject({ ok: true });
    expect(await fx.rp.verifyLoginToken({ token: t, audience: 'wiki' })).toEqual({ ok: false, error: 'replayed' });
  });

  it('expires after 60 s', async () => {
    const t = await signedIn('vera@example.org', 'wiki');
    fx.clock.now += 60_001;
    try {
      expect(await fx.rp.verifyLoginToken({ token: t, audience: 'wiki' })).toEqual({ ok: false, error: 'expired' });
    } finally {
      fx.clock.now -= 60_001;
    }
  });

  it('wrong audience and wrong identity are refused, and the token is burnt', async () => {
    const t1 = await signedIn('walt@example.org', 'wiki');
    expect(await fx.rp.verifyLoginToken({ token: t1, audience: 'git' })).toEqual({ ok: false, error: 'wrong_audience' });
    expect(await fx.rp.verifyLoginToken({ token: t1, audience: 'wiki' })).toEqual({ ok: false, error: 'replayed' });
    const c = client();
    await c.register('xena@example.org', '1234');
    const r = await c.authenticate('xena@example.org', '1234', { purpose: 'token', audience: 'wiki' });
    const t2 = r.kind === 'ok' ? r.token : '';
    expect(await fx.rp.verifyLoginToken({ token: t2, audience: 'wiki', identity: 'walt@example.org' })).toEqual({ ok: false, error: 'wrong_identity' });
  });

  it('unknown or malformed tokens are invalid_token', async () => {
    for (const token of ['', 'mpin-token:', `${LOGIN_TOKEN_PREFIX}${'A'.repeat(43)}`, `${LOGIN_TOKEN_PREFIX}${'A'.repeat(44)}`, 'password123', `mpin-proof:${'0'.repeat(64)}`]) {
      expect(await fx.rp.verifyLoginToken({ token, audience: 'site' })).toEqual({ ok: false, error: 'invalid_token' });
    }
  });

  it('a browser cannot ask for an audience outside tokenAudiences', async () => {
    const c = client();
    await c.register('yara@example.org', '1234');
    await expect(c.authenticate('yara@example.org', '1234', { purpose: 'token', audience: 'bank' })).rejects.toMatchObject({ code: 'invalid_field', status: 400 });
  });

  it('POST /mpin/token/verify: bearer secret, contract JSON, consumed once', async () => {
    const t = await signedIn('zoe@example.org', 'git');
    expect((await verify({ token: t, audience: 'git' }, null)).status).toBe(401);
    expect((await verify({ token: t, audience: 'git' }, `Bearer ${SECRET}x`)).status).toBe(401);
    expect((await verify({ token: t, audience: 'git' }, SECRET)).status).toBe(401);
    expect((await verify('{"token":')).status).toBe(400);
    expect((await verify({ token: t })).status).toBe(400);
    expect((await verify({ token: t, audience: 'git', extra: 1 })).status).toBe(400);
    const ok = await verify({ token: t, audience: 'git', identity: 'zoe@example.org' });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ ok: true, identity: 'zoe@example.org', audience: 'git' });
    const again = await verify({ token: t, audience: 'git' });
    expect(again.status).toBe(403);
    expect(await again.json()).toEqual({ ok: false, error: 'replayed' });
    const bad = await verify({ token: 'nope', audience: 'git' });
    expect(bad.status).toBe(403);
    expect(await bad.json()).toEqual({ ok: false, error: 'invalid_token' });
  });

  it('the endpoint is disabled without a secret, and refuses plain HTTP from other hosts', async () => {
    const plain = await RelyingParty.create({ dtas: fx.dtaUrls, enrolmentKey: fx.key, clock: fx.clock.read });
    try {
      const r = await plain.handle({ method: 'POST', url: '/mpin/token/verify', headers: { 'content-type': 'application/json' }, body: new Uint8Array(), remoteAddress: '127.0.0.1', secure: false });
      expect(r.status).toBe(404);
    } finally {
      await plain.close();
    }
    const body = new TextEncoder().encode(JSON.stringify({ token: 'x', audience: 'git' }));
    const h = { 'content-type': 'application/json', authorization: `Bearer ${SECRET}` };
    expect((await fx.rp.handle({ method: 'POST', url: '/mpin/token/verify', headers: h, body, remoteAddress: '203.0.113.7', secure: false })).status).toBe(403);
    expect((await fx.rp.handle({ method: 'POST', url: '/mpin/token/verify', headers: h, body, remoteAddress: '203.0.113.7', secure: true })).status).toBe(403); // invalid_token
    expect(JSON.parse((await fx.rp.handle({ method: 'POST', url: '/mpin/token/verify', headers: h, body, remoteAddress: '203.0.113.7', secure: true })).body)).toEqual({ ok: false, error: 'invalid_token' });
  });

  it('a second relying-party process on the same store verifies the token, and the replay is refused on the first', async () => {
    const other = await RelyingParty.create({ dtas: fx.dtaUrls, enrolmentKey: fx.key, clock: fx.clock.read, store: shared });
    try {
      const t = await signedIn('amy@example.org', 'wiki');
      expect(await other.verifyLoginToken({ token: t, audience: 'wiki' })).toMatchObject({ ok: true, identity: 'amy@example.org' });
      expect(await fx.rp.verifyLoginToken({ token: t, audience: 'wiki' })).toEqual({ ok: false, error: 'replayed' });
    } finally {
      await other.close();
    }
  });

  it('out-of-band: the polling browser receives a token for the audience it asked', async () => {
    await fx.keystore('oob@example.org', '2580', join(dir, 'oob.json'));
    const browser = client();
    const a = await browser.startAccessNumber('wiki');
    process.env['MILAGRO_PIN'] = '2580';
    try {
      expect(await loginCli(['--access-number', a.accessNumber, '--site', fx.url, '--keystore', join(dir, 'oob.json')])).toBe(0);
    } finally {
      delete process.env['MILAGRO_PIN'];
    }
    const p = await browser.pollAccessNumber(a.handle);
    expect(p).toMatchObject({ status: 'signed-in', identity: 'oob@example.org', audience: 'wiki', token: expect.stringMatching(TOKEN_RE) });
    const t = p.status === 'signed-in' ? p.token : '';
    expect(await fx.rp.verifyLoginToken({ token: t, audience: 'wiki', identity: 'oob@example.org' })).toMatchObject({ ok: true });
  });

  it('milagro-ts identity token prints a token for --audience', async () => {
    await fx.keystore('cli-token@example.org', '1470', join(dir, 'cli.json'));
    const out: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((s: string) => out.push(String(s)) > 0) as typeof process.stdout.write;
    process.env['MILAGRO_PIN'] = '1470';
    try {
      expect(await tokenCli(['--site', fx.url, '--keystore', join(dir, 'cli.json'), '--audience', 'git'])).toBe(0);
    } finally {
      process.stdout.write = write;
      delete process.env['MILAGRO_PIN'];
    }
    const t = out.join('').trim();
    expect(t).toMatch(TOKEN_RE);
    expect(await fx.rp.verifyLoginToken({ token: t, audience: 'git', identity: 'cli-token@example.org' })).toMatchObject({ ok: true });
    process.env['MILAGRO_PIN'] = '1471';
    try {
      await expect(tokenCli(['--site', fx.url, '--keystore', join(dir, 'cli.json')])).rejects.toThrow(/wrong PIN/);
    } finally {
      delete process.env['MILAGRO_PIN'];
    }
  });
});
