/**
 * Optimal-ate pairing on BNCX, exactly (f·ℓ₁·ℓ₂)^((p¹²−1)/r) (spec §4), plus products of two
 * pairings, fixed-point G2 line precomputation, GT exponentiation and scalar multiplication.
 * @module
 */
import { bncx, P, R, type Fp12, type G1Point, type G2Point } from './curve.ts';
import {
  fp12Conjugate, fp12CyclotomicSqr, fp12Mul, fp2Add, fp2Half, fp2Mul, fp2MulByB, fp2Neg, fp2Sqr, fp2Sub, fp2Triple, millerLoop, ONE12,
  type Fp2, type Line, type Lines,
} from './fast-tower.ts';
import { U_ABS } from './params.ts';
import { _splitEndoScalar, type WeierstrassPoint } from '@noble/curves/abstract/weierstrass.js';

/** NAF digits of the ate loop |6u + 2| (noble's NAfDecomposition, most significant first, without the leading 1). */
function nafDigits(a0: bigint): readonly (-1 | 0 | 1)[] {
  const res: (-1 | 0 | 1)[] = [];
  for (let a = a0; a > 1n; a >>= 1n) {
    if ((a & 1n) === 0n) res.unshift(0);
    else if ((a & 3n) === 3n) {
      res.unshift(-1);
      a += 1n;
    } else res.unshift(1);
  }
  return res;
}
const ATE_NAF = nafDigits(6n * U_ABS - 2n);

interface Proj {
  readonly x: Fp2;
  readonly y: Fp2;
  readonly z: Fp2;
}
/** noble's pointDouble for the line precomputation (homogeneous coordinates), same values. */
function lineDouble(ell: Line[], r: Proj): Proj {
  const t0 = fp2Sqr(r.y);
  const t1 = fp2Sqr(r.z);
  const t2 = fp2MulByB(fp2Triple(t1));
  const t3 = fp2Triple(t2);
  const t4 = fp2Sub(fp2Sub(fp2Sqr(fp2Add(r.y, r.z)), t1), t0);
  ell.push([fp2Sub(t2, t0), fp2Triple(fp2Sqr(r.x)), fp2Neg(t4)]);
  return {
    x: fp2Half(fp2Mul(fp2Mul(fp2Sub(t0, t3), r.x), r.y)),
    y: fp2Sub(fp2Sqr(fp2Half(fp2Add(t0, t3))), fp2Triple(fp2Sqr(t2))),
    z: fp2Mul(t0, t4),
  };
}
/** noble's pointAdd for the line precomputation (mixed addition of affine Q), same values. */
function lineAdd(ell: Line[], r: Proj, qx: Fp2, qy: Fp2): Proj {
  const t0 = fp2Sub(r.y, fp2Mul(qy, r.z));
  const t1 = fp2Sub(r.x, fp2Mul(qx, r.z));
  ell.push([fp2Sub(fp2Mul(t0, qx), fp2Mul(t1, qy)), fp2Neg(t0), t1]);
  const t2 = fp2Sqr(t1);
  const t3 = fp2Mul(t2, t1);
  const t4 = fp2Mul(t2, r.x);
  const t5 = fp2Add(fp2Sub(t3, fp2Add(t4, t4)), fp2Mul(fp2Sqr(t0), r.z));
  return {
    x: fp2Mul(t1, t5),
    y: fp2Sub(fp2Mul(fp2Sub(t4, t5), t0), fp2Mul(t3, r.y)),
    z: fp2Mul(r.z, t3),
  };
}
/**
 * Miller-loop lines of Q (§4.1, §4.4): the same table as noble's `calcPairingPrecomputes` with
 * the BNCX post-loop hook (−π(Q), then +π²(Q); see curve.ts), computed with the fast tower.
 */
function calcLines(q: G2Point): Lines {
  const { x: qx, y: qy } = q.toAffine();
  const negQy = fp2Neg(qy);
  let r: Proj = { x: qx, y: qy, z: { c0: 1n, c1: 0n } };
  const ell: Line[][] = [];
  for (const bit of ATE_NAF) {
    const cur: Line[] = [];
    r = lineDouble(cur, r);
    if (bit !== 0) r = lineAdd(cur, r, qx, bit === -1 ? negQy : qy);
    ell.push(cur);
  }
  const last = ell[ell.length - 1];
  if (last === undefined) throw new Error('empty ate loop');
  const q1 = bncx.psi(qx, qy);
  r = lineAdd(last, r, q1[0], fp2Neg(q1[1]));
  const q2 = bncx.psi(q1[0], q1[1]);
  lineAdd(last, r, q2[0], q2[1]);
  return ell;
}

