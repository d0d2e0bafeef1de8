/**
 * The GLV eigenvalues that src/crypto/bncx/curve.ts writes in closed form (36u⁴ − 1 on G1,
 * 36u³ + 18u² + 6u + 1 on G2) are checked here with plain double-and-add, which does not use the
 * endomorphism: [λ]g must equal (βx, y) on each generator. A wrong root would make every
 * endomorphism-accelerated multiplication wrong.
 */
import { describe, expect, it } from 'vitest';
import { R, bncx } from '../../src/crypto/bncx/index.ts';

const mod = (a: bigint): bigint => ((a % R) + R) % R;

describe('BNCX GLV constants', () => {
  it('λ on G1 and on G2 are the two roots of λ² + λ + 1 mod r', () => {
    for (const lam of [bncx.lamG1, bncx.lamG2]) expect(mod(lam * lam + lam + 1n)).toBe(0n);
    expect(bncx.lamG1).not.toBe(bncx.lamG2);
    expect(mod(bncx.lamG1 + bncx.lamG2 + 1n)).toBe(0n);
  });

  it('[λ]g = (βx, y) on the G1 generator, by double-and-add', () => {
    const g = bncx.G1.BASE;
    const expected = new bncx.G1(bncx.Fp.mul(g.X, bncx.beta), g.Y, g.Z);
    expect(bncx.mulAnyUnsafe(g, bncx.lamG1).equals(expected)).toBe(true);
    // The other root is not the eigenvalue there.
    expect(bncx.mulAnyUnsafe(g, bncx.lamG2).equals(expected)).toBe(false);
  });

  it('[λ]q = (βx, y) on the G2 generator, by double-and-add', () => {
    const q = bncx.G2.BASE;
    const expected = new bncx.G2(bncx.Fp2.mul(q.X, bncx.beta), q.Y, q.Z);
    expect(bncx.mulAnyUnsafe(q, bncx.lamG2).equals(expected)).toBe(true);
    expect(bncx.mulAnyUnsafe(q, bncx.lamG1).equals(expected)).toBe(false);
  });

  it('the endomorphism-accelerated multiply agrees with double-and-add on both groups', () => {
    const k = mod(0x1234567890abcdef1234567890abcdef1234567890abcdefn * 0xfedcba9876543210n);
    expect(bncx.G1.BASE.multiply(k).equals(bncx.mulAnyUnsafe(bncx.G1.BASE, k))).toBe(true);
    expect(bncx.G2.BASE.multiply(k).equals(bncx.mulAnyUnsafe(bncx.G2.BASE, k))).toBe(true);
  });
});
