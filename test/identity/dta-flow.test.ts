/**
 * Issue 5 "Tests": three DTAs on loopback — register, authenticate, wrong PIN with δ, lockout,
 * revocation across a day change, DTA restart, refusing a corrupt or unreadable share file.
 */
import { chmod, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callDta, DtaFanOutError } from '../../src/identity/client/dta-client.ts';
import { loadKeystore, saveKeystore, type Keystore } from '../../src/identity/client/keystore.ts';
import { createPass, hashIdHex, passToJson, refreshPermits, registerIdentity } from '../../src/identity/client/mpin-client.ts';
import { fetchServerSecret, fetchTimePermits, revokeEverywhere } from '../../src/identity/client/shares.ts';
import { dayOf } from '../../src/identity/crypto-port.ts';
import { DtaService } from '../../src/identity/dta/server.ts';
import { SHARE_FILE_NAME } from '../../src/identity/dta/share-store.ts';
import { ShareFileError } from '../../src/identity/errors.ts';
import { MpinVerifier, type PassMessage } from '../../src/identity/server/verifier.ts';
import { crypto, DAY_MS, DtaCluster, seededRandom, TestClock } from './helpers.ts';

const T0 = Date.UTC(2026, 10, 28, 12, 0, 0);
const ID = 'alice@example.com';