/**
 * A G2 point with its Miller-loop lines precomputed (§4.4; the generator Q and the server
 * secret sQ are fixed, so their lines are computed once). Immutable.
 */
export class G2Prepared {
  readonly point: G2Point;
  /** undefined for the point at infinity (pairing is then 1). */
  readonly lines: Lines | undefined;
  constructor(point: G2Point) {
    this.point = point;
    this.lines = point.is0() ? undefined : calcLines(point);
    Object.freeze(this);
  }
}

const asPrepared = (q: G2Point | G2Prepared): G2Prepared => (q instanceof G2Prepared ? q : new G2Prepared(q));

/** Product of Miller loops, one final exponentiation. O in either slot contributes 1. */
export function multiPairing(pairs: readonly (readonly [G1Point, G2Point | G2Prepared])[]): Fp12 {
  const input: [Lines, bigint, bigint][] = [];
  for (const [p, q] of pairs) {
    const prep = asPrepared(q);
    if (p.is0() || prep.lines === undefined) continue;
    const a = p.toAffine();
    input.push([prep.lines, a.x, a.y]);
  }
  if (input.length === 0) return bncx.Fp12.ONE;
  return bncx.Fp12.finalExponentiate(millerLoop(input));
}

/** e(P, Q) for P ∈ G1, Q ∈ G2 (AMCL: PAIR_fexp(PAIR_ate(Q, P))). */
export function pairing(p: G1Point, q: G2Point | G2Prepared): Fp12 {
  return multiPairing([[p, q]]);
}

/** e(P1, Q1)·e(P2, Q2) with one final exponentiation (§4.3, PAIR_double_ate). */
export function pairing2(p1: G1Point, q1: G2Point | G2Prepared, p2: G1Point, q2: G2Point | G2Prepared): Fp12 {
  return multiPairing([
    [p1, q1],
    [p2, q2],
  ]);
}

/** The fixed G2 generator Q with its lines precomputed. */
export const Q_PREPARED = new G2Prepared(bncx.G2.BASE);

/** p mod r = 6u²: the p-power Frobenius acts as this exponent on GT and this scalar on G2. */
const FROB_LAMBDA = P % R;

/**
 * Galbraith–Scott 4-dimensional lattice for BN curves (GS 2008, §6; the basis AMCL's PAIR_gs
 * uses): each row v satisfies Σ vᵢ·λⁱ ≡ 0 (mod r) for λ = p mod r, with entries of size |u|.
 * Checked at load time (and in test/crypto/fast-tower.test.ts).
 */
const GS_BASIS: readonly (readonly bigint[])[] = (() => {
  const x = -U_ABS;
  const rows = [
    [x + 1n, x, x, -2n * x],
    [2n * x + 1n, -x, -(x + 1n), -x],
    [2n * x, 2n * x + 1n, 2n * x + 1n, 2n * x + 1n],
    [x - 1n, 4n * x + 2n, -2n * x + 1n, x - 1n],
  ];
  for (const v of rows) {
    const [a = 0n, b = 0n, c = 0n, d = 0n] = v;
    if ((((a + b * FROB_LAMBDA + c * FROB_LAMBDA ** 2n + d * FROB_LAMBDA ** 3n) % R) + R) % R !== 0n) {
      throw new Error('GS basis row is not in the lattice');
    }
  }
  return rows;
})();

function det3(m: readonly (readonly bigint[])[]): bigint {
  const g = (i: number, j: number): bigint => m[i]?.[j] ?? 0n;
  return (
    g(0, 0) * (g(1, 1) * g(2, 2) - g(1, 2) * g(2, 1)) -
    g(0, 1) * (g(1, 0) * g(2, 2) - g(1, 2) * g(2, 0)) +
    g(0, 2) * (g(1, 0) * g(2, 1) - g(1, 1) * g(2, 0))
  );
}
/** det(B) (= ±r) and the first row of adj(B), so that B⁻¹[0][j] = ADJ0[j] / DET (Babai rounding). */
const [GS_DET, GS_ADJ0] = ((): [bigint, readonly bigint[]] => {
  const minor = (row: number, col: number): bigint =>
    det3(GS_BASIS.filter((_, i) => i !== row).map((r) => r.filter((_, j) => j !== col)));
  const cof = (i: number, j: number): bigint => ((i + j) % 2 === 0 ? 1n : -1n) * minor(i, j);
  const det = [0, 1, 2, 3].reduce((acc, j) => acc + (GS_BASIS[0]?.[j] ?? 0n) * cof(0, j), 0n);
  return [det, [0, 1, 2, 3].map((j) => cof(j, 0))];
})();

