/**
 * Issue 13 §3: lockout that is not a denial-of-service tool — per-identity exponential back-off
 * after wrong PINs (1 s, 2 s, 4 s, …), a hard lock only after `maxFailures`, a per-source budget of
 * failures so one address cannot lock many identities, and self-service unlock through the
 * verification link. Time is the fixture's clock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesToHex } from '../../src/codec/bytes.ts';
import { bncx, encodeG1 } from '../../src/crypto/bncx/index.ts';
import { MpinWebClient } from '../../src/web/browser/client.ts';
import { MemoryStore } from '../../src/web/browser/store.ts';
import { UNLOCK_PARAM } from '../../src/web/protocol.ts';
import type { RpRequest } from '../../src/web/server/relying-party.ts';
import { crypto, jarFetch, WebFixture } from './helpers.ts';

let fx: WebFixture;
beforeAll(async () => {
  // Registration at once (authorizeRegistration) so the tests can focus on sign-in; the outbox
  // carries the unlock links.
  fx = await WebFixture.start({ outbox: true, rp: { maxFailures: 4, sourceFailures: { max: 10, windowMs: 3_600_000 }, authorizeRegistration: () => true } });
});
afterAll(async () => {
  await fx.close();
});

async function registered(identity: string, pin: string): Promise<MpinWebClient> {
  const c = new MpinWebClient({ store: new MemoryStore(), baseUrl: fx.url, fetch: jarFetch(), clock: fx.clock.read });
  expect(await c.register(identity, pin)).toBe('registered');
  return c;
}

const CSRF = 'ab'.repeat(32);
const POINT = bytesToHex(encodeG1(bncx.G1.BASE));
let junk = 100;

/** A junk one-pass sign-in (valid points, wrong proof) from a chosen address, straight to the relying party. */
async function junkPass(identity: string, from: string): Promise<{ status: number; code: string | undefined }> {
  const body = { identity, u: bytesToHex(encodeG1(bncx.G1.BASE.multiply(7n))), ut: POINT, v: bytesToHex(encodeG1(bncx.G1.BASE.multiply(BigInt(junk++)))), timeValue: Math.floor(fx.clock.now / 1000) };
  const req: RpRequest = {
    method: 'POST',
    url: '/mpin/auth/pass',
    headers: { 'content-type': 'application/json', 'x-mpin-csrf': CSRF, cookie: `__Host-mpin-csrf=${CSRF}`, host: 'shop.example' },
    body: new TextEncoder().encode(JSON.stringify(body)),
    remoteAddress: from,
    secure: true,
  };
  const r = await fx.rp.handle(req);
  return { status: r.status, code: (JSON.parse(r.body) as { error?: { code: string } }).error?.code };
}

describe('issue 13 §3: lockout that resists abuse', () => {
  it('back-off doubles from 1 s after each wrong PIN; a success clears it', async () => {
    const c = await registered('kim@example.org', '1234');
    expect(await c.authenticate('kim@example.org', '0000')).toEqual({ kind: 'wrong-pin', attemptsLeft: 3 });
    // Even the right PIN waits: the back-off is per identity, not per guess.
    expect(await c.authenticate('kim@example.org', '1234')).toEqual({ kind: 'wait', retryAfter: 1 });
    fx.clock.now += 1000;
    expect(await c.authenticate('kim@example.org', '0001')).toEqual({ kind: 'wrong-pin', attemptsLeft: 2 });
    fx.clock.now += 1000;
    expect(await c.authenticate('kim@example.org', '1234')).toEqual({ kind: 'wait', retryAfter: 1 });
    fx.clock.now += 1000;
    expect((await c.authenticate('kim@example.org', '1234')).kind).toBe('ok');
    expect(await c.authenticate('kim@example.org', '0002')).toEqual({ kind: 'wrong-pin', attemptsLeft: 3 });
    fx.clock.now += 1000;
  });

  it('the hard lock comes after maxFailures; the unlock link sent to the identity clears it', async () => {
    const c = await registered('lee@example.org', '1234');
    for (let i = 0; i < 3; i++) {
      expect((await c.authenticate('lee@example.org', '0000')).kind).toBe('wrong-pin');
      fx.clock.now += 60_000;
    }
    expect(await c.authenticate('lee@example.org', '0000')).toEqual({ kind: 'locked' });
    fx.clock.now += 3_600_000;
    expect(await c.authenticate('lee@example.org', '1234')).toEqual({ kind: 'locked' });
    // Self-service: the link goes to lee; whoever opens it unlocks.
    await c.requestUnlock('lee@example.org');
    const link = fx.outbox?.latestLink('lee@example.org', 'unlock') ?? '';
    const code = new URL(link).searchParams.get(UNLOCK_PARAM) ?? '';
    await expect(c.unlock('lee@example.org', '00'.repeat(32))).rejects.toMatchObject({ code: 'bad_activation' });
    await c.unlock('lee@example.org', code);
    expect((await c.authenticate('lee@example.org', '1234')).kind).toBe('ok');
    await expect(c.unlock('lee@example.org', code)).rejects.toMatchObject({ code: 'bad_activation' });
  });

  it('asking for an unlock link reveals nothing about the identity', async () => {
    const c = await registered('mia@example.org', '1234');
    const before = fx.outbox?.messages.length ?? 0;
    await c.requestUnlock('nobody-here@example.org');
    expect(fx.outbox?.messages.length).toBe(before);
  });

  it('one address cannot lock many identities: after its failure budget it is refused before any check', async () => {
    for (let i = 0; i < 12; i++) await fx.rp.adoptRegistration(`target${i}@example.org`);
    const answers = [];
    for (let i = 0; i < 12; i++) answers.push(await junkPass(`target${i}@example.org`, '203.0.113.7'));
    expect(answers.slice(0, 10).map((a) => a.status)).toEqual(Array(10).fill(401));
    expect(answers.slice(10)).toEqual([
      { status: 429, code: 'throttled' },
      { status: 429, code: 'throttled' },
    ]);
    // Nobody else pays: another address, and the identities themselves, still get their checks.
    expect(await junkPass('target11@example.org', '203.0.113.8')).toEqual({ status: 401, code: 'bad_credentials' });
    for (let i = 0; i < 12; i++) {
      const hid = bytesToHex(crypto.hashId(new TextEncoder().encode((await fx.rp.registration(`target${i}@example.org`))?.mpinId ?? '')));
      expect(await fx.rp.verifier.failures(hid)).toBeLessThanOrEqual(1);
      expect(await fx.rp.verifier.isLocked(hid)).toBe(false);
    }
  });

  it('an IPv6 attacker cannot rotate addresses inside its /64', async () => {
    for (let i = 0; i < 11; i++) await fx.rp.adoptRegistration(`six${i}@example.org`);
    const answers = [];
    for (let i = 0; i < 11; i++) answers.push((await junkPass(`six${i}@example.org`, `2001:db8:1:2::${i + 1}`)).status);
    expect(answers).toEqual([...Array(10).fill(401), 429]);
    expect((await junkPass('six10@example.org', '2001:db8:1:3::1')).status).toBe(401);
  });

  it('concurrent guesses for one identity: one is checked, the rest wait', async () => {
    await fx.rp.adoptRegistration('ned@example.org');
    const answers = await Promise.all(['198.51.100.1', '198.51.100.2', '198.51.100.3', '198.51.100.4'].map((a) => junkPass('ned@example.org', a)));
    expect(answers.filter((a) => a.status === 401)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 429 && a.code === 'backoff')).toHaveLength(3);
  });
});
