/**
 * The M-Pin web login wire protocol, shared by the browser client, the relying party and the CLI.
 * Plain data and pure functions only (no Node built-ins, no DOM): bundled into the browser as is.
 *
 * All endpoints live under one prefix (default `/mpin`) and exchange JSON objects; points are
 * lowercase hex in the encodings of spec §2 (G1 65 bytes, scalars 32 bytes). Errors are
 * `{ "error": { "code", "message", ... } }` with a 4xx/5xx status.
 */

export const DEFAULT_PREFIX = '/mpin';

/** Paths below the prefix. */
export const ENDPOINTS = {
  session: '/session',
  register: '/register',
  permit: '/permit',
  pass: '/auth/pass',
  start: '/auth/start',
  finish: '/auth/finish',
  signOut: '/signout',
  oobStart: '/oob/start',
  oobPoll: '/oob/poll',
  oobAuthenticate: '/oob/authenticate',
  /** Self-service unlock: send the verification link (POST {identity}), then redeem it. */
  unlock: '/unlock',
  unlockFinish: '/unlock/finish',
  /** Server-to-server check of a one-time login token (bearer secret; CONTRACTS.md). */
  tokenVerify: '/token/verify',
  time: '/time',
  clientScript: '/static/mpin-web.js',
  overrideScript: '/static/mpin-override.js',
} as const;

/**
 * Query parameters of the verification links (issue 13 §3) on the page that runs the PIN pad:
 * `?mpin-activate=CODE&mpin-identity=ID` (registration) and `?mpin-unlock=CODE&mpin-identity=ID`.
 */
export const ACTIVATE_PARAM = 'mpin-activate';
export const UNLOCK_PARAM = 'mpin-unlock';
export const IDENTITY_PARAM = 'mpin-identity';

/** Header carrying the double-submit CSRF token (its twin is the CSRF cookie). */
export const CSRF_HEADER = 'x-mpin-csrf';

/**
 * Prefix of a one-time login token (issue 15 §1): what the password-form override puts in the
 * password field and what `milagro-ts identity token` prints. Followed by base64url(32 bytes).
 */
export const LOGIN_TOKEN_PREFIX = 'mpin-token:';

/**
 * What a successful authentication is for: "session" sets the session cookie (and returns a login
 * token too); "token" only returns a login token (password-form override, CLI). "proof" is the
 * older name of "token".
 */
export type Purpose = 'session' | 'token';

export type LoginTokenError = 'invalid_token' | 'expired' | 'replayed' | 'wrong_audience' | 'wrong_identity';

/** Answer of `verifyLoginToken` and body of `POST {prefix}/token/verify` (200 / 403). */
export type LoginTokenVerdict =
  | { readonly ok: true; readonly identity: string; readonly audience: string }
  | { readonly ok: false; readonly error: LoginTokenError };

export type ErrorCode =
  | 'bad_json'
  | 'invalid_field'
  | 'body_too_large'
  | 'unsupported_media_type'
  | 'not_found'
  | 'method_not_allowed'
  | 'csrf'
  | 'bad_origin'
  | 'rate_limited'
  | 'insecure_transport'
  | 'registration_refused'
  | 'already_registered'
  | 'not_registered'
  | 'bad_activation'
  | 'backoff'
  | 'throttled'
  | 'revoked'
  | 'dta_unavailable'
  | 'wrong_pin'
  | 'bad_credentials'
  | 'locked'
  | 'stale'
  | 'replayed'
  | 'unknown_challenge'
  | 'unknown_access_number'
  | 'expired'
  | 'not_signed_in'
  | 'unauthorized'
  | 'overloaded'
  | 'internal';

export interface ErrorBody {
  readonly error: {
    readonly code: ErrorCode;
    readonly message: string;
    /** With wrong_pin / bad_credentials: attempts left before lockout. */
    readonly attemptsLeft?: number;
    /** With rate_limited, backoff, throttled: seconds until a retry may succeed. */
    readonly retryAfter?: number;
  };
}

export interface SessionInfo {
  readonly signedIn: boolean;
  readonly identity?: string;
  readonly csrf: string;
}

export interface ShareFromDta {
  /** SHA-256 of the DTA's [s_i]Q, hex: tells shares of distinct DTAs apart. */
  readonly fingerprint: string;
  readonly share: string;
}

