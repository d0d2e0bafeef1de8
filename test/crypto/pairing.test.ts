import { millerLoop } from '../../src/crypto/bncx/fast-tower.ts';
import { describe, expect, it } from 'vitest';
import {
  bncx, P, R, decodeG1, decodeG2, encodeG1, encodeG2, encodeGT, decodeGT, traceBytes, os2i,
  pairing, pairing2, mulG1, mulG2, gtPow, G2Prepared, Q_PREPARED, multiPairing, gtIsOne,
} from '../../src/crypto/bncx/index.ts';
import { loadVector, hx, toHex } from './helpers.ts';

type SingleCase = { case: number; P_base_octet: string; Q_base_octet: string; a: string; b: string; P: string; Q: string; e: string; e_trace_fp4: string; e_base: string; ab_mod_r: string };
type DoubleCase = { case: number; a: string; b: string; c: string; d: string; P1: string; Q1: string; P2: string; Q2: string; e: string };
const vec = loadVector<{ cases: (SingleCase | DoubleCase)[] }>('pairing.json');
const params = loadVector<{ encodings_examples: Record<string, string> }>('bncx-params.json');

describe('spec §4 optimal-ate pairing (pairing.json)', () => {
  const singles = vec.cases.filter((c): c is SingleCase => 'P_base_octet' in c);
  const doubles = vec.cases.filter((c): c is DoubleCase => 'P1' in c);

  it('matches every single pairing byte for byte, incl. trace and scalar multiples', () => {
    for (const c of singles) {
      const pb = decodeG1(hx(c.P_base_octet));
      const qb = decodeG2(hx(c.Q_base_octet));
      expect(toHex(encodeG1(mulG1(pb, os2i(hx(c.a)))))).toBe(c.P);
      expect(toHex(encodeG2(mulG2(qb, os2i(hx(c.b)))))).toBe(c.Q);
      const e = pairing(decodeG1(hx(c.P)), decodeG2(hx(c.Q)));
      expect(toHex(encodeGT(e)), `case ${c.case}`).toBe(c.e);
      expect(toHex(traceBytes(e))).toBe(c.e_trace_fp4);
      // bilinearity as recorded: e = e_base^(ab mod r)
      expect(toHex(encodeGT(gtPow(decodeGT(hx(c.e_base)), os2i(hx(c.ab_mod_r)))))).toBe(c.e);
    }
    console.log(`pairing.json: ${singles.length} single-pairing cases ran`);
  });

  it('matches the double pairings e(P1,Q1)·e(P2,Q2) (PAIR_double_ate)', () => {
    for (const c of doubles) {
      const e = pairing2(decodeG1(hx(c.P1)), decodeG2(hx(c.Q1)), decodeG1(hx(c.P2)), new G2Prepared(decodeG2(hx(c.Q2))));
      expect(toHex(encodeGT(e)), `case ${c.case}`).toBe(c.e);
    }
    console.log(`pairing.json: ${doubles.length} double-pairing cases ran`);
    expect(singles.length + doubles.length).toBe(27);
  });

  it('V1: generators, 2·G, e(G1,G2), its trace and Fp12 one', () => {
    const ex = params.encodings_examples;
    const g1 = bncx.G1.BASE;
    const g2 = bncx.G2.BASE;
    expect(toHex(encodeG1(g1))).toBe(ex['G1_octet']);
    expect(toHex(encodeG2(g2))).toBe(ex['G2_octet']);
    expect(toHex(encodeG1(g1.double()))).toBe(ex['2G1_octet']);
    expect(toHex(encodeG2(g2.double()))).toBe(ex['2G2_octet']);
    const e = pairing(g1, Q_PREPARED);
    expect(toHex(encodeGT(e))).toBe(ex['e_G1_G2_fp12_octet']);
    expect(toHex(traceBytes(e))).toBe(ex['e_G1_G2_trace_fp4']);
    expect(toHex(encodeGT(bncx.Fp12.ONE))).toBe(ex['fp12_one_octet']);
  });

  it('final exponentiation is exactly (p¹²−1)/r (compared with a plain power)', () => {
    const F = bncx.Fp12;
    const f = millerLoop([[Q_PREPARED.lines ?? [], P - 1n, 1n]]);
    const easy = F.mul(F.conjugate(f), F.inv(f));
    const m = F.mul(F.frobeniusMap(easy, 2), easy);
    const direct = F.pow(m, (P ** 4n - P ** 2n + 1n) / R);
    expect(F.eql(F.finalExponentiate(f), direct)).toBe(true);
  });

  it('handles O: e(O, Q) = e(P, O) = 1; e(P,Q)·e(−P,Q) = 1', () => {
    expect(gtIsOne(pairing(bncx.G1.ZERO, Q_PREPARED))).toBe(true);
    expect(gtIsOne(pairing(bncx.G1.BASE, bncx.G2.ZERO))).toBe(true);
    expect(gtIsOne(multiPairing([[bncx.G1.BASE, Q_PREPARED], [bncx.G1.BASE.negate(), bncx.G2.BASE]]))).toBe(true);
  });

  it('scalar multiplication reduces any 256-bit scalar mod r (§2.1, §4.6)', () => {
    const k = (1n << 256n) - 12345n;
    expect(mulG1(bncx.G1.BASE, k).equals(mulG1(bncx.G1.BASE, k % R))).toBe(true);
    expect(mulG2(bncx.G2.BASE, k).equals(bncx.mulAnyUnsafe(bncx.G2.BASE, k % R))).toBe(true);
    expect(mulG1(bncx.G1.BASE, R).is0()).toBe(true);
    expect(gtIsOne(gtPow(pairing(bncx.G1.BASE, Q_PREPARED), R))).toBe(true);
  });
});
