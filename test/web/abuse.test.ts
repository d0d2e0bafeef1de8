/**
 * Issue 11 §6: the web relying party under attack.
 *
 * - Junk sign-ins (valid points, wrong proof: two pairings plus a full PIN-error search each)
 *   from five source addresses must not stall the site: the checks run in the worker pool, so
 *   `GET /` stays fast while they are being refused.
 * - Login CSRF: the classic password form (and log-out) need a same-origin signal from the
 *   browser (Origin, Sec-Fetch-Site, or the CSRF token); a POST with none is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesToHex } from '../../src/codec/bytes.ts';
import { bncx, encodeG1 } from '../../src/crypto/bncx/index.ts';
import { jarFetch, rawRequest, type RawReply, WebFixture } from './helpers.ts';

let fx: WebFixture;
beforeAll(async () => {
  fx = await WebFixture.start({ passwords: new Map([['demo', 'demo-password']]) });
});
afterAll(async () => {
  await fx?.close();
});

/** A raw HTTP request to the fixture's site (test/web/helpers.ts). */
const send = (path: string, opts: Parameters<typeof rawRequest>[2] = {}): Promise<RawReply> => rawRequest(fx.url, path, opts);

const POINT = bytesToHex(encodeG1(bncx.G1.BASE));
const OTHER = bytesToHex(encodeG1(bncx.G1.BASE.multiply(7n)));

describe('issue 11 §6: junk sign-ins do not stall the site', () => {
  it('GET / stays fast while 16 junk passes for 16 identities from 5 addresses are checked', async () => {
    const sources = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5', '127.0.0.6'];
    // Each source gets its CSRF cookie first, as a browser would.
    const sessions = await Promise.all(
      sources.map(async (from) => {
        const r = await send('/mpin/session', { from });
        const cookie = ([r.headers['set-cookie'] ?? []].flat()[0] ?? '').split(';', 1)[0] ?? '';
        return { from, cookie, csrf: (JSON.parse(r.body) as { csrf: string }).csrf };
      }),
    );
    const baseline: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      expect((await send('/')).status).toBe(200);
      baseline.push(performance.now() - t0);
    }
    // Registered victims: junk for unknown identities is refused before any pairing.
    for (let i = 0; i < 16; i++) await fx.rp.adoptRegistration(`victim${i}@example.org`);
    const timeValue = Math.floor(fx.clock.now / 1000);
    let done = false;
    const attack = Promise.all(
      Array.from({ length: 16 }, (_, i) => {
        const s = sessions[i % sessions.length] as (typeof sessions)[number];
        return send('/mpin/auth/pass', {
          method: 'POST',
          from: s.from,
          headers: { 'content-type': 'application/json', 'x-mpin-csrf': s.csrf, cookie: s.cookie },
          // A distinct V each (a repeated one is refused as a replay before any pairing).
          body: JSON.stringify({ identity: `victim${i}@example.org`, u: OTHER, ut: POINT, v: bytesToHex(encodeG1(bncx.G1.BASE.multiply(BigInt(i + 11)))), timeValue }),
        });
      }),
    ).finally(() => {
      done = true;
    });
    const during: number[] = [];
    while (!done) {
      const t0 = performance.now();
      expect((await send('/')).status).toBe(200);
      during.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 10));
    }
    const replies = await attack;
    // The attack really ran: every junk pass was checked and refused (not rate-limited away).
    expect(replies.map((r) => r.status)).toEqual(Array(16).fill(401));
    const median = [...during].sort((a, b) => a - b)[during.length >> 1] ?? Infinity;
    // On the event loop this was hundreds of ms (each check blocks ~50 ms); in the pool the
    // page waits for nothing but its own few hundred µs of work.
    expect(during.length).toBeGreaterThanOrEqual(5);
    expect(median, `GET / median ${median.toFixed(1)} ms during the attack (baseline ${baseline.map((x) => x.toFixed(1)).join(', ')} ms)`).toBeLessThan(60);
  }, 60_000);
});

describe('issue 11 §6: login CSRF', () => {
  const form = 'log=demo&pwd=demo-password';
  const post = (path: string, headers: Record<string, string>, body = form): Promise<RawReply> =>
    send(path, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body });

  it('the password form refuses a POST without any same-origin signal', async () => {
    expect((await post('/login', {})).status).toBe(403);
    expect((await post('/login', { 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect((await post('/login', { 'sec-fetch-site': 'same-site' })).status).toBe(403);
    expect((await post('/login', { origin: 'null' })).status).toBe(403);
    expect((await post('/login', { origin: 'https://evil.example', 'sec-fetch-site': 'same-origin' })).status).toBe(403);
  });

  it('accepts it with Origin, with Sec-Fetch-Site: same-origin, or with the CSRF token as a form field', async () => {
    const host = new URL(fx.url).host;
    expect((await post('/login', { origin: fx.url })).status).toBe(303);
    expect((await post('/login', { 'sec-fetch-site': 'same-origin' })).status).toBe(303);
    const s = await send('/mpin/session');
    const cookie = ([s.headers['set-cookie'] ?? []].flat()[0] ?? '').split(';', 1)[0] ?? '';
    const csrf = (JSON.parse(s.body) as { csrf: string }).csrf;
    expect((await post('/login', { cookie, host }, `${form}&mpin-csrf=${csrf}`)).status).toBe(303);
    expect((await post('/login', { cookie }, `${form}&mpin-csrf=${csrf.replace(/.$/, csrf.endsWith('0') ? '1' : '0')}`)).status).toBe(403);
  });

  it('log-out needs the same signal', async () => {
    expect((await send('/logout', { method: 'POST' })).status).toBe(403);
    expect((await send('/logout', { method: 'POST', headers: { origin: fx.url } })).status).toBe(303);
  });

  it('relying-party endpoints refuse a browser-declared cross-site request even with the CSRF token', async () => {
    const f = jarFetch();
    const csrf = ((await (await f(`${fx.url}/mpin/session`, {})).json()) as { csrf: string }).csrf;
    const r = await f(`${fx.url}/mpin/oob/start`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-mpin-csrf': csrf, 'sec-fetch-site': 'cross-site' }, body: '{}' });
    expect(r.status).toBe(403);
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe('bad_origin');
    const ok = await f(`${fx.url}/mpin/oob/start`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-mpin-csrf': csrf, 'sec-fetch-site': 'same-origin' }, body: '{}' });
    expect(ok.status).toBe(200);
  });
});