/**
 * A registration: the client-secret shares are for `mpinId`, a fresh name per registration
 * (`{"userID":…,"salt":…}`), so re-registering an identity gives a new secret and revoking the
 * old mpinId at the DTAs stops the replaced token. The client uses mpinId for all M-Pin maths.
 */
export interface RegisterResponse {
  readonly status: 'registered';
  readonly identity: string;
  readonly mpinId: string;
  readonly hashId: string;
  readonly shares: readonly ShareFromDta[];
}

/** No registration yet: the site sent a verification link to the identity (HTTP 202). */
export interface VerificationSent {
  readonly status: 'verification_sent';
  readonly identity: string;
}

export interface PermitResponse {
  readonly identity: string;
  /** The identity's current registration: a browser holding another one was replaced. */
  readonly mpinId: string;
  /** The relying party's day number (spec §3.5); the permit is for this day. */
  readonly day: number;
  /** The relying party's clock, Unix ms: the client takes its time value from it. */
  readonly serverTime: number;
  readonly shares: readonly ShareFromDta[];
}

export interface StartResponse {
  readonly challenge: string;
  /** The server's random challenge y (spec §5.9), 32-byte scalar in hex. */
  readonly y: string;
}

export interface AuthSuccess {
  readonly ok: true;
  readonly identity: string;
  /** One-time login token (LOGIN_TOKEN_PREFIX…) for the requested audience. */
  readonly token: string;
  readonly audience: string;
}

export interface OobStartResponse {
  readonly accessNumber: string;
  /** Secret handle only this browser knows; polling with it collects the session. */
  readonly handle: string;
  readonly expiresAt: number;
}

export type OobPollResponse = { readonly status: 'pending' } | { readonly status: 'signed-in'; readonly identity: string; readonly token: string; readonly audience: string };

/** Identities: 1–256 characters of printable text (an e-mail address in practice). */
export const MAX_IDENTITY_CHARS = 256;

export function isValidIdentity(s: unknown): s is string {
  // No control characters (C0, DEL, C1): identities end up in logs and UI.
  return typeof s === 'string' && s.length >= 1 && s.length <= MAX_IDENTITY_CHARS && s.trim() === s && !/[\u0000-\u001f\u007f-\u009f]/.test(s);
}

export const isHex = (s: unknown, bytes: number): s is string => typeof s === 'string' && s.length === 2 * bytes && /^[0-9a-f]+$/.test(s);

// ---------------------------------------------------------------------------------------------
// Access numbers (out-of-band sign-in): N random digits followed by a Luhn check digit, so a
// mistyped digit or a swap of adjacent digits is caught before anything is sent.

export const ACCESS_NUMBER_DIGITS = 7;

/** Luhn check digit for a string of decimal digits (ISO/IEC 7812-1 Annex B). */
export function luhnCheckDigit(digits: string): number {
  if (!/^[0-9]+$/.test(digits)) throw new RangeError('Luhn: digits only');
  let sum = 0;
  // The rightmost payload digit is doubled, since the check digit will be appended after it.
  for (let i = digits.length - 1, double = true; i >= 0; i--, double = !double) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return (10 - (sum % 10)) % 10;
}

/** An access number from random bytes: ACCESS_NUMBER_DIGITS payload digits + the check digit. */
export function makeAccessNumber(random: (n: number) => Uint8Array): string {
  let payload = '';
  while (payload.length < ACCESS_NUMBER_DIGITS) {
    for (const b of random(ACCESS_NUMBER_DIGITS)) {
      // Rejection sampling: 250 = 25·10 keeps the digits uniform.
      if (b < 250 && payload.length < ACCESS_NUMBER_DIGITS) payload += String(b % 10);
    }
  }
  return `${payload}${luhnCheckDigit(payload)}`;
}

/** Accepts spaces and dashes as the user may type them; returns the bare digits or undefined. */
export function parseAccessNumber(input: string): string | undefined {
  const s = input.replace(/[\s-]/g, '');
  if (s.length !== ACCESS_NUMBER_DIGITS + 1 || !/^[0-9]+$/.test(s)) return undefined;
  const payload = s.slice(0, -1);
  return luhnCheckDigit(payload) === Number(s.slice(-1)) ? s : undefined;
}

/** Groups an access number for display: "1234 5678". */
export function formatAccessNumber(n: string): string {
  return n.replace(/(\d{4})(?=\d)/g, '$1 ');
}
