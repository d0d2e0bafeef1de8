import { describe, expect, it } from 'vitest';
import {
  hashId, hashN, datedHash, map1, map2, map2BeforeClearing, encodeG1, encodeG2, isInG2, sqrtFp2Amcl, bncx,
} from '../../src/crypto/bncx/index.ts';
import { loadVector, hx, toHex } from './helpers.ts';

type Case = {
  case: number; identity_hex: string; hash_id: string; g1_map_point: string;
  g2_map_setx_point_before_cofactor_clearing: string; g2_map_point: string;
  date: number; date_hash: string; date_g1_map_point: string; date_g2_map_point: string;
};
const vec = loadVector<{ cases: Case[] }>('hash-to-curve.json');

describe('spec §3 hashing and maps (hash-to-curve.json)', () => {
  it('hashId, map1, map2 (both stages) and the dated variants match AMCL', () => {
    for (const c of vec.cases) {
      const hid = hashId(hx(c.identity_hex));
      expect(toHex(hid)).toBe(c.hash_id);
      expect(toHex(encodeG1(map1(hid))), `case ${c.case} map1`).toBe(c.g1_map_point);
      expect(toHex(encodeG2(map2BeforeClearing(hid))), `case ${c.case} setx`).toBe(c.g2_map_setx_point_before_cofactor_clearing);
      const h2 = map2(hid);
      expect(toHex(encodeG2(h2)), `case ${c.case} map2`).toBe(c.g2_map_point);
      const dh = datedHash(c.date, hid);
      expect(toHex(dh)).toBe(c.date_hash);
      expect(toHex(encodeG1(map1(dh)))).toBe(c.date_g1_map_point);
      expect(toHex(encodeG2(map2(dh)))).toBe(c.date_g2_map_point);
    }
    console.log(`hash-to-curve.json: ${vec.cases.length} cases ran`);
    expect(vec.cases.length).toBe(27);
  });

  it('map2 output has order r (cofactor cleared)', () => {
    const first = vec.cases[0];
    if (first === undefined) throw new Error('no cases');
    expect(isInG2(map2(hx(first.hash_id)))).toBe(true);
    expect(isInG2(map2BeforeClearing(hx(first.hash_id)))).toBe(false);
  });

  it('§3.1 hashN: prefix only when n > 0 as signed 32-bit', () => {
    const m = new Uint8Array([1, 2, 3]);
    expect(toHex(hashN(0, m))).toBe(toHex(hashN(-1, m)));
    expect(toHex(hashN(0, m))).not.toBe(toHex(hashN(5, m)));
    expect(toHex(hashN(5, m))).toBe(toHex(hashN(0, new Uint8Array([0, 0, 0, 5, 1, 2, 3]))));
    // 2^31 is negative as int32: AMCL drops the prefix after 2038.
    expect(toHex(hashN(2 ** 31, m))).toBe(toHex(hashN(0, m)));
    expect(toHex(hashN(2 ** 31 - 1, m))).not.toBe(toHex(hashN(0, m)));
    expect(() => hashN(2 ** 32, m)).toThrow(RangeError);
    expect(() => hashN(1.5, m)).toThrow(RangeError);
  });

  it('§1.6 AMCL Fp2 sqrt squares back and fails on non-squares', () => {
    const { Fp2 } = bncx;
    const u = { c0: 5n, c1: 7n };
    const sq = Fp2.sqr(u);
    const root = sqrtFp2Amcl(sq);
    expect(root).toBeDefined();
    if (root) expect(Fp2.eql(Fp2.sqr(root), sq)).toBe(true);
    // ξ = 1 + i is a non-residue in Fp2 (it defines the sextic tower).
    expect(sqrtFp2Amcl({ c0: 1n, c1: 1n })).toBeUndefined();
    expect(sqrtFp2Amcl({ c0: 0n, c1: 0n })).toEqual({ c0: 0n, c1: 0n });
  });
});
