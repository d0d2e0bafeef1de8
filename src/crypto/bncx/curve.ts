/**
 * BNCX pairing-friendly curve (AMCL FIELD_CHOICE=BNCX) built on @noble/curves abstract modules.
 * Spec: docs/milagro-spec.md §1 (parameters, tower, twist), §4 (pairing), §13 (noble facts).
 * noble's bn254 is a different curve and is not used here.
 *
 * Everything in this module is immutable once built: the curve object is constructed once by
 * `buildBncx()` and frozen; no module-level mutable state.
 * @module
 */
import { blsBasic, type BlsPostPrecomputePointAddFn } from '@noble/curves/abstract/bls.js';
import { Field, type IField } from '@noble/curves/abstract/modular.js';
import { tower12, type Fp2, type Fp12 } from '@noble/curves/abstract/tower.js';
import {
  weierstrass,
  type WeierstrassPoint,
  type WeierstrassPointCons,
} from '@noble/curves/abstract/weierstrass.js';

import { P, R, U_ABS } from './params.ts';
import {
  fp12Conjugate, fp12CyclotomicExp, fp12CyclotomicSqr, fp12Mul, fp2Add, fp2Mul, fp2Sqr, fp2Sub, fp2Triple,
} from './fast-tower.ts';

export { P, R, U_ABS };
/** §1.5 cube root of unity in Fp (AMCL's GLV constant). */
const CUBE_ROOT = 0x480000000ca83f1440bddf6471ef875631e0931794235c97n;
/** (p+1)/4: square roots in Fp since p ≡ 3 (mod 4) (§1.6). */
export const SQRT_EXP = (P + 1n) / 4n;
const LEGENDRE_EXP = (P - 1n) / 2n;

export type { Fp2, Fp12 };
export type G1Point = WeierstrassPoint<bigint>;
export type G2Point = WeierstrassPoint<Fp2>;

type EndoBasis = [[bigint, bigint], [bigint, bigint]];
/**
 * GLV lattice bases for BN curves (u signed): vectors (a, b) with a + b·λ ≡ 0 (mod r), for the
 * eigenvalue λ of (x, y) ↦ (βx, y) and for the other root −1−λ (G1 and G2 use different roots).
 */
function glvBases(): { readonly forLam: EndoBasis; readonly forOther: EndoBasis } {
  const u = -U_ABS;
  const a1 = 2n * u + 1n, b1 = 6n * u * u + 4n * u + 1n;
  const a2 = 6n * u * u + 2n * u, b2 = -(2n * u + 1n);
  // (a, b) valid for λ ⇒ (a − b, −b) valid for −1−λ. noble's Babai rounding needs the row
  // order with determinant +r.
  const order = (m: EndoBasis): EndoBasis => {
    const [[x1, y1], [x2, y2]] = m;
    return x1 * y2 - x2 * y1 > 0n ? m : [[x2, y2], [x1, y1]];
  };
  return {
    forLam: order([[a1, b1], [a2, b2]]),
    forOther: order([[a1 - b1, -b1], [a2 - b2, -b2]]),
  };
}

