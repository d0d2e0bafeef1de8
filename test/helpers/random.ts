/** Deterministic test randomness (xorshift32), shared by every test folder so failures reproduce. */
import type { RandomSource } from '../../src/providers.ts';

export interface Xorshift32 {
  /** The next 32-bit word. */
  next(): number;
  /** A word in [0, n). */
  int(n: number): number;
  bytes(n: number): Uint8Array;
}

/** xorshift32 (Marsaglia 2003, shifts 13/17/5); seed 0 is mapped to 1, the generator's only fixed point. */
export function xorshift32(seed: number): Xorshift32 {
  let s = seed >>> 0 || 1;
  const next = (): number => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
  return {
    next,
    int: (n: number) => next() % n,
    bytes: (n: number) => {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = next() & 0xff;
      return out;
    },
  };
}

/** A RandomSource over xorshift32: one low byte per word. */
export function seededRandom(seed: number): RandomSource {
  return xorshift32(seed).bytes;
}
