/**
 * The M-Pin browser client (issue 8 item 1), on the same crypto core as the server
 * (src/crypto/mpin.ts). No Node built-ins and no DOM beyond `fetch`: it runs in the browser bundle
 * and, with an injected fetch, in Node tests.
 *
 * Registration: the relying party relays one signed request to every DTA and hands back their
 * shares; the client checks and adds them (spec §5.1), removes the PIN (spec §5.4) and stores only
 * the token. Sign-in: fetch today's permit shares and add them, then run the one-pass protocol
 * (spec §5.5, time value from the server clock) or the two-pass one (spec §5.9, server challenge y).
 * U is always sent next to UT so the server can measure a PIN error (spec §5.7).
 */
import { bytesToHex, hexToBytes } from '../../codec/bytes.ts';
import { decodeG1, encodeG1, type G1Point } from '../../crypto/bncx/index.ts';
import { client1, client2, clientPass, extractPin } from '../../crypto/mpin.ts';
import { type Clock, type RandomSource, systemClock, systemRandom } from '../../providers.ts';
import {
  type AuthSuccess,
  CSRF_HEADER,
  DEFAULT_PREFIX,
  ENDPOINTS,
  type ErrorCode,
  isHex,
  isValidIdentity,
  type OobPollResponse,
  type OobStartResponse,
  type Purpose,
  type ShareFromDta,
} from '../protocol.ts';
import type { IdentityStore } from './store.ts';

export type AuthMode = 'one-pass' | 'two-pass';

export type AuthOutcome =
  | { readonly kind: 'ok'; readonly identity: string; readonly token: string }
  | { readonly kind: 'wrong-pin'; readonly attemptsLeft: number }
  | { readonly kind: 'bad-credentials'; readonly attemptsLeft: number }
  | { readonly kind: 'locked' }
  | { readonly kind: 'revoked' }
  /** Back-off after wrong PINs, or too many failures from this address: try again later. */
  | { readonly kind: 'wait'; readonly retryAfter: number }
  | { readonly kind: 'unknown-identity' }
  /** The site holds a newer registration of this identity (this browser's token was replaced). */
  | { readonly kind: 'replaced' };

/** First step of a registration: either a link went to the identity, or the secret is here. */
export type RegistrationStart =
  | { readonly kind: 'verification-sent' }
  | { readonly kind: 'ready'; readonly complete: (pin: string) => Promise<void> };

/** A refusal or failure the UI should show; `code` is the relying party's error code when known. */
export class MpinWebError extends Error {
  override readonly name = 'MpinWebError';
  constructor(
    readonly code: ErrorCode | 'network' | 'bad_answer' | 'bad_pin_format',
    message: string,
    readonly status = 0,
    readonly attemptsLeft: number | undefined = undefined,
    readonly retryAfter: number | undefined = undefined,
  ) {
    super(message);
  }
}

export interface MpinWebClientOptions {
  readonly store: IdentityStore;
  /** Origin of the relying party ("" = same origin). */
  readonly baseUrl?: string;
  readonly prefix?: string;
  readonly fetch?: (input: string, init: RequestInit) => Promise<Response>;
  readonly random?: RandomSource;
  /** Local clock, only used to age the server time between the permit and the pass. */
  readonly clock?: Clock;
}

export const PIN_DIGITS = 4;

/** A PIN is exactly 4 decimal digits (the proof uses PIN mod 10000, spec §5.8). */
export function parsePin(pin: string): number {
  if (!/^[0-9]{4}$/.test(pin)) throw new MpinWebError('bad_pin_format', `the PIN must be exactly ${PIN_DIGITS} digits`);
  return Number(pin);
}

