import { describe, expect, it } from 'vitest';
import * as wcc from '../../src/crypto/wcc.ts';
import { encodeG1, PointError, encodeG2, map2BeforeClearing, encodeScalar } from '../../src/crypto/bncx/index.ts';
import { AmclRng } from '../../src/crypto/amcl-rng.ts';
import { loadVector, hx, toHex } from './helpers.ts';

type Hex = string;
type Case = {
  case: number; time_permits: boolean; date: number; IdA_hex: Hex; IdB_hex: Hex; hash_IdA: Hex; hash_IdB: Hex;
  inputs: { MS1: Hex; MS2: Hex; x: Hex; w: Hex; y: Hex };
  trusted_authorities: Record<string, Hex | null>;
  public_values: { PaG1: Hex; PgG1: Hex; PbG2: Hex };
  pia: Hex; pib: Hex; sender_key: Hex; receiver_key: Hex; kdf_point_xPgG1: Hex;
};
const vec = loadVector<{ cases: Case[] }>('wcc.json');
const get = (c: Case, k: string): Hex => {
  const v = c.trusted_authorities[k];
  if (typeof v !== 'string') throw new Error(`missing ${k}`);
  return v;
};

describe('spec §6 Wang / Chow–Choo (wcc.json)', () => {
  it('reproduces keys, permits, public values, pia/pib and both session keys', () => {
    for (const c of vec.cases) {
      const idA = hx(c.IdA_hex);
      const idB = hx(c.IdB_hex);
      const hA = wcc.hashId(idA);
      const hB = wcc.hashId(idB);
      expect(toHex(hA)).toBe(c.hash_IdA);
      expect(toHex(hB)).toBe(c.hash_IdB);
      const { MS1, MS2, x, w, y } = c.inputs;
      const a1 = wcc.senderKeyShare(hx(MS1), hA);
      const a2 = wcc.senderKeyShare(hx(MS2), hA);
      expect(toHex(a1)).toBe(get(c, 'A_sender_key_G1_share_1'));
      expect(toHex(a2)).toBe(get(c, 'A_sender_key_G1_share_2'));
      const aKey = wcc.recombineG1(a1, a2);
      expect(toHex(aKey)).toBe(get(c, 'A_sender_key_G1'));
      const b1 = wcc.receiverKeyShare(hx(MS1), hB);
      const b2 = wcc.receiverKeyShare(hx(MS2), hB);
      expect(toHex(b1)).toBe(get(c, 'B_receiver_key_G2_share_1'));
      expect(toHex(b2)).toBe(get(c, 'B_receiver_key_G2_share_2'));
      const bKey = wcc.recombineG2(b1, b2);
      expect(toHex(bKey)).toBe(get(c, 'B_receiver_key_G2'));
      let aPermit: Uint8Array | undefined;
      let bPermit: Uint8Array | undefined;
      if (c.time_permits) {
        const ap1 = wcc.senderPermitShare(hx(MS1), hA, c.date);
        const ap2 = wcc.senderPermitShare(hx(MS2), hA, c.date);
        expect(toHex(ap1)).toBe(get(c, 'A_time_permit_G1_share_1'));
        expect(toHex(ap2)).toBe(get(c, 'A_time_permit_G1_share_2'));
        aPermit = wcc.recombineG1(ap1, ap2);
        expect(toHex(aPermit)).toBe(get(c, 'A_time_permit_G1'));
        const bp1 = wcc.receiverPermitShare(hx(MS1), hB, c.date);
        const bp2 = wcc.receiverPermitShare(hx(MS2), hB, c.date);
        expect(toHex(bp1)).toBe(get(c, 'B_time_permit_G2_share_1'));
        expect(toHex(bp2)).toBe(get(c, 'B_time_permit_G2_share_2'));
        bPermit = wcc.recombineG2(bp1, bp2);
        expect(toHex(bPermit)).toBe(get(c, 'B_time_permit_G2'));
      }
      const snd = wcc.senderEphemeral({ hashIdA: hA, date: c.date, x: hx(x) });
      const rcv = wcc.receiverEphemeral({ hashIdA: hA, hashIdB: hB, date: c.date, w: hx(w), y: hx(y) });
      expect(toHex(snd.PaG1)).toBe(c.public_values.PaG1);
      expect(toHex(rcv.PgG1)).toBe(c.public_values.PgG1);
      expect(toHex(rcv.PbG2)).toBe(c.public_values.PbG2);
      const pia = wcc.pia(snd.PaG1, rcv.PbG2, rcv.PgG1, idB);
      const pib = wcc.pib(rcv.PbG2, snd.PaG1, rcv.PgG1, idA);
      expect(toHex(pia)).toBe(c.pia);
      expect(toHex(pib)).toBe(c.pib);
      const ks = wcc.senderKey({ date: c.date, x: hx(x), pia, pib, PbG2: rcv.PbG2, PgG1: rcv.PgG1, senderKey: aKey, senderPermit: aPermit, idB });
      const kr = wcc.receiverKey({ date: c.date, y: hx(y), w: hx(w), pia, pib, PaG1: snd.PaG1, PgG1: rcv.PgG1, receiverKey: bKey, receiverPermit: bPermit, idA });
      expect(toHex(ks), `case ${c.case} sender`).toBe(c.sender_key);
      expect(toHex(kr), `case ${c.case} receiver`).toBe(c.receiver_key);
      expect(c.kdf_point_xPgG1.startsWith('04')).toBe(true);
    }
    console.log(`wcc.json: ${vec.cases.length} cases ran`);
    expect(vec.cases.length).toBe(24);
  });

  it('§6.4: public values without permit points while keys use them disagree', () => {
    const idA = new TextEncoder().encode('server.miracl.com');
    const idB = new TextEncoder().encode('client@miracl.com');
    const hA = wcc.hashId(idA);
    const hB = wcc.hashId(idB);
    const ms = hx('0849251666b537910c30f0c396408621446acb6608adba50cde5d87f19fe589f');
    const date = 19675;
    const snd = wcc.senderEphemeral({ hashIdA: hA, x: hx('05fc703b970f4d5baa5ac976e1f805d5faf1c935d2966a60436483de51885253') });
    const rcv = wcc.receiverEphemeral({ hashIdA: hA, hashIdB: hB, w: hx('116dbc66d5520e2dda853d8592b1e37b9c53969902633e55112184d286bf44d7'), y: hx('001681d38a05bb6819845e941ef49fd3dd9d9025ee0209df89ed2c93b1f956dc') });
    const pia = wcc.pia(snd.PaG1, rcv.PbG2, rcv.PgG1, idB);
    const pib = wcc.pib(rcv.PbG2, snd.PaG1, rcv.PgG1, idA);
    const ks = wcc.senderKey({ date, x: snd.x, pia, pib, PbG2: rcv.PbG2, PgG1: rcv.PgG1, senderKey: wcc.senderKeyShare(ms, hA), senderPermit: wcc.senderPermitShare(ms, hA, date), idB });
    const kr = wcc.receiverKey({ date, y: rcv.y, w: rcv.w, pia, pib, PaG1: snd.PaG1, receiverKey: wcc.receiverKeyShare(ms, hB), receiverPermit: wcc.receiverPermitShare(ms, hB, date), idA });
    expect(toHex(ks)).not.toBe(toHex(kr));
    expect(() => wcc.senderKey({ date, x: snd.x, pia, pib, PbG2: rcv.PbG2, PgG1: rcv.PgG1, senderKey: encodeG1(wcc.senderPoint(hA)), idB })).toThrow(TypeError);
  });
});

