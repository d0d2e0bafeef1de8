/**
 * One-time login tokens (issue 15 §1, contract in CONTRACTS.md): after a successful M-Pin sign-in
 * the relying party mints `mpin-token:<base64url of 32 random bytes>`, bound to the identity and
 * an audience (the application that will receive it, e.g. an LDAP proxy), valid once for a short
 * time (default 60 s). An application verifies it in process (`verifyLoginToken`) or server to
 * server (`POST {prefix}/token/verify`).
 *
 * Kept in the shared store so that any process of a deployment can verify a token minted by
 * another, and a token is consumed exactly once across all of them (`setIfAbsent` on a "used"
 * marker is the single atomic step). The store holds SHA-256 of the token, never the token: a
 * copy of the store does not yield usable tokens.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '../../codec/bytes.ts';
import type { Clock, RandomSource } from '../../providers.ts';
import type { KeyValueStore } from '../../store/index.ts';
import { LOGIN_TOKEN_PREFIX, type LoginTokenError, type LoginTokenVerdict } from '../protocol.ts';

export interface LoginTokenOptions {
  readonly store: KeyValueStore;
  readonly clock: Clock;
  readonly random: RandomSource;
  /** Validity of a token. Default 60 s. */
  readonly ttlMs?: number;
}

export interface VerifyLoginTokenRequest {
  readonly token: string;
  readonly audience: string;
  /** When given, the token must have been minted for this identity. */
  readonly identity?: string | undefined;
}

interface TokenRecord {
  readonly identity: string;
  readonly audience: string;
  readonly expiresAt: number;
}

/** 32 bytes in base64url without padding: 43 characters. */
const TOKEN_BODY = /^[A-Za-z0-9_-]{43}$/;
/** Audiences name applications: short and printable, so they are safe in logs and keys. */
const AUDIENCE = /^[A-Za-z0-9._:/@-]{1,128}$/;
/**
 * How long the store keeps a record and its "used" marker after expiry, so that a late replay is
 * reported as `expired`/`replayed` rather than `invalid_token` (helps operators; grants nothing).
 */
const GRACE_MS = 10 * 60_000;

export const isValidAudience = (s: unknown): s is string => typeof s === 'string' && AUDIENCE.test(s);

function base64url(b: Uint8Array): string {
  let bin = '';
  for (const x of b) bin += String.fromCharCode(x);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export class LoginTokens {
  readonly #store: KeyValueStore;
  readonly #clock: Clock;
  readonly #random: RandomSource;
  readonly ttlMs: number;

  constructor(opts: LoginTokenOptions) {
    this.#store = opts.store;
    this.#clock = opts.clock;
    this.#random = opts.random;
    this.ttlMs = opts.ttlMs ?? 60_000;
    if (!Number.isSafeInteger(this.ttlMs) || this.ttlMs < 1000 || this.ttlMs > 3_600_000) throw new RangeError('login token TTL must be 1 s .. 1 h (in ms)');
  }

  static #key(kind: 'token' | 'used', body: string): string {
    return `${kind}:${bytesToHex(sha256(new TextEncoder().encode(body)))}`;
  }

  /** A fresh token for `identity` and `audience` (the caller has just verified an M-Pin proof). */
  async mint(identity: string, audience: string): Promise<{ readonly token: string; readonly expiresAt: number }> {
    if (!isValidAudience(audience)) throw new RangeError('audience must be 1-128 characters of [A-Za-z0-9._:/@-]');
    const body = base64url(this.#random(32));
    const expiresAt = this.#clock() + this.ttlMs;
    const rec: TokenRecord = { identity, audience, expiresAt };
    await this.#store.set(LoginTokens.#key('token', body), JSON.stringify(rec), this.ttlMs + GRACE_MS);
    return { token: `${LOGIN_TOKEN_PREFIX}${body}`, expiresAt };
  }

  /**
   * Verifies and consumes a token. Any presentation of a known token consumes it, whatever the
   * outcome (a token sent to the wrong application is burnt, not left for another try).
   */
  async verify(req: VerifyLoginTokenRequest): Promise<LoginTokenVerdict> {
    const fail = (error: LoginTokenError): LoginTokenVerdict => ({ ok: false, error });
    if (typeof req.token !== 'string' || !req.token.startsWith(LOGIN_TOKEN_PREFIX)) return fail('invalid_token');
    const body = req.token.slice(LOGIN_TOKEN_PREFIX.length);
    if (!TOKEN_BODY.test(body)) return fail('invalid_token');
    const raw = await this.#store.get(LoginTokens.#key('token', body));
    if (raw === undefined) {
      // Consumed (its record deleted) or never minted here.
      return (await this.#store.get(LoginTokens.#key('used', body))) !== undefined ? fail('replayed') : fail('invalid_token');
    }
    // The one atomic step: exactly one verifier, in any process, gets past this line.
    if (!(await this.#store.setIfAbsent(LoginTokens.#key('used', body), '1', this.ttlMs + GRACE_MS))) return fail('replayed');
    await this.#store.delete(LoginTokens.#key('token', body));
    const rec = JSON.parse(raw) as TokenRecord;
    if (rec.expiresAt <= this.#clock()) return fail('expired');
    if (rec.audience !== req.audience) return fail('wrong_audience');
    if (req.identity !== undefined && rec.identity !== req.identity) return fail('wrong_identity');
    return { ok: true, identity: rec.identity, audience: rec.audience };
  }
}
