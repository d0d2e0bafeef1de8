/**
 * AMCL byte encodings for BNCX (spec §2) with strict, validating decoders (§2.6, §10 item 8–9).
 * AMCL itself ignores the prefix byte and length, reduces coordinates mod p and never checks
 * G2 subgroup membership; we reject all of that with a typed {@link PointError}.
 * @module
 */
import { bncx, P, R, type Fp2, type Fp12, type G1Point, type G2Point } from './curve.ts';

/** Why a point (or scalar) encoding was rejected. */
export type PointErrorCode =
  | 'length'
  | 'prefix'
  | 'range'
  | 'not-on-curve'
  | 'not-in-subgroup'
  | 'infinity';

/** A point, field element or scalar encoding that does not describe a valid value. */
export class PointError extends Error {
  override readonly name = 'PointError';
  constructor(
    readonly code: PointErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export const SCALAR_BYTES = 32;
export const FIELD_BYTES = 32;
export const G1_BYTES = 65;
export const G2_BYTES = 128;
export const GT_BYTES = 384;
export const TRACE_BYTES = 128;

/** I2OS: integer as exactly 32 big-endian bytes (§2.1). Throws if it does not fit. */
export function i2os(n: bigint): Uint8Array {
  if (n < 0n || n >> 256n !== 0n) throw new RangeError('integer does not fit in 32 bytes');
  const out = new Uint8Array(32);
  let v = n;
  for (let i = 31; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/** OS2I: big-endian bytes as a non-negative integer. */
export function os2i(b: Uint8Array): bigint {
  let v = 0n;
  for (const x of b) v = (v << 8n) | BigInt(x);
  return v;
}

/** Scalar bytes (exactly 32, §2.1); any 256-bit value is accepted, as AMCL does. */
export function decodeScalar(b: Uint8Array): bigint {
  if (b.length !== SCALAR_BYTES) throw new PointError('length', `scalar must be 32 bytes, got ${b.length}`);
  return os2i(b);
}
export const encodeScalar = (k: bigint): Uint8Array => i2os(k);

/** A secret scalar loaded from storage must be in [1, r-1] (§10 item 12). */
export function decodeSecretScalar(b: Uint8Array): bigint {
  const k = decodeScalar(b);
  if (k === 0n || k >= R) throw new PointError('range', 'secret scalar must be in [1, r-1]');
  return k;
}

function readCoord(b: Uint8Array, at: number): bigint {
  const v = os2i(b.subarray(at, at + 32));
  if (v >= P) throw new PointError('range', 'coordinate is not below p');
  return v;
}

/** G1: `04 ‖ x ‖ y` (65 bytes, §2.3). Never encodes O (§2.6). */
export function encodeG1(pt: G1Point): Uint8Array {
  if (pt.is0()) throw new PointError('infinity', 'cannot encode the point at infinity');
  const { x, y } = pt.toAffine();
  const out = new Uint8Array(G1_BYTES);
  out[0] = 0x04;
  out.set(i2os(x), 1);
  out.set(i2os(y), 33);
  return out;
}

/** Strict G1 decoder: 65 bytes, prefix 04, x,y < p, on curve (cofactor 1 ⇒ in G1). */
export function decodeG1(b: Uint8Array): G1Point {
  if (b.length !== G1_BYTES) throw new PointError('length', `G1 point must be 65 bytes, got ${b.length}`);
  if (b[0] !== 0x04) throw new PointError('prefix', 'G1 point must start with 0x04');
  const x = readCoord(b, 1);
  const y = readCoord(b, 33);
  const { Fp } = bncx;
  if (Fp.sqr(y) !== Fp.add(Fp.mul(Fp.sqr(x), x), 2n)) throw new PointError('not-on-curve', 'G1 point is not on the curve');
  return bncx.G1.fromAffine({ x, y });
}

/** G2: `x.a ‖ x.b ‖ y.a ‖ y.b` (128 bytes, §2.4). Never encodes O. */
export function encodeG2(pt: G2Point): Uint8Array {
  if (pt.is0()) throw new PointError('infinity', 'cannot encode the point at infinity');
  const { x, y } = pt.toAffine();
  const out = new Uint8Array(G2_BYTES);
  out.set(i2os(x.c0), 0);
  out.set(i2os(x.c1), 32);
  out.set(i2os(y.c0), 64);
  out.set(i2os(y.c1), 96);
  return out;
}

/** Point on the twist y² = x³ + (1 − i), without subgroup check (for the map's first stage). */
export function decodeG2OnCurve(b: Uint8Array): G2Point {
  if (b.length !== G2_BYTES) throw new PointError('length', `G2 point must be 128 bytes, got ${b.length}`);
  const x: Fp2 = { c0: readCoord(b, 0), c1: readCoord(b, 32) };
  const y: Fp2 = { c0: readCoord(b, 64), c1: readCoord(b, 96) };
  const { Fp2 } = bncx;
  const rhs = Fp2.add(Fp2.mul(Fp2.sqr(x), x), Fp2.mulByB(Fp2.ONE));
  if (!Fp2.eql(Fp2.sqr(y), rhs)) throw new PointError('not-on-curve', 'G2 point is not on the twist');
  // (0,0) is not on the twist, so O cannot be expressed; this is a belt-and-braces check.
  const pt = bncx.G2.fromAffine({ x, y });
  if (pt.is0()) throw new PointError('infinity', 'G2 point at infinity');
  return pt;
}

/** Strict G2 decoder: 128 bytes, coordinates < p, on the twist, in the order-r subgroup (§2.6). */
export function decodeG2(b: Uint8Array): G2Point {
  const pt = decodeG2OnCurve(b);
  if (!isInG2(pt)) throw new PointError('not-in-subgroup', 'G2 point is not in the order-r subgroup');
  return pt;
}

/** [r]Q = O, by windowed multiplication valid for any twist point (no endomorphism shortcut). */
export function isInG2(pt: G2Point): boolean {
  return bncx.isTorsionFreeG2(pt);
}

/** Fp12 slot order of AMCL (§2.5): d00, d11, d10, d02, d01, d12 in noble's Fp6-over-Fp2 tower. */
function gtSlots(g: Fp12): readonly Fp2[] {
  return [g.c0.c0, g.c1.c1, g.c1.c0, g.c0.c2, g.c0.c1, g.c1.c2];
}

/** GT / Fp12 as 384 bytes in AMCL's component order (§2.5). */
export function encodeGT(g: Fp12): Uint8Array {
  const out = new Uint8Array(GT_BYTES);
  gtSlots(g).forEach((e, k) => {
    out.set(i2os(e.c0), 64 * k);
    out.set(i2os(e.c1), 64 * k + 32);
  });
  return out;
}

/** Decode a 384-byte Fp12 octet (components < p). Does not check membership in GT. */
export function decodeGT(b: Uint8Array): Fp12 {
  if (b.length !== GT_BYTES) throw new PointError('length', `GT element must be 384 bytes, got ${b.length}`);
  const e = (k: number): Fp2 => ({ c0: readCoord(b, 64 * k), c1: readCoord(b, 64 * k + 32) });
  const [d00, d11, d10, d02, d01, d12] = [e(0), e(1), e(2), e(3), e(4), e(5)];
  return bncx.Fp12.create({ c0: { c0: d00, c1: d01, c2: d02 }, c1: { c0: d10, c1: d11, c2: d12 } });
}

/** §3.9 FP4 trace Tr(g) = 3·(A₀ + B₀v) as 4×32 bytes. */
export function traceBytes(g: Fp12): Uint8Array {
  const { Fp } = bncx;
  const a0 = g.c0.c0;
  const b0 = g.c1.c1;
  const out = new Uint8Array(TRACE_BYTES);
  [a0.c0, a0.c1, b0.c0, b0.c1].forEach((v, k) => out.set(i2os(Fp.mul(v, 3n)), 32 * k));
  return out;
}
