import { describe, expect, it } from 'vitest';
import { bncx, R, type G1Point, type G2Point } from '../../src/crypto/bncx/index.ts';
import { pairing, gtPow, gsSplit, G2Prepared } from '../../src/crypto/bncx/pairing.ts';
import {
  fp12Conjugate,
  fp12CyclotomicExp,
  fp12CyclotomicSqr,
  fp12Mul,
  fp12Sqr,
  fp2Add,
  fp2Mul,
  fp2Sub,
  millerLoop,
  type Fp12,
} from '../../src/crypto/bncx/fast-tower.ts';

/** Seeded xorshift so failures reproduce. */
function prng(seed: number): () => bigint {
  let s = seed >>> 0 || 1;
  return () => {
    let v = 0n;
    for (let i = 0; i < 8; i++) {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      v = (v << 32n) | BigInt(s >>> 0);
    }
    return bncx.Fp.create(v);
  };
}
const rnd = prng(12345);
const fp2 = () => ({ c0: rnd(), c1: rnd() });
const fp6 = () => ({ c0: fp2(), c1: fp2(), c2: fp2() });
const fp12 = (): Fp12 => ({ c0: fp6(), c1: fp6() });
const F = bncx.Fp12;

describe('fast tower (lazy reduction) agrees with noble tower12', () => {
  it('Fp2 add, sub, mul', () => {
    for (let i = 0; i < 50; i++) {
      const a = fp2();
      const b = fp2();
      expect(fp2Mul(a, b)).toEqual(bncx.Fp2.mul(a, b));
      expect(fp2Add(a, b)).toEqual(bncx.Fp2.add(a, b));
      expect(fp2Sub(a, b)).toEqual(bncx.Fp2.sub(a, b));
    }
  });
  it('Fp12 mul, sqr, conjugate on random elements', () => {
    for (let i = 0; i < 20; i++) {
      const a = fp12();
      const b = fp12();
      expect(F.eql(fp12Mul(a, b), F.mul(a, b))).toBe(true);
      expect(F.eql(fp12Sqr(a), F.sqr(a))).toBe(true);
      expect(F.eql(fp12Conjugate(a), F.conjugate(a))).toBe(true);
    }
  });
  it('cyclotomic squaring and exponentiation in GT', () => {
    const g = pairing(bncx.G1.BASE, bncx.G2.BASE);
    expect(F.eql(fp12CyclotomicSqr(g), F.sqr(g))).toBe(true);
    expect(F.eql(fp12CyclotomicExp(g, 0xdeadbeefn), F.pow(g, 0xdeadbeefn))).toBe(true);
    const k = R - 12345n;
    expect(F.eql(gtPow(g, k), F.pow(g, k))).toBe(true);
  });
  it('line precomputation and Miller loop match noble (calcPairingPrecomputes, millerLoopBatch)', () => {
    for (const k of [1n, 0xabcdefn, R - 2n]) {
      const q = bncx.G2.BASE.multiply(k);
      const ours = new G2Prepared(q).lines ?? [];
      const theirs = bncx.pair.utils.calcPairingPrecomputes(q);
      expect(ours).toEqual(theirs);
      const p = bncx.G1.BASE.multiply(((k + 7n) % R) || 1n).toAffine();
      expect(F.eql(millerLoop([[ours, p.x, p.y]]), bncx.pair.millerLoopBatch([[theirs, p.x, p.y]]))).toBe(true);
    }
  });
  it('outputs are fully reduced', () => {
    const v = fp12Mul(fp12(), fp12());
    for (const c6 of [v.c0, v.c1]) for (const c2 of [c6.c0, c6.c1, c6.c2]) for (const x of [c2.c0, c2.c1]) {
      expect(x >= 0n && x < bncx.Fp.ORDER).toBe(true);
    }
  });
});

describe('4-dimensional Galbraith–Scott split for GT exponentiation', () => {
  it('k ≡ Σ kᵢ·(p mod r)ⁱ with |kᵢ| < 2⁶⁸, and gtPow agrees with a plain power', () => {
    const lam = bncx.Fp.ORDER % R;
    const g = pairing(bncx.G1.BASE, bncx.G2.BASE);
    for (const k of [1n, 2n, R - 1n, R / 3n, 0x1234567890abcdef1234567890abcdefn, (1n << 253n) + 99n]) {
      const parts = gsSplit(k);
      const sum = parts.reduce((acc, v, i) => acc + v * lam ** BigInt(i), 0n);
      expect((((sum - k) % R) + R) % R).toBe(0n);
      for (const v of parts) expect(v < 0n ? -v : v).toBeLessThan(1n << 68n);
      expect(F.eql(gtPow(g, k), F.pow(g, k % R))).toBe(true);
    }
  });
});

/** A GLV multiply against plain double-and-add (no endomorphism), on a point with no precomputed table. */
function checkOnce<P extends { equals(o: P): boolean; is0(): boolean }>(mulOnce: (p: P, k: bigint) => P, point: P, zero: P, reference: (p: P, e: bigint) => P): void {
  const ks = [1n, 2n, 15n, 16n, R - 1n, R - 2n, R / 2n, (1n << 127n) - 1n, 1n << 127n, R + 5n, 3n * R + 1n];
  for (let i = 0; i < 16; i++) ks.push(rnd() % R);
  for (const k of ks) {
    const e = ((k % R) + R) % R;
    expect(mulOnce(point, k).equals(e === 0n ? zero : reference(point, e)), `k = ${k}`).toBe(true);
  }
  expect(mulOnce(point, R).is0()).toBe(true);
  expect(mulOnce(zero, 5n).is0()).toBe(true);
}

describe('mulG1Once / mulG2Once (GLV + joint fixed window, secret scalars)', () => {
  it('G1: agrees with double-and-add for edge and random scalars, any sign pattern of the GLV halves', async () => {
    const { mulG1Once } = await import('../../src/crypto/bncx/pairing.ts');
    checkOnce<G1Point>(mulG1Once, bncx.G1.BASE.multiply(0xc0ffeen), bncx.G1.ZERO, bncx.mulAnyUnsafe);
  });
  it('G2: the same with G2\'s eigenvalue and basis', async () => {
    const { mulG2Once } = await import('../../src/crypto/bncx/pairing.ts');
    checkOnce<G2Point>(mulG2Once, bncx.G2.BASE.multiply(0xc0ffeen), bncx.G2.ZERO, bncx.mulAnyUnsafe);
  });
});
