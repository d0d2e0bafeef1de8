/**
 * Fast Fp2/Fp6/Fp12 arithmetic for the BNCX hot paths: Miller loop on prepared lines, final
 * exponentiation, GT exponentiation (spec §4). Same tower and representation as noble's
 * `tower12` (Fp2 = Fp[i]/(i²+1), Fp6 = Fp2[v]/(v³−ξ), Fp12 = Fp6[w]/(w²−v), ξ = 1 + i, §1.3), so
 * values move freely between this module and noble's field objects.
 *
 * Why: noble's generic tower reduces (`%`) after every Fp addition and multiplication and freezes
 * every intermediate object. Here products are accumulated as exact, unreduced BigInts (lazy
 * reduction) and each Fp12 output coefficient is reduced once; additions of reduced values use a
 * conditional subtraction. Measured on this machine: `%` of a 508-bit value costs ~2.5 BigInt
 * multiplications, a `%` after an addition ~4 additions.
 *
 * All functions are pure; outputs are fully reduced (every Fp coefficient in [0, p)).
 * Not constant-time (BigInt arithmetic never is; spec §10 item 21).
 * @module
 */
import type { Fp2, Fp6, Fp12 } from '@noble/curves/abstract/tower.js';
import { P } from './params.ts';

export type { Fp2, Fp6, Fp12 };

/** Exact (possibly unreduced, possibly negative) Fp2 / Fp6 values used inside products. */
interface W2 {
  readonly c0: bigint;
  readonly c1: bigint;
}
interface W6 {
  readonly c0: W2;
  readonly c1: W2;
  readonly c2: W2;
}

const red = (x: bigint): bigint => {
  const r = x % P;
  return r < 0n ? r + P : r;
};
const addFp = (a: bigint, b: bigint): bigint => {
  const s = a + b;
  return s >= P ? s - P : s;
};
const subFp = (a: bigint, b: bigint): bigint => {
  const d = a - b;
  return d < 0n ? d + P : d;
};

// ---- Fp2 ------------------------------------------------------------------------------------

/** Exact product (no reduction): Karatsuba, 3 BigInt multiplications. */
function mul2w(a: W2, b: W2): W2 {
  const t0 = a.c0 * b.c0;
  const t1 = a.c1 * b.c1;
  return { c0: t0 - t1, c1: (a.c0 + a.c1) * (b.c0 + b.c1) - t0 - t1 };
}
/** Exact square: (a0 + a1)(a0 − a1), 2·a0·a1. */
function sqr2w(a: W2): W2 {
  return { c0: (a.c0 + a.c1) * (a.c0 - a.c1), c1: 2n * a.c0 * a.c1 };
}
const add2u = (a: W2, b: W2): W2 => ({ c0: a.c0 + b.c0, c1: a.c1 + b.c1 });
const sub2u = (a: W2, b: W2): W2 => ({ c0: a.c0 - b.c0, c1: a.c1 - b.c1 });
/** ·ξ with ξ = 1 + i: (a0 + a1 i)(1 + i) = (a0 − a1) + (a0 + a1) i. */
const nr2u = (a: W2): W2 => ({ c0: a.c0 - a.c1, c1: a.c0 + a.c1 });
const red2 = (a: W2): Fp2 => ({ c0: red(a.c0), c1: red(a.c1) });

export const fp2Mul = (a: Fp2, b: Fp2): Fp2 => red2(mul2w(a, b));
export const fp2Add = (a: Fp2, b: Fp2): Fp2 => ({ c0: addFp(a.c0, b.c0), c1: addFp(a.c1, b.c1) });
export const fp2Sub = (a: Fp2, b: Fp2): Fp2 => ({ c0: subFp(a.c0, b.c0), c1: subFp(a.c1, b.c1) });
const fp2MulFp = (a: Fp2, k: bigint): Fp2 => ({ c0: (a.c0 * k) % P, c1: (a.c1 * k) % P });

// ---- Fp6 (exact) ----------------------------------------------------------------------------

const add6u = (a: W6, b: W6): W6 => ({ c0: add2u(a.c0, b.c0), c1: add2u(a.c1, b.c1), c2: add2u(a.c2, b.c2) });
const sub6u = (a: W6, b: W6): W6 => ({ c0: sub2u(a.c0, b.c0), c1: sub2u(a.c1, b.c1), c2: sub2u(a.c2, b.c2) });
/** ·v: (x0, x1, x2) ↦ (ξ·x2, x0, x1). */
const mulV6u = (a: W6): W6 => ({ c0: nr2u(a.c2), c1: a.c0, c2: a.c1 });

