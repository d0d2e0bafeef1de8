/**
 * M-Pin verification for the relying party: one-pass (spec §5.5/§5.6, y from the time value) and
 * two-pass (spec §5.9, y drawn by the server), with PIN-error detection (spec §5.7), and a lockout
 * policy that is not a denial-of-service tool (issue 13 §3). All state lives in the shared store,
 * so every process of a deployment applies the same counts.
 *
 * PIN-error detection needs U = [x]A as well as UT (spec §5.7: the error lives in the client
 * secret, not the permit). Our client always sends both; the check itself uses UT when time
 * permits are required, so a revoked identity (no permit for today) is refused.
 *
 * The pairings and the PIN-error search run through `check` (the worker pool in a server,
 * issue 11 §6); only cheap validation and store look-ups happen on the caller's thread.
 *
 * Lockout policy (numbers are the defaults; src/web/README.md):
 * - after the n-th consecutive failure of an identity, its next attempt must wait
 *   min(1 s · 2^(n−1), 15 min) ("backoff"); at most one check per identity runs at a time;
 * - after `maxFailures` (10) consecutive failures it is locked until a self-service unlock (the
 *   verification link), an administrator `reset`, or success is impossible;
 * - one source address (IPv6: its /64) may cause at most `sourceFailures.max` (20) failures per
 *   `sourceFailures.windowMs` (1 h), across all identities: then its sign-ins are refused
 *   ("throttled") before any check, so one address cannot lock many identities;
 * - a success clears the identity's count.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '../../codec/bytes.ts';
import { decodeG1, encodeScalar } from '../../crypto/bncx/index.ts';
import { dayOf, randomScalar, ServerSecret } from '../../crypto/mpin.ts';
import { WorkerPoolBusyError } from '../../kex/milagro/pool.ts';
import type { Clock, RandomSource } from '../../providers.ts';
import { type KeyValueStore, MemoryStore } from '../../store/index.ts';
import { isHex } from '../protocol.ts';
import { sourceKey } from '../../source-key.ts';
import { inProcessCheck, type MpinCheckInput, type MpinCheckOutput } from './verify-ops.ts';

/** Runs one check; `source` is the remote address (the pool queues sources fairly). */
export type SourcedCheck = (input: MpinCheckInput, source: string) => Promise<MpinCheckOutput>;

export interface LoginVerifierOptions {
  readonly serverSecret: Uint8Array;
  readonly clock: Clock;
  readonly random: RandomSource;
  /** Where counters, challenges and seen passes live (namespaced by the caller). Default: memory. */
  readonly store?: KeyValueStore;
  /** Runs the pairings (default: on this thread; servers pass the worker pool's). */
  readonly check?: SourcedCheck;
  /** Consecutive failures before the identity is locked. Default 10. */
  readonly maxFailures?: number;
  /** Wait after the first failure; doubles with each further one. Default 1000 ms; 0 = no back-off. */
  readonly backoffBaseMs?: number;
  /** Longest back-off. Default 15 min. */
  readonly backoffMaxMs?: number;
  /** Failures one source address may cause per window, all identities together. Default 20 per hour. */
  readonly sourceFailures?: { readonly max: number; readonly windowMs: number };
  /** Require a pass made with today's time permit. Default true. */
  readonly requireTimePermits?: boolean;
  /** One-pass: accepted |time value − server time| in seconds. Default 30. */
  readonly maxClockSkewSeconds?: number;
  /** Two-pass: how long a challenge y stays valid. Default 60 s. */
  readonly challengeTtlMs?: number;
}

export type Verdict =
  | { readonly ok: true; readonly hashId: string }
  | { readonly ok: false; readonly code: 'wrong_pin' | 'bad_credentials'; readonly attemptsLeft: number; readonly pinError: number | undefined; readonly retryAfter: number }
  | { readonly ok: false; readonly code: 'locked' }
  | { readonly ok: false; readonly code: 'backoff'; readonly retryAfter: number; readonly attemptsLeft: number }
  | { readonly ok: false; readonly code: 'throttled'; readonly retryAfter: number }
  | { readonly ok: false; readonly code: 'overloaded' }
  | { readonly ok: false; readonly code: 'stale' | 'replayed' | 'unknown_challenge' | 'invalid_field'; readonly message: string };