describe('identity layer with three DTAs on loopback', () => {
  const clock = new TestClock(T0);
  let cluster: DtaCluster;
  let keystore: Keystore;
  let serverSecret: Uint8Array;
  const hashId = hashIdHex(crypto, ID);
  const random = seededRandom(42);

  beforeAll(async () => {
    cluster = await DtaCluster.start(3, clock);
  });
  afterAll(async () => {
    await cluster.stop();
  });

  const pass = (pin: string, ks: Keystore = keystore): PassMessage =>
    passToJson(createPass({ crypto, keystore: ks, pin, clock: clock.read, random })) as unknown as PassMessage;

  it('registers an identity from three DTAs and stores a 0600 keystore', async () => {
    keystore = await registerIdentity({
      crypto,
      identity: ID,
      pin: '2468',
      dtas: cluster.urls,
      clientSecretRequest: cluster.sign({ op: 'client-secret', hashId }),
      timePermitRequest: cluster.sign({ op: 'time-permits', hashId }),
    });
    expect(keystore.hashId).toBe(hashId);
    expect(keystore.fingerprints).toHaveLength(3);
    // Default range: today .. today + 7.
    const today = dayOf(T0);
    expect([...keystore.permits.keys()]).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((i) => today + i));
    const path = join(cluster.dtas[0]?.dir ?? '', 'alice.keystore.json');
    await saveKeystore(path, keystore, random);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const loaded = await loadKeystore(path, crypto);
    expect(loaded.token).toEqual(keystore.token);
    expect(loaded.permits.size).toBe(8);
  });

  it('assembles the server secret and accepts the right PIN', async () => {
    const ss = await fetchServerSecret({ crypto, dtas: cluster.urls, request: cluster.sign({ op: 'server-secret' }) });
    serverSecret = ss.key;
    const v = new MpinVerifier({ crypto, serverSecret, clock: clock.read });
    expect(v.verify(pass('2468'))).toEqual({ ok: true, hashId });
  });

  it('rejects a wrong PIN and reports the PIN error δ = entered − registered', () => {
    const v = new MpinVerifier({ crypto, serverSecret, clock: clock.read });
    const r = v.verify(pass('2471'));
    expect(r).toMatchObject({ ok: false, reason: 'wrong-pin', pinError: 3, failures: 1, locked: false });
    const r2 = v.verify(pass('2400'));
    expect(r2).toMatchObject({ ok: false, reason: 'wrong-pin', pinError: -68, failures: 2 });
  });

  it('locks out after 3 failures, even for the right PIN, until reset; success resets the count', () => {
    const v = new MpinVerifier({ crypto, serverSecret, clock: clock.read });
    expect(v.verify(pass('0000'))).toMatchObject({ ok: false, failures: 1 });
    expect(v.verify(pass('2468'))).toEqual({ ok: true, hashId });
    expect(v.failures(hashId)).toBe(0);
    for (let i = 1; i <= 3; i++) expect(v.verify(pass('1111'))).toMatchObject({ ok: false, reason: 'wrong-pin', failures: i, locked: i === 3 });
    expect(v.verify(pass('2468'))).toMatchObject({ ok: false, reason: 'locked' });
    v.reset(hashId);
    expect(v.verify(pass('2468'))).toEqual({ ok: true, hashId });
  });

  it('refuses a replayed pass and a stale time value', () => {
    const v = new MpinVerifier({ crypto, serverSecret, clock: clock.read });
    const p = pass('2468');
    expect(v.verify(p).ok).toBe(true);
    expect(v.verify(p)).toMatchObject({ ok: false, reason: 'replayed' });
    expect(v.verify({ ...pass('2468'), timeValue: Math.floor(T0 / 1000) - 120 })).toMatchObject({ ok: false, reason: 'stale' });
  });

  it('restarts a DTA with the same share and keeps working', async () => {
    const before = cluster.dtas[1]?.service.fingerprint;
    const signedBeforeRestart = cluster.sign({ op: 'server-secret' });
    clock.now += 61_000;
    await cluster.restart(1);
    // The nonce cache did not survive the restart, so older requests are refused outright.
    await expect(callDta(cluster.dtas[1]?.url ?? '', '/v1/server-secret', signedBeforeRestart)).rejects.toMatchObject({ status: 403, code: 'expired' });
    expect(cluster.dtas[1]?.service.fingerprint).toBe(before);
    expect(cluster.dtas[1]?.service.shareCreated).toBe(false);
    const ss = await fetchServerSecret({ crypto, dtas: cluster.urls, request: cluster.sign({ op: 'server-secret' }) });
    expect(ss.key).toEqual(serverSecret);
  });

  it('revokes: no permit the next day, the revocation survives a restart', async () => {
    const fps = await revokeEverywhere({ dtas: cluster.urls, request: cluster.sign({ op: 'revoke', hashId, reason: 'device lost' }) });
    expect(fps).toHaveLength(3);
    clock.advanceDays(1);
    await cluster.restart(0);
    await cluster.restart(2);
    const attempt = fetchTimePermits({ crypto, dtas: cluster.urls, hashId, request: cluster.sign({ op: 'time-permits', hashId }) });
    await expect(attempt).rejects.toBeInstanceOf(DtaFanOutError);
    const err = (await attempt.then(
      () => undefined,
      (e: unknown) => e,
    )) as DtaFanOutError;
    expect(err.failures).toHaveLength(3);
    for (const f of err.failures) expect(f.code).toBe('revoked');
    // A new client secret is refused as well.
    const reg = registerIdentity({ crypto, identity: ID, pin: '2468', dtas: cluster.urls, clientSecretRequest: cluster.sign({ op: 'client-secret', hashId }) });
    await expect(reg).rejects.toThrow(/revoked/);
    // Other identities are unaffected.
    const bob = hashIdHex(crypto, 'bob@example.com');
    const permits = await fetchTimePermits({ crypto, dtas: cluster.urls, hashId: bob, request: cluster.sign({ op: 'time-permits', hashId: bob, fromDay: dayOf(clock.now), toDay: dayOf(clock.now) }) });
    expect([...permits.keys()]).toEqual([dayOf(clock.now)]);
  });

  it('needs today\'s permit: a pass made with yesterday\'s permit fails as bad credentials, not as a PIN error', () => {
    const onlyOld: Keystore = { ...keystore, permits: new Map([[dayOf(T0), keystore.permits.get(dayOf(T0)) ?? new Uint8Array()]]) };
    expect(() => createPass({ crypto, keystore: onlyOld, pin: '2468', clock: clock.read, random })).toThrow(/no time permit for today/);
    // A client that keeps using yesterday's permit with a current time value.
    const permit = onlyOld.permits.get(dayOf(T0)) ?? new Uint8Array();
    const old = passToJson(
      crypto.clientPass({ identity: new TextEncoder().encode(ID), pin: 2468, token: keystore.token, timePermit: { day: dayOf(T0), permit }, timeValue: Math.floor(clock.now / 1000), random }),
    ) as unknown as PassMessage;
    const v = new MpinVerifier({ crypto, serverSecret, clock: clock.read });
    expect(v.verify(old)).toMatchObject({ ok: false, reason: 'bad-credentials', pinError: undefined, failures: 1 });
  });

  it('accepts a pass made just before midnight UTC with that day\'s permit, checked just after midnight', () => {
    const midnight = (dayOf(T0) + 1) * DAY_MS;
    const client = new TestClock(midnight - 10_000);
    const server = new TestClock(midnight + 10_000);
    const v = new MpinVerifier({ crypto, serverSecret, clock: server.read });
    // keystore holds permits for every day of the range, so the client uses dayOf(T0) here.
    const p = passToJson(createPass({ crypto, keystore, pin: '2468', clock: client.read, random })) as unknown as PassMessage;
    expect(p['day' as keyof PassMessage]).toBe(dayOf(T0));
    expect(v.verify(p)).toEqual({ ok: true, hashId });
    // With a wrong PIN, the PIN error is still found on the client's day.
    const q = passToJson(createPass({ crypto, keystore, pin: '2469', clock: client.read, random })) as unknown as PassMessage;
    expect(v.verify(q)).toMatchObject({ ok: false, reason: 'wrong-pin', pinError: 1 });
  });

  it('refreshPermits merges new permits and drops old ones', async () => {
    const carol = 'carol@example.com';
    const h = hashIdHex(crypto, carol);
    const ks = await registerIdentity({ crypto, identity: carol, pin: '1357', dtas: cluster.urls, clientSecretRequest: cluster.sign({ op: 'client-secret', hashId: h }) });
    expect(ks.permits.size).toBe(0);
    const today = dayOf(clock.now);
    const fresh = await refreshPermits(ks, { crypto, clock: clock.read, request: cluster.sign({ op: 'time-permits', hashId: h, fromDay: today, toDay: today + 1 }) });
    expect([...fresh.permits.keys()]).toEqual([today, today + 1]);
    const ss = await fetchServerSecret({ crypto, dtas: cluster.urls, request: cluster.sign({ op: 'server-secret' }) });
    const v = new MpinVerifier({ crypto, serverSecret: ss.key, clock: clock.read });
    expect(v.verify(passToJson(createPass({ crypto, keystore: fresh, pin: '1357', clock: clock.read, random })) as unknown as PassMessage).ok).toBe(true);
  });
});

