/**
 * AMCL's random generator (spec Appendix A): a subtract-with-borrow generator whose output is
 * whitened through SHA-256. Only for reproducing AMCL outputs (vector V2, the demo authorities'
 * fixed master secret, recorded sessions). Do not use it as a production CSPRNG: use
 * `systemRandom` from src/providers.ts.
 * @module
 */
import { sha256 } from '@noble/hashes/sha2.js';
import type { RandomSource } from '../providers.ts';

const NK = 21;
const NJ = 6; // AMCL's second lag: k = (i + NK - NJ) mod NK = (i + 15) mod 21
const NV = 8;

/** One AMCL generator state. Mutable by nature; each instance is independent. */
export class AmclRng {
  private readonly ira = new Uint32Array(NK);
  private ptr = 0;
  private borrow = 0;
  private readonly pool = new Uint8Array(32);
  private poolPtr = 0;

  /** A.2 Seed(R). */
  constructor(seed: Uint8Array) {
    if (seed.length > 0) {
      const d = sha256(seed);
      for (let i = 0; i < NV; i++) {
        const w =
          ((d[4 * i] as number) | ((d[4 * i + 1] as number) << 8) | ((d[4 * i + 2] as number) << 16) | ((d[4 * i + 3] as number) << 24)) >>> 0;
        this.stir(w);
      }
    }
    this.fill();
  }

  /** A.2 Stir(s). */
  private stir(seedWord: number): void {
    this.borrow = 0;
    this.ptr = 0;
    this.ira[0] = ((this.ira[0] as number) ^ seedWord) >>> 0;
    let m = 1;
    let s = seedWord >>> 0;
    for (let i = 1; i < NK; i++) {
      const inn = (NV * i) % NK;
      this.ira[inn] = ((this.ira[inn] as number) ^ m) >>> 0;
      const t = m;
      m = (s - m) >>> 0;
      s = t;
    }
    for (let i = 0; i < 10000; i++) this.next();
  }

  /** A.2 next. */
  private next(): number {
    this.ptr++;
    if (this.ptr < NK) return this.ira[this.ptr] as number;
    this.ptr = 0;
    for (let i = 0; i < NK; i++) {
      const k = (i + NK - NJ) % NK;
      const t = this.ira[k] as number;
      const d = (t - (this.ira[i] as number) - this.borrow) >>> 0;
      if (d < t) this.borrow = 0;
      if (d > t) this.borrow = 1;
      this.ira[i] = d;
    }
    return this.ira[0] as number;
  }

  /** A.2 Refill: pool = SHA of 128 low bytes of `next`. */
  private fill(): void {
    const buf = new Uint8Array(128);
    for (let i = 0; i < 128; i++) buf[i] = this.next() & 0xff;
    this.pool.set(sha256(buf));
    this.poolPtr = 0;
  }

  /** A.2 Byte. */
  byte(): number {
    const b = this.pool[this.poolPtr++] as number;
    if (this.poolPtr >= 32) this.fill();
    return b;
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.byte();
    return out;
  }

  /** This generator as an injectable RandomSource (consumes bytes in order). */
  readonly source: RandomSource = (n) => this.bytes(n);
}

/**
 * A.3 AMCL's "random number below q": 508 bits from 64 bytes (LSB of each byte first, most
 * significant accumulator bit first), reduced mod q. Exposed for any RandomSource so that a
 * source backed by {@link AmclRng} reproduces AMCL's draws exactly.
 */
export function amclRandomBelow(rng: RandomSource, q: bigint): bigint {
  const b = rng(64);
  if (b.length !== 64) throw new RangeError('RandomSource returned the wrong number of bytes');
  let acc = 0n;
  let cur = 0;
  for (let k = 0; k < 508; k++) {
    if (k % 8 === 0) cur = b[k / 8] as number;
    acc = (acc << 1n) + BigInt((cur >> (k % 8)) & 1);
  }
  return acc % q;
}
