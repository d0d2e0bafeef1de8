import { describe, expect, it } from 'vitest';
import {
  P, R, bncx, PointError, type PointErrorCode, decodeG1, decodeG2, encodeG1, encodeG2, encodeGT, decodeGT,
  decodeScalar, decodeSecretScalar, i2os, map2BeforeClearing, hashId, pairing, Q_PREPARED,
} from '../../src/crypto/bncx/index.ts';

function expectPointError(fn: () => unknown, code: PointErrorCode): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(PointError);
    expect((e as PointError).code).toBe(code);
    return;
  }
  throw new Error(`expected PointError(${code})`);
}
const g1 = (): Uint8Array => encodeG1(bncx.G1.BASE.double());
const g2 = (): Uint8Array => encodeG2(bncx.G2.BASE.double());

describe('spec §2.6 strict G1 decoding', () => {
  it('round-trips a valid point', () => {
    expect(decodeG1(g1()).equals(bncx.G1.BASE.double())).toBe(true);
  });
  it('rejects a wrong length (64, 66, 33 bytes)', () => {
    expectPointError(() => decodeG1(g1().subarray(0, 64)), 'length');
    expectPointError(() => decodeG1(new Uint8Array([...g1(), 0])), 'length');
    expectPointError(() => decodeG1(g1().subarray(0, 33)), 'length');
  });
  it('rejects a prefix other than 04 (AMCL ignored it)', () => {
    for (const p of [0x00, 0x02, 0x03, 0x05]) {
      const b = g1();
      b[0] = p;
      expectPointError(() => decodeG1(b), 'prefix');
    }
  });
  it('rejects coordinates ≥ p (AMCL reduced them)', () => {
    const b = g1();
    const { x } = bncx.G1.BASE.double().toAffine();
    b.set(i2os(x + P), 1); // same residue, non-canonical
    expectPointError(() => decodeG1(b), 'range');
  });
  it('rejects a point not on the curve', () => {
    const b = g1();
    b[64] = (b[64] ?? 0) ^ 1;
    expectPointError(() => decodeG1(b), 'not-on-curve');
  });
  it('cannot encode the point at infinity', () => {
    expectPointError(() => encodeG1(bncx.G1.ZERO), 'infinity');
  });
});

describe('spec §2.6 strict G2 decoding', () => {
  it('round-trips a valid point', () => {
    expect(decodeG2(g2()).equals(bncx.G2.BASE.double())).toBe(true);
  });
  it('rejects a wrong length', () => {
    expectPointError(() => decodeG2(g2().subarray(0, 127)), 'length');
    expectPointError(() => decodeG2(new Uint8Array([...g2(), 0])), 'length');
  });
  it('rejects a coordinate ≥ p', () => {
    const b = g2();
    b.set(i2os(P), 32);
    expectPointError(() => decodeG2(b), 'range');
  });
  it('rejects a point not on the twist', () => {
    const b = g2();
    b[127] = (b[127] ?? 0) ^ 1;
    expectPointError(() => decodeG2(b), 'not-on-curve');
  });
  it('rejects a twist point outside the order-r subgroup (AMCL accepted it)', () => {
    const off = encodeG2(map2BeforeClearing(hashId(new TextEncoder().encode('client@miracl.com'))));
    expectPointError(() => decodeG2(off), 'not-in-subgroup');
  });
  it('the ψ-based membership test agrees with [r]Q = O on in- and out-of-subgroup points', () => {
    const enc = new TextEncoder();
    for (let i = 0; i < 12; i++) {
      const raw = map2BeforeClearing(hashId(enc.encode(`point ${i}`))); // generic twist point
      const inG2 = bncx.clearCofactorG2(raw);
      const cof = bncx.mulAnyUnsafe(raw, R); // [r]raw: a point of the cofactor part only
      for (const pt of [raw, inG2, cof, inG2.add(cof)]) {
        expect(bncx.isTorsionFreeG2(pt)).toBe(bncx.isTorsionFreeG2Slow(pt));
      }
      expect(bncx.isTorsionFreeG2(inG2)).toBe(true);
      expect(bncx.isTorsionFreeG2(raw)).toBe(false);
      expect(bncx.isTorsionFreeG2(cof)).toBe(false);
    }
  });
  it('cannot encode or decode the point at infinity', () => {
    expectPointError(() => encodeG2(bncx.G2.ZERO), 'infinity');
    // all-zero bytes are (0,0), which is not on the twist: O has no encoding
    expectPointError(() => decodeG2(new Uint8Array(128)), 'not-on-curve');
  });
});

describe('spec §2.1/§2.5 scalars and GT', () => {
  it('scalars are exactly 32 bytes; secrets must be in [1, r−1]', () => {
    expectPointError(() => decodeScalar(new Uint8Array(31)), 'length');
    expect(decodeScalar(i2os(R + 5n))).toBe(R + 5n);
    expectPointError(() => decodeSecretScalar(new Uint8Array(32)), 'range');
    expectPointError(() => decodeSecretScalar(i2os(R)), 'range');
    expect(decodeSecretScalar(i2os(R - 1n))).toBe(R - 1n);
  });
  it('GT octets round-trip and reject a wrong length', () => {
    const e = pairing(bncx.G1.BASE, Q_PREPARED);
    expect(bncx.Fp12.eql(decodeGT(encodeGT(e)), e)).toBe(true);
    expectPointError(() => decodeGT(new Uint8Array(383)), 'length');
  });
});
