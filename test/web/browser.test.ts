/**
 * Issue 8 browser tests: headless Debian Chromium driven by playwright-core against the demo site,
 * the relying party and three DTAs on loopback. One screenshot per PIN-pad state goes to
 * test-artifacts/web/ (gitignored) for reviewers.
 *
 * Chromium: CHROMIUM_PATH, else /usr/bin/chromium, else the one inside the @sparticuz/chromium
 * devDependency (test/helpers/chromium.ts), so this runs on a fresh machine with no apt step.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Locator, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { login } from '../../src/cli/identity-login.ts';
import { buildWebAssets } from '../../scripts/web-bundle.ts';
import { WebFixture } from './helpers.ts';
import { findChromium } from '../helpers/chromium.ts';

const ARTIFACTS = join(process.cwd(), 'test-artifacts', 'web');
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let fx: WebFixture;
let ctx: BrowserContext;
let page: Page;
let profile: string;
let work: string;
const pageErrors: string[] = [];

afterEach(() => {
  // An uncaught exception in the page is a failure even when the UI looked right.
  expect(pageErrors).toEqual([]);
});

beforeAll(async () => {
  const browser = await findChromium();
  process.stderr.write(`[browser tests] Chromium: ${browser.source}\n`);
  await mkdir(ARTIFACTS, { recursive: true });
  // Identity proofing through the demo outbox (issue 13 §3); the classic 3-strikes lock without
  // back-off keeps the UI walk short (back-off and throttling: lockout.test.ts).
  fx = await WebFixture.start({
    outbox: true,
    assets: await buildWebAssets(),
    rp: { maxFailures: 3, backoff: { baseMs: 0 }, rateLimits: { perAddress: { burst: 1e6, perMinute: 1e6 } } },
  });
  profile = await mkdtemp(join(tmpdir(), 'milagro-web-chromium-'));
  work = await mkdtemp(join(tmpdir(), 'milagro-web-work-'));
  ctx = await chromium.launchPersistentContext(profile, { executablePath: browser.executablePath, args: [...ARGS, ...browser.args], headless: true, viewport: { width: 900, height: 900 } });
  page = ctx.pages()[0] ?? (await ctx.newPage());
  page.on('pageerror', (e) => pageErrors.push(e.message));
}, 120_000);

afterAll(async () => {
  await ctx?.close();
  await fx?.close();
  if (profile !== undefined) await rm(profile, { recursive: true, force: true });
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

const pad = (): Locator => page.locator('mpin-login');

async function state(kind: string, timeout = 30_000): Promise<void> {
  await page.locator(`mpin-login[data-state="${kind}"]`).waitFor({ timeout });
}

async function status(): Promise<string> {
  return (await pad().locator('#status').textContent()) ?? '';
}

async function shot(name: string): Promise<void> {
  await pad().screenshot({ path: join(ARTIFACTS, `pin-pad-${name}.png`) });
}

/** Id of the focused element inside the pad's shadow root. */
async function focused(): Promise<string | undefined> {
  return pad().evaluate((el) => el.shadowRoot?.activeElement?.id ?? el.shadowRoot?.activeElement?.textContent ?? undefined);
}

async function typePin(pin: string): Promise<void> {
  // Keyboard path: the PIN field has focus after each state change.
  await page.keyboard.type(pin);
  await page.keyboard.press('Enter');
}

async function choosePin(pin: string): Promise<void> {
  await state('set-pin');
  expect(await focused()).toBe('pin');
  await pad().getByLabel('New PIN').fill(pin);
  await pad().getByLabel('Repeat the PIN').fill(pin);
  await pad().getByRole('button', { name: 'Register' }).click();
}

/** Opens the newest link of the demo outbox (its stand-in for e-mail) for `identity`. */
async function openMail(identity: string, purpose: 'register' | 'unlock'): Promise<void> {
  await page.goto(`${fx.url}/outbox`);
  await page.locator(`a.mail-link[data-identity="${identity}"][data-purpose="${purpose}"]`).first().click();
  await page.waitForURL(/\/signin$/); // the pad took the code and removed it from the address bar
}

