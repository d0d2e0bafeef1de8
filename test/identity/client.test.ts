/**
 * Issue 5 item 3: the client names the DTA that is down or answers garbage, and returns nothing
 * (so nothing partial can be stored); PIN and keystore validation.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DtaFanOutError } from '../../src/identity/client/dta-client.ts';
import { keystoreToJson, parseKeystore } from '../../src/identity/client/keystore.ts';
import { hashIdHex, parsePin, registerIdentity } from '../../src/identity/client/mpin-client.ts';
import { IdentityInputError } from '../../src/identity/errors.ts';
import { crypto, DtaCluster, TestClock } from './helpers.ts';

const ID = 'dave@example.com';
const HASH = hashIdHex(crypto, ID);

/** A fake DTA answering every request with `answer()`. */
async function fakeDta(answer: () => { status: number; body: string }): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const a = answer();
      res.writeHead(a.status, { 'content-type': 'application/json' });
      res.end(a.body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe('registration against failing DTAs', () => {
  const clock = new TestClock(Date.UTC(2026, 10, 28, 8));
  let cluster: DtaCluster;
  const fakes: Server[] = [];
  beforeAll(async () => {
    cluster = await DtaCluster.start(2, clock);
  });
  afterAll(async () => {
    await cluster.stop();
    await Promise.all(fakes.map((s) => new Promise((r) => s.close(r))));
  });

  async function failWith(extraUrl: string): Promise<DtaFanOutError> {
    const attempt = registerIdentity({
      crypto,
      identity: ID,
      pin: '1234',
      dtas: [...cluster.urls, extraUrl],
      clientSecretRequest: cluster.sign({ op: 'client-secret', hashId: HASH }),
      timePermitRequest: cluster.sign({ op: 'time-permits', hashId: HASH }),
    });
    const e = await attempt.then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(DtaFanOutError);
    return e as DtaFanOutError;
  }

  async function garbage(body: unknown, status = 200): Promise<string> {
    const f = await fakeDta(() => ({ status, body: typeof body === 'string' ? body : JSON.stringify(body) }));
    fakes.push(f.server);
    return f.url;
  }

  it('names a DTA that is down', async () => {
    const f = await fakeDta(() => ({ status: 200, body: '{}' }));
    await new Promise((r) => f.server.close(r));
    const e = await failWith(f.url);
    expect(e.failures.map((x) => x.dta)).toEqual([f.url]);
    expect(e.message).toContain(`DTA ${f.url}: unreachable`);
  });

  it('names a DTA that answers garbage of each kind', async () => {
    const share = 'ab'.repeat(65);
    const cases: [unknown, RegExp, number?][] = [
      ['<html>oops</html>', /not JSON/],
      ['[1,2]', /not an object/],
      [{ error: { code: 'internal', message: 'boom' } }, /refused \(HTTP 500 internal\): boom/, 500],
      [{ dta: 'ee'.repeat(32), hashId: HASH, clientSecretShare: 'zz' }, /not a 65-byte point/],
      [{ dta: 'ee'.repeat(32), hashId: HASH, clientSecretShare: `04${share.slice(2)}` }, /not a valid G1 point/],
      [{ dta: 'ee'.repeat(32), hashId: 'cd'.repeat(32), clientSecretShare: share }, /different identity hash/],
      [{ hashId: HASH, clientSecretShare: share }, /fingerprint/],
    ];
    for (const [body, re, status] of cases) {
      const url = await garbage(body, status);
      const e = await failWith(url);
      expect(e.failures.some((f) => f.dta === url && re.test(f.message))).toBe(true);
      expect(e.failures.every((f) => f.dta === url)).toBe(true);
    }
  });

  it('refuses the same DTA twice (same URL, or same share under another URL)', async () => {
    const first = cluster.urls[0] ?? '';
    await expect(failWith(first)).resolves.toMatchObject({ message: expect.stringMatching(/listed twice/) as unknown });
    // The same DTA under another name: its replay cache refuses the second copy of the request.
    const alias = first.replace('127.0.0.1', 'localhost');
    expect((await failWith(alias)).failures).toMatchObject([{ dta: alias, code: 'replayed' }]);
    // A copy of a DTA's data directory (same share, its own replay cache): caught by fingerprint.
    const { cp } = await import('node:fs/promises');
    const { DtaService } = await import('../../src/identity/dta/server.ts');
    const copyDir = await cluster.tempDir();
    await cp(cluster.dtas[0]?.dir ?? '', copyDir, { recursive: true });
    const twin = await DtaService.open(cluster.options(copyDir));
    const twinUrl = `http://127.0.0.1:${await twin.listen(0)}`;
    const e = await failWith(twinUrl);
    await twin.close();
    expect(e.message).toMatch(/holds the same share as/);
  });
});

describe('PINs', () => {
  it('accepts exactly four digits, leading zeros included', () => {
    expect(parsePin('0000')).toBe(0);
    expect(parsePin('0042')).toBe(42);
    expect(parsePin('9999\n')).toBe(9999);
  });
  it('rejects other lengths and non-digits, and explains why longer PINs are not offered', () => {
    for (const p of ['', '123', '12345', '12a4', '-123', '1 23', '１２３４']) expect(() => parsePin(p)).toThrow(IdentityInputError);
    expect(() => parsePin('123456', 6)).toThrow(/mod 10000/);
  });
});

describe('keystore parsing', () => {
  it('round-trips and refuses damaged files', async () => {
    const clock = new TestClock(Date.UTC(2026, 10, 28, 8));
    const cluster = await DtaCluster.start(1, clock);
    try {
      const ks = await registerIdentity({
        crypto,
        identity: ID,
        pin: '1234',
        dtas: cluster.urls,
        clientSecretRequest: cluster.sign({ op: 'client-secret', hashId: HASH }),
        timePermitRequest: cluster.sign({ op: 'time-permits', hashId: HASH, toDay: Math.floor(clock.now / 86_400_000) }),
      });
      const json = keystoreToJson(ks);
      const back = parseKeystore(json, crypto);
      expect(back.token).toEqual(ks.token);
      expect([...back.permits.keys()]).toEqual([...ks.permits.keys()]);
      const o = JSON.parse(json) as Record<string, unknown>;
      const variants: Record<string, unknown>[] = [
        { ...o, format: 'other' },
        { ...o, identity: 'eve@example.com' },
        { ...o, token: (o['token'] as string).slice(0, 128) },
        { ...o, token: `04${'00'.repeat(64)}` },
        { ...o, permits: { abc: o['token'] } },
        { ...o, dtas: 'http://x' },
      ];
      for (const v of variants) expect(() => parseKeystore(JSON.stringify(v), crypto)).toThrow(IdentityInputError);
      expect(() => parseKeystore('{', crypto)).toThrow(/not valid JSON/);
    } finally {
      await cluster.stop();
    }
  });
});
