/**
 * Issue 8: bad input to every relying-party endpoint → 4xx JSON and nothing stored, through both
 * adapters (node:http via the demo site, and Fastify). Also: cookie attributes, transport rule,
 * rate limits, CSRF and Origin checks.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesToHex } from '../../src/codec/bytes.ts';
import { bncx, encodeG1 } from '../../src/crypto/bncx/index.ts';
import { ENDPOINTS } from '../../src/web/protocol.ts';
import { mpinFastify } from '../../src/web/server/fastify.ts';
import type { RpRequest } from '../../src/web/server/relying-party.ts';
import { jarFetch, WebFixture } from './helpers.ts';

let fx: WebFixture;
let app: FastifyInstance;
let fastifyUrl: string;

beforeAll(async () => {
  // Many requests from one address here: the address limit is tested on its own below.
  fx = await WebFixture.start({ rp: { rateLimits: { perAddress: { burst: 1e6, perMinute: 1e6 } } } });
  // Registered, so that refusals come from the bad input and not from an unknown identity.
  await fx.rp.adoptRegistration(ID);
  app = Fastify();
  await app.register(mpinFastify(fx.rp));
  fastifyUrl = await app.listen({ port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await app?.close();
  await fx?.close();
});

const POINT = bytesToHex(encodeG1(bncx.G1.BASE));
const NOT_ON_CURVE = `04${'11'.repeat(64)}`;
const ID = 'someone@example.org';
const GOOD_PASS = { identity: ID, u: POINT, ut: POINT, v: POINT, timeValue: Math.floor(Date.now() / 1000) };

/** Per endpoint: bodies that must be refused with 400, each with a label. */
const INVALID: Readonly<Record<string, readonly (readonly [string, unknown])[]>> = {
  [ENDPOINTS.register]: [
    ['missing identity', {}],
    ['identity not a string', { identity: 42 }],
    ['empty identity', { identity: '' }],
    ['identity with control character', { identity: 'a\u0000b' }],
    ['identity with surrounding space', { identity: ' a@b' }],
    ['identity too long', { identity: 'a'.repeat(257) }],
    ['unknown field', { identity: ID, admin: true }],
  ],
  [ENDPOINTS.permit]: [
    ['missing identity', {}],
    ['identity array', { identity: [ID] }],
    ['unknown field', { identity: ID, day: 1 }],
  ],
  [ENDPOINTS.pass]: [
    ['missing v', { ...GOOD_PASS, v: undefined }],
    ['u not hex', { ...GOOD_PASS, u: 'zz'.repeat(65) }],
    ['u too short', { ...GOOD_PASS, u: POINT.slice(2) }],
    ['u uppercase hex', { ...GOOD_PASS, u: POINT.toUpperCase() }],
    ['v not on the curve', { ...GOOD_PASS, v: NOT_ON_CURVE }],
    ['ut not on the curve', { ...GOOD_PASS, ut: NOT_ON_CURVE }],
    ['ut missing with permits required', { ...GOOD_PASS, ut: undefined }],
    ['negative time value', { ...GOOD_PASS, timeValue: -1 }],
    ['fractional time value', { ...GOOD_PASS, timeValue: 1.5 }],
    ['string time value', { ...GOOD_PASS, timeValue: '1' }],
    ['stale time value', { ...GOOD_PASS, timeValue: 1000 }],
    ['bad purpose', { ...GOOD_PASS, purpose: 'admin' }],
    ['unknown field', { ...GOOD_PASS, x: '00' }],
  ],
  [ENDPOINTS.start]: [
    ['missing u', { identity: ID, ut: POINT }],
    ['u not on the curve', { identity: ID, u: NOT_ON_CURVE, ut: POINT }],
    ['v not allowed here', { identity: ID, u: POINT, ut: POINT, v: POINT }],
  ],
  [ENDPOINTS.finish]: [
    ['missing challenge', { v: POINT }],
    ['challenge not hex', { challenge: 'x'.repeat(32), v: POINT }],
    ['v not a point', { challenge: '00'.repeat(16), v: '00'.repeat(65) }],
    ['bad purpose', { challenge: '00'.repeat(16), v: POINT, purpose: 1 }],
  ],
  [ENDPOINTS.signOut]: [['unknown field', { everyone: true }]],
  [ENDPOINTS.oobStart]: [['unknown field', { accessNumber: '12345674' }]],
  [ENDPOINTS.oobPoll]: [
    ['missing handle', {}],
    ['short handle', { handle: 'ab' }],
  ],
  [ENDPOINTS.oobAuthenticate]: [
    ['missing access number', { ...GOOD_PASS }],
    ['wrong check digit', { ...GOOD_PASS, accessNumber: '12345670' }],
    ['access number too short', { ...GOOD_PASS, accessNumber: '1234567' }],
    ['access number not a string', { ...GOOD_PASS, accessNumber: 12345674 }],
    ['v not on the curve', { ...GOOD_PASS, accessNumber: '12345674', v: NOT_ON_CURVE }],
  ],
};

