/**
 * Issue 5 "Tests": with fixed shares (imported into two DTAs) and fixed randoms, the values issued
 * over HTTP and computed by the client/server reproduce test/vectors/mpin-full.json (30 cases) and
 * the issuing part of test/vectors/wcc.json (24 cases) exactly.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes } from '../../src/codec/bytes.ts';
import { generateEnrolmentKey, signRequest } from '../../src/identity/auth.ts';
import { callDta } from '../../src/identity/client/dta-client.ts';
import { registerIdentity } from '../../src/identity/client/mpin-client.ts';
import { fetchClientSecret, fetchServerSecret, fetchTimePermits, fetchWccKey } from '../../src/identity/client/shares.ts';
import { DtaService } from '../../src/identity/dta/server.ts';
import { importShare } from '../../src/identity/dta/share-store.ts';
import * as mpin from '../../src/crypto/mpin.ts';
import * as wcc from '../../src/crypto/wcc.ts';
import type { RandomSource } from '../../src/providers.ts';
import { crypto, seededRandom } from './helpers.ts';

type Hex = string;
interface MpinCase {
  case: number;
  time_permits: boolean;
  identity: string;
  identity_hex: Hex;
  hash_id: Hex;
  inputs: { MS1: Hex; MS2: Hex; pin_registered: number; pin_entered: number; date: number; server_date: number; timevalue: number; x: Hex; r: Hex; w: Hex };
  trusted_authorities: Record<string, Hex | null | number>;
  client_pass1: { U: Hex; UT: Hex | null; V: Hex; Y: Hex };
  server: { result: number; kangaroo_pin_error: number | null };
  key_agreement: { R: Hex; W: Hex; tls_order: { H: Hex; client_key: Hex; server_key: Hex } };
}
interface WccCase {
  case: number;
  time_permits: boolean;
  date: number;
  IdA_hex: Hex;
  IdB_hex: Hex;
  hash_IdA: Hex;
  hash_IdB: Hex;
  inputs: { MS1: Hex; MS2: Hex; x: Hex; w: Hex; y: Hex };
  trusted_authorities: Record<string, Hex | null>;
  public_values: { PaG1: Hex; PgG1: Hex; PbG2: Hex };
  pia: Hex;
  pib: Hex;
  sender_key: Hex;
  receiver_key: Hex;
}

const mpinCases = (JSON.parse(readFileSync(new URL('../vectors/mpin-full.json', import.meta.url), 'utf8')) as { cases: MpinCase[] }).cases;
const wccCases = (JSON.parse(readFileSync(new URL('../vectors/wcc.json', import.meta.url), 'utf8')) as { cases: WccCase[] }).cases;

/** A RandomSource that returns the given bytes first (the client's x), then seeded bytes. */
function fixedThen(first: Uint8Array, rest: RandomSource): RandomSource {
  let used = false;
  return (n) => {
    if (!used && n === first.length) {
      used = true;
      return first.slice();
    }
    return rest(n);
  };
}

/** Two DTAs holding the given shares, with the clock on `day`. */
async function twoDtas(ms: readonly Hex[], day: number): Promise<{ urls: string[]; sign: (p: Parameters<typeof signRequest>[1]) => ReturnType<typeof signRequest>; stop: () => Promise<void> }> {
  const random = seededRandom(day + 1);
  const key = generateEnrolmentKey(random);
  const clock = (): number => day * 86_400_000 + 3_600_000;
  const dirs: string[] = [];
  const services: DtaService[] = [];
  const urls: string[] = [];
  for (const share of ms) {
    const dir = await mkdtemp(join(tmpdir(), 'milagro-dta-vec-'));
    dirs.push(dir);
    await importShare({ dataDir: dir, crypto, random, clock, share: hexToBytes(share) });
    const s = await DtaService.open({ dataDir: dir, crypto, trustedKeys: [bytesToHex(key.publicKey)], clock, random });
    services.push(s);
    urls.push(`http://127.0.0.1:${await s.listen(0)}`);
  }
  return {
    urls,
    sign: (p) => signRequest(key, p, { clock, random }),
    stop: async () => {
      await Promise.all(services.map((s) => s.close()));
      await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
    },
  };
}

