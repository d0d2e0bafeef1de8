/**
 * Optimal-ate pairing on BNCX, exactly (f·ℓ₁·ℓ₂)^((p¹²−1)/r) (spec §4), plus products of two
 * pairings, fixed-point G2 line precomputation, GT exponentiation and scalar multiplication.
 * @module
 */
import { bncx, P, R, type Fp12, type G1Point, type G2Point } from './curve.ts';
import { fp12CyclotomicSqr, fp12Mul, millerLoop, ONE12 } from './fast-tower.ts';

type Lines = ReturnType<typeof bncx.pair.utils.calcPairingPrecomputes>;

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
    this.lines = point.is0() ? undefined : bncx.pair.utils.calcPairingPrecomputes(point);
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
 * g^k for g ∈ GT (order r), k any non-negative integer (reduced mod r). 2-dimensional
 * Galbraith–Scott split k = k₀ + k₁·(p mod r) using g^p = Frobenius(g), with cyclotomic squaring.
 * Not constant-time (BigInt arithmetic never is; see spec §10 item 21).
 */
export function gtPow(g: Fp12, k: bigint): Fp12 {
  const F = bncx.Fp12;
  const e = ((k % R) + R) % R;
  if (e === 0n) return F.ONE;
  const k0 = e % FROB_LAMBDA;
  const k1 = e / FROB_LAMBDA;
  const gp = F.frobeniusMap(g, 1);
  const both = fp12Mul(g, gp);
  let acc = ONE12;
  const n = Math.max(k0.toString(2).length, k1.toString(2).length);
  for (let i = n - 1; i >= 0; i--) {
    acc = fp12CyclotomicSqr(acc);
    const b0 = (k0 >> BigInt(i)) & 1n;
    const b1 = (k1 >> BigInt(i)) & 1n;
    if (b0 === 1n && b1 === 1n) acc = fp12Mul(acc, both);
    else if (b0 === 1n) acc = fp12Mul(acc, g);
    else if (b1 === 1n) acc = fp12Mul(acc, gp);
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