const POSTS = Object.keys(INVALID);

function storedNothing(): void {
  expect(fx.rp.stats()).toEqual({ sessions: 0, accessNumbers: 0, challenges: 0, registered: 0 });
}

describe.each([
  ['node:http', () => fx.url],
  ['fastify', () => fastifyUrl],
])('bad input through %s', (_name, base) => {
  async function csrfSession(): Promise<{ f: ReturnType<typeof jarFetch>; csrf: string }> {
    const f = jarFetch();
    const r = await f(`${base()}/mpin/session`, {});
    expect(r.status).toBe(200);
    const csrf = ((await r.json()) as { csrf: string }).csrf;
    expect(csrf).toMatch(/^[0-9a-f]{64}$/);
    return { f, csrf };
  }

  async function expectError(res: Response, status: number, code: string): Promise<void> {
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await res.json()) as { error?: { code?: string; statusCode?: number } };
    // Fastify's own parser errors (bodies over its limit) carry its JSON shape.
    if (body.error !== undefined && typeof body.error === 'object') expect(body.error.code).toBe(code);
  }

  it.each(POSTS)('%s: invalid bodies are 400', async (path) => {
    const { f, csrf } = await csrfSession();
    for (const [label, body] of INVALID[path] ?? []) {
      const res = await f(`${base()}/mpin${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-mpin-csrf': csrf }, body: JSON.stringify(body) });
      const json = (await res.json()) as { error: { code: string } };
      expect({ label, status: res.status }).toEqual({ label, status: 400 });
      expect(['invalid_field', 'stale']).toContain(json.error.code);
    }
    storedNothing();
  });

  it.each(POSTS)('%s: wrong method, media type, JSON, size → 405/415/400/413', async (path) => {
    const { f, csrf } = await csrfSession();
    const url = `${base()}/mpin${path}`;
    const h = { 'x-mpin-csrf': csrf };
    await expectError(await f(url, { method: 'GET' }), 405, 'method_not_allowed');
    await expectError(await f(url, { method: 'PUT', headers: h, body: '{}' }), 405, 'method_not_allowed');
    await expectError(await f(url, { method: 'POST', headers: { ...h, 'content-type': 'text/plain' }, body: '{}' }), 415, 'unsupported_media_type');
    await expectError(await f(url, { method: 'POST', headers: { ...h, 'content-type': 'application/json' }, body: '{"identity":' }), 400, 'bad_json');
    await expectError(await f(url, { method: 'POST', headers: { ...h, 'content-type': 'application/json' }, body: '[1,2]' }), 400, 'bad_json');
    await expectError(await f(url, { method: 'POST', headers: { ...h, 'content-type': 'application/json' }, body: '' }), 400, 'bad_json');
    await expectError(await f(url, { method: 'POST', headers: { ...h, 'content-type': 'application/json' }, body: new Uint8Array([0x7b, 0xff, 0x7d]) }), 400, 'bad_json');
    await expectError(
      await f(url, { method: 'POST', headers: { ...h, 'content-type': 'application/json' }, body: JSON.stringify({ identity: 'x'.repeat(20_000) }) }),
      413,
      'body_too_large',
    );
    storedNothing();
  });

  it.each(POSTS.filter((p) => p !== ENDPOINTS.oobAuthenticate))('%s: no or wrong CSRF token → 403', async (path) => {
    const { f, csrf } = await csrfSession();
    const url = `${base()}/mpin${path}`;
    const json = { 'content-type': 'application/json' };
    await expectError(await f(url, { method: 'POST', headers: json, body: '{}' }), 403, 'csrf');
    await expectError(await f(url, { method: 'POST', headers: { ...json, 'x-mpin-csrf': `${csrf.slice(0, -1)}${csrf.endsWith('0') ? '1' : '0'}` }, body: '{}' }), 403, 'csrf');
    // The header alone (a cross-site page cannot read our cookie to copy it) is not enough.
    await expectError(await fetch(url, { method: 'POST', headers: { ...json, 'x-mpin-csrf': csrf }, body: '{}' }), 403, 'csrf');
    storedNothing();
  });

  it.each(POSTS)('%s: a foreign Origin → 403', async (path) => {
    const { f, csrf } = await csrfSession();
    const res = await f(`${base()}/mpin${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-mpin-csrf': csrf, origin: 'https://evil.example' },
      body: '{}',
    });
    await expectError(res, 403, 'bad_origin');
    storedNothing();
  });

  it('unknown paths → 404, GET-only endpoints refuse POST, no bundle configured → 404', async () => {
    await expectError(await fetch(`${base()}/mpin/nope`), 404, 'not_found');
    await expectError(await fetch(`${base()}/mpin`), 404, 'not_found');
    await expectError(await fetch(`${base()}/mpin/session`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } }), 405, 'method_not_allowed');
    await expectError(await fetch(`${base()}/mpin/time`, { method: 'DELETE' }), 405, 'method_not_allowed');
    await expectError(await fetch(`${base()}/mpin/static/mpin-web.js`), 404, 'not_found');
    storedNothing();
  });

  it('two-pass finish with an unknown challenge → 410; out-of-band poll with an unknown handle → 410', async () => {
    const { f, csrf } = await csrfSession();
    const h = { 'content-type': 'application/json', 'x-mpin-csrf': csrf };
    await expectError(await f(`${base()}/mpin/auth/finish`, { method: 'POST', headers: h, body: JSON.stringify({ challenge: '00'.repeat(16), v: POINT }) }), 410, 'unknown_challenge');
    await expectError(await f(`${base()}/mpin/oob/poll`, { method: 'POST', headers: h, body: JSON.stringify({ handle: '00'.repeat(32) }) }), 410, 'expired');
    await expectError(
      await f(`${base()}/mpin/oob/authenticate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...GOOD_PASS, accessNumber: '12345674' }) }),
      404,
      'unknown_access_number',
    );
    storedNothing();
  });
});

describe('relying-party transport, cookies and limits', () => {
  const req = (over: Partial<RpRequest>): RpRequest => ({
    method: 'GET',
    url: '/mpin/session',
    headers: { host: 'shop.example' },
    body: new Uint8Array(0),
    remoteAddress: '127.0.0.1',
    secure: false,
    ...over,
  });

  it('over HTTPS cookies are __Host-, Secure, HttpOnly, SameSite=Strict', async () => {
    const r = await fx.rp.handle(req({ secure: true, remoteAddress: '203.0.113.9' }));
    expect(r.status).toBe(200);
    const cookie = [r.headers['set-cookie'] ?? []].flat()[0] ?? '';
    expect(cookie).toMatch(/^__Host-mpin-csrf=[0-9a-f]{64}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+; Secure$/);
  });

  it('plain HTTP is refused from a non-loopback address, and from loopback unless allowed', async () => {
    const r = await fx.rp.handle(req({ remoteAddress: '203.0.113.9' }));
    expect(r.status).toBe(403);
    expect(JSON.parse(r.body)).toMatchObject({ error: { code: 'insecure_transport' } });
    const loop = await fx.rp.handle(req({ remoteAddress: '::ffff:127.0.0.1' }));
    expect(loop.status).toBe(200);
    expect([loop.headers['set-cookie'] ?? []].flat()[0]).not.toContain('Secure');
    const strict = await WebFixture.start({ rp: { allowInsecureLoopbackCookies: false }, dtaCount: 1 });
    try {
      expect((await strict.rp.handle(req({}))).status).toBe(403);
    } finally {
      await strict.close();
    }
  });

  it('rate limits per identity and per address answer 429 with Retry-After', async () => {
    const limited = await WebFixture.start({ rp: { rateLimits: { perIdentity: { burst: 2, perMinute: 1 }, perAddress: { burst: 6, perMinute: 1 } } }, dtaCount: 1 });
    try {
      for (const id of ['a@x', 'b@x', 'c@x', 'd@x', 'e@x']) await limited.rp.adoptRegistration(id);
      const f = jarFetch();
      const csrf = ((await (await f(`${limited.url}/mpin/session`, {})).json()) as { csrf: string }).csrf;
      const post = (identity: string): Promise<Response> =>
        f(`${limited.url}/mpin/auth/start`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-mpin-csrf': csrf },
          body: JSON.stringify({ identity, u: POINT, ut: POINT }),
        });
      expect((await post('a@x')).status).toBe(200);
      expect((await post('a@x')).status).toBe(200);
      const third = await post('a@x');
      expect(third.status).toBe(429);
      expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(((await third.json()) as { error: { code: string } }).error.code).toBe('rate_limited');
      expect((await post('b@x')).status).toBe(200);
      expect((await post('c@x')).status).toBe(200);
      expect((await post('d@x')).status).toBe(200);
      expect((await post('e@x')).status).toBe(429); // the address bucket (6) is empty now
    } finally {
      await limited.close();
    }
  });

  it('the per-address budget counts an IPv6 source by its /64: rotating addresses inside it does not refill it', async () => {
    const limited = await WebFixture.start({ rp: { rateLimits: { perAddress: { burst: 3, perMinute: 1 } } }, dtaCount: 1 });
    try {
      const from = (remoteAddress: string): Promise<{ status: number }> =>
        limited.rp.handle({
          method: 'POST',
          url: '/mpin/auth/start',
          headers: { host: 'site.example', origin: 'https://site.example', 'content-type': 'application/json' },
          body: new TextEncoder().encode('{}'),
          remoteAddress,
          secure: true,
        });
      // No CSRF token: each request that passes the budget is refused after it (403), not before.
      for (const a of ['2001:db8:1:2::1', '2001:db8:1:2::2', '2001:db8:1:2:ffff::3']) expect((await from(a)).status).toBe(403);
      expect((await from('2001:db8:1:2::4')).status).toBe(429);
      expect((await from('2001:db8:1:3::1')).status).toBe(403); // the next /64 has its own budget
    } finally {
      await limited.close();
    }
  });
});
