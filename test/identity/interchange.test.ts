/**
 * Issue 5 item 5 / spec §8.2: key files in the original demo programs' hex format. Our DTA, given
 * the demo master secret, writes the same CSClientKey, CSTimePermit, CSServerKey, P2PServerKey and
 * P2PClientKey as the original TA_cs / TA_p2p (recorded in test/vectors/tls-transcripts.json), and
 * the original files import into a keystore that authenticates against the original server key.
 */
import { readFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hexToBytes } from '../../src/codec/bytes.ts';
import type { Keystore } from '../../src/identity/client/keystore.ts';
import { createPass, hashIdHex, passToJson, registerIdentity } from '../../src/identity/client/mpin-client.ts';
import { fetchServerSecret, fetchWccKey } from '../../src/identity/client/shares.ts';
import { DtaService } from '../../src/identity/dta/server.ts';
import { importShare } from '../../src/identity/dta/share-store.ts';
import { IdentityInputError } from '../../src/identity/errors.ts';
import { decodeHexKey, encodeHexKey, readHexKeyFile, writeHexKeyFile } from '../../src/identity/hex-files.ts';
import { MpinVerifier, type PassMessage } from '../../src/identity/server/verifier.ts';
import { crypto, DtaCluster, seededRandom, TestClock } from './helpers.ts';

interface Transcript {
  name: string;
  date_days_since_epoch: number | null;
  key_files: Record<string, string>;
}
const transcripts = (JSON.parse(readFileSync(new URL('../vectors/tls-transcripts.json', import.meta.url), 'utf8')) as { transcripts: Transcript[] }).transcripts;
const byName = (n: string): Transcript => {
  const t = transcripts.find((x) => x.name === n);
  if (t === undefined) throw new Error(`no transcript ${n}`);
  return t;
};
const cs = byName('cs_default');
const p2p = byName('p2p_default');
/** Spec §8.2: TA_cs/TA_p2p derive this master secret from their fixed seed; it is public. */
const DEMO_MASTER_SECRET = '0849251666b537910c30f0c396408621446acb6608adba50cde5d87f19fe589f';
const DAY = 20785;

