/**
 * The shared-state interface: exactly the operations the security features need (replay caches,
 * nonces, failure counters, sessions, challenges, durable registrations and revocations), so that
 * one process, several processes on one machine (SQLite file) or several machines (Redis/Valkey)
 * all see the same answers.
 *
 * Every operation is atomic with respect to every other client of the same store. TTLs are in
 * milliseconds; an expired key behaves exactly as an absent one.
 */
export interface KeyValueStore {
  /**
   * Atomically sets key → value if the key is absent (or expired); true when this call set it.
   * ttlMs undefined = durable (e.g. "this identity is registered", "this hash is revoked").
   */
  setIfAbsent(key: string, value: string, ttlMs?: number): Promise<boolean>;
  /**
   * Atomically increments the integer at key and returns the new value. A counter that does not
   * exist (or has expired) starts at 1 and gets the TTL; later increments keep the original
   * expiry (a fixed window, so repeated failures cannot keep extending it). ttlMs undefined =
   * a durable counter.
   */
  increment(key: string, ttlMs?: number): Promise<number>;
  get(key: string): Promise<string | undefined>;
  /** Sets key → value, replacing any earlier value. ttlMs undefined = durable (no expiry). */
  set(key: string, value: string, ttlMs?: number): Promise<void>;
  /** Removes the key; true when it existed (and had not expired). */
  delete(key: string): Promise<boolean>;
  /** Releases connections / file handles. Only the owner (whoever opened it) calls this. */
  close(): Promise<void>;
}

/** A store operation failed (connection lost, disk error, bad argument). */
export class StoreError extends Error {
  override readonly name = 'StoreError';
}

/** A backend's optional dependency is not installed; the message says what to install. */
export class StoreDependencyError extends StoreError {}

/** Largest accepted key and value sizes: callers derive keys from peer input, so bound them. */
export const MAX_KEY_BYTES = 1024;
export const MAX_VALUE_BYTES = 1024 * 1024;
/** Longest TTL (400 days); longer-lived records are durable (no TTL). */
export const MAX_TTL_MS = 400 * 24 * 3600 * 1000;

export function checkKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0) throw new StoreError('store key must be a non-empty string');
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) throw new StoreError(`store key longer than ${MAX_KEY_BYTES} bytes`);
}

export function checkValue(value: string): void {
  if (typeof value !== 'string') throw new StoreError('store value must be a string');
  if (value.length > MAX_VALUE_BYTES || Buffer.byteLength(value, 'utf8') > MAX_VALUE_BYTES) {
    throw new StoreError(`store value longer than ${MAX_VALUE_BYTES} bytes`);
  }
}

export function checkTtl(ttlMs: number): void {
  if (!Number.isSafeInteger(ttlMs) || ttlMs <= 0 || ttlMs > MAX_TTL_MS) {
    throw new StoreError(`store TTL must be an integer number of milliseconds in 1..${MAX_TTL_MS} (got ${String(ttlMs)})`);
  }
}