function buildBncx() {
  const Fn = Field(R);
  // Late-bound reference so the final exponentiation can use the finished Fp12 (closure-local).
  const ref: { Fp12?: ReturnType<typeof tower12>['Fp12'] } = {};
  const fexp = (f: Fp12): Fp12 => {
    const F = ref.Fp12;
    if (F === undefined) throw new Error('BNCX tower not initialised');
    return finalExponentiate(F, f);
  };
  const tower = tower12({
    ORDER: P,
    X_LEN: 63, // bit length of |u|, used by _cyclotomicExp
    FP2_NONRESIDUE: [1n, 1n], // ξ = 1 + i (§1.3)
    // b' = 2/ξ = 1 - i: (a + bi)(1 - i) = (a + b) + (b - a)i (§1.4)
    Fp2mulByB: (num: Fp2): Fp2 => ({ c0: Fp.add(num.c0, num.c1), c1: Fp.sub(num.c1, num.c0) }),
    Fp12finalExponentiate: fexp,
  });
  const { Fp, Fp2, Fp6, Fp12 } = tower;
  ref.Fp12 = Fp12;

  // Twisted Frobenius π(x, y) = (conj(x)·X², conj(y)·X³), X = ξ^((p-1)/6) (§1.5).
  const PSI_X = Fp2.pow(Fp2.NONRESIDUE, (P - 1n) / 3n);
  const PSI_Y = Fp2.pow(Fp2.NONRESIDUE, (P - 1n) / 2n);
  const psi = (x: Fp2, y: Fp2): [Fp2, Fp2] => [
    Fp2.mul(Fp2.frobeniusMap(x, 1), PSI_X),
    Fp2.mul(Fp2.frobeniusMap(y, 1), PSI_Y),
  ];

  // λ with λ² + λ + 1 ≡ 0 (mod r): the eigenvalue of (x, y) ↦ (βx, y), in closed form for BN
  // curves. With AMCL's β it is 36u⁴ − 1 on G1 and the other root, 36u³ + 18u² + 6u + 1, on G2;
  // test/crypto/curve-constants.test.ts checks [λ]g = (βx, y) on both generators. (Finding the
  // roots by scalar multiplication here cost ~230 ms at every process start.)
  const u = -U_ABS;
  const lamG1 = Fn.create(36n * u ** 4n - 1n);
  const lamG2 = Fn.create(36n * u ** 3n + 18n * u ** 2n + 6n * u + 1n);
  // λ₁ must be the root the fixed basis was written for (checked below for G1 and G2).
  const bases = glvBases();
  const basisFor = (lam: bigint): EndoBasis => {
    const [[a, b]] = bases.forLam;
    return Fn.create(a + b * lam) === 0n ? bases.forLam : bases.forOther;
  };
  const g1Basis = basisFor(lamG1);
  const G1 = weierstrass<bigint>(
    { p: P, n: R, h: 1n, a: 0n, b: 2n, Gx: P - 1n, Gy: 1n },
    { Fp, Fn, endo: { beta: CUBE_ROOT, basises: g1Basis } },
  );

  const G2_CURVE = {
    p: Fp2.ORDER,
    n: R,
    h: 2n * P - R, // §1.4 cofactor h₂ = 2p − r
    a: Fp2.ZERO,
    b: Fp2.create({ c0: 1n, c1: P - 1n }),
    Gx: Fp2.create({
      c0: 0x19682d2c7053b256358b2500f5c34bbb907c85bfa03e2726c0851ceee4d2ec74n,
      c1: 0x1466b9ec3e19f64aa011c937a8e99743f81b97b0c209c30f47a58e8b2e29cfe1n,
    }),
    Gy: Fp2.create({
      c0: 0x0a79edd972332b8dd81e22157daee2096361b33d847ec1b30cfbfcebcf0be09fn,
      c1: 0x06160c39ecc4c09035c6e4512d8d3461c2864ea569d2edebed904b228898ee9dn,
    }),
  };
  // Subgroup test: [r]P = O by plain double-and-add (valid on the whole twist group, §2.6).
  const G2plain = weierstrass<Fp2>(G2_CURVE, { Fp: Fp2, Fn });
  const betaFp2 = CUBE_ROOT;
  const g2Basis = basisFor(lamG2);
  const G2 = weierstrass<Fp2>(G2_CURVE, {
    Fp: Fp2,
    Fn,
    endo: { beta: betaFp2, basises: g2Basis },
    isTorsionFree: (_c, pt) => isTorsionFreeG2(pt),
    clearCofactor: (_c, pt) => clearCofactorG2(pt),
  });

  /** Double-and-add that is valid for any point of the group (no endomorphism assumptions). */
  function mulAnyUnsafe<T>(pt: WeierstrassPoint<T>, k: bigint): WeierstrassPoint<T> {
    let acc = pt.add(pt.negate()); // zero of the same class
    const bits = k.toString(2);
    for (const b of bits) {
      acc = acc.double();
      if (b === '1') acc = acc.add(pt);
    }
    return acc;
  }
  /**
   * Windowed (wNAF) multiplication valid on the whole twist group: the same coordinates on a
   * point class without the GLV endomorphism, which assumes order r. 0 < k < r.
   */
  const mulTwistUnsafe = (pt: G2Point, k: bigint): G2Point => {
    const q = new G2plain(pt.X, pt.Y, pt.Z).multiplyUnsafe(k);
    return new G2(q.X, q.Y, q.Z);
  };
  /**
   * Exact G2 membership for Q ∈ E'(Fp2): ψ(Q) = [6u²]Q (§2.6).
   * Proof: ψ (the twisted Frobenius π of §1.5) is an endomorphism of E' conjugate to the p-power
   * Frobenius of E, so ψ² − tψ + p = 0 with t = p + 1 − #E(Fp) = p + 1 − r = 6u² + 1. If
   * ψ(Q) = [λ]Q with λ = 6u² then (λ² − tλ + p)Q = O, and λ² − tλ + p = p − 6u² = r, so [r]Q = O.
   * Conversely on G2, ψ acts as p ≡ p − r = 6u² (mod r). (Cross-checked against [r]Q = O in
   * test/crypto/codec.test.ts.) Half the cost of [r]Q.
   */
  function isTorsionFreeG2(pt: G2Point): boolean {
    if (pt.is0()) return true;
    const q = pt.toAffine();
    // [6u²]Q = [6]([|u|]([|u|]Q)): |u| has 11 set bits, so two double-and-add chains (62 doublings,
    // 10 additions each) on the fast tower beat a 127-bit wNAF on noble's points by ~2.5×.
    const a1 = jacToAffine(jacMulSmall(q, U_ABS));
    if (a1 === undefined) return false; // [u]Q = O: Q has order dividing u, not r
    const a2 = jacToAffine(jacMulSmall(a1, U_ABS));
    if (a2 === undefined) return false;
    const six = jacDouble(jacAddAffine(jacDouble({ x: a2.x, y: a2.y, z: Fp2.ONE }), a2));
    const [px, py] = psi(q.x, q.y);
    if (Fp2.is0(six.z)) return false; // ψ(Q) ≠ O for Q ≠ O
    const z2 = fp2Sqr(six.z);
    return Fp2.eql(six.x, fp2Mul(px, z2)) && Fp2.eql(six.y, fp2Mul(py, fp2Mul(z2, six.z)));
  }
  /** Jacobian (X : Y : Z) ↦ (X/Z², Y/Z³) on the twist y² = x³ + b′; Z = 0 is O. */
  type Jac = { readonly x: Fp2; readonly y: Fp2; readonly z: Fp2 };
  const jacToAffine = (p0: Jac): { x: Fp2; y: Fp2 } | undefined => {
    if (Fp2.is0(p0.z)) return undefined;
    const zi = Fp2.inv(p0.z);
    const zi2 = fp2Sqr(zi);
    return { x: fp2Mul(p0.x, zi2), y: fp2Mul(p0.y, fp2Mul(zi2, zi)) };
  };
  /** dbl-2009-l (a = 0). */
  function jacDouble(p0: Jac): Jac {
    const A = fp2Sqr(p0.x);
    const B = fp2Sqr(p0.y);
    const C = fp2Sqr(B);
    const t = fp2Sub(fp2Sub(fp2Sqr(fp2Add(p0.x, B)), A), C);
    const D = fp2Add(t, t);
    const E = fp2Triple(A);
    const F = fp2Sqr(E);
    const x3 = fp2Sub(F, fp2Add(D, D));
    const c2 = fp2Add(C, C);
    const c4 = fp2Add(c2, c2);
    const yz = fp2Mul(p0.y, p0.z);
    return { x: x3, y: fp2Sub(fp2Mul(E, fp2Sub(D, x3)), fp2Add(c4, c4)), z: fp2Add(yz, yz) };
  }
  /** madd-2007-bl: P + Q with Q affine, every exceptional case handled (public inputs only). */
  function jacAddAffine(p0: Jac, q: { readonly x: Fp2; readonly y: Fp2 }): Jac {
    if (Fp2.is0(p0.z)) return { x: q.x, y: q.y, z: Fp2.ONE };
    const z1z1 = fp2Sqr(p0.z);
    const u2 = fp2Mul(q.x, z1z1);
    const s2 = fp2Mul(q.y, fp2Mul(p0.z, z1z1));
    const H = fp2Sub(u2, p0.x);
    const rr = fp2Sub(s2, p0.y);
    if (Fp2.is0(H)) return Fp2.is0(rr) ? jacDouble(p0) : { x: Fp2.ONE, y: Fp2.ONE, z: Fp2.ZERO };
    const HH = fp2Sqr(H);
    const I = fp2Add(fp2Add(HH, HH), fp2Add(HH, HH));
    const J = fp2Mul(H, I);
    const r2 = fp2Add(rr, rr);
    const V = fp2Mul(p0.x, I);
    const x3 = fp2Sub(fp2Sub(fp2Sqr(r2), J), fp2Add(V, V));
    const yj = fp2Mul(p0.y, J);
    return {
      x: x3,
      y: fp2Sub(fp2Mul(r2, fp2Sub(V, x3)), fp2Add(yj, yj)),
      z: fp2Sub(fp2Sub(fp2Sqr(fp2Add(p0.z, H)), z1z1), HH),
    };
  }
  /** [k]Q for public k > 0 by left-to-right double-and-add (low Hamming weight k). */
  function jacMulSmall(q: { readonly x: Fp2; readonly y: Fp2 }, k: bigint): Jac {
    const bits = k.toString(2);
    let acc: Jac = { x: q.x, y: q.y, z: Fp2.ONE };
    for (let i = 1; i < bits.length; i++) {
      acc = Fp2.is0(acc.z) ? acc : jacDouble(acc);
      if (bits.charCodeAt(i) === 49) acc = jacAddAffine(acc, q);
    }
    return acc;
  }
  /** Reference membership test [r]Q = O (computed as [r−1]Q = −Q), for cross-checks. */
  function isTorsionFreeG2Slow(pt: G2Point): boolean {
    if (pt.is0()) return true;
    const q = new G2plain(pt.X, pt.Y, pt.Z);
    return q.multiplyUnsafe(R - 1n).equals(q.negate());
  }
  const psiPoint = (pt: G2Point): G2Point => {
    if (pt.is0()) return pt;
    const a = pt.toAffine();
    const [x, y] = psi(a.x, a.y);
    return G2.fromAffine({ x, y });
  };
  /** §3.4 FKR cofactor clearing: [u]P + π([3u]P) + π²([u]P) + π³(P), u < 0. */
  function clearCofactorG2(p0: G2Point): G2Point {
    const uP = mulTwistUnsafe(p0, U_ABS).negate(); // [u]P, u negative
    const u3P = uP.add(uP).add(uP);
    return uP.add(psiPoint(u3P)).add(psiPoint(psiPoint(uP))).add(psiPoint(psiPoint(psiPoint(p0))));
  }

  // §4.1 with noble's Miller loop: noble conjugates f after the post-loop lines, so the hook
  // adds −π(Q) then +π²(Q) (§13; conjugating a line equals the line through negated points).
  const postPrecompute = (
    Rx: Fp2, Ry: Fp2, Rz: Fp2, Qx: Fp2, Qy: Fp2, pointAdd: BlsPostPrecomputePointAddFn,
  ): void => {
    const q1 = psi(Qx, Qy);
    ({ Rx, Ry, Rz } = pointAdd(Rx, Ry, Rz, q1[0], Fp2.neg(q1[1])));
    const q2 = psi(q1[0], q1[1]);
    pointAdd(Rx, Ry, Rz, q2[0], q2[1]);
  };
  const pair = blsBasic({ Fp, Fp2, Fp6, Fp12, Fr: Fn }, G1, G2, {
    ateLoopSize: 6n * U_ABS - 2n, // |6u + 2| for negative u
    xNegative: true,
    twistType: 'divisive',
    postPrecompute,
  });

  const isSquare = (a: bigint): boolean => Fp.pow(a, LEGENDRE_EXP) === 1n;

  return Object.freeze({
    Fp, Fp2, Fp6, Fp12, Fn, G1, G2, pair, psi, psiPoint, mulAnyUnsafe, clearCofactorG2, isTorsionFreeG2, isTorsionFreeG2Slow,
    isSquare, lamG1, lamG2, g1Basis, g2Basis, beta: CUBE_ROOT,
  });
}

