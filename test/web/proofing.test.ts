/**
 * Issue 13 §3 identity proofing, and the two attacks of issue 13's preamble:
 *
 * - restart takeover: the relying party forgot registrations on restart, so an attacker could
 *   register alice@example.org again, receive her client secret and sign in as her. Now the
 *   registration lives in the store (SQLite here), and registering needs the verification link
 *   sent to alice (or an explicit authorizeRegistration);
 * - first-come claim: a never-registered identity went to whoever asked first;
 * - re-registration through a fresh link replaces the old registration: the old token stops
 *   working and the DTAs stop issuing time permits for it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DemoOutbox } from '../../demo/web/outbox.ts';
import { DemoSite } from '../../demo/web/site.ts';
import { bytesToHex } from '../../src/codec/bytes.ts';
import { signRequest } from '../../src/identity/auth.ts';
import { callDta } from '../../src/identity/client/dta-client.ts';
import { systemRandom } from '../../src/providers.ts';
import { type KeyValueStore, openStore } from '../../src/store/index.ts';
import { MpinWebClient } from '../../src/web/browser/client.ts';
import { MemoryStore } from '../../src/web/browser/store.ts';
import { ACTIVATE_PARAM } from '../../src/web/protocol.ts';
import { RelyingParty } from '../../src/web/server/relying-party.ts';
import { crypto, DAY_MS, jarFetch, WebFixture } from './helpers.ts';

/** A relying party with the demo outbox on a given store, served by its own demo site. */
interface Instance {
  readonly rp: RelyingParty;
  readonly outbox: DemoOutbox;
  readonly url: string;
  close(): Promise<void>;
}

let fx: WebFixture; // the DTAs (and a clock); its own relying party is not used here
let dir: string;
beforeAll(async () => {
  fx = await WebFixture.start({ dtaCount: 2 });
  dir = await mkdtemp(join(tmpdir(), 'milagro-web-proofing-'));
});
afterAll(async () => {
  await fx.close();
  await rm(dir, { recursive: true, force: true });
});

async function instance(store: KeyValueStore): Promise<Instance> {
  const outbox = new DemoOutbox();
  const rp = await RelyingParty.create({ dtas: fx.dtaUrls, enrolmentKey: fx.key, clock: fx.clock.read, allowInsecureLoopbackCookies: true, store, verification: outbox });
  const site = new DemoSite({ rp, outbox });
  const url = await site.listen(0);
  return {
    rp,
    outbox,
    url,
    close: async () => {
      await site.close();
      await rp.close();
    },
  };
}

function browser(at: Instance, store = new MemoryStore()): MpinWebClient {
  return new MpinWebClient({ store, baseUrl: at.url, fetch: jarFetch(), clock: fx.clock.read });
}

/** The code of the newest link the outbox holds for `identity`. */
function codeFor(at: Instance, identity: string): string {
  const link = at.outbox.latestLink(identity, 'register');
  if (link === undefined) throw new Error(`no message to ${identity}`);
  return new URL(link).searchParams.get(ACTIVATE_PARAM) ?? '';
}

async function registerWithLink(at: Instance, c: MpinWebClient, identity: string, pin: string): Promise<void> {
  expect(await c.register(identity, pin)).toBe('verification-sent');
  expect(await c.register(identity, pin, codeFor(at, identity))).toBe('registered');
}