/** Exact Fp6 product, Karatsuba over Fp2 (6 Fp2 products). */
function mul6w(a: W6, b: W6): W6 {
  const t0 = mul2w(a.c0, b.c0);
  const t1 = mul2w(a.c1, b.c1);
  const t2 = mul2w(a.c2, b.c2);
  const s12 = mul2w(add2u(a.c1, a.c2), add2u(b.c1, b.c2));
  const s01 = mul2w(add2u(a.c0, a.c1), add2u(b.c0, b.c1));
  const s02 = mul2w(add2u(a.c0, a.c2), add2u(b.c0, b.c2));
  return {
    c0: add2u(t0, nr2u(sub2u(s12, add2u(t1, t2)))),
    c1: add2u(sub2u(s01, add2u(t0, t1)), nr2u(t2)),
    c2: add2u(sub2u(s02, add2u(t0, t2)), t1),
  };
}
/** Exact a·(b0 + b1·v) (noble's mul01). */
function mul01w(a: W6, b0: W2, b1: W2): W6 {
  const t0 = mul2w(a.c0, b0);
  const t1 = mul2w(a.c1, b1);
  return {
    c0: add2u(nr2u(sub2u(mul2w(add2u(a.c1, a.c2), b1), t1)), t0),
    c1: sub2u(mul2w(add2u(b0, b1), add2u(a.c0, a.c1)), add2u(t0, t1)),
    c2: add2u(sub2u(mul2w(add2u(a.c0, a.c2), b0), t0), t1),
  };
}
/** Exact a·b for b ∈ Fp2. */
const mul6by2w = (a: W6, b: W2): W6 => ({ c0: mul2w(a.c0, b), c1: mul2w(a.c1, b), c2: mul2w(a.c2, b) });

const red6 = (a: W6): Fp6 => ({ c0: red2(a.c0), c1: red2(a.c1), c2: red2(a.c2) });
const red12 = (c0: W6, c1: W6): Fp12 => ({ c0: red6(c0), c1: red6(c1) });

// ---- Fp12 -----------------------------------------------------------------------------------

/** a·b: Karatsuba over Fp6 (18 Fp2 products), 12 reductions. */
export function fp12Mul(a: Fp12, b: Fp12): Fp12 {
  const t0 = mul6w(a.c0, b.c0);
  const t1 = mul6w(a.c1, b.c1);
  const t2 = mul6w(add6u(a.c0, a.c1), add6u(b.c0, b.c1));
  return red12(add6u(t0, mulV6u(t1)), sub6u(t2, add6u(t0, t1)));
}

/** a²: c0 = (a0 + v·a1)(a0 + a1) − ab − v·ab, c1 = 2ab with ab = a0·a1 (noble's formula). */
export function fp12Sqr(a: Fp12): Fp12 {
  const ab = mul6w(a.c0, a.c1);
  const m = mul6w(add6u(a.c0, mulV6u(a.c1)), add6u(a.c0, a.c1));
  return red12(sub6u(m, add6u(ab, mulV6u(ab))), add6u(ab, ab));
}

export const fp12Conjugate = (a: Fp12): Fp12 => ({
  c0: a.c0,
  c1: { c0: neg2(a.c1.c0), c1: neg2(a.c1.c1), c2: neg2(a.c1.c2) },
});
function neg2(a: Fp2): Fp2 {
  return { c0: a.c0 === 0n ? 0n : P - a.c0, c1: a.c1 === 0n ? 0n : P - a.c1 };
}

/**
 * Granger–Scott cyclotomic squaring (eprint 2009/565 §3.2), same formulas as noble's
 * `_cyclotomicSquare`; valid only for elements of the cyclotomic subgroup (after the easy part
 * of the final exponentiation, and all of GT).
 */
export function fp12CyclotomicSqr(a: Fp12): Fp12 {
  const { c0: c0c0, c1: c0c1, c2: c0c2 } = a.c0;
  const { c0: c1c0, c1: c1c1, c2: c1c2 } = a.c1;
  // Fp4 squares of (x, y): first = ξ·y² + x², second = 2xy = (x + y)² − x² − y².
  const x0 = sqr2w(c0c0), y0 = sqr2w(c1c1), s0 = sqr2w(add2u(c0c0, c1c1));
  const x1 = sqr2w(c1c0), y1 = sqr2w(c0c2), s1 = sqr2w(add2u(c1c0, c0c2));
  const x2 = sqr2w(c0c1), y2 = sqr2w(c1c2), s2 = sqr2w(add2u(c0c1, c1c2));
  const t3 = add2u(nr2u(y0), x0), t4 = sub2u(s0, add2u(x0, y0));
  const t5 = add2u(nr2u(y1), x1), t6 = sub2u(s1, add2u(x1, y1));
  const t7 = add2u(nr2u(y2), x2), t8 = sub2u(s2, add2u(x2, y2));
  const t9 = nr2u(t8);
  return {
    c0: { c0: m3s(t3, c0c0), c1: m3s(t5, c0c1), c2: m3s(t7, c0c2) },
    c1: { c0: m3a(t9, c1c0), c1: m3a(t4, c1c1), c2: m3a(t6, c1c2) },
  };
}
/** Bring x ∈ (−3p, 4p) into [0, p) with at most three conditional steps (no division). */
function norm(x: bigint): bigint {
  let v = x;
  while (v < 0n) v += P;
  while (v >= P) v -= P;
  return v;
}
/** 3t − 2c = t + 2(t − c) with t reduced once (first row of Granger–Scott). */
function m3s(t: W2, c: Fp2): Fp2 {
  const t0 = red(t.c0), t1 = red(t.c1);
  return { c0: norm(3n * t0 - 2n * c.c0), c1: norm(3n * t1 - 2n * c.c1) };
}
/** 3t + 2c (second row). */
function m3a(t: W2, c: Fp2): Fp2 {
  const t0 = red(t.c0), t1 = red(t.c1);
  return { c0: norm(3n * t0 + 2n * c.c0), c1: norm(3n * t1 + 2n * c.c1) };
}

