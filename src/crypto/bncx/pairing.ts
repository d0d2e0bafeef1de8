/**
 * Optimal-ate pairing on BNCX, exactly (f·ℓ₁·ℓ₂)^((p¹²−1)/r) (spec §4), plus products of two
 * pairings, fixed-point G2 line precomputation, GT exponentiation and scalar multiplication.
 * @module
 */
import { bncx, P, R, type Fp12, type G1Point, type G2Point } from './curve.ts';
import {
  fp12CyclotomicSqr, fp12Mul, fp2Add, fp2Half, fp2Mul, fp2MulByB, fp2Neg, fp2Sqr, fp2Sub, fp2Triple, millerLoop, ONE12,
  type Fp2, type Line, type Lines,
} from './fast-tower.ts';
import { U_ABS } from './params.ts';

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

/**
 * [k]P for a *secret* k and a point used once (a peer's ephemeral, a fresh key point): fixed
 * 4-bit windows over the 256-bit span of k mod r — 15 additions for the table, then 64 × (4
 * doublings + 1 addition), the addition made even for a zero digit (noble's complete formulas
 * add O like any point). The sequence of group operations is independent of k; the table index
 * is not (no cache-timing hardening in JavaScript; BigInt arithmetic is not constant-time
 * either, §10 item 21). ~2× faster than noble's blinded `multiply` on an un-tabled point; for
 * points reused across handshakes use `precompute()` + {@link mulG1}.
 */
export function mulG1Once(pt: G1Point, k: bigint): G1Point {
  const e = reduce(k);
  if (e === 0n || pt.is0()) return bncx.G1.ZERO;
  return fixedWindow(pt, e);
}

function fixedWindow(p: G1Point, e: bigint): G1Point {
  const table: G1Point[] = [bncx.G1.ZERO, p];
  for (let j = 2; j < 16; j++) table.push((table[j - 1] ?? p).add(p));
  let acc = bncx.G1.ZERO;
  // r < 2^254: windows at bits 252, 248, …, 0 cover every bit of e.
  for (let i = 252; i >= 0; i -= 4) {
    acc = acc.double().double().double().double();
    acc = acc.add(table[Number((e >> BigInt(i)) & 15n)] ?? acc);
  }
  return acc;
}
