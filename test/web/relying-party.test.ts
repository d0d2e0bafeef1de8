/**
 * The M-Pin web protocol end to end in Node: the browser client (same module as in the bundle,
 * with an in-memory store and a cookie-jar fetch) against the relying party and three DTAs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes } from '../../src/codec/bytes.ts';
import * as mpin from '../../src/crypto/mpin.ts';
import { dayOf } from '../../src/crypto/mpin.ts';
import { systemRandom } from '../../src/providers.ts';
import { MpinWebClient } from '../../src/web/browser/client.ts';
import { MemoryStore } from '../../src/web/browser/store.ts';
import { jarFetch, WebFixture } from './helpers.ts';

let fx: WebFixture;
beforeAll(async () => {
  // The classic count-and-lock behaviour; back-off and the per-source throttle: lockout.test.ts.
  fx = await WebFixture.start({ rp: { maxFailures: 3, backoff: { baseMs: 0 } } });
});
afterAll(async () => {
  await fx.close();
});

function newClient(): { client: MpinWebClient; fetch: ReturnType<typeof jarFetch> } {
  const f = jarFetch();
  return { client: new MpinWebClient({ store: new MemoryStore(), baseUrl: fx.url, fetch: f, clock: fx.clock.read }), fetch: f };
}

/** Today's recombined permit, fetched through the relay like the browser does. */
async function fetchPermit(identity: string): Promise<Uint8Array> {
  const f = jarFetch();
  const s = (await (await f(`${fx.url}/mpin/session`, {})).json()) as { csrf: string };
  const r = (await (
    await f(`${fx.url}/mpin/permit`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-mpin-csrf': s.csrf }, body: JSON.stringify({ identity }) })
  ).json()) as { shares: { share: string }[] };
  return r.shares.map((x) => hexToBytes(x.share)).reduce((a, b) => mpin.recombineG1(a, b));
}

describe('spec §5.4/§5.5/§5.9 M-Pin web sign-in', () => {
  it('registers through the relay, then signs in two-pass and one-pass, signs out', async () => {
    const { client } = newClient();
    await client.register('alice@example.org', '1234');
    const stored = await client.store.get('alice@example.org');
    expect(stored?.token).toMatch(/^04[0-9a-f]{128}$/);
    expect(await client.authenticate('alice@example.org', '1234', { mode: 'two-pass' })).toMatchObject({ kind: 'ok', identity: 'alice@example.org' });
    expect(await client.session()).toEqual({ signedIn: true, identity: 'alice@example.org' });
    await client.signOut();
    expect((await client.session()).signedIn).toBe(false);
    expect((await client.authenticate('alice@example.org', '1234', { mode: 'one-pass' })).kind).toBe('ok');
    expect(await fx.rp.sessionOf({ headers: {}, secure: false })).toBeUndefined();
  });

  it('spec §5.7: a wrong PIN reports attempts left, the third failure locks, even the right PIN is then refused', async () => {
    const { client } = newClient();
    await client.register('bob@example.org', '4321');
    expect(await client.authenticate('bob@example.org', '4322', { mode: 'two-pass' })).toEqual({ kind: 'wrong-pin', attemptsLeft: 2 });
    expect(await client.authenticate('bob@example.org', '0000', { mode: 'one-pass' })).toEqual({ kind: 'wrong-pin', attemptsLeft: 1 });
    expect(await client.authenticate('bob@example.org', '9999')).toEqual({ kind: 'locked' });
    expect(await client.authenticate('bob@example.org', '4321')).toEqual({ kind: 'locked' });
  });

  it('a pass with a forged U (PIN error unfindable) still counts towards the lockout', async () => {
    const { client } = newClient();
    await client.register('ivan@example.org', '1357');
    const rec = await client.store.get('ivan@example.org');
    const token = hexToBytes(rec?.token ?? '');
    const mpinId = new TextEncoder().encode(rec?.mpinId ?? '');
    const permit = await fetchPermit('ivan@example.org');
    const forged = async (pin: number): Promise<Awaited<ReturnType<typeof fx.rp.verifier.verifyPass>>> => {
      const c = mpin.clientPass({
        identity: mpinId,
        pin,
        token,
        timePermit: { permit, date: dayOf(fx.clock.now) },
        rng: systemRandom,
        timeValue: Math.floor(fx.clock.now / 1000),
      });
      // UT and V are honest; U is some other valid point, so F is wrong and δ cannot be found.
      return await fx.rp.verifier.verifyPass({ hashId: c.hashId, u: bytesToHex(c.UT ?? c.U), ut: bytesToHex(c.UT ?? c.U), v: bytesToHex(c.V), timeValue: c.timeValue });
    };
    expect(await forged(1000)).toMatchObject({ ok: false, code: 'bad_credentials', attemptsLeft: 2 });
    expect(await forged(1001)).toMatchObject({ ok: false, code: 'bad_credentials', attemptsLeft: 1 });
    expect(await forged(1002)).toEqual({ ok: false, code: 'locked' });
    // Locked: even the right PIN (which would verify: U is not used by the check itself) is refused.
    expect(await forged(1357)).toEqual({ ok: false, code: 'locked' });
    await fx.rp.unlock('ivan@example.org');
    expect(await forged(1357)).toMatchObject({ ok: true });
  });

  it('a success resets the failure count', async () => {
    const { client } = newClient();
    await client.register('carol@example.org', '1111');
    expect(await client.authenticate('carol@example.org', '1112')).toEqual({ kind: 'wrong-pin', attemptsLeft: 2 });
    expect((await client.authenticate('carol@example.org', '1111')).kind).toBe('ok');
    expect(await client.authenticate('carol@example.org', '1110')).toEqual({ kind: 'wrong-pin', attemptsLeft: 2 });
  });

  it('password-form token: redeemable once, only for its identity', async () => {
    const { client } = newClient();
    await client.register('erin@example.org', '7777');
    const r = await client.authenticate('erin@example.org', '7777', { purpose: 'token' });
    expect(r.kind).toBe('ok');
    const token = r.kind === 'ok' ? r.token : '';
    expect(token).toMatch(/^mpin-token:[A-Za-z0-9_-]{43}$/);
    expect((await client.session()).signedIn).toBe(false);
    expect(await fx.rp.redeemToken('mallory@example.org', token)).toBe(false);
    const r2 = await client.authenticate('erin@example.org', '7777', { purpose: 'token' });
    const token2 = r2.kind === 'ok' ? r2.token : '';
    expect(await fx.rp.redeemToken('erin@example.org', token2)).toBe(true);
    expect(await fx.rp.redeemToken('erin@example.org', token2)).toBe(false);
  });

  it('revocation: the next day there is no permit, and yesterday\'s permit does not verify', async () => {
    const { client } = newClient();
    await client.register('frank@example.org', '8888');
    // A pass made today with today's permit, to be replayed as "yesterday's material" below.
    const day = dayOf(fx.clock.now);
    const permit = await fetchPermit('frank@example.org');
    const rec = await client.store.get('frank@example.org');
    const token = hexToBytes(rec?.token ?? '');
    await fx.revoke('frank@example.org');
    fx.clock.advanceDays(1);
    try {
      expect((await client.authenticate('frank@example.org', '8888')).kind).toBe('revoked');
      const c = mpin.clientPass({
        identity: new TextEncoder().encode(rec?.mpinId ?? ''),
        pin: 8888,
        token,
        timePermit: { permit, date: day },
        rng: systemRandom,
        timeValue: Math.floor(fx.clock.now / 1000),
      });
      const v = await fx.rp.verifier.verifyPass({ hashId: c.hashId, u: bytesToHex(c.U), ut: bytesToHex(c.UT ?? new Uint8Array()), v: bytesToHex(c.V), timeValue: c.timeValue });
      expect(v).toMatchObject({ ok: false, code: 'bad_credentials' });
    } finally {
      fx.clock.advanceDays(-1);
    }
  });
});
