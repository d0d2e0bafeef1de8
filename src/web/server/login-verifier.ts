/**
 * M-Pin verification for the relying party: one-pass (spec §5.5/§5.6, y from the time value) and
 * two-pass (spec §5.9, y drawn by the server), with PIN-error detection (spec §5.7) and one lockout
 * counter shared by both, so switching protocol does not buy an attacker more guesses.
 *
 * PIN-error detection needs U = [x]A as well as UT (spec §5.7: the error lives in the client
 * secret, not the permit). Our client always sends both; the check itself uses UT when time
 * permits are required, so a revoked identity (no permit for today) is refused.
 *
 * The pairings and the PIN-error search run through `check` (the worker pool in a server,
 * issue 11 §6); only cheap validation and bookkeeping happen on the caller's thread. An attempt is
 * counted *before* its check starts, so concurrent guesses cannot outrun the lockout.
 */
import { bytesToHex, hexToBytes } from '../../codec/bytes.ts';
import { decodeG1, encodeScalar } from '../../crypto/bncx/index.ts';
import { dayOf, randomScalar, ServerSecret } from '../../crypto/mpin.ts';
import { FailureCounter } from '../../identity/server/failure-counter.ts';
import { WorkerPoolBusyError } from '../../kex/milagro/pool.ts';
import type { Clock, RandomSource } from '../../providers.ts';
import { isHex } from '../protocol.ts';
import { inProcessCheck, type MpinCheck, type MpinCheckInput, type MpinCheckOutput } from './verify-ops.ts';

export interface LoginVerifierOptions {
  readonly serverSecret: Uint8Array;
  readonly clock: Clock;
  readonly random: RandomSource;
  /** Runs the pairings (default: on this thread; servers pass the worker pool's). */
  readonly check?: MpinCheck;
  /** Consecutive failures before lockout. Default 3. */
  readonly maxFailures?: number;
  /** Require a pass made with today's time permit. Default true. */
  readonly requireTimePermits?: boolean;
  /** One-pass: accepted |time value − server time| in seconds. Default 30. */
  readonly maxClockSkewSeconds?: number;
  /** Two-pass: how long a challenge y stays valid. Default 60 s. */
  readonly challengeTtlMs?: number;
  /** Bounds on the tables kept in memory. Default 100000 each. */
  readonly maxEntries?: number;
}

export type Verdict =
  | { readonly ok: true; readonly hashId: string }
  | { readonly ok: false; readonly code: 'wrong_pin' | 'bad_credentials'; readonly attemptsLeft: number; readonly pinError: number | undefined }
  | { readonly ok: false; readonly code: 'locked' }
  | { readonly ok: false; readonly code: 'overloaded' }
  | { readonly ok: false; readonly code: 'stale' | 'replayed' | 'unknown_challenge' | 'invalid_field'; readonly message: string };

export interface PassPoints {
  readonly hashId: Uint8Array;
  readonly u: string;
  readonly ut: string | undefined;
}

interface Challenge {
  /** Caller's context (the relying party keeps the identity here). */
  readonly tag: string;
  readonly hashId: Uint8Array;
  readonly u: Uint8Array;
  readonly point: Uint8Array;
  readonly y: Uint8Array;
  readonly day: number;
  readonly expiresAt: number;
}

function checkPoint(hex: string, name: string): Uint8Array | string {
  if (!isHex(hex, 65)) return `"${name}" must be a 65-byte G1 point in lowercase hex`;
  const b = hexToBytes(hex);
  try {
    decodeG1(b);
  } catch {
    return `"${name}" is not a valid G1 point`;
  }
  return b;
}

export class LoginVerifier {
  readonly #secret: Uint8Array;
  readonly #check: MpinCheck;
  readonly #clock: Clock;
  readonly #random: RandomSource;
  readonly #maxFailures: number;
  readonly #permits: boolean;
  readonly #skew: number;
  readonly #ttl: number;
  readonly #max: number;
  readonly #failures: FailureCounter;
  /** V values seen in one-pass (hex) → time value; kept while inside the skew window. */
  readonly #seen = new Map<string, number>();
  readonly #challenges = new Map<string, Challenge>();

