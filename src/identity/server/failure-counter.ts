/**
 * Failed-login counting with lockout, shared by the M-Pin pass verifier and the web relying party
 * (spec §5.7: an identity is locked after `maxFailures` consecutive failures until an
 * administrator resets it). At most `maxTracked` identities are tracked; when full, the oldest one
 * that is not locked is forgotten, so locked identities stay locked under a flood of new ones.
 */
export class FailureCounter {
  readonly #maxFailures: number;
  readonly #maxTracked: number;
  /** hashId → consecutive failures, in insertion order (oldest first). */
  readonly #failures = new Map<string, number>();

  constructor(maxFailures: number, maxTracked: number) {
    this.#maxFailures = maxFailures;
    this.#maxTracked = maxTracked;
  }

  failures(hashId: string): number {
    return this.#failures.get(hashId) ?? 0;
  }

  isLocked(hashId: string): boolean {
    return this.failures(hashId) >= this.#maxFailures;
  }

  /** A successful login or an administrator unlock. */
  reset(hashId: string): void {
    this.#failures.delete(hashId);
  }

  /** Takes back one counted attempt that was never checked (e.g. the worker pool was busy). */
  forgive(hashId: string): void {
    const n = this.failures(hashId);
    if (n <= 1) this.#failures.delete(hashId);
    else this.#failures.set(hashId, n - 1);
  }

  /** Count one more failure; returns the new count (locked when it reaches `maxFailures`). */
  recordFailure(hashId: string): number {
    const count = this.failures(hashId) + 1;
    if (!this.#failures.has(hashId) && this.#failures.size >= this.#maxTracked) {
      for (const [h, n] of this.#failures) {
        if (n < this.#maxFailures) {
          this.#failures.delete(h);
          break;
        }
      }
    }
    this.#failures.set(hashId, count);
    return count;
  }
}
