/**
 * Issue 13 §2 (web rows): the relying party's state lives in the store, so two relying-party
 * instances on one store (two processes of one deployment: separate SQLite connections to one
 * file, separate Redis clients) share registrations, sessions, two-pass challenges, access
 * numbers, failure counters and rate limits. Run against memory, SQLite and Redis (the store
 * engineer's describeEachBackend; Redis skipped loudly without a redis-server binary).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DemoSite } from '../../demo/web/site.ts';
import { login } from '../../src/cli/identity-login.ts';
import type { KeyValueStore } from '../../src/store/index.ts';
import { MpinWebClient } from '../../src/web/browser/client.ts';
import { MemoryStore } from '../../src/web/browser/store.ts';
import { RelyingParty } from '../../src/web/server/relying-party.ts';
import { describeEachBackend } from '../store/each-backend.ts';
import { jarFetch, WebFixture } from './helpers.ts';

let fx: WebFixture; // DTAs and clock
let dir: string;
beforeAll(async () => {
  fx = await WebFixture.start({ dtaCount: 1 });
  dir = await mkdtemp(join(tmpdir(), 'milagro-web-state-'));
});
afterAll(async () => {
  await fx.close();
  await rm(dir, { recursive: true, force: true });
});

describeEachBackend('relying-party state shared by two instances', (backend) => {
  const stores: KeyValueStore[] = [];
  const closers: (() => Promise<void>)[] = [];
  let one: { rp: RelyingParty; url: string };
  let two: { rp: RelyingParty; url: string };

  async function instance(): Promise<{ rp: RelyingParty; url: string }> {
    const store = await backend().open();
    stores.push(store);
    const rp = await RelyingParty.create({
      dtas: fx.dtaUrls,
      enrolmentKey: fx.key,
      clock: fx.clock.read,
      allowInsecureLoopbackCookies: true,
      store,
      authorizeRegistration: () => true,
      maxFailures: 2,
      backoff: { baseMs: 0 },
      rateLimits: { perIdentity: { burst: 12, perMinute: 1 } },
    });
    const site = new DemoSite({ rp });
    const url = await site.listen(0);
    closers.push(async () => {
      await site.close();
      await rp.close();
    });
    return { rp, url };
  }

  beforeAll(async () => {
    one = await instance();
    two = await instance();
  });
  afterAll(async () => {
    for (const c of closers) await c();
    for (const s of stores) await s.close();
  });

  /** A browser: one token store and one cookie jar, pointed at either instance. */
  function browserAt(base: string, keys: MemoryStore, f: ReturnType<typeof jarFetch>): MpinWebClient {
    return new MpinWebClient({ store: keys, baseUrl: base, fetch: f, clock: fx.clock.read });
  }

  it('registration, session, challenge and lockout made on one instance hold on the other', async () => {
    const id = `pat-${backend().name}@example.org`;
    const keys = new MemoryStore();
    const f = jarFetch();
    expect(await browserAt(one.url, keys, f).register(id, '1234')).toBe('registered');
    expect((await two.rp.registration(id))?.mpinId).toBe((await one.rp.registration(id))?.mpinId);
    // Signed in through the second instance; the first sees the session (same cookie jar).
    expect((await browserAt(two.url, keys, f).authenticate(id, '1234')).kind).toBe('ok');
    expect(await browserAt(one.url, keys, f).session()).toEqual({ signedIn: true, identity: id });
    // Failures counted on either instance lock the identity on both.
    expect((await browserAt(one.url, keys, f).authenticate(id, '0000')).kind).toBe('wrong-pin');
    expect(await browserAt(two.url, keys, f).authenticate(id, '0001')).toEqual({ kind: 'locked' });
    expect(await browserAt(one.url, keys, f).authenticate(id, '1234')).toEqual({ kind: 'locked' });
    await two.rp.unlock(id);
    expect((await browserAt(one.url, keys, f).authenticate(id, '1234')).kind).toBe('ok');
  });

  it('a two-pass challenge from one instance finishes on the other, once', async () => {
    const id = `quin-${backend().name}@example.org`;
    const keys = new MemoryStore();
    const f = jarFetch();
    await browserAt(one.url, keys, f).register(id, '4321');
    // Route /auth/start to instance one and everything else to instance two.
    const split = Object.assign(
      (input: string, init: RequestInit): Promise<Response> => f(input.replace(two.url, input.includes('/auth/start') ? one.url : two.url), init),
      { jar: f.jar },
    );
    const before = one.rp.stats().challenges;
    expect((await browserAt(two.url, keys, split).authenticate(id, '4321', { mode: 'two-pass' })).kind).toBe('ok');
    expect(one.rp.stats().challenges).toBe(before + 1);
  });

  it('an access number shown by one instance is signed in through the other', async () => {
    const id = `ray-${backend().name}@example.org`;
    const ks = join(dir, `${backend().name}-ray.json`);
    await fx.keystore(id, '2580', ks); // adopted by the fixture's own relying party…
    await one.rp.adoptRegistration(id); // …and by this deployment
    const f = jarFetch();
    const browser = browserAt(one.url, new MemoryStore(), f);
    const a = await browser.startAccessNumber();
    process.env['MILAGRO_PIN'] = '2580';
    try {
      expect(await login(['--access-number', a.accessNumber, '--site', two.url, '--keystore', ks])).toBe(0);
    } finally {
      delete process.env['MILAGRO_PIN'];
    }
    expect(await browser.pollAccessNumber(a.handle)).toMatchObject({ status: 'signed-in', identity: id });
  });

  it('rate limits count requests to both instances', async () => {
    const id = `sam-${backend().name}@example.org`;
    await one.rp.adoptRegistration(id);
    const f = jarFetch();
    const statuses: number[] = [];
    // /permit counts against the identity's limit (12 per window here), alternating instances.
    for (let i = 0; i < 14; i++) {
      const base = i % 2 === 0 ? one.url : two.url;
      const csrf = ((await (await f(`${base}/mpin/session`, {})).json()) as { csrf: string }).csrf;
      const r = await f(`${base}/mpin/permit`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-mpin-csrf': csrf }, body: JSON.stringify({ identity: id }) });
      statuses.push(r.status);
    }
    expect(statuses).toEqual([...Array(12).fill(200), 429, 429]);
  });
});
