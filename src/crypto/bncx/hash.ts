/**
 * Hashing and AMCL's try-and-increment maps to G1 and G2 (spec §3).
 * These maps are AMCL-specific (fixed sign rules); do not substitute RFC 9380.
 * @module
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bncx, P, R, SQRT_EXP, type Fp2, type G1Point, type G2Point } from './curve.ts';
import { encodeG1, i2os, os2i } from './codec.ts';

/** SHA-256 of the concatenation of `parts`. */
export function sha(...parts: readonly Uint8Array[]): Uint8Array {
  const h = sha256.create();
  for (const p of parts) h.update(p);
  return h.digest();
}

function be32(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n >>> 0, false);
  return out;
}

/**
 * §3.1 hashN(n, m) = SHA(BE32(n) ‖ m) if n > 0 as a *signed* 32-bit integer, else SHA(m).
 * A time value ≥ 2³¹ (after 2038-01-19) is negative as int32, so AMCL drops the prefix; we copy
 * that for wire compatibility.
 */
export function hashN(n: number, ...parts: readonly Uint8Array[]): Uint8Array {
  // AMCL passes an int; accept int32 and uint32 (a u32 time value ≥ 2³¹ reinterpreted as int32).
  if (!Number.isInteger(n) || n < -0x80000000 || n > 0xffffffff) throw new RangeError('hashN: n must be a 32-bit integer');
  const signed = n | 0;
  return signed > 0 ? sha(be32(signed), ...parts) : sha(...parts);
}

/** §3.2 HASH_ID(ID) = SHA-256 of the raw identity bytes. */
export const hashId = (identity: Uint8Array): Uint8Array => sha(identity);

/** §3.5 hash behind the time-permit point for day `date`: SHA(BE32(d) ‖ HID) (d > 0). */
export const datedHash = (date: number, hid: Uint8Array): Uint8Array => hashN(date, hid);

const isSquare = (a: bigint): boolean => bncx.isSquare(a);

/** map1 / mapS loop (§3.3, §5.3): start at x, +1 until x³+2 is a square; y of given parity. */
export function mapXToG1(xStart: bigint, parity: 0 | 1): G1Point {
  const { Fp } = bncx;
  let x = Fp.create(xStart);
  for (;;) {
    const rhs = Fp.add(Fp.mul(Fp.sqr(x), x), 2n);
    if (isSquare(rhs)) {
      let y = Fp.pow(rhs, SQRT_EXP);
      if (Number(y & 1n) !== parity) y = Fp.neg(y);
      return bncx.G1.fromAffine({ x, y });
    }
    x = Fp.add(x, 1n);
  }
}

/** §3.3 map1: AMCL's mapit of a 32-byte hash to G1 (y even). */
export function map1(h: Uint8Array): G1Point {
  return mapXToG1(os2i(h.subarray(0, 32)) % P, 0);
}

/** §1.6 AMCL's exact Fp2 square root (the root's sign is part of the format). */
export function sqrtFp2Amcl(u: Fp2): Fp2 | undefined {
  const { Fp } = bncx;
  const { c0: a, c1: b } = u;
  if (a === 0n && b === 0n) return { c0: 0n, c1: 0n };
  const n = Fp.add(Fp.sqr(a), Fp.sqr(b));
  if (!isSquare(n)) return undefined;
  const n1 = Fp.pow(n, SQRT_EXP);
  const half = Fp.inv(2n);
  let t = Fp.mul(Fp.add(a, n1), half);
  if (!isSquare(t)) {
    t = Fp.mul(Fp.sub(a, n1), half);
    if (!isSquare(t)) return undefined;
  }
  const c = Fp.pow(t, SQRT_EXP);
  return { c0: c, c1: Fp.div(b, Fp.mul(c, 2n)) };
}

/** §3.4 first stage: x = 1 + k·i, k from the hash, incremented until a root exists. */
export function map2BeforeClearing(h: Uint8Array): G2Point {
  const { Fp, Fp2 } = bncx;
  let k = os2i(h.subarray(0, 32)) % P;
  const bPrime = Fp2.mulByB(Fp2.ONE);
  for (;;) {
    const x: Fp2 = { c0: 1n, c1: k };
    const rhs = Fp2.add(Fp2.mul(Fp2.sqr(x), x), bPrime);
    const y = sqrtFp2Amcl(rhs);
    if (y !== undefined) return bncx.G2.fromAffine({ x, y });
    k = Fp.add(k, 1n);
  }
}

/** §3.4 map2: AMCL's mapit2 of a 32-byte hash to G2, with FKR cofactor clearing. */
export function map2(h: Uint8Array): G2Point {
  return bncx.clearCofactorG2(map2BeforeClearing(h));
}

/** §3.6 challenge y = OS2I(hashN(t, point octet)) mod r, as 32 bytes. */
export function challengeY(timeValue: number, pointOctet: Uint8Array): Uint8Array {
  return i2os(os2i(hashN(timeValue, pointOctet)) % R);
}

/** Scalar from a hash: OS2I(SHA(parts)) mod r. */
export function hashToScalar(...parts: readonly Uint8Array[]): bigint {
  return os2i(sha(...parts)) % R;
}

/** §3.8 WCC_Hq(a, b, c, d) = I2OS(OS2I(SHA(a‖b‖c‖d)) mod r). */
export function hq(a: Uint8Array, b: Uint8Array, c: Uint8Array, d: Uint8Array): Uint8Array {
  return i2os(hashToScalar(a, b, c, d));
}

/** §3.9 M-Pin key: first16(SHA(trace ‖ x ‖ y)) — point without the 04 byte. */
export function mpinKdf(trace: Uint8Array, pt: G1Point): Uint8Array {
  return sha(trace, encodeG1(pt).subarray(1)).slice(0, 16);
}

/** §3.9 WCC key: first16(SHA(trace ‖ 04‖x‖y)) — point with the 04 byte. */
export function wccKdf(trace: Uint8Array, pt: G1Point): Uint8Array {
  return sha(trace, encodeG1(pt)).slice(0, 16);
}