describe('DTA start-up refuses unusable share files', () => {
  const clock = new TestClock(T0);
  let cluster: DtaCluster;
  beforeAll(async () => {
    cluster = await DtaCluster.start(0, clock);
  });
  afterAll(async () => {
    await cluster.stop();
  });

  async function freshDir(): Promise<string> {
    const dir = await cluster.tempDir();
    const s = await DtaService.open(cluster.options(dir));
    expect(s.shareCreated).toBe(true);
    await s.close();
    const st = await stat(join(dir, SHARE_FILE_NAME));
    expect(st.mode & 0o777).toBe(0o600);
    return dir;
  }

  it('refuses a corrupt share file instead of generating a new share', async () => {
    const dir = await freshDir();
    const path = join(dir, SHARE_FILE_NAME);
    const text = await readFile(path, 'utf8');
    const obj = JSON.parse(text) as Record<string, string>;
    const share = obj['share'] ?? '';
    // Flip one hex digit of the share: the commitment check catches it.
    obj['share'] = share.slice(0, 10) + (share[10] === '0' ? '1' : '0') + share.slice(11);
    await writeFile(path, JSON.stringify(obj));
    await expect(DtaService.open(cluster.options(dir))).rejects.toThrow(/corrupt.*does not match its recorded commitment/);
    await writeFile(path, '{"format": "milagro-ts-dta-share", "vers');
    await expect(DtaService.open(cluster.options(dir))).rejects.toBeInstanceOf(ShareFileError);
    // The broken file is left alone, not replaced.
    expect(await readFile(path, 'utf8')).toBe('{"format": "milagro-ts-dta-share", "vers');
  });

  it('refuses a share file readable by others and an unreadable one', async () => {
    const dir = await freshDir();
    const path = join(dir, SHARE_FILE_NAME);
    await chmod(path, 0o644);
    await expect(DtaService.open(cluster.options(dir))).rejects.toThrow(/chmod 600/);
    if (process.getuid?.() !== 0) {
      await chmod(path, 0o000);
      await expect(DtaService.open(cluster.options(dir))).rejects.toThrow(/cannot read/);
    } else {
      // root reads anything; a directory in place of the file is unreadable as a file.
      await chmod(path, 0o600);
      const dir2 = await cluster.tempDir();
      const { mkdir } = await import('node:fs/promises');
      await mkdir(join(dir2, SHARE_FILE_NAME));
      await expect(DtaService.open(cluster.options(dir2))).rejects.toThrow(/cannot read.*EISDIR/);
    }
  });

  it('encrypts the share under a passphrase and refuses a wrong or missing one', async () => {
    const dir = await cluster.tempDir();
    const scrypt = { N: 1 << 10, r: 8, p: 1 };
    const s1 = await DtaService.open(cluster.options(dir, { passphrase: 'correct horse', scrypt }));
    const fp = s1.fingerprint;
    await s1.close();
    const text = await readFile(join(dir, SHARE_FILE_NAME), 'utf8');
    expect(text).toContain('scrypt-aes-256-gcm');
    expect(text).not.toMatch(/"share"/);
    const s2 = await DtaService.open(cluster.options(dir, { passphrase: 'correct horse' }));
    expect(s2.fingerprint).toBe(fp);
    await s2.close();
    await expect(DtaService.open(cluster.options(dir, { passphrase: 'wrong' }))).rejects.toThrow(/wrong passphrase/);
    await expect(DtaService.open(cluster.options(dir))).rejects.toThrow(/encrypted; give its passphrase/);
  });

  it('refuses a corrupt revocation list', async () => {
    const dir = await freshDir();
    await writeFile(join(dir, 'revocations.json'), '[not json');
    await expect(DtaService.open(cluster.options(dir))).rejects.toThrow(/revocation list .* corrupt/);
  });

  it('cannot start without a trusted enrolment key', async () => {
    const dir = await cluster.tempDir();
    await expect(DtaService.open({ ...cluster.options(dir), trustedKeys: [] })).rejects.toThrow(/--trust/);
  });
});


