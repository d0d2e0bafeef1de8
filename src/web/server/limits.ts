/**
 * Small bounded in-memory tables for the relying party: token-bucket rate limits and expiring
 * records (sessions, proofs, access numbers). Time comes from the injected clock; every table has a
 * size bound so a flood of requests cannot grow memory without limit.
 */
import type { Clock } from '../../providers.ts';

export interface RateLimit {
  /** Requests allowed in a burst. */
  readonly burst: number;
  /** Sustained rate, requests per minute. */
  readonly perMinute: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** Token buckets keyed by a string (address or identity hash). */
export class RateLimiter {
  readonly #buckets = new Map<string, Bucket>();
  constructor(
    readonly limit: RateLimit,
    readonly clock: Clock,
    readonly maxKeys = 100_000,
  ) {
    if (!(limit.burst >= 1) || !(limit.perMinute > 0)) throw new RangeError('rate limit needs burst ≥ 1 and perMinute > 0');
  }

  /** Takes one token; returns 0 if allowed, else the seconds to wait. */
  take(key: string): number {
    const now = this.clock();
    const rate = this.limit.perMinute / 60_000;
    let b = this.#buckets.get(key);
    if (b === undefined) {
      if (this.#buckets.size >= this.maxKeys) this.#evict(now, rate);
      b = { tokens: this.limit.burst, at: now };
      this.#buckets.set(key, b);
    } else {
      b.tokens = Math.min(this.limit.burst, b.tokens + Math.max(0, now - b.at) * rate);
      b.at = now;
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / rate / 1000));
  }

  #evict(now: number, rate: number): void {
    // Buckets that have refilled carry no information; drop those first, then the oldest.
    for (const [k, b] of this.#buckets) if (b.tokens + (now - b.at) * rate >= this.limit.burst) this.#buckets.delete(k);
    if (this.#buckets.size >= this.maxKeys) {
      const oldest = this.#buckets.keys().next();
      if (oldest.done !== true) this.#buckets.delete(oldest.value);
    }
  }
}

/** Records that expire; bounded (the oldest is dropped when full). */
export class ExpiringTable<V extends { readonly expiresAt: number }> {
  readonly #items = new Map<string, V>();
  constructor(
    readonly clock: Clock,
    readonly maxItems = 100_000,
  ) {}

  get size(): number {
    return this.#items.size;
  }

  set(key: string, value: V): void {
    const now = this.clock();
    if (this.#items.size >= this.maxItems) {
      for (const [k, v] of this.#items) if (v.expiresAt <= now) this.#items.delete(k);
      const oldest = this.#items.keys().next();
      if (this.#items.size >= this.maxItems && oldest.done !== true) this.#items.delete(oldest.value);
    }
    this.#items.set(key, value);
  }

  get(key: string): V | undefined {
    const v = this.#items.get(key);
    if (v === undefined) return undefined;
    if (v.expiresAt <= this.clock()) {
      this.#items.delete(key);
      return undefined;
    }
    return v;
  }

  delete(key: string): boolean {
    return this.#items.delete(key);
  }

  /** Removes and returns (one-time use). */
  take(key: string): V | undefined {
    const v = this.get(key);
    this.#items.delete(key);
    return v;
  }
}
