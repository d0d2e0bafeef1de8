/** Shared test helpers: a seeded PRNG (Go-style property tests) and exact-error assertions. */
import { expect } from 'vitest';
import { DecodeError, IllegalParameterError, TlsError } from '../../../src/alerts.ts';
import { ByteReader } from '../../../src/codec/reader.ts';
import { ByteWriter } from '../../../src/codec/writer.ts';

/** xorshift32: tiny, deterministic, good enough to drive codec properties. */
export class Xorshift {
  #s: number;
  constructor(seed: number) {
    this.#s = seed >>> 0 || 0x9e3779b9;
  }
  u32(): number {
    let x = this.#s;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    this.#s = x;
    return x;
  }
  /** Uniform-ish integer in [0, n). */
  int(n: number): number {
    return this.u32() % n;
  }
  /** Integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  bool(): boolean {
    return (this.u32() & 1) === 1;
  }
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }
  u16s(n: number): number[] {
    return Array.from({ length: n }, () => this.u32() & 0xffff);
  }
}

export function encodeWith(f: (w: ByteWriter) => void): Uint8Array {
  const w = new ByteWriter();
  f(w);
  return w.finish();
}

export function readerOf(b: Uint8Array): ByteReader {
  return new ByteReader(b);
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

/** Asserts the exact error class (not a subclass or sibling) and its alert. */
export function expectDecodeError(fn: () => unknown): void {
  const err = thrown(fn);
  expect(err).toBeInstanceOf(DecodeError);
  expect((err as DecodeError).constructor).toBe(DecodeError);
  expect((err as DecodeError).alert).toBe(50);
}

export function expectIllegalParameter(fn: () => unknown): void {
  const err = thrown(fn);
  expect(err).toBeInstanceOf(IllegalParameterError);
  expect((err as IllegalParameterError).constructor).toBe(IllegalParameterError);
  expect((err as IllegalParameterError).alert).toBe(47);
}

/** Decoding must either succeed or throw a TlsError; never TypeError/RangeError. Returns true on success. */
export function decodesOrTlsError(fn: () => unknown): boolean {
  const err = thrown(fn);
  if (err === undefined) return true;
  if (!(err instanceof TlsError)) throw new Error(`decoder threw a non-TLS error: ${String(err)}`, { cause: err });
  return false;
}

/** Random mutations of a valid encoding: flipped bytes, truncations, insertions, length-field bumps. */
export function mutate(rng: Xorshift, src: Uint8Array): Uint8Array {
  const b = Array.from(src);
  const n = rng.range(1, 4);
  for (let i = 0; i < n; i++) {
    switch (rng.int(4)) {
      case 0:
        if (b.length > 0) b[rng.int(b.length)] = rng.int(256);
        break;
      case 1:
        b.length = rng.int(b.length + 1);
        break;
      case 2:
        b.splice(rng.int(b.length + 1), 0, ...rng.bytes(rng.range(1, 8)));
        break;
      default:
        if (b.length > 0) {
          const at = rng.int(b.length);
          b[at] = ((b[at] ?? 0) + (rng.bool() ? 1 : 255)) & 0xff;
        }
    }
  }
  return Uint8Array.from(b);
}