describe('MpinVerifier input validation', () => {
  it('answers malformed for anything that is not a well-formed pass, without counting a failure', async () => {
    const { crypto: c } = await import('./helpers.ts');
    const { mulG2, bncx, encodeG2 } = await import('../../src/crypto/bncx/index.ts');
    const serverSecret = encodeG2(mulG2(bncx.G2.BASE, 12345n));
    const clock = new TestClock(T0);
    const v = new MpinVerifier({ crypto: c, serverSecret, clock: clock.read });
    const h = 'ab'.repeat(32);
    const g1 = `04${'00'.repeat(64)}`; // not on the curve
    const t = Math.floor(T0 / 1000);
    for (const bad of [null, 7, [], 'x', {}, { hashId: h }, { hashId: h, v: 'zz', ut: g1, timeValue: t }, { hashId: h.slice(2), v: g1, ut: g1, timeValue: t }, { hashId: h, v: g1, ut: g1, timeValue: 't' }, { hashId: h, v: g1, timeValue: t }, { hashId: h, v: g1, ut: g1, timeValue: t }]) {
      expect(v.verify(bad)).toMatchObject({ ok: false, reason: 'malformed' });
    }
    expect(v.failures(h)).toBe(0);
    expect(() => new MpinVerifier({ crypto: c, serverSecret: serverSecret.slice(1), clock: clock.read })).toThrow();
  });
});
