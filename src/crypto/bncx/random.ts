/** Random scalars from an injected RandomSource (spec §10 item 12: never 0). */
import type { RandomSource } from '../../providers.ts';
import { R } from './curve.ts';
import { os2i } from './codec.ts';

/** Uniform scalar in [1, r−1] by rejection sampling 254-bit candidates (r is 254 bits). */
export function randomScalar(rng: RandomSource): bigint {
  for (let i = 0; i < 1000; i++) {
    const b = rng(32);
    if (b.length !== 32) throw new RangeError('RandomSource returned the wrong number of bytes');
    const c = os2i(b) & ((1n << 254n) - 1n);
    if (c !== 0n && c < R) return c;
  }
  // Acceptance probability is ~0.56 per draw; 1000 failures means a broken source.
  throw new Error('RandomSource appears broken: no scalar accepted after 1000 draws');
}