describe('WCC API behaviour', () => {
  const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
  it('round trip with injected randomness; bad peer points are typed errors', () => {
    const rng = new AmclRng(Uint8Array.of(9, 9, 9)).source;
    const idA = enc('server.example');
    const idB = enc('client.example');
    const hA = wcc.hashId(idA);
    const hB = wcc.hashId(idB);
    const msb = encodeScalar(wcc.randomScalar(rng));
    const aKey = wcc.senderKeyShare(msb, hA);
    const bKey = wcc.receiverKeyShare(msb, hB);
    const snd = wcc.senderEphemeral({ hashIdA: hA, rng });
    const rcv = wcc.receiverEphemeral({ hashIdA: hA, hashIdB: hB, rng });
    const pia = wcc.pia(snd.PaG1, rcv.PbG2, rcv.PgG1, idB);
    const pib = wcc.pib(rcv.PbG2, snd.PaG1, rcv.PgG1, idA);
    const ks = wcc.senderKey({ x: snd.x, pia, pib, PbG2: rcv.PbG2, PgG1: rcv.PgG1, senderKey: aKey, idB });
    const kr = wcc.receiverKey({ y: rcv.y, w: rcv.w, pia, pib, PaG1: snd.PaG1, receiverKey: bKey, idA });
    expect(toHex(ks)).toBe(toHex(kr));
    // A claimed identity that is not the key holder's gives a different key.
    const kx = wcc.senderKey({ x: snd.x, pia, pib, PbG2: rcv.PbG2, PgG1: rcv.PgG1, senderKey: aKey, idB: enc('someone.else') });
    expect(toHex(kx)).not.toBe(toHex(kr));
    // PbG2 outside the order-r subgroup (AMCL accepted it, §10 item 9)
    const off = encodeG2(map2BeforeClearing(hB));
    expect(() => wcc.senderKey({ x: snd.x, pia, pib, PbG2: off, PgG1: rcv.PgG1, senderKey: aKey, idB })).toThrow(PointError);
    const badPa = snd.PaG1.slice();
    badPa[0] = 0;
    expect(() => wcc.receiverKey({ y: rcv.y, w: rcv.w, pia, pib, PaG1: badPa, receiverKey: bKey, idA })).toThrow(PointError);
    expect(() => wcc.senderEphemeral({ hashIdA: hA.subarray(1), rng })).toThrow(PointError);
  });
});
