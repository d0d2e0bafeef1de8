/**
 * Server side of M-Pin (issue 5 item 4; spec §5.6, §5.7): checks one-pass values against the
 * recombined server secret, reports the PIN error δ on a wrong PIN, and locks an identity out after
 * `maxFailures` consecutive failures (default 3) until a success... which a locked identity cannot
 * reach, so the reset is an administrator's call (`reset`). The time value must be within
 * `maxClockSkewSeconds` of the server clock, and a pass is accepted once (replay cache), fixing
 * spec §10 item 13; near midnight the client's day is tried too (§10 item 14).
 */
import { hexToBytes } from '../../codec/bytes.ts';
import type { Clock } from '../../providers.ts';
import { dayOf, G1_BYTES, HASH_ID_BYTES, type IdentityCrypto, type ServerVerifyResult } from '../crypto-port.ts';
import { FailureCounter } from './failure-counter.ts';

export interface VerifierOptions {
  readonly crypto: IdentityCrypto;
  readonly serverSecret: Uint8Array;
  readonly clock: Clock;
  /** Consecutive failures before lockout. Default 3. */
  readonly maxFailures?: number;
  /** Require passes made with today's time permit. Default true. */
  readonly requireTimePermits?: boolean;
  /** Accepted |time value − server time|. Default 30 s. */
  readonly maxClockSkewSeconds?: number;
  /** Bound on identities tracked for failure counts. Default 100000. */
  readonly maxTrackedIdentities?: number;
}

/** The values received from a client; hex strings as produced by `passToJson`. */
export interface PassMessage {
  readonly hashId: string;
  readonly u?: string;
  readonly ut?: string;
  readonly v: string;
  readonly timeValue: number;
}

export type VerifyOutcome =
  | { readonly ok: true; readonly hashId: string }
  | {
      readonly ok: false;
      readonly reason: 'wrong-pin' | 'bad-credentials';
      readonly hashId: string;
      /** entered − registered PIN, when it was found (|δ| < 10000). */
      readonly pinError: number | undefined;
      readonly failures: number;
      readonly locked: boolean;
    }
  | { readonly ok: false; readonly reason: 'locked'; readonly hashId: string; readonly failures: number }
  | { readonly ok: false; readonly reason: 'stale' | 'replayed' | 'malformed'; readonly message: string };

const hexOk = (s: unknown, bytes: number): s is string => typeof s === 'string' && s.length === 2 * bytes && /^[0-9a-f]+$/.test(s);

export class MpinVerifier {
  readonly #opts: VerifierOptions;
  readonly #maxFailures: number;
  readonly #skew: number;
  readonly #failures: FailureCounter;
  /** V (hex) of accepted or rejected passes → time value, kept while inside the skew window. */
  readonly #seen = new Map<string, number>();

  constructor(opts: VerifierOptions) {
    opts.crypto.checkG2(opts.serverSecret);
    this.#opts = opts;
    this.#maxFailures = opts.maxFailures ?? 3;
    this.#skew = opts.maxClockSkewSeconds ?? 30;
    this.#failures = new FailureCounter(this.#maxFailures, opts.maxTrackedIdentities ?? 100_000);
  }

  failures(hashId: string): number {
    return this.#failures.failures(hashId);
  }

  isLocked(hashId: string): boolean {
    return this.#failures.isLocked(hashId);
  }

  /** Administrator reset of an identity's failure count (unlocks it). */
  reset(hashId: string): void {
    this.#failures.reset(hashId);
  }