describe('mpin-full.json through the DTAs, client and server', () => {
  it.each(mpinCases.map((c) => [c.case, c] as const))('case %i', async (_n, c) => {
    const ta = c.trusted_authorities;
    const { date, server_date: serverDate } = c.inputs;
    const dtas = await twoDtas([c.inputs.MS1, c.inputs.MS2], date > 0 ? date : 20_000);
    try {
      // Individual shares, as each DTA answers them.
      for (const [i, url] of dtas.urls.entries()) {
        const cs = await callDta(url, '/v1/client-secret', dtas.sign({ op: 'client-secret', hashId: c.hash_id }));
        expect(cs['clientSecretShare']).toBe(ta[`client_secret_share_${i + 1}`]);
        const ss = await callDta(url, '/v1/server-secret', dtas.sign({ op: 'server-secret' }));
        expect(ss['serverSecretShare']).toBe(ta[`server_secret_share_${i + 1}`]);
        if (date > 0) {
          const tp = await callDta(url, '/v1/time-permits', dtas.sign({ op: 'time-permits', hashId: c.hash_id, fromDay: date, toDay: date }));
          expect(tp['permits']).toEqual([{ day: date, share: ta[`time_permit_share_${i + 1}`] }]);
        }
      }
      // Recombined values, as the client and the server assemble them.
      const serverSecret = (await fetchServerSecret({ crypto, dtas: dtas.urls, request: dtas.sign({ op: 'server-secret' }) })).key;
      expect(bytesToHex(serverSecret)).toBe(ta['server_secret']);
      const identity = hexToBytes(c.identity_hex);
      let token: Uint8Array;
      let permit: Uint8Array | undefined;
      if (c.identity.length > 0) {
        const ks = await registerIdentity({
          crypto,
          identity: c.identity,
          pin: String(c.inputs.pin_registered).padStart(4, '0'),
          dtas: dtas.urls,
          clientSecretRequest: dtas.sign({ op: 'client-secret', hashId: c.hash_id }),
          ...(date > 0 ? { timePermitRequest: dtas.sign({ op: 'time-permits', hashId: c.hash_id, fromDay: date, toDay: date }) } : {}),
        });
        expect(ks.hashId).toBe(c.hash_id);
        token = ks.token;
        permit = ks.permits.get(date);
      } else {
        // The empty identity is valid for AMCL but refused by our CLI-level registration; issue it directly.
        const cs = await fetchClientSecret({ crypto, dtas: dtas.urls, hashId: c.hash_id, request: dtas.sign({ op: 'client-secret', hashId: c.hash_id }) });
        expect(bytesToHex(cs.key)).toBe(ta['client_secret']);
        token = crypto.extractPin(identity, c.inputs.pin_registered, cs.key);
        if (date > 0) {
          const tps = await fetchTimePermits({ crypto, dtas: dtas.urls, hashId: c.hash_id, request: dtas.sign({ op: 'time-permits', hashId: c.hash_id, fromDay: date, toDay: date }) });
          permit = tps.get(date);
        }
      }
      expect(bytesToHex(token)).toBe(ta['token']);
      if (date > 0) expect(permit === undefined ? undefined : bytesToHex(permit)).toBe(ta['time_permit']);

      const pass = crypto.clientPass({
        identity,
        pin: c.inputs.pin_entered,
        token,
        ...(date > 0 && permit !== undefined ? { timePermit: { day: date, permit } } : {}),
        timeValue: c.inputs.timevalue,
        random: fixedThen(hexToBytes(c.inputs.x), seededRandom(5)),
      });
      expect(bytesToHex(pass.u)).toBe(c.client_pass1.U);
      expect(pass.ut === undefined ? null : bytesToHex(pass.ut)).toBe(c.client_pass1.UT);
      expect(bytesToHex(pass.v)).toBe(c.client_pass1.V);
      expect(bytesToHex(pass.y)).toBe(c.client_pass1.Y);

      const result = crypto.serverVerify({ hashId: pass.hashId, u: pass.u, ut: pass.ut, v: pass.v, timeValue: c.inputs.timevalue, day: serverDate, serverSecret });
      expect(result.ok).toBe(c.server.result === 0);
      if (!result.ok) {
        const delta = c.inputs.pin_entered - c.inputs.pin_registered;
        // AMCL's kangaroo gives up at |δ| = 9999 (case 26) where our exact search still finds it;
        // with a wrong-day permit (27, 28) there is no PIN error to find.
        const expected = c.server.kangaroo_pin_error !== 0 ? c.server.kangaroo_pin_error : delta !== 0 ? delta : undefined;
        expect(result.pinError).toBe(expected ?? undefined);
      }

      // The DTA-issued token and server secret drive the milagro-tls key agreement (spec §5.8).
      const ka = c.key_agreement;
      const hid = hexToBytes(c.hash_id);
      const { W } = mpin.serverEphemeral({ hashId: hid, date: serverDate, w: hexToBytes(c.inputs.w) });
      const { R } = mpin.clientEphemeral({ hashId: hid, r: hexToBytes(c.inputs.r) });
      expect([bytesToHex(W), bytesToHex(R)]).toEqual([ka.W, ka.R]);
      const h = mpin.transcriptHash({ hashId: hid, UT: pass.ut, y: pass.y, V: pass.v, R, W });
      expect(bytesToHex(h)).toBe(ka.tls_order.H);
      const clientKey = mpin.clientKey({ precompute: mpin.ClientPrecompute.compute(token, hid), pin: c.inputs.pin_entered, r: hexToBytes(c.inputs.r), x: hexToBytes(c.inputs.x), h, W });
      const serverKey = mpin.serverKey({ serverSecret, hashId: hid, R, h, w: hexToBytes(c.inputs.w), point: pass.ut ?? pass.u });
      expect([bytesToHex(clientKey), bytesToHex(serverKey)]).toEqual([ka.tls_order.client_key, ka.tls_order.server_key]);
    } finally {
      await dtas.stop();
    }
  });
});

