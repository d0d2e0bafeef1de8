/**
 * In-process store: for tests and throw-away demos only. Nothing survives a restart and nothing is
 * shared with another process, so replay caches and lockouts kept here protect one process only.
 * Expired entries are dropped when touched and by a periodic sweep (unref'd timer).
 */
import { type Clock, systemClock } from '../providers.ts';
import { type KeyValueStore, StoreError, checkKey, checkTtl, checkValue } from './types.ts';

export interface MemoryStoreOptions {
  readonly clock?: Clock;
  /** How often expired entries are swept (default 60 s; 0 disables the sweep). */
  readonly sweepIntervalMs?: number;
}

interface Entry {
  value: string;
  /** Absolute expiry (clock ms) or undefined for a durable entry. */
  readonly expiresAt: number | undefined;
}

export class MemoryStore implements KeyValueStore {
  readonly #entries = new Map<string, Entry>();
  readonly #clock: Clock;
  readonly #sweep: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(opts: MemoryStoreOptions = {}) {
    this.#clock = opts.clock ?? systemClock;
    const every = opts.sweepIntervalMs ?? 60_000;
    if (every > 0) {
      this.#sweep = setInterval(() => this.purgeExpired(), every);
      this.#sweep.unref();
    }
  }

  /** Number of live (unexpired) entries; for tests and diagnostics. */
  get size(): number {
    this.purgeExpired();
    return this.#entries.size;
  }

  /** Drops every expired entry; returns how many were dropped. */
  purgeExpired(): number {
    const now = this.#clock();
    let n = 0;
    for (const [k, e] of this.#entries) {
      if (e.expiresAt !== undefined && e.expiresAt <= now) {
        this.#entries.delete(k);
        n++;
      }
    }
    return n;
  }

  async setIfAbsent(key: string, value: string, ttlMs?: number): Promise<boolean> {
    this.#check();
    checkKey(key);
    checkValue(value);
    if (ttlMs !== undefined) checkTtl(ttlMs);
    if (this.#live(key) !== undefined) return false;
    this.#entries.set(key, { value, expiresAt: this.#expiry(ttlMs) });
    return true;
  }

  async increment(key: string, ttlMs?: number): Promise<number> {
    this.#check();
    checkKey(key);
    if (ttlMs !== undefined) checkTtl(ttlMs);
    const e = this.#live(key);
    if (e === undefined) {
      this.#entries.set(key, { value: '1', expiresAt: this.#expiry(ttlMs) });
      return 1;
    }
    const n = Number(e.value);
    if (!/^-?\d+$/.test(e.value) || !Number.isSafeInteger(n + 1)) throw new StoreError(`store key ${key} does not hold an integer counter`);
    e.value = String(n + 1);
    return n + 1;
  }

  async get(key: string): Promise<string | undefined> {
    this.#check();
    checkKey(key);
    return this.#live(key)?.value;
  }

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    this.#check();
    checkKey(key);
    checkValue(value);
    if (ttlMs !== undefined) checkTtl(ttlMs);
    this.#entries.set(key, { value, expiresAt: this.#expiry(ttlMs) });
  }

  async delete(key: string): Promise<boolean> {
    this.#check();
    checkKey(key);
    const existed = this.#live(key) !== undefined;
    this.#entries.delete(key);
    return existed;
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#sweep !== undefined) clearInterval(this.#sweep);
    this.#entries.clear();
  }

  #expiry(ttlMs: number | undefined): number | undefined {
    return ttlMs === undefined ? undefined : this.#clock() + ttlMs;
  }

  #live(key: string): Entry | undefined {
    const e = this.#entries.get(key);
    if (e === undefined) return undefined;
    if (e.expiresAt !== undefined && e.expiresAt <= this.#clock()) {
      this.#entries.delete(key);
      return undefined;
    }
    return e;
  }

  #check(): void {
    if (this.#closed) throw new StoreError('the store is closed');
  }
}