/** Registration with the verification step: PIN → "check your e-mail" → link → PIN → signed in. */
async function register(identity: string, pin: string): Promise<void> {
  await state('register');
  await pad().getByLabel('Identity (e-mail address)').fill(identity);
  await page.keyboard.press('Enter');
  await choosePin(pin);
  await state('check-email');
  expect(await pad().locator('#check-email-identity').textContent()).toBe(identity);
  await openMail(identity, 'register');
  await choosePin(pin);
}

describe('issue 8: M-Pin in headless Chromium', () => {
  it('register, set PIN, sign out, sign in (two-pass, keyboard and on-screen keypad)', async () => {
    await page.goto(`${fx.url}/signin`);
    await state('register');
    await shot('register');
    // Accessible structure: labelled fields and a live status region.
    expect(await pad().locator('#status').getAttribute('aria-live')).toBe('polite');
    expect(await pad().locator('#status').getAttribute('role')).toBe('status');
    await pad().getByLabel('Identity (e-mail address)').fill('alice@example.org');
    await page.keyboard.press('Enter');
    await state('set-pin');
    await shot('set-pin');
    // Mismatched PINs are caught in the pad, announced, and nothing is sent.
    await pad().getByLabel('New PIN').fill('1234');
    await pad().getByLabel('Repeat the PIN').fill('1243');
    await pad().getByRole('button', { name: 'Register' }).click();
    expect(await status()).toContain('differ');
    expect(await pad().getByLabel('Repeat the PIN').getAttribute('aria-invalid')).toBe('true');
    expect(fx.rp.stats().registered).toBe(0);
    await pad().getByLabel('New PIN').fill('1234');
    await pad().getByLabel('Repeat the PIN').fill('1234');
    await pad().getByRole('button', { name: 'Register' }).click();
    // Identity proofing: nothing is registered until the link sent to alice is opened.
    await state('check-email');
    await shot('check-email');
    expect(fx.rp.stats().registered).toBe(0);
    expect(await fx.rp.registration('alice@example.org')).toBeUndefined();
    await openMail('alice@example.org', 'register');
    expect(await status()).toContain('alice@example.org is confirmed');
    await choosePin('1234');
    await state('signed-in');
    expect(await pad().locator('#signed-in-as').textContent()).toBe('alice@example.org');
    await shot('signed-in');

    // IndexedDB holds the token in clear (no PIN-derived key) and nothing else about the PIN.
    const records = await page.evaluate(
      () =>
        new Promise<unknown>((resolve, reject) => {
          const open = indexedDB.open('milagro-ts-mpin');
          open.onerror = () => reject(open.error);
          open.onsuccess = () => {
            const get = open.result.transaction('identities').objectStore('identities').getAll();
            get.onsuccess = () => resolve(get.result);
          };
        }),
    );
    expect(records).toEqual([
      { identity: 'alice@example.org', mpinId: (await fx.rp.registration('alice@example.org'))?.mpinId, token: expect.stringMatching(/^04[0-9a-f]{128}$/), registeredAt: expect.any(Number) },
    ]);

    // The session cookie is HttpOnly: the page cannot read it; the site sees it.
    expect(await page.evaluate(() => document.cookie)).toBe('');
    const cookies = await ctx.cookies(fx.url);
    const session = cookies.find((c) => c.name === 'mpin-session');
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    await page.goto(fx.url);
    expect(await page.locator('#who').textContent()).toBe('Signed in as alice@example.org.');

    await page.goto(`${fx.url}/signin`);
    await state('signed-in');
    await pad().getByRole('button', { name: 'Sign out' }).click();
    await state('sign-in');
    expect(await status()).toContain('signed out');
    expect(await focused()).toBe('pin');
    await shot('sign-in');
    // On-screen keypad: 1 2 3 5, delete, 4.
    for (const d of ['1', '2', '3', '5']) await pad().getByRole('button', { name: `digit ${d}` }).click();
    await pad().getByRole('button', { name: 'delete last digit' }).click();
    await pad().getByRole('button', { name: 'digit 4' }).click();
    await pad().getByRole('button', { name: 'Sign in' }).click();
    await state('signed-in');
    await page.goto(fx.url);
    expect(await page.locator('#who').textContent()).toBe('Signed in as alice@example.org.');
  });

  it('add an identity; wrong PIN shows attempts left; the third wrong PIN locks; the unlock link unlocks; remove it', async () => {
    await page.goto(`${fx.url}/signin?mode=one-pass`);
    await state('signed-in');
    await pad().getByRole('button', { name: 'Sign out' }).click();
    await state('sign-in');
    await pad().getByRole('button', { name: 'Add or remove identities' }).click();
    await state('manage');
    await pad().getByRole('button', { name: 'Add an identity' }).click();
    await register('bob@example.org', '4321');
    await state('signed-in');
    await pad().getByRole('button', { name: 'Sign out' }).click();
    await state('sign-in');
    await pad().getByLabel('Identity', { exact: true }).selectOption('bob@example.org');
    await pad().getByLabel('PIN', { exact: true }).focus();
    await typePin('4322');
    await state('wrong-pin');
    expect(await status()).toBe('Wrong PIN. 2 attempts left.');
    expect(await focused()).toBe('pin');
    await shot('wrong-pin');
    await typePin('0000');
    await page.locator('mpin-login #status', { hasText: '1 attempt left' }).waitFor();
    expect(await pad().locator('#attempts').textContent()).toContain('1 attempt left');
    await typePin('9999');
    await state('locked');
    expect(await status()).toContain('locked');
    await shot('locked');
    // Self-service unlock through the verification step.
    await pad().getByRole('button', { name: 'Send me an unlock link' }).click();
    await state('check-email');
    await openMail('bob@example.org', 'unlock');
    await state('sign-in');
    expect(await status()).toBe('bob@example.org is unlocked. Sign in with your PIN.');
    await pad().getByLabel('Identity', { exact: true }).selectOption('bob@example.org');
    await pad().getByLabel('PIN', { exact: true }).focus();
    await typePin('4321');
    await state('signed-in');
    await pad().getByRole('button', { name: 'Sign out' }).click();
    await state('sign-in');
    await pad().getByRole('button', { name: 'Add or remove identities' }).click();
    await state('manage');
    await pad().getByRole('button', { name: 'Remove bob@example.org' }).click();
    await page.locator('mpin-login #status', { hasText: 'bob@example.org was removed' }).waitFor();
    expect(await pad().getByRole('list', { name: 'Registered identities' }).textContent()).not.toContain('bob@example.org');
    expect(await pad().getByRole('list', { name: 'Registered identities' }).textContent()).toContain('alice@example.org');
    await shot('manage');
  });

  it('a revoked identity is refused the next day (injected server clock)', async () => {
    await page.goto(`${fx.url}/signin`);
    await state('sign-in');
    await pad().getByRole('button', { name: 'Add or remove identities' }).click();
    await state('manage');
    await pad().getByRole('button', { name: 'Add an identity' }).click();
    await register('carol@example.org', '2468');
    await state('signed-in');
    await pad().getByRole('button', { name: 'Sign out' }).click();
    await state('sign-in');
    await fx.revoke('carol@example.org');
    fx.clock.advanceDays(1);
    try {
      await page.reload();
      await state('sign-in');
      await pad().getByLabel('Identity', { exact: true }).selectOption('carol@example.org');
      await pad().getByLabel('PIN', { exact: true }).focus();
      await typePin('2468');
      await state('revoked');
      expect(await status()).toBe('carol@example.org has been revoked.');
      await shot('revoked');
      // Other identities are unaffected.
      await pad().getByRole('button', { name: 'Use another identity' }).click();
      await state('manage');
      await pad().getByRole('button', { name: 'Back to sign in' }).click();
      await state('sign-in');
      await pad().getByLabel('Identity', { exact: true }).selectOption('alice@example.org');
      await pad().getByLabel('PIN', { exact: true }).focus();
      await typePin('1234');
      await state('signed-in');
      await pad().getByRole('button', { name: 'Sign out' }).click();
      await state('sign-in');
    } finally {
      fx.clock.advanceDays(-1);
    }
  });

  it('out-of-band: the browser shows an access number, the CLI signs it in', async () => {
    const keystore = join(work, 'phone.json');
    await fx.keystore('phone@example.org', '1357', keystore);
    await page.goto(`${fx.url}/signin`);
    await state('sign-in');
    await pad().getByRole('button', { name: 'Use another device' }).click();
    await state('access-number');
    await shot('access-number');
    const shown = ((await pad().locator('#access-number').textContent()) ?? '').replace(/\s/g, '');
    expect(shown).toMatch(/^[0-9]{8}$/);
    process.env['MILAGRO_PIN'] = '1357';
    try {
      expect(await login(['--access-number', shown, '--site', fx.url, '--keystore', keystore])).toBe(0);
    } finally {
      delete process.env['MILAGRO_PIN'];
    }
    await state('signed-in');
    expect(await pad().locator('#signed-in-as').textContent()).toBe('phone@example.org');
    await page.goto(fx.url);
    expect(await page.locator('#who').textContent()).toBe('Signed in as phone@example.org.');
    await page.goto(`${fx.url}/signin`);
    await state('signed-in');
    await pad().getByRole('button', { name: 'Sign out' }).click();
    await state('sign-in');
  });

  it('password-form override: the plain form gets a PIN pad and logs in with a one-time login token', async () => {
    await page.goto(`${fx.url}/login`);
    await page.locator('mpin-login[purpose="token"]').waitFor();
    // The form's own password field is hidden; the form and its field names are unchanged.
    expect(await page.locator('#pass').getAttribute('type')).toBe('hidden');
    expect(await page.locator('label[for="pass"]').isHidden()).toBe(true);
    await page.getByLabel('User name').fill('alice@example.org');
    await page.keyboard.press('Tab');
    await state('sign-in');
    expect(await pad().locator('#identity-name').textContent()).toBe('alice@example.org');
    await page.screenshot({ path: join(ARTIFACTS, 'override-login-form.png') });
    // Submitting the site's form without the pad is refused in the page, not sent.
    await page.getByRole('button', { name: 'Log in' }).click();
    expect(await status()).toContain('PIN pad');
    const posted = page.waitForRequest((r) => r.method() === 'POST' && new URL(r.url()).pathname === '/login');
    await pad().getByLabel('PIN', { exact: true }).fill('1234');
    await page.keyboard.press('Enter');
    await page.waitForURL(`${fx.url}/`);
    expect(await page.locator('#who').textContent()).toBe('Signed in as alice@example.org.');
    // The site's unchanged form carried the one-time login token in its password field.
    const form = new URLSearchParams((await posted).postData() ?? '');
    expect(form.get('log')).toBe('alice@example.org');
    expect(form.get('pwd')).toMatch(/^mpin-token:[A-Za-z0-9_-]{43}$/);
    expect(await fx.rp.verifyLoginToken({ token: form.get('pwd') ?? '', audience: 'site' })).toEqual({ ok: false, error: 'replayed' });

    // A user not yet registered in this browser registers from the same form.
    await ctx.clearCookies();
    await page.goto(`${fx.url}/login`);
    await page.getByLabel('User name').fill('gina@example.org');
    await page.keyboard.press('Tab');
    await state('register');
    expect(await pad().getByLabel('Identity (e-mail address)').inputValue()).toBe('gina@example.org');
    await pad().getByRole('button', { name: 'Continue' }).click();
    await choosePin('8642');
    await state('check-email');
    // The link opens the site's PIN-pad page; registering there signs in with a session.
    await openMail('gina@example.org', 'register');
    await choosePin('8642');
    await state('signed-in');
    // Back on the unchanged password form, gina now signs in with her PIN.
    await ctx.clearCookies();
    await page.goto(`${fx.url}/login`);
    await page.getByLabel('User name').fill('gina@example.org');
    await page.keyboard.press('Tab');
    await state('sign-in');
    await pad().getByLabel('PIN', { exact: true }).fill('8642');
    await page.keyboard.press('Enter');
    await page.waitForURL(`${fx.url}/`);
    expect(await page.locator('#who').textContent()).toBe('Signed in as gina@example.org.');
  });
});
