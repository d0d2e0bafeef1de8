/**
 * Inputs for the fuzz targets as fast-check arbitraries: a seed from the committed corpus with a
 * few structure-aware mutations (bit flips, boundary bytes, length fields nudged by ±3, inserted,
 * deleted, duplicated or spliced ranges, truncation), or plain random bytes. Mutations are data, so
 * fast-check shrinks a failing input to the fewest, smallest mutations of the smallest seed.
 */
import fc from 'fast-check';

export type Mutation =
  | { readonly kind: 'flip'; readonly at: number; readonly bit: number }
  | { readonly kind: 'byte'; readonly at: number; readonly value: number }
  | { readonly kind: 'u16'; readonly at: number; readonly value: number }
  | { readonly kind: 'nudge'; readonly at: number; readonly delta: number }
  | { readonly kind: 'insert'; readonly at: number; readonly bytes: Uint8Array }
  | { readonly kind: 'delete'; readonly at: number; readonly length: number }
  | { readonly kind: 'duplicate'; readonly at: number; readonly length: number; readonly times: number }
  | { readonly kind: 'splice'; readonly at: number; readonly seed: number; readonly from: number; readonly length: number }
  | { readonly kind: 'truncate'; readonly at: number };

const boundaryBytes = [0x00, 0x01, 0x02, 0x03, 0x0f, 0x10, 0x14, 0x15, 0x16, 0x17, 0x20, 0x40, 0x41, 0x7f, 0x80, 0xfe, 0xff];
const boundaryU16 = [0x0000, 0x0001, 0x0002, 0x0020, 0x0041, 0x0080, 0x00ff, 0x0100, 0x3fff, 0x4000, 0x4001, 0x7fff, 0x8000, 0xfffe, 0xffff];

const at = fc.nat({ max: 0xffff });

export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('flip' as const), at, bit: fc.integer({ min: 0, max: 7 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('byte' as const), at, value: fc.oneof(fc.constantFrom(...boundaryBytes), fc.nat({ max: 255 })) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('u16' as const), at, value: fc.constantFrom(...boundaryU16) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('nudge' as const), at, delta: fc.integer({ min: -3, max: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('insert' as const), at, bytes: fc.uint8Array({ minLength: 1, maxLength: 24 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), at, length: fc.integer({ min: 1, max: 64 }) }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('duplicate' as const), at, length: fc.integer({ min: 1, max: 64 }), times: fc.integer({ min: 1, max: 16 }) }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('splice' as const), at, seed: fc.nat(), from: at, length: fc.integer({ min: 1, max: 128 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at }) },
);

/** Apply `m` to `b` (returns a new array; positions wrap around the current length). */
export function applyMutation(b: Uint8Array, m: Mutation, seeds: readonly Uint8Array[]): Uint8Array {
  const n = b.length;
  const pos = n === 0 ? 0 : m.at % n;
  switch (m.kind) {
    case 'flip': {
      if (n === 0) return b;
      const out = b.slice();
      out[pos] = (out[pos] as number) ^ (1 << m.bit);
      return out;
    }
    case 'byte': {
      if (n === 0) return Uint8Array.of(m.value);
      const out = b.slice();
      out[pos] = m.value;
      return out;
    }
    case 'u16': {
      if (n < 2) return b;
      const p = m.at % (n - 1);
      const out = b.slice();
      out[p] = m.value >>> 8;
      out[p + 1] = m.value & 0xff;
      return out;
    }
    case 'nudge': {
      // A big-endian u16 read at `p` moved by a small delta: exercises off-by-a-few lengths.
      if (n < 2) return b;
      const p = m.at % (n - 1);
      const v = ((((b[p] as number) << 8) | (b[p + 1] as number)) + m.delta) & 0xffff;
      const out = b.slice();
      out[p] = v >>> 8;
      out[p + 1] = v & 0xff;
      return out;
    }
    case 'insert': {
      const p = m.at % (n + 1);
      const out = new Uint8Array(n + m.bytes.length);
      out.set(b.subarray(0, p), 0);
      out.set(m.bytes, p);
      out.set(b.subarray(p), p + m.bytes.length);
      return out;
    }
    case 'delete': {
      if (n === 0) return b;
      const out = new Uint8Array(n - Math.min(m.length, n - pos));
      out.set(b.subarray(0, pos), 0);
      out.set(b.subarray(pos + m.length), pos);
      return out;
    }
    case 'duplicate': {
      if (n === 0) return b;
      const piece = b.subarray(pos, Math.min(n, pos + m.length));
      const out = new Uint8Array(n + piece.length * m.times);
      out.set(b.subarray(0, pos + piece.length), 0);
      let w = pos + piece.length;
      for (let i = 0; i < m.times; i++, w += piece.length) out.set(piece, w);
      out.set(b.subarray(pos + piece.length), w);
      return out;
    }
    case 'splice': {
      const other = seeds.length === 0 ? b : (seeds[m.seed % seeds.length] as Uint8Array);
      if (other.length === 0) return b;
      const from = m.from % other.length;
      const piece = other.subarray(from, Math.min(other.length, from + m.length));
      const p = m.at % (n + 1);
      const out = new Uint8Array(p + piece.length + Math.max(0, n - p - piece.length));
      out.set(b.subarray(0, p), 0);
      out.set(piece, p);
      out.set(b.subarray(p + piece.length), p + piece.length);
      return out;
    }
    case 'truncate':
      return n === 0 ? b : b.slice(0, pos);
  }
}

/**
 * Mostly mutated seeds, sometimes raw random bytes (up to `maxRandom` long). Without seeds, only
 * random bytes.
 */
export function inputArb(seeds: readonly Uint8Array[], maxRandom = 512): fc.Arbitrary<Uint8Array> {
  const random = fc.uint8Array({ maxLength: maxRandom });
  if (seeds.length === 0) return random;
  const mutated = fc
    .tuple(fc.nat({ max: seeds.length - 1 }), fc.array(mutationArb, { minLength: 1, maxLength: 6 }))
    .map(([i, ms]) => ms.reduce((b, m) => applyMutation(b, m, seeds), seeds[i] as Uint8Array));
  return fc.oneof({ weight: 8, arbitrary: mutated }, { weight: 1, arbitrary: fc.constantFrom(...seeds) }, { weight: 2, arbitrary: random });
}