/** f^n in the cyclotomic subgroup, n ≥ 0, left-to-right square-and-multiply. */
export function fp12CyclotomicExp(f: Fp12, n: bigint): Fp12 {
  if (n === 0n) return ONE12;
  const bits = n.toString(2);
  let z = f;
  for (let i = 1; i < bits.length; i++) {
    z = fp12CyclotomicSqr(z);
    if (bits.charCodeAt(i) === 49) z = fp12Mul(z, f);
  }
  return z;
}

export const ONE12: Fp12 = {
  c0: { c0: { c0: 1n, c1: 0n }, c1: { c0: 0n, c1: 0n }, c2: { c0: 0n, c1: 0n } },
  c1: { c0: { c0: 0n, c1: 0n }, c1: { c0: 0n, c1: 0n }, c2: { c0: 0n, c1: 0n } },
};

// ---- Miller loop ------------------------------------------------------------------------------

/** One precomputed line (c0, c1, c2) as produced by noble's `calcPairingPrecomputes`. */
export type Line = readonly [Fp2, Fp2, Fp2];
/** Lines per Miller-loop step (noble's Precompute layout). */
export type Lines = readonly (readonly Line[])[];

/**
 * f·ℓ for a line of the D-type (divisive) twist, exactly noble's `mul034ByLine` applied as
 * `lineFunction(c0, c1, c2)` = mul034(f, l0 = c2, l3 = c1, o4 = c0): the sparse element
 * o0 + (o3 + o4·v)·w with o0 = c2·Py, o3 = c1·Px.
 */
function mulLine(f: Fp12, line: Line, px: bigint, py: bigint): Fp12 {
  const [c0, c1, c2] = line;
  const o0 = fp2MulFp(c2, py);
  const o3 = fp2MulFp(c1, px);
  const o4 = c0;
  const a = mul6by2w(f.c0, o0);
  const b = mul01w(f.c1, o3, o4);
  const e = mul01w(add6u(f.c0, f.c1), add2u(o0, o3), o4);
  return red12(add6u(mulV6u(b), a), sub6u(e, add6u(a, b)));
}

/**
 * Product of Miller loops over prepared lines (noble's `millerLoopBatch` with the BNCX settings:
 * one shared squaring per step, lines applied in order, conjugation at the end because u < 0).
 * All line tables must come from the same `calcPairingPrecomputes` (same length).
 */
export function millerLoop(pairs: readonly (readonly [Lines, bigint, bigint])[]): Fp12 {
  let f = ONE12;
  const first = pairs[0];
  if (first === undefined) return f;
  const n = first[0].length;
  for (let i = 0; i < n; i++) {
    if (i !== 0) f = fp12Sqr(f);
    for (const [ell, px, py] of pairs) {
      const step = ell[i];
      if (step === undefined) throw new RangeError('line tables of different lengths');
      for (const line of step) f = mulLine(f, line, px, py);
    }
  }
  return fp12Conjugate(f);
}

// ---- Fp2 helpers for the line precomputation (reduced in, reduced out) ------------------------

export const fp2Sqr = (a: Fp2): Fp2 => red2(sqr2w(a));
export const fp2Neg = (a: Fp2): Fp2 => neg2(a);
/** 3·a. */
export const fp2Triple = (a: Fp2): Fp2 => fp2Add(fp2Add(a, a), a);
/** ·b′ with b′ = 1 − i (§1.4): (a0 + a1 i)(1 − i) = (a0 + a1) + (a1 − a0) i. */
export const fp2MulByB = (a: Fp2): Fp2 => ({ c0: addFp(a.c0, a.c1), c1: subFp(a.c1, a.c0) });
/** a/2 (p odd). */
const HALF = (P + 1n) / 2n;
export const fp2Half = (a: Fp2): Fp2 => ({ c0: (a.c0 * HALF) % P, c1: (a.c1 * HALF) % P });
