/** Access numbers (Luhn check digit), the browser bundle's purity, and the CLI side of the out-of-band flow. */
import { mkdtemp, rm } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliError } from '../../src/cli/common.ts';
import { login } from '../../src/cli/identity-login.ts';
import { MpinWebClient } from '../../src/web/browser/client.ts';
import { MemoryStore } from '../../src/web/browser/store.ts';
import { buildWebAssets } from '../../scripts/web-bundle.ts';
import { ACCESS_NUMBER_DIGITS, formatAccessNumber, luhnCheckDigit, makeAccessNumber, parseAccessNumber } from '../../src/web/protocol.ts';
import { jarFetch, WebFixture } from './helpers.ts';

describe('access numbers: ISO/IEC 7812-1 Luhn check digit', () => {
  it('matches the published example 7992739871 → 3', () => {
    expect(luhnCheckDigit('7992739871')).toBe(3);
    expect(parseAccessNumber('79927398713'.slice(-8))).toBeUndefined(); // wrong length for us
  });

  it('every generated number parses; every single-digit change and adjacent swap is caught', () => {
    let seed = 7;
    const random = (n: number): Uint8Array => Uint8Array.from({ length: n }, () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff);
    for (let i = 0; i < 200; i++) {
      const n = makeAccessNumber(random);
      expect(n).toMatch(new RegExp(`^[0-9]{${ACCESS_NUMBER_DIGITS + 1}}$`));
      expect(parseAccessNumber(n)).toBe(n);
      expect(parseAccessNumber(formatAccessNumber(n))).toBe(n);
      for (let p = 0; p < n.length; p++) {
        const d = Number(n[p]);
        const changed = `${n.slice(0, p)}${(d + 1 + (i % 9)) % 10}${n.slice(p + 1)}`;
        expect(parseAccessNumber(changed)).toBeUndefined();
        if (p + 1 < n.length && n[p] !== n[p + 1] && !((n[p] === '0' && n[p + 1] === '9') || (n[p] === '9' && n[p + 1] === '0'))) {
          // Luhn misses only the 09 ↔ 90 swap.
          expect(parseAccessNumber(`${n.slice(0, p)}${n[p + 1]}${n[p]}${n.slice(p + 2)}`)).toBeUndefined();
        }
      }
    }
  });

  it('rejects letters, wrong lengths and non-digits', () => {
    expect(parseAccessNumber('')).toBeUndefined();
    expect(parseAccessNumber('1234567a')).toBeUndefined();
    expect(parseAccessNumber('123456789')).toBeUndefined();
    expect(() => luhnCheckDigit('12a')).toThrow(RangeError);
  });
});

describe('browser bundle', () => {
  it('is built from the same crypto core, with no Node built-in anywhere', async () => {
    const a = await buildWebAssets();
    expect(a.inputs).toContain('src/crypto/mpin.ts');
    expect(a.inputs).toContain('src/web/browser/client.ts');
    const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
    expect(a.inputs.filter((i) => builtins.has(i) || i.startsWith('node:'))).toEqual([]);
    expect(a.inputs.some((i) => i.startsWith('src/identity/'))).toBe(false);
    for (const code of [a.client, a.override]) {
      expect(code).not.toMatch(/\brequire\(|\bBuffer\.|\bprocess\.env/);
    }
    expect(a.client).toMatch(/export\s*\{/);
  });
});

describe('milagro-ts identity login (CLI side of the out-of-band sign-in)', () => {
  let fx: WebFixture;
  let dir: string;
  beforeAll(async () => {
    fx = await WebFixture.start({ rp: { maxFailures: 3, backoff: { baseMs: 0 } } });
    dir = await mkdtemp(join(tmpdir(), 'milagro-web-cli-'));
    await fx.keystore('cli@example.org', '2580', join(dir, 'ks.json'));
  });
  afterAll(async () => {
    await fx.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function run(accessNumber: string, pin: string): Promise<number> {
    process.env['MILAGRO_PIN'] = pin;
    try {
      return await login(['--access-number', accessNumber, '--site', fx.url, '--keystore', join(dir, 'ks.json')]);
    } finally {
      delete process.env['MILAGRO_PIN'];
    }
  }

  it('refuses a mistyped access number locally (check digit)', async () => {
    await expect(run('12345670', '2580')).rejects.toThrow(/check digit/);
  });

  it('an unknown access number is refused by the site', async () => {
    await expect(run('12345674', '2580')).rejects.toThrow(/no browser is waiting/);
  });

  it('wrong PIN: attempts left; right PIN signs the waiting browser in, once', async () => {
    const f = jarFetch();
    const browser = new MpinWebClient({ store: new MemoryStore(), baseUrl: fx.url, fetch: f, clock: fx.clock.read });
    const a = await browser.startAccessNumber();
    expect(await browser.pollAccessNumber(a.handle)).toEqual({ status: 'pending' });
    await expect(run(a.accessNumber, '2581')).rejects.toThrow(new CliError('wrong PIN; 2 attempt(s) left before cli@example.org is locked', 1));
    expect(await browser.pollAccessNumber(a.handle)).toEqual({ status: 'pending' });
    expect(await run(a.accessNumber, '2580')).toBe(0);
    expect(await browser.pollAccessNumber(a.handle)).toMatchObject({ status: 'signed-in', identity: 'cli@example.org' });
    expect(await browser.session()).toEqual({ signedIn: true, identity: 'cli@example.org' });
    // The number is spent: neither the CLI nor a second poll can use it again.
    await expect(run(a.accessNumber, '2580')).rejects.toThrow(/no browser is waiting/);
    await expect(browser.pollAccessNumber(a.handle)).rejects.toMatchObject({ code: 'expired' });
  });

  it('without a permit for the site\'s day in the keystore, fetches it through the site', async () => {
    fx.clock.advanceDays(8); // beyond the keystore's today..today+7
    try {
      const browser = new MpinWebClient({ store: new MemoryStore(), baseUrl: fx.url, fetch: jarFetch(), clock: fx.clock.read });
      const a = await browser.startAccessNumber();
      expect(await run(a.accessNumber, '2580')).toBe(0);
      expect(await browser.pollAccessNumber(a.handle)).toMatchObject({ status: 'signed-in', identity: 'cli@example.org' });
    } finally {
      fx.clock.advanceDays(-8);
    }
  });
});