describe('wcc.json issuing through the DTAs', () => {
  it.each(wccCases.map((c) => [c.case, c] as const))('case %i', async (_n, c) => {
    const ta = c.trusted_authorities;
    const dtas = await twoDtas([c.inputs.MS1, c.inputs.MS2], c.date > 0 ? c.date : 20_000);
    try {
      const range = c.date > 0 ? { withPermits: true, fromDay: c.date, toDay: c.date } : {};
      for (const [i, url] of dtas.urls.entries()) {
        const a = await callDta(url, '/v1/wcc/sender-key', dtas.sign({ op: 'wcc-sender', hashId: c.hash_IdA, ...range }));
        expect(a['senderKeyShare']).toBe(ta[`A_sender_key_G1_share_${i + 1}`]);
        const b = await callDta(url, '/v1/wcc/receiver-key', dtas.sign({ op: 'wcc-receiver', hashId: c.hash_IdB, ...range }));
        expect(b['receiverKeyShare']).toBe(ta[`B_receiver_key_G2_share_${i + 1}`]);
        if (c.date > 0) {
          expect(a['permits']).toEqual([{ day: c.date, share: ta[`A_time_permit_G1_share_${i + 1}`] }]);
          expect(b['permits']).toEqual([{ day: c.date, share: ta[`B_time_permit_G2_share_${i + 1}`] }]);
        } else {
          expect(a['permits']).toBeUndefined();
        }
      }
      const sender = await fetchWccKey({ crypto, dtas: dtas.urls, role: 'sender', hashId: c.hash_IdA, request: dtas.sign({ op: 'wcc-sender', hashId: c.hash_IdA, ...range }) });
      const receiver = await fetchWccKey({ crypto, dtas: dtas.urls, role: 'receiver', hashId: c.hash_IdB, request: dtas.sign({ op: 'wcc-receiver', hashId: c.hash_IdB, ...range }) });
      expect(bytesToHex(sender.key)).toBe(ta['A_sender_key_G1']);
      expect(bytesToHex(receiver.key)).toBe(ta['B_receiver_key_G2']);
      if (c.date > 0) {
        expect(bytesToHex(sender.permits.get(c.date) ?? new Uint8Array())).toBe(ta['A_time_permit_G1']);
        expect(bytesToHex(receiver.permits.get(c.date) ?? new Uint8Array())).toBe(ta['B_time_permit_G2']);
      }
      // The keys issued by the DTAs give the vector's session keys (src/crypto/wcc.ts, spec §6.3).
      const pv = c.public_values;
      const date = c.date > 0 ? { date: c.date } : {};
      const k1 = wcc.senderKey({
        ...date,
        x: hexToBytes(c.inputs.x),
        pia: hexToBytes(c.pia),
        pib: hexToBytes(c.pib),
        PbG2: hexToBytes(pv.PbG2),
        PgG1: hexToBytes(pv.PgG1),
        senderKey: sender.key,
        senderPermit: sender.permits.get(c.date),
        idB: hexToBytes(c.IdB_hex),
      });
      const k2 = wcc.receiverKey({
        ...date,
        y: hexToBytes(c.inputs.y),
        w: hexToBytes(c.inputs.w),
        pia: hexToBytes(c.pia),
        pib: hexToBytes(c.pib),
        PaG1: hexToBytes(pv.PaG1),
        receiverKey: receiver.key,
        receiverPermit: receiver.permits.get(c.date),
        idA: hexToBytes(c.IdA_hex),
      });
      expect(bytesToHex(k1)).toBe(c.sender_key);
      expect(bytesToHex(k2)).toBe(c.receiver_key);
    } finally {
      await dtas.stop();
    }
  });

  it('ran every vector case', () => {
    console.log(`identity vectors: mpin-full.json ${mpinCases.length} cases, wcc.json ${wccCases.length} cases`);
    expect(mpinCases).toHaveLength(30);
    expect(wccCases).toHaveLength(24);
  });
});