describe('original hex key files (spec §8.2)', () => {
  const clock = new TestClock(DAY * 86_400_000 + 5 * 3_600_000);
  let cluster: DtaCluster;
  let url: string;
  beforeAll(async () => {
    cluster = await DtaCluster.start(0, clock);
    const dir = await cluster.tempDir();
    await importShare({ dataDir: dir, crypto, random: cluster.random, clock: clock.read, share: hexToBytes(DEMO_MASTER_SECRET) });
    const service = await DtaService.open(cluster.options(dir));
    const port = await service.listen(0);
    url = `http://127.0.0.1:${port}`;
    cluster.dtas.push({ dir, url, service, port });
  });
  afterAll(async () => {
    await cluster.stop();
  });

  it('a DTA holding the demo secret issues the files TA_cs wrote, byte for byte', async () => {
    const hashId = hashIdHex(crypto, 'client@miracl.com');
    const ks = await registerIdentity({
      crypto,
      identity: 'client@miracl.com',
      pin: '0000',
      dtas: [url],
      clientSecretRequest: cluster.sign({ op: 'client-secret', hashId }),
      timePermitRequest: cluster.sign({ op: 'time-permits', hashId, fromDay: DAY, toDay: DAY }),
    });
    const dir = cluster.dtas[0]?.dir ?? '';
    await writeHexKeyFile(join(dir, 'CSClientKey'), 'CSClientKey', ks.token, crypto, cluster.random);
    const permit = ks.permits.get(DAY);
    expect(permit).toBeDefined();
    await writeHexKeyFile(join(dir, 'CSTimePermit'), 'CSTimePermit', permit ?? new Uint8Array(), crypto, cluster.random);
    const ss = await fetchServerSecret({ crypto, dtas: [url], request: cluster.sign({ op: 'server-secret' }) });
    await writeHexKeyFile(join(dir, 'CSServerKey'), 'CSServerKey', ss.key, crypto, cluster.random);
    for (const name of ['CSClientKey', 'CSTimePermit', 'CSServerKey']) {
      const text = await readFile(join(dir, name), 'utf8');
      expect(text).toBe(cs.key_files[name]);
      expect(text).toMatch(/^[0-9a-f]+$/); // lowercase, no newline
      expect((await stat(join(dir, name))).mode & 0o777).toBe(0o600);
    }
  });

  it('and the files TA_p2p wrote', async () => {
    const server = await fetchWccKey({ crypto, dtas: [url], role: 'sender', hashId: hashIdHex(crypto, 'server.miracl.com'), request: cluster.sign({ op: 'wcc-sender', hashId: hashIdHex(crypto, 'server.miracl.com') }) });
    const client = await fetchWccKey({ crypto, dtas: [url], role: 'receiver', hashId: hashIdHex(crypto, 'client@miracl.com'), request: cluster.sign({ op: 'wcc-receiver', hashId: hashIdHex(crypto, 'client@miracl.com') }) });
    expect(encodeHexKey('P2PServerKey', server.key, crypto)).toBe(p2p.key_files['P2PServerKey']);
    expect(encodeHexKey('P2PClientKey', client.key, crypto)).toBe(p2p.key_files['P2PClientKey']);
  });

  it('original files import into a keystore that authenticates against the original server key', async () => {
    const dir = cluster.dtas[0]?.dir ?? '';
    const { writeFile } = await import('node:fs/promises');
    // Accept a trailing newline (an editor may add one); the original readers stop there too.
    await writeFile(join(dir, 'orig-CSClientKey'), `${cs.key_files['CSClientKey']}\n`);
    const token = await readHexKeyFile(join(dir, 'orig-CSClientKey'), 'CSClientKey', crypto);
    const permit = decodeHexKey('CSTimePermit', cs.key_files['CSTimePermit'] ?? '', crypto);
    const serverSecret = decodeHexKey('CSServerKey', (cs.key_files['CSServerKey'] ?? '').toUpperCase(), crypto);
    const ks: Keystore = { identity: 'client@miracl.com', hashId: hashIdHex(crypto, 'client@miracl.com'), token, pinDigits: 4, permits: new Map([[DAY, permit]]), dtas: [], fingerprints: [] };
    const v = new MpinVerifier({ crypto, serverSecret, clock: clock.read });
    const pass = passToJson(createPass({ crypto, keystore: ks, pin: '0000', clock: clock.read, random: seededRandom(3) })) as unknown as PassMessage;
    expect(v.verify(pass)).toMatchObject({ ok: true });
    const wrong = passToJson(createPass({ crypto, keystore: ks, pin: '0042', clock: clock.read, random: seededRandom(4) })) as unknown as PassMessage;
    expect(v.verify(wrong)).toMatchObject({ ok: false, reason: 'wrong-pin', pinError: 42 });
  });

  it('rejects malformed key files with a message naming the file kind', () => {
    const g1 = cs.key_files['CSClientKey'] ?? '';
    const g2 = cs.key_files['CSServerKey'] ?? '';
    expect(() => decodeHexKey('CSClientKey', g1.slice(0, 128), crypto)).toThrow(IdentityInputError);
    expect(() => decodeHexKey('CSClientKey', g1.slice(0, 129), crypto)).toThrow(/CSClientKey is not a hex string/);
    expect(() => decodeHexKey('CSClientKey', `${g1.slice(0, 128)}zz`, crypto)).toThrow(/not a hex string/);
    expect(() => decodeHexKey('CSClientKey', g2, crypto)).toThrow(/CSClientKey must hold 65 bytes/);
    expect(() => decodeHexKey('CSServerKey', g1, crypto)).toThrow(/CSServerKey must hold 128 bytes/);
    // Off the curve: change the last byte of y.
    const bad = `${g1.slice(0, 128)}${g1.endsWith('00') ? '01' : '00'}`;
    expect(() => decodeHexKey('P2PServerKey', bad, crypto)).toThrow(/not hold a valid G1 point/);
    // Wrong prefix byte (AMCL ignores it, we do not: spec §2.6).
    expect(() => decodeHexKey('CSTimePermit', `02${g1.slice(2)}`, crypto)).toThrow(/valid G1 point/);
    const badG2 = `${g2.slice(0, 254)}${g2.endsWith('00') ? '01' : '00'}`;
    expect(() => decodeHexKey('P2PClientKey', badG2, crypto)).toThrow(/not hold a valid G2 point/);
    expect(() => encodeHexKey('CSServerKey', hexToBytes(g1), crypto)).toThrow(/128 bytes/);
  });
});