function addShares(shares: unknown, what: string): Uint8Array {
  if (!Array.isArray(shares) || shares.length === 0) throw new MpinWebError('bad_answer', `the relying party sent no ${what} shares`);
  const seen = new Set<string>();
  let acc: G1Point | undefined;
  for (const s of shares as unknown[]) {
    const o = s as Partial<ShareFromDta> | null;
    if (o === null || typeof o !== 'object' || !isHex(o.fingerprint, 32) || !isHex(o.share, 65)) throw new MpinWebError('bad_answer', `a ${what} share is malformed`);
    // Two copies of one DTA's share would make a wrong key: refuse (spec §5.1).
    if (seen.has(o.fingerprint)) throw new MpinWebError('bad_answer', `two ${what} shares come from the same DTA`);
    seen.add(o.fingerprint);
    let point: G1Point;
    try {
      point = decodeG1(hexToBytes(o.share)); // on curve, in G1, not O (spec §2.6)
    } catch {
      throw new MpinWebError('bad_answer', `a ${what} share is not a valid point`);
    }
    acc = acc === undefined ? point : acc.add(point);
  }
  if (acc === undefined) throw new MpinWebError('bad_answer', `no ${what} shares`);
  try {
    return encodeG1(acc);
  } catch {
    throw new MpinWebError('bad_answer', `the ${what} shares add up to nothing`);
  }
}

export class MpinWebClient {
  readonly #store: IdentityStore;
  readonly #base: string;
  readonly #fetch: (input: string, init: RequestInit) => Promise<Response>;
  readonly #random: RandomSource;
  readonly #clock: Clock;
  #csrf: string | undefined;

  constructor(opts: MpinWebClientOptions) {
    this.#store = opts.store;
    this.#base = `${opts.baseUrl ?? ''}${(opts.prefix ?? DEFAULT_PREFIX).replace(/\/+$/, '')}`;
    this.#fetch = opts.fetch ?? ((input, init) => fetch(input, init));
    this.#random = opts.random ?? systemRandom;
    this.#clock = opts.clock ?? systemClock;
  }

  get store(): IdentityStore {
    return this.#store;
  }

  async #call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<Record<string, unknown>> {
    const headers: Record<string, string> = {};
    if (method === 'POST') {
      headers['content-type'] = 'application/json';
      if (this.#csrf === undefined) await this.session();
      if (this.#csrf !== undefined) headers[CSRF_HEADER] = this.#csrf;
    }
    let res: Response;
    try {
      res = await this.#fetch(`${this.#base}${path}`, {
        method,
        headers,
        credentials: 'same-origin',
        ...(method === 'POST' ? { body: JSON.stringify(body ?? {}) } : {}),
      });
    } catch (e) {
      throw new MpinWebError('network', `cannot reach the relying party (${e instanceof Error ? e.message : String(e)})`);
    }
    let json: unknown;
    try {
      json = await res.json();
    } catch {
      throw new MpinWebError('bad_answer', `the relying party answered HTTP ${res.status} without JSON`, res.status);
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new MpinWebError('bad_answer', 'the relying party answered with JSON that is not an object', res.status);
    const obj = json as Record<string, unknown>;
    if (!res.ok) {
      const err = (obj['error'] ?? {}) as Record<string, unknown>;
      const code = typeof err['code'] === 'string' ? (err['code'] as ErrorCode) : 'internal';
      const left = typeof err['attemptsLeft'] === 'number' ? err['attemptsLeft'] : undefined;
      const retry = typeof err['retryAfter'] === 'number' ? err['retryAfter'] : undefined;
      throw new MpinWebError(code, typeof err['message'] === 'string' ? err['message'] : `HTTP ${res.status}`, res.status, left, retry);
    }
    return obj;
  }

  /** Signed-in state; also fetches the CSRF token every POST echoes. */
  async session(): Promise<{ readonly signedIn: boolean; readonly identity: string | undefined }> {
    const s = await this.#call('GET', ENDPOINTS.session);
    if (typeof s['csrf'] === 'string') this.#csrf = s['csrf'];
    return { signedIn: s['signedIn'] === true, identity: typeof s['identity'] === 'string' ? s['identity'] : undefined };
  }