/** round(n / d) for d ≠ 0 (half away from zero is fine: any nearby lattice point works). */
function roundDiv(n: bigint, d: bigint): bigint {
  const [nn, dd] = d < 0n ? [-n, -d] : [n, d];
  return nn >= 0n ? (2n * nn + dd) / (2n * dd) : -((-2n * nn + dd) / (2n * dd));
}

/** e = Σ vᵢ·λⁱ (mod r) with |vᵢ| ≈ 2⁶⁵ (Babai rounding on the GS basis). Exported for tests. */
export function gsSplit(e: bigint): readonly [bigint, bigint, bigint, bigint] {
  const c = GS_ADJ0.map((a) => roundDiv(e * a, GS_DET));
  const v = [e, 0n, 0n, 0n];
  for (let j = 0; j < 4; j++) {
    const cj = c[j] ?? 0n;
    const row = GS_BASIS[j] ?? [];
    for (let i = 0; i < 4; i++) v[i] = (v[i] ?? 0n) - cj * (row[i] ?? 0n);
  }
  return [v[0] ?? 0n, v[1] ?? 0n, v[2] ?? 0n, v[3] ?? 0n];
}

/**
 * g^k for g ∈ GT (order r), k any integer (reduced mod r). 4-dimensional Galbraith–Scott split
 * k ≡ Σ kᵢ·pⁱ (|kᵢ| ≈ 2⁶⁵) using g^(pⁱ) = Frobeniusⁱ(g) and g⁻¹ = conj(g) (cyclotomic subgroup),
 * then one joint square-and-multiply over a 16-entry table: ~66 cyclotomic squarings instead of
 * 254. Not constant-time (BigInt arithmetic never is; see spec §10 item 21).
 */
export function gtPow(g: Fp12, k: bigint): Fp12 {
  const F = bncx.Fp12;
  const e = ((k % R) + R) % R;
  if (e === 0n) return F.ONE;
  const parts = gsSplit(e);
  const bases: Fp12[] = [];
  let gi = g;
  for (let i = 0; i < 4; i++) {
    if (i > 0) gi = F.frobeniusMap(gi, 1);
    bases.push((parts[i] ?? 0n) < 0n ? fp12Conjugate(gi) : gi);
  }
  const mags = parts.map((v) => (v < 0n ? -v : v));
  const table: Fp12[] = [ONE12];
  for (let m = 1; m < 16; m++) {
    const low = 31 - Math.clz32(m & -m);
    const rest = m & (m - 1);
    const b = bases[low] ?? ONE12;
    table.push(rest === 0 ? b : fp12Mul(table[rest] ?? ONE12, b));
  }
  const n = Math.max(...mags.map((v) => v.toString(2).length));
  let acc = ONE12;
  for (let i = n - 1; i >= 0; i--) {
    acc = fp12CyclotomicSqr(acc);
    const sh = BigInt(i);
    let m = 0;
    for (let j = 0; j < 4; j++) if ((((mags[j] ?? 0n) >> sh) & 1n) === 1n) m |= 1 << j;
    if (m !== 0) acc = fp12Mul(acc, table[m] ?? ONE12);
  }
  return acc;
}

/** Exact equality of all twelve Fp12 coefficients (AMCL compared only two of three, §10 item 11). */
export function gtEquals(a: Fp12, b: Fp12): boolean {
  return bncx.Fp12.eql(a, b);
}

export const gtIsOne = (a: Fp12): boolean => bncx.Fp12.eql(a, bncx.Fp12.ONE);

const reduce = (k: bigint): bigint => ((k % R) + R) % R;

/**
 * [k]P in G1 for a *secret* k: any non-negative integer, reduced mod r as AMCL does (§2.1, §4.6).
 * Uses noble's fixed-window `multiply` (no secret-dependent endomorphism split). BigInt
 * arithmetic is still not constant-time (§10 item 21).
 */
export function mulG1(pt: G1Point, k: bigint): G1Point {
  const e = reduce(k);
  if (e === 0n || pt.is0()) return bncx.G1.ZERO;
  return pt.multiply(e);
}

/** [k]P in G1 for a *public* k (challenge y, transcript hash h, pia, pib): GLV + wNAF. */
export function mulG1Public(pt: G1Point, k: bigint): G1Point {
  const e = reduce(k);
  if (e === 0n || pt.is0()) return bncx.G1.ZERO;
  return pt.multiplyUnsafe(e);
}