  constructor(opts: LoginVerifierOptions) {
    ServerSecret.fromBytes(opts.serverSecret); // validates (in G2, not O) once, up front
    this.#secret = opts.serverSecret.slice();
    this.#check = opts.check ?? inProcessCheck();
    this.#clock = opts.clock;
    this.#random = opts.random;
    this.#maxFailures = opts.maxFailures ?? 3;
    if (!Number.isSafeInteger(this.#maxFailures) || this.#maxFailures < 1) throw new RangeError('maxFailures must be a positive integer');
    this.#permits = opts.requireTimePermits ?? true;
    this.#skew = opts.maxClockSkewSeconds ?? 30;
    this.#ttl = opts.challengeTtlMs ?? 60_000;
    this.#max = opts.maxEntries ?? 100_000;
    this.#failures = new FailureCounter(this.#maxFailures, this.#max);
  }

  get maxFailures(): number {
    return this.#maxFailures;
  }

  get requireTimePermits(): boolean {
    return this.#permits;
  }

  failures(hashId: string): number {
    return this.#failures.failures(hashId);
  }

  isLocked(hashId: string): boolean {
    return this.#failures.isLocked(hashId);
  }

  /** Administrator unlock. */
  reset(hashId: string): void {
    this.#failures.reset(hashId);
  }

  #points(p: PassPoints): { u: Uint8Array; point: Uint8Array } | string {
    const u = checkPoint(p.u, 'u');
    if (typeof u === 'string') return u;
    if (!this.#permits) return { u, point: u };
    if (p.ut === undefined) return 'this relying party requires time permits: "ut" is missing';
    const ut = checkPoint(p.ut, 'ut');
    if (typeof ut === 'string') return ut;
    return { u, point: ut };
  }

  #day(): number {
    return this.#permits ? dayOf(this.#clock()) : 0;
  }

  /** One-pass (spec §5.6): y = hashN(t, UT) mod r; the time value must be fresh and V unseen. */
  async verifyPass(p: PassPoints & { readonly v: string; readonly timeValue: number }): Promise<Verdict> {
    const pts = this.#points(p);
    if (typeof pts === 'string') return { ok: false, code: 'invalid_field', message: pts };
    const v = checkPoint(p.v, 'v');
    if (typeof v === 'string') return { ok: false, code: 'invalid_field', message: v };
    const nowS = Math.floor(this.#clock() / 1000);
    if (!Number.isSafeInteger(p.timeValue) || Math.abs(nowS - p.timeValue) > this.#skew) {
      return { ok: false, code: 'stale', message: `the time value is more than ${this.#skew} s from the server clock` };
    }
    const hid = bytesToHex(p.hashId);
    if (this.isLocked(hid)) return { ok: false, code: 'locked' };
    for (const [k, t] of this.#seen) if (Math.abs(nowS - t) > this.#skew) this.#seen.delete(k);
    if (this.#seen.has(p.v)) return { ok: false, code: 'replayed', message: 'this pass was already presented' };
    if (this.#seen.size >= this.#max) return { ok: false, code: 'stale', message: 'too many passes in flight; retry in a few seconds' };
    this.#seen.set(p.v, p.timeValue);
    return this.#run(hid, { serverSecret: this.#secret, hashId: p.hashId, point: pts.point, V: v, date: this.#day(), timeValue: p.timeValue, U: pts.u });
  }

  /** Two-pass, first message (spec §5.9 SERVER_1): remembers U/UT and draws y. */
  start(p: PassPoints, tag: string): { readonly challenge: string; readonly y: string } | Verdict {
    const pts = this.#points(p);
    if (typeof pts === 'string') return { ok: false, code: 'invalid_field', message: pts };
    const hid = bytesToHex(p.hashId);
    if (this.isLocked(hid)) return { ok: false, code: 'locked' };
    const now = this.#clock();
    for (const [k, c] of this.#challenges) if (c.expiresAt <= now) this.#challenges.delete(k);
    if (this.#challenges.size >= this.#max) return { ok: false, code: 'stale', message: 'too many sign-ins in flight; retry in a few seconds' };
    const y = encodeScalar(randomScalar(this.#random));
    const id = bytesToHex(this.#random(16));
    this.#challenges.set(id, { tag, hashId: p.hashId, u: pts.u, point: pts.point, y, day: this.#day(), expiresAt: now + this.#ttl });
    return { challenge: id, y: bytesToHex(y) };
  }

  /** Two-pass, second message (SERVER_2): a challenge is used once, whatever the outcome. */
  async finish(challenge: string, vHex: string): Promise<{ readonly verdict: Verdict; readonly tag: string | undefined }> {
    const c = this.#challenges.get(challenge);
    if (c === undefined || c.expiresAt <= this.#clock()) {
      this.#challenges.delete(challenge);
      return { verdict: { ok: false, code: 'unknown_challenge', message: 'no such challenge, or it expired; start again' }, tag: undefined };
    }
    const v = checkPoint(vHex, 'v');
    if (typeof v === 'string') return { verdict: { ok: false, code: 'invalid_field', message: v }, tag: c.tag };
    this.#challenges.delete(challenge);
    const hid = bytesToHex(c.hashId);
    // The day is the one of the first pass: a sign-in across midnight still checks consistently.
    const verdict = await this.#run(hid, { serverSecret: this.#secret, hashId: c.hashId, point: c.point, V: v, date: c.day, y: c.y, U: c.u });
    return { verdict, tag: c.tag };
  }

  /**
   * Counts the attempt, runs the check, and settles: a success clears the count, a failure keeps
   * it. Counting first means N concurrent guesses see counts 1..N and only the first
   * `maxFailures` are checked at all.
   */
  async #run(hid: string, input: MpinCheckInput): Promise<Verdict> {
    if (this.isLocked(hid)) return { ok: false, code: 'locked' };
    const count = this.#failures.recordFailure(hid);
    let r: MpinCheckOutput;
    try {
      r = await this.#check(input);
    } catch (e) {
      // Not checked, so not a failure of the user's: give the attempt back.
      this.#failures.forgive(hid);
      if (e instanceof WorkerPoolBusyError) return { ok: false, code: 'overloaded' };
      throw e;
    }
    return this.#settle(hid, count, r);
  }

  /** Challenges waiting for their second pass (for tests and monitoring). */
  get pendingChallenges(): number {
    return this.#challenges.size;
  }

  /**
   * Every failure counts, not only those whose PIN error was found: U is the client's word, and a
   * token thief who sent a wrong U would make δ unfindable while still learning whether the PIN
   * guess was right. The cost is that anyone can lock an identity by sending junk (a lockout DoS,
   * bounded by the per-identity rate limit); the administrator unlocks with `reset`.
   */
  #settle(hid: string, count: number, r: MpinCheckOutput): Verdict {
    if (r.ok) {
      this.#failures.reset(hid);
      return { ok: true, hashId: hid };
    }
    if (count >= this.#maxFailures) return { ok: false, code: 'locked' };
    return { ok: false, code: r.pinError !== undefined ? 'wrong_pin' : 'bad_credentials', attemptsLeft: this.#maxFailures - count, pinError: r.pinError };
  }
}