  async identities(): Promise<string[]> {
    return (await this.#store.list()).map((r) => r.identity);
  }

  /** Forgets an identity in this browser only (its DTA registration is untouched). */
  async remove(identity: string): Promise<void> {
    await this.#store.remove(identity);
  }

  /**
   * Asks to register `identity`, with the code of a verification link when the user opened one.
   * Unless the site registers at once (`authorizeRegistration`), it answers by sending a link to
   * the identity ("verification-sent"). Otherwise `complete(pin)` removes the PIN from the new
   * client secret (spec §5.4) and stores the token.
   */
  async startRegistration(identity: string, activation?: string): Promise<RegistrationStart> {
    if (!isValidIdentity(identity)) throw new MpinWebError('invalid_field', 'the identity must be 1 to 256 printable characters');
    const r = await this.#call('POST', ENDPOINTS.register, { identity, ...(activation !== undefined ? { activation } : {}) });
    if (r['status'] === 'verification_sent') return { kind: 'verification-sent' };
    const mpinId = r['mpinId'];
    if (r['status'] !== 'registered' || r['identity'] !== identity || typeof mpinId !== 'string') throw new MpinWebError('bad_answer', 'the relying party registered another identity');
    const cs = addShares(r['shares'], 'client-secret');
    return {
      kind: 'ready',
      complete: async (pin: string) => {
        const p = parsePin(pin);
        const token = extractPin(new TextEncoder().encode(mpinId), p, cs);
        cs.fill(0);
        await this.#store.put({ identity, mpinId, token: bytesToHex(token), registeredAt: this.#clock() });
      },
    };
  }

  /** Registers `identity` with `pin` in one go; "verification-sent" when the site sent a link instead. */
  async register(identity: string, pin: string, activation?: string): Promise<'registered' | 'verification-sent'> {
    parsePin(pin);
    const s = await this.startRegistration(identity, activation);
    if (s.kind === 'verification-sent') return 'verification-sent';
    await s.complete(pin);
    return 'registered';
  }

  /** Asks the site to send an unlock link to a locked identity. */
  async requestUnlock(identity: string): Promise<void> {
    await this.#call('POST', ENDPOINTS.unlock, { identity });
  }

  /** Redeems the code of an unlock link. */
  async unlock(identity: string, code: string): Promise<void> {
    await this.#call('POST', ENDPOINTS.unlockFinish, { identity, activation: code });
  }

  /**
   * Signs in: the session cookie for purpose "session", and for every purpose a one-time login
   * token for `audience` (the password-form override puts it in the password field). Refusals
   * the user must see come back as outcomes, not exceptions.
   */
  async authenticate(
    identity: string,
    pin: string,
    opts: { readonly mode?: AuthMode; readonly purpose?: Purpose; readonly audience?: string } = {},
  ): Promise<AuthOutcome> {
    const p = parsePin(pin);
    const rec = await this.#store.get(identity);
    if (rec === undefined) return { kind: 'unknown-identity' };
    try {
      const permit = await this.#call('POST', ENDPOINTS.permit, { identity });
      const received = this.#clock();
      const day = permit['day'];
      const serverTime = permit['serverTime'];
      if (typeof day !== 'number' || !Number.isSafeInteger(day) || day < 0 || typeof serverTime !== 'number') {
        throw new MpinWebError('bad_answer', 'malformed permit answer');
      }
      const mpinId = rec.mpinId ?? identity;
      // Not our registration any more: don't spend an attempt on a proof that cannot verify.
      if (permit['mpinId'] !== mpinId) return { kind: 'replaced' };
      const timePermit = day > 0 ? { permit: addShares(permit['shares'], 'time-permit'), date: day } : undefined;
      const common = { identity: new TextEncoder().encode(mpinId), pin: p, token: hexToBytes(rec.token), timePermit, rng: this.#random };
      const purpose = opts.purpose ?? 'session';
      const aud = opts.audience !== undefined ? { audience: opts.audience } : {};
      let r: Record<string, unknown>;
      if ((opts.mode ?? 'two-pass') === 'one-pass') {
        const timeValue = Math.floor((serverTime + Math.max(0, this.#clock() - received)) / 1000);
        const c = clientPass({ ...common, timeValue });
        r = await this.#call('POST', ENDPOINTS.pass, {
          identity,
          u: bytesToHex(c.U),
          ...(c.UT !== undefined ? { ut: bytesToHex(c.UT) } : {}),
          v: bytesToHex(c.V),
          timeValue,
          purpose,
          ...aud,
        });
      } else {
        const c = client1(common);
        const start = await this.#call('POST', ENDPOINTS.start, { identity, u: bytesToHex(c.U), ...(c.UT !== undefined ? { ut: bytesToHex(c.UT) } : {}) });
        const challenge = start['challenge'];
        const y = start['y'];
        if (!isHex(challenge, 16) || !isHex(y, 32)) throw new MpinWebError('bad_answer', 'malformed challenge');
        const v = client2(c.x, hexToBytes(y), c.sec);
        c.sec.fill(0);
        r = await this.#call('POST', ENDPOINTS.finish, { challenge, v: bytesToHex(v), purpose, ...aud });
      }
      const ok = r as Partial<AuthSuccess>;
      if (ok.ok !== true || ok.identity !== identity || typeof ok.token !== 'string') throw new MpinWebError('bad_answer', 'unexpected sign-in answer');
      return { kind: 'ok', identity, token: ok.token };
    } catch (e) {
      if (!(e instanceof MpinWebError)) throw e;
      switch (e.code) {
        case 'wrong_pin':
          return { kind: 'wrong-pin', attemptsLeft: e.attemptsLeft ?? 0 };
        case 'bad_credentials':
          return { kind: 'bad-credentials', attemptsLeft: e.attemptsLeft ?? 0 };
        case 'locked':
          return { kind: 'locked' };
        case 'revoked':
          return { kind: 'revoked' };
        case 'backoff':
        case 'throttled':
          return { kind: 'wait', retryAfter: e.retryAfter ?? 1 };
        case 'not_registered':
          return { kind: 'replaced' };
        default:
          throw e;
      }
    }
  }

  async signOut(): Promise<void> {
    await this.#call('POST', ENDPOINTS.signOut, {});
  }

  /** Out-of-band sign-in (item 5): an access number to type on the other device. */
  async startAccessNumber(audience?: string): Promise<OobStartResponse> {
    const r = await this.#call('POST', ENDPOINTS.oobStart, audience !== undefined ? { audience } : {});
    if (typeof r['accessNumber'] !== 'string' || !isHex(r['handle'], 32) || typeof r['expiresAt'] !== 'number') {
      throw new MpinWebError('bad_answer', 'malformed access-number answer');
    }
    return { accessNumber: r['accessNumber'], handle: r['handle'], expiresAt: r['expiresAt'] };
  }

  async pollAccessNumber(handle: string): Promise<OobPollResponse> {
    const r = await this.#call('POST', ENDPOINTS.oobPoll, { handle });
    if (r['status'] === 'signed-in' && typeof r['identity'] === 'string' && typeof r['token'] === 'string' && typeof r['audience'] === 'string') {
      return { status: 'signed-in', identity: r['identity'], token: r['token'], audience: r['audience'] };
    }
    if (r['status'] === 'pending') return { status: 'pending' };
    throw new MpinWebError('bad_answer', 'malformed poll answer');
  }

  /** Polls until the other device has signed in; rejects with code "expired" when the number expires. */
  async waitForAccessNumber(
    handle: string,
    opts: { readonly intervalMs?: number; readonly signal?: AbortSignal } = {},
  ): Promise<{ readonly identity: string; readonly token: string }> {
    for (;;) {
      if (opts.signal?.aborted === true) throw new MpinWebError('expired', 'cancelled');
      const r = await this.pollAccessNumber(handle);
      if (r.status === 'signed-in') return { identity: r.identity, token: r.token };
      await new Promise((resolve) => setTimeout(resolve, opts.intervalMs ?? 1000));
    }
  }
}