describe('issue 13 §3: identity proofing', () => {
  it('secure by default: no verification and no authorizeRegistration → nothing registers', async () => {
    const rp = await RelyingParty.create({ dtas: fx.dtaUrls, enrolmentKey: fx.key, clock: fx.clock.read, allowInsecureLoopbackCookies: true });
    const site = new DemoSite({ rp });
    const url = await site.listen(0);
    try {
      const c = new MpinWebClient({ store: new MemoryStore(), baseUrl: url, fetch: jarFetch(), clock: fx.clock.read });
      await expect(c.register('nobody@example.org', '1234')).rejects.toMatchObject({ code: 'registration_refused', status: 403 });
      expect(await rp.registration('nobody@example.org')).toBeUndefined();
    } finally {
      await site.close();
      await rp.close();
    }
  });

  it('restart takeover is refused: after a restart on the same SQLite file, an attacker cannot register alice again', async () => {
    const path = join(dir, 'rp.db');
    const store1 = await openStore(`sqlite:${path}`);
    const a = await instance(store1);
    const aliceKeys = new MemoryStore();
    try {
      await registerWithLink(a, browser(a, aliceKeys), 'alice@example.org', '1234');
      expect((await browser(a, aliceKeys).authenticate('alice@example.org', '1234')).kind).toBe('ok');
    } finally {
      await a.close();
      await store1.close();
    }
    // The restarted relying party: a new process would open the same file.
    const store2 = await openStore(`sqlite:${path}`);
    const b = await instance(store2);
    try {
      const reg = await b.rp.registration('alice@example.org');
      expect(reg?.mpinId).toMatch(/"userID":"alice@example.org"/);
      const attacker = browser(b);
      // The attacker asks: the link goes to alice's mailbox, the attacker gets nothing.
      expect(await attacker.register('alice@example.org', '6666')).toBe('verification-sent');
      expect(await attacker.store.get('alice@example.org')).toBeUndefined();
      await expect(attacker.register('alice@example.org', '6666', '00'.repeat(32))).rejects.toMatchObject({ code: 'bad_activation', status: 403 });
      expect((await b.rp.registration('alice@example.org'))?.mpinId).toBe(reg?.mpinId);
      // Alice is still alice, with her token from before the restart.
      expect((await browser(b, aliceKeys).authenticate('alice@example.org', '1234')).kind).toBe('ok');
    } finally {
      await b.close();
      await store2.close();
    }
  });

  it('first-come claim is refused: a never-registered identity is not given to whoever asks first', async () => {
    const store = await openStore('memory:', { clock: fx.clock.read });
    const at = await instance(store);
    try {
      const attacker = browser(at);
      expect(await attacker.register('bob@example.org', '1111')).toBe('verification-sent');
      expect(await at.rp.registration('bob@example.org')).toBeUndefined();
      expect(at.rp.stats().registered).toBe(0);
      // The message went to bob, with a link to the configured page (not to a Host the caller chose).
      expect(at.outbox.latestLink('bob@example.org')).toMatch(new RegExp(`^${at.url}/signin\\?mpin-activate=[0-9a-f]{64}&mpin-identity=bob%40example.org$`));
      // A code is for one identity and one use.
      const code = codeFor(at, 'bob@example.org');
      await expect(attacker.register('carol@example.org', '1111', code)).rejects.toMatchObject({ code: 'bad_activation' });
      await expect(attacker.register('bob@example.org', '1111', code)).rejects.toMatchObject({ code: 'bad_activation' });
      // Bob, with a fresh link, registers.
      const bob = browser(at);
      await registerWithLink(at, bob, 'bob@example.org', '2222');
      expect((await bob.authenticate('bob@example.org', '2222')).kind).toBe('ok');
    } finally {
      await at.close();
      await store.close();
    }
  });

  it('a link expires, and messages per identity are bounded', async () => {
    const store = await openStore('memory:', { clock: fx.clock.read });
    const at = await instance(store);
    try {
      const c = browser(at);
      expect(await c.register('dan@example.org', '1234')).toBe('verification-sent');
      const code = codeFor(at, 'dan@example.org');
      fx.clock.now += 3_600_001;
      await expect(c.register('dan@example.org', '1234', code)).rejects.toMatchObject({ code: 'bad_activation' });
      expect(await c.register('dan@example.org', '1234')).toBe('verification-sent');
      expect(await c.register('dan@example.org', '1234')).toBe('verification-sent');
      expect(await c.register('dan@example.org', '1234')).toBe('verification-sent');
      await expect(c.register('dan@example.org', '1234')).rejects.toMatchObject({ code: 'rate_limited', status: 429 });
    } finally {
      fx.clock.now -= 3_600_001;
      await at.close();
      await store.close();
    }
  });

  it('re-registration through a fresh link replaces the old token: it no longer signs in, and the DTAs revoke it', async () => {
    const store = await openStore('memory:', { clock: fx.clock.read });
    const at = await instance(store);
    try {
      const oldBrowser = browser(at);
      await registerWithLink(at, oldBrowser, 'erin@example.org', '1234');
      const oldMpinId = (await oldBrowser.store.get('erin@example.org'))?.mpinId ?? '';
      const newBrowser = browser(at);
      await registerWithLink(at, newBrowser, 'erin@example.org', '4321');
      const newMpinId = (await newBrowser.store.get('erin@example.org'))?.mpinId ?? '';
      expect(newMpinId).not.toBe(oldMpinId);
      expect((await newBrowser.authenticate('erin@example.org', '4321')).kind).toBe('ok');
      expect(await oldBrowser.authenticate('erin@example.org', '1234')).toEqual({ kind: 'replaced' });
      // No time permit for the old registration from any DTA any more.
      const oldHash = bytesToHex(crypto.hashId(new TextEncoder().encode(oldMpinId)));
      const day = Math.floor(fx.clock.now / DAY_MS);
      const req = signRequest(fx.key, { op: 'time-permits', hashId: oldHash, fromDay: day, toDay: day }, { clock: fx.clock.read, random: systemRandom });
      for (const dta of fx.dtaUrls) await expect(callDta(dta, '/v1/time-permits', req)).rejects.toMatchObject({ code: 'revoked' });
    } finally {
      await at.close();
      await store.close();
    }
  });

  it('authorizeRegistration decides at once, and sees whether the identity is registered already', async () => {
    const seen: { identity: string; registered: boolean }[] = [];
    const rp = await RelyingParty.create({
      dtas: fx.dtaUrls,
      enrolmentKey: fx.key,
      clock: fx.clock.read,
      allowInsecureLoopbackCookies: true,
      authorizeRegistration: (identity, _req, ctx) => {
        seen.push({ identity, registered: ctx.registered });
        return identity.endsWith('@staff.example');
      },
    });
    const site = new DemoSite({ rp });
    const url = await site.listen(0);
    try {
      const c = new MpinWebClient({ store: new MemoryStore(), baseUrl: url, fetch: jarFetch(), clock: fx.clock.read });
      expect(await c.register('fay@staff.example', '1234')).toBe('registered');
      expect(await c.register('fay@staff.example', '1235')).toBe('registered');
      await expect(c.register('guest@example.org', '1234')).rejects.toMatchObject({ code: 'registration_refused' });
      expect(seen).toEqual([
        { identity: 'fay@staff.example', registered: false },
        { identity: 'fay@staff.example', registered: true },
        { identity: 'guest@example.org', registered: false },
      ]);
    } finally {
      await site.close();
      await rp.close();
    }
  });
});
