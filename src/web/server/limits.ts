/**
 * Rate limits for the relying party, kept in the shared store (issue 13 §2) so every process of a
 * deployment counts the same requests: fixed windows of `burst / perMinute` minutes, each
 * allowing `burst` requests (one atomic `increment` per request; the window's counter expires with
 * it). Time comes from the injected clock, so tests can move it.
 */
import type { Clock } from '../../providers.ts';
import type { KeyValueStore } from '../../store/index.ts';

export interface RateLimit {
  /** Requests allowed in one window. */
  readonly burst: number;
  /** Sustained rate, requests per minute (the window lasts burst / perMinute minutes). */
  readonly perMinute: number;
}

/** Fixed-window counters keyed by a string (address or identity hash). */
export class RateLimiter {
  readonly #windowMs: number;
  constructor(
    readonly limit: RateLimit,
    readonly clock: Clock,
    readonly store: KeyValueStore,
  ) {
    if (!(limit.burst >= 1) || !(limit.perMinute > 0)) throw new RangeError('rate limit needs burst ≥ 1 and perMinute > 0');
    this.#windowMs = Math.max(1000, Math.ceil((limit.burst / limit.perMinute) * 60_000));
  }

  /** Counts one request; resolves 0 if allowed, else the seconds until the window ends. */
  async take(key: string): Promise<number> {
    const now = this.clock();
    const window = Math.floor(now / this.#windowMs);
    const n = await this.store.increment(`${key}:${window}`, this.#windowMs);
    if (n <= this.limit.burst) return 0;
    return Math.max(1, Math.ceil(((window + 1) * this.#windowMs - now) / 1000));
  }
}