export interface PassPoints {
  readonly hashId: Uint8Array;
  readonly u: string;
  readonly ut: string | undefined;
}

interface StoredChallenge {
  /** Caller's context (the relying party keeps the identity here). */
  readonly tag: string;
  readonly hashId: string;
  readonly u: string;
  readonly point: string;
  readonly y: string;
  readonly day: number;
  readonly expiresAt: number;
}

/** How long failure counts are remembered after the first failure of a series. */
const FAILURE_MEMORY_MS = 24 * 3_600_000;
/** Marker of a check in progress for one identity (removed when it settles; TTL only for crashes). */
const IN_FLIGHT_MS = 60_000;

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
  readonly #clock: Clock;
  readonly #random: RandomSource;
  readonly #store: KeyValueStore;
  readonly #check: SourcedCheck;
  readonly #maxFailures: number;
  readonly #backoffBase: number;
  readonly #backoffMax: number;
  readonly #sourceMax: number;
  readonly #sourceWindow: number;
  readonly #permits: boolean;
  readonly #skew: number;
  readonly #ttl: number;

  constructor(opts: LoginVerifierOptions) {
    ServerSecret.fromBytes(opts.serverSecret); // validates (in G2, not O) once, up front
    this.#secret = opts.serverSecret.slice();
    this.#clock = opts.clock;
    this.#random = opts.random;
    this.#store = opts.store ?? new MemoryStore({ clock: opts.clock });
    const inProcess = inProcessCheck();
    this.#check = opts.check ?? ((input) => inProcess(input));
    this.#maxFailures = opts.maxFailures ?? 10;
    if (!Number.isSafeInteger(this.#maxFailures) || this.#maxFailures < 1) throw new RangeError('maxFailures must be a positive integer');
    this.#backoffBase = opts.backoffBaseMs ?? 1000;
    this.#backoffMax = opts.backoffMaxMs ?? 15 * 60_000;
    if (!(this.#backoffBase >= 0) || !(this.#backoffMax >= this.#backoffBase)) throw new RangeError('back-off needs 0 ≤ backoffBaseMs ≤ backoffMaxMs');
    this.#sourceMax = opts.sourceFailures?.max ?? 20;
    this.#sourceWindow = opts.sourceFailures?.windowMs ?? 3_600_000;
    if (!Number.isSafeInteger(this.#sourceMax) || this.#sourceMax < 1 || !(this.#sourceWindow >= 1000)) throw new RangeError('sourceFailures needs max ≥ 1 and windowMs ≥ 1000');
    this.#permits = opts.requireTimePermits ?? true;
    this.#skew = opts.maxClockSkewSeconds ?? 30;
    this.#ttl = opts.challengeTtlMs ?? 60_000;
  }

  get maxFailures(): number {
    return this.#maxFailures;
  }

  get requireTimePermits(): boolean {
    return this.#permits;
  }

  /** Consecutive failures of an identity (hash in hex). */
  async failures(hashId: string): Promise<number> {
    return Number((await this.#store.get(`fail:${hashId}`)) ?? '0');
  }

  async isLocked(hashId: string): Promise<boolean> {
    return (await this.#store.get(`lock:${hashId}`)) !== undefined;
  }

  /** Unlock (administrator, or the self-service verification link): clears lock, count and back-off. */
  async reset(hashId: string): Promise<void> {
    await Promise.all([this.#store.delete(`lock:${hashId}`), this.#store.delete(`fail:${hashId}`), this.#store.delete(`gate:${hashId}`)]);
  }

  /** Wait after the n-th consecutive failure. */
  #delay(n: number): number {
    if (this.#backoffBase === 0) return 0;
    return Math.min(this.#backoffMax, this.#backoffBase * 2 ** Math.min(n - 1, 40));
  }

  /**
   * A source's budget in this window: `attempts` counts every check it started (charged before
   * the check, so concurrent requests cannot overrun it), `ok` those that did not fail.
   */
  #sourceWindowKey(source: string): { attempts: string; ok: string; endsAt: number } {
    const w = Math.floor(this.#clock() / this.#sourceWindow);
    const k = `${sourceKey(source)}:${w}`;
    return { attempts: `src:${k}`, ok: `srcok:${k}`, endsAt: (w + 1) * this.#sourceWindow };
  }

  /** The cheap refusals, before any pairing: locked, throttled source, back-off. */
  async #gate(hid: string, source: string): Promise<Verdict | undefined> {
    const now = this.#clock();
    const src = this.#sourceWindowKey(source);
    const [lock, attempts, ok, gate, fails] = await Promise.all([
      this.#store.get(`lock:${hid}`),
      this.#store.get(src.attempts),
      this.#store.get(src.ok),
      this.#store.get(`gate:${hid}`),
      this.#store.get(`fail:${hid}`),
    ]);
    if (lock !== undefined) return { ok: false, code: 'locked' };
    if (Number(attempts ?? '0') - Number(ok ?? '0') >= this.#sourceMax) return this.#throttled(src.endsAt);
    const until = Number(gate ?? '0');
    if (until > now) return { ok: false, code: 'backoff', retryAfter: Math.max(1, Math.ceil((until - now) / 1000)), attemptsLeft: this.#maxFailures - Number(fails ?? '0') };
    return undefined;
  }

  #throttled(endsAt: number): Verdict {
    return { ok: false, code: 'throttled', retryAfter: Math.max(1, Math.ceil((endsAt - this.#clock()) / 1000)) };
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
  async verifyPass(p: PassPoints & { readonly v: string; readonly timeValue: number }, source = ''): Promise<Verdict> {
    const pts = this.#points(p);
    if (typeof pts === 'string') return { ok: false, code: 'invalid_field', message: pts };
    const v = checkPoint(p.v, 'v');
    if (typeof v === 'string') return { ok: false, code: 'invalid_field', message: v };
    const nowS = Math.floor(this.#clock() / 1000);
    if (!Number.isSafeInteger(p.timeValue) || Math.abs(nowS - p.timeValue) > this.#skew) {
      return { ok: false, code: 'stale', message: `the time value is more than ${this.#skew} s from the server clock` };
    }
    const hid = bytesToHex(p.hashId);
    const refused = await this.#gate(hid, source);
    if (refused !== undefined) return refused;
    // A pass is good for one use within the skew window, in every process sharing the store.
    const seenKey = `pass:${bytesToHex(sha256(v))}`;
    if (!(await this.#store.setIfAbsent(seenKey, '1', (2 * this.#skew + 1) * 1000))) return { ok: false, code: 'replayed', message: 'this pass was already presented' };
    return this.#run(hid, { serverSecret: this.#secret, hashId: p.hashId, point: pts.point, V: v, date: this.#day(), timeValue: p.timeValue, U: pts.u }, source);
  }

  /** Two-pass, first message (spec §5.9 SERVER_1): remembers U/UT and draws y. */
  async start(p: PassPoints, tag: string, source = ''): Promise<{ readonly challenge: string; readonly y: string } | Verdict> {
    const pts = this.#points(p);
    if (typeof pts === 'string') return { ok: false, code: 'invalid_field', message: pts };
    const hid = bytesToHex(p.hashId);
    const refused = await this.#gate(hid, source);
    if (refused !== undefined) return refused;
    const y = bytesToHex(encodeScalar(randomScalar(this.#random)));
    const id = bytesToHex(this.#random(16));
    const c: StoredChallenge = { tag, hashId: hid, u: bytesToHex(pts.u), point: bytesToHex(pts.point), y, day: this.#day(), expiresAt: this.#clock() + this.#ttl };
    await this.#store.set(`challenge:${id}`, JSON.stringify(c), this.#ttl);
    return { challenge: id, y };
  }

  /** Two-pass, second message (SERVER_2): a challenge is used once, whatever the outcome. */
  async finish(challenge: string, vHex: string, source = ''): Promise<{ readonly verdict: Verdict; readonly tag: string | undefined }> {
    const gone = { verdict: { ok: false, code: 'unknown_challenge', message: 'no such challenge, or it expired; start again' } as const, tag: undefined };
    if (!isHex(challenge, 16)) return gone;
    const raw = await this.#store.get(`challenge:${challenge}`);
    if (raw === undefined) return gone;
    const c = JSON.parse(raw) as StoredChallenge;
    const v = checkPoint(vHex, 'v');
    if (typeof v === 'string') return { verdict: { ok: false, code: 'invalid_field', message: v }, tag: c.tag };
    // Deleting is the atomic claim: of two concurrent finishes (any processes), one proceeds.
    if (!(await this.#store.delete(`challenge:${challenge}`)) || c.expiresAt <= this.#clock()) return gone;
    const refused = await this.#gate(c.hashId, source);
    if (refused !== undefined) return { verdict: refused, tag: c.tag };
    // The day is the one of the first pass: a sign-in across midnight still checks consistently.
    const input = { serverSecret: this.#secret, hashId: hexToBytes(c.hashId), point: hexToBytes(c.point), V: v, date: c.day, y: hexToBytes(c.y), U: hexToBytes(c.u) };
    return { verdict: await this.#run(c.hashId, input, source), tag: c.tag };
  }

  /**
   * One check at a time per identity (a marker in the store), then settle: a success clears the
   * count; a failure counts for the identity and for the source, and sets the back-off or the lock.
   */
  async #run(hid: string, input: MpinCheckInput, source: string): Promise<Verdict> {
    // Charge the source first; anything that ends up not being a failure is refunded.
    const src = this.#sourceWindowKey(source);
    const refund = (): Promise<number> => this.#store.increment(src.ok, this.#sourceWindow);
    const [attempts, ok] = await Promise.all([this.#store.increment(src.attempts, this.#sourceWindow), this.#store.get(src.ok)]);
    if (attempts - Number(ok ?? '0') > this.#sourceMax) {
      await refund();
      return this.#throttled(src.endsAt);
    }
    const inFlight = `inflight:${hid}`;
    if (!(await this.#store.setIfAbsent(inFlight, '1', IN_FLIGHT_MS))) {
      await refund();
      return { ok: false, code: 'backoff', retryAfter: 1, attemptsLeft: this.#maxFailures - (await this.failures(hid)) };
    }
    try {
      let r: MpinCheckOutput;
      try {
        r = await this.#check(input, source);
      } catch (e) {
        // Not checked, so nobody's failure.
        await refund();
        if (e instanceof WorkerPoolBusyError) return { ok: false, code: 'overloaded' };
        throw e;
      }
      if (r.ok) {
        await Promise.all([this.#store.delete(`fail:${hid}`), this.#store.delete(`gate:${hid}`), refund()]);
        return { ok: true, hashId: hid };
      }
      const n = await this.#store.increment(`fail:${hid}`, FAILURE_MEMORY_MS);
      if (n >= this.#maxFailures) {
        await this.#store.set(`lock:${hid}`, String(this.#clock()));
        return { ok: false, code: 'locked' };
      }
      const wait = this.#delay(n);
      if (wait > 0) await this.#store.set(`gate:${hid}`, String(this.#clock() + wait), wait + 1000);
      return {
        ok: false,
        code: r.pinError !== undefined ? 'wrong_pin' : 'bad_credentials',
        attemptsLeft: this.#maxFailures - n,
        pinError: r.pinError,
        retryAfter: Math.ceil(wait / 1000),
      };
    } finally {
      await this.#store.delete(inFlight);
    }
  }
}