/** [k]Q in G2 (order-r subgroup only) for a *secret* k; see {@link mulG1}. */
export function mulG2(pt: G2Point, k: bigint): G2Point {
  const e = reduce(k);
  if (e === 0n || pt.is0()) return bncx.G2.ZERO;
  return pt.multiply(e);
}

/** [k]Q in G2 (order-r subgroup only) for a *public* k: GLV + wNAF. */
export function mulG2Public(pt: G2Point, k: bigint): G2Point {
  const e = reduce(k);
  if (e === 0n || pt.is0()) return bncx.G2.ZERO;
  return pt.multiplyUnsafe(e);
}

/**
 * [k]P for a *secret* k and a point used once (a peer's ephemeral, a fresh key point).
 * GLV split k ≡ k₁ + k₂·λ (mod r), |kᵢ| < 2¹²⁷, with φ(x, y) = (βx, y) = [λ]P; then a joint fixed
 * 4-bit window over both halves: 15 additions for the table of P (φ's table costs one field
 * multiplication per entry), then 32 × (4 doublings + 2 additions), the additions made even for
 * a zero digit (noble's complete formulas add O like any point) and the signs of kᵢ applied by
 * selecting between precomputed ±P, ±φ(P). The sequence of group operations is independent of k;
 * the table indices are not (no cache-timing hardening in JavaScript; BigInt arithmetic is not
 * constant-time either, §10 item 21). ~3× faster than noble's blinded `multiply` on an un-tabled
 * point; for points reused across handshakes use `precompute()` + {@link mulG1}.
 */
export function mulG1Once(pt: G1Point, k: bigint): G1Point {
  const e = reduce(k);
  if (e === 0n || pt.is0()) return bncx.G1.ZERO;
  const { G1, Fp, beta } = bncx;
  return glvWindowMul(pt, e, bncx.g1Basis, G1.ZERO, (q) => new G1(Fp.mul(q.X, beta), q.Y, q.Z));
}

/**
 * [k]Q in G2 (order-r subgroup only) for a *secret* k and a point used once: {@link mulG1Once}'s
 * method with G2's eigenvalue (β acts on both Fp2 coordinates of x). 1.2–1.6× faster than
 * noble's blinded `multiply` on an un-tabled point (bench/crypto.ts: 6.2 → 3.8 ms of CPU); less
 * than on G1 because the cost is in noble's Fp2 point formulas, not in the window. A tabled point
 * (G2.BASE) is faster with {@link mulG2}.
 */
export function mulG2Once(pt: G2Point, k: bigint): G2Point {
  const e = reduce(k);
  if (e === 0n || pt.is0()) return bncx.G2.ZERO;
  const { G2, Fp2, beta } = bncx;
  return glvWindowMul(pt, e, bncx.g2Basis, G2.ZERO, (q) => new G2(Fp2.mul(q.X, beta), q.Y, q.Z));
}

/** The joint 4-bit window of {@link mulG1Once} / {@link mulG2Once}; `phi` maps (X : Y : Z) to (βX : Y : Z). */
function glvWindowMul<T>(
  pt: WeierstrassPoint<T>,
  e: bigint,
  basis: Parameters<typeof _splitEndoScalar>[1],
  zero: WeierstrassPoint<T>,
  phi: (q: WeierstrassPoint<T>) => WeierstrassPoint<T>,
): WeierstrassPoint<T> {
  const { k1neg, k1, k2neg, k2 } = _splitEndoScalar(e, basis, R);
  const p1 = [pt, pt.negate()][Number(k1neg)] ?? pt;
  const t1: WeierstrassPoint<T>[] = [zero, p1];
  for (let j = 2; j < 16; j++) t1.push((t1[j - 1] ?? p1).add(p1));
  // φ(j·P₁) in projective coordinates; the sign of k₂ relative to k₁ flips Y.
  const flip = k1neg !== k2neg;
  const t2 = t1.map((q) => {
    const image = phi(q);
    return [image, image.negate()][Number(flip)] ?? image;
  });
  let acc = zero;
  for (let i = 124; i >= 0; i -= 4) {
    acc = acc.double().double().double().double();
    const sh = BigInt(i);
    acc = acc.add(t1[Number((k1 >> sh) & 15n)] ?? acc);
    acc = acc.add(t2[Number((k2 >> sh) & 15n)] ?? acc);
  }
  return acc;
}