  /** Checks one pass. `msg` may come straight from JSON.parse: every field is validated here. */
  verify(input: PassMessage | unknown): VerifyOutcome {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      return { ok: false, reason: 'malformed', message: 'the pass must be a JSON object {hashId, u, ut, v, timeValue}' };
    }
    const msg = input as Partial<Record<keyof PassMessage, unknown>>;
    if (!hexOk(msg.hashId, HASH_ID_BYTES)) return { ok: false, reason: 'malformed', message: '"hashId" must be 32 bytes of lowercase hex' };
    if (!hexOk(msg.v, G1_BYTES)) return { ok: false, reason: 'malformed', message: '"v" must be a 65-byte G1 point in lowercase hex' };
    if (msg.u !== undefined && !hexOk(msg.u, G1_BYTES)) return { ok: false, reason: 'malformed', message: '"u" must be a 65-byte G1 point in lowercase hex' };
    if (msg.ut !== undefined && !hexOk(msg.ut, G1_BYTES)) return { ok: false, reason: 'malformed', message: '"ut" must be a 65-byte G1 point in lowercase hex' };
    if (typeof msg.timeValue !== 'number' || !Number.isSafeInteger(msg.timeValue) || msg.timeValue < 0) {
      return { ok: false, reason: 'malformed', message: '"timeValue" must be Unix seconds' };
    }
    const requirePermits = this.#opts.requireTimePermits ?? true;
    if (requirePermits && msg.ut === undefined) return { ok: false, reason: 'malformed', message: 'this server requires time permits: "ut" is missing' };
    if (!requirePermits && msg.u === undefined) return { ok: false, reason: 'malformed', message: '"u" is missing' };
    const now = this.#opts.clock();
    const nowSeconds = Math.floor(now / 1000);
    if (Math.abs(nowSeconds - msg.timeValue) > this.#skew) {
      return { ok: false, reason: 'stale', message: `the time value is more than ${this.#skew} s away from the server clock` };
    }
    for (const [v, t] of this.#seen) if (Math.abs(nowSeconds - t) > this.#skew) this.#seen.delete(v);
    if (this.#seen.has(msg.v)) return { ok: false, reason: 'replayed', message: 'this pass was already presented' };
    try {
      // Strict point decoding (spec §2.6) before any pairing work.
      for (const p of [msg.v, msg.u, msg.ut]) if (p !== undefined) this.#opts.crypto.checkG1(hexToBytes(p));
    } catch (e) {
      return { ok: false, reason: 'malformed', message: `invalid point: ${(e as Error).message}` };
    }
    const hashId = msg.hashId;
    const failures = this.failures(hashId);
    if (failures >= this.#maxFailures) return { ok: false, reason: 'locked', hashId, failures };
    this.#seen.set(msg.v, msg.timeValue);
    // The client picks its permit by its own clock; around midnight UTC it may legitimately be on
    // the other side of the day boundary (spec §10 item 14). Its time value is already within the
    // skew window, so also try the day that time value falls in.
    const serverDay = requirePermits ? dayOf(now) : 0;
    const clientDay = requirePermits ? Math.floor(msg.timeValue / 86_400) : 0;
    const days = clientDay !== serverDay ? [serverDay, clientDay] : [serverDay];
    let result: ServerVerifyResult = { ok: false, pinError: undefined };
    for (const day of days) {
      const r = this.#opts.crypto.serverVerify({
        hashId: hexToBytes(hashId),
        u: msg.u === undefined ? undefined : hexToBytes(msg.u),
        ut: requirePermits && msg.ut !== undefined ? hexToBytes(msg.ut) : undefined,
        v: hexToBytes(msg.v),
        timeValue: msg.timeValue,
        day,
        serverSecret: this.#opts.serverSecret,
      });
      if (r.ok || (result.ok === false && result.pinError === undefined)) result = r;
      if (r.ok) break;
    }
    if (result.ok) {
      this.#failures.reset(hashId);
      return { ok: true, hashId };
    }
    const count = this.#failures.recordFailure(hashId);
    return {
      ok: false,
      reason: result.pinError !== undefined ? 'wrong-pin' : 'bad-credentials',
      hashId,
      pinError: result.pinError,
      failures: count,
      locked: count >= this.#maxFailures,
    };
  }
}