/**
 * §4.2: exactly f^((p¹²−1)/r). Easy part (p⁶−1)(p²+1), then the hard part (p⁴−p²+1)/r =
 * λ₀ + λ₁p + λ₂p² + p³ (λ₀ = −36u³−30u²−18u−2, λ₁ = −36u³−18u²−12u+1, λ₂ = 6u²+1) with the
 * addition chain of Scott et al. 2009 (eprint 2008/490, §5 BN curves):
 * result = y₀·y₁²·y₂⁶·y₃¹²·y₄¹⁸·y₅³⁰·y₆³⁶. u is negative, so f^u = conj(f^|u|) in the
 * cyclotomic subgroup. noble's bn254 hard part is a multiple of this and cannot be reused (§13).
 */
function finalExponentiate(F: ReturnType<typeof tower12>['Fp12'], f: Fp12): Fp12 {
  // Multiplications and squarings use the lazily reduced tower (fast-tower.ts); Frobenius and the
  // single inversion stay with noble.
  const mul = fp12Mul;
  const conj = fp12Conjugate;
  const sq = fp12CyclotomicSqr;
  const frob = (a: Fp12, k: number): Fp12 => F.frobeniusMap(a, k);
  const t0 = mul(conj(f), F.inv(f));
  const m = mul(frob(t0, 2), t0); // cyclotomic from here: inverse = conjugate
  const A = fp12CyclotomicExp(m, U_ABS); // m^|u|;   m^u  = conj(A)
  const B = fp12CyclotomicExp(A, U_ABS); // m^(u²) = B
  const C = fp12CyclotomicExp(B, U_ABS); // m^|u|³; m^(u³) = conj(C)
  const y0 = mul(mul(frob(m, 1), frob(m, 2)), frob(m, 3));
  const y1 = conj(m);
  const y2 = frob(B, 2);
  const y3 = frob(A, 1); // 1/(m^u)^p
  const y4 = mul(A, conj(frob(B, 1))); // 1/(m^u · (m^(u²))^p)
  const y5 = conj(B); // 1/m^(u²)
  const y6 = mul(C, frob(C, 1)); // 1/(m^(u³) · (m^(u³))^p)
  let T0 = mul(mul(sq(y6), y4), y5);
  let T1 = mul(mul(y3, y5), T0);
  T0 = mul(T0, y2);
  T1 = sq(mul(sq(T1), T0));
  T0 = mul(T1, y1);
  T1 = mul(T1, y0);
  T0 = sq(T0);
  return mul(T0, T1);
}

/** The BNCX curve: fields, groups, pairing. Immutable. */
export const bncx = buildBncx();
export type Bncx = typeof bncx;
export type FpField = IField<bigint>;
export type G2Cons = WeierstrassPointCons<Fp2>;
