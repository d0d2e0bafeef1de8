/**
 * The M-Pin relying party (issue 8 item 3): registration relay to N DTAs, time-permit relay,
 * one-pass and two-pass verification with PIN-error detection and lockout, session cookies, CSRF
 * protection, rate limits, one-time login tokens (issue 15 §1, also what the password-form
 * override puts in the password field) and the out-of-band sign-in with access numbers (item 5).
 *
 * Framework-free: `handle(RpRequest)` takes a method, URL, headers and body bytes and returns a
 * status, headers and a body. Thin adapters connect it to node:http (./node-http.ts) and Fastify
 * (./fastify.ts).
 *
 * State (issue 13 §2): registrations (durable), sessions, two-pass challenges, access numbers,
 * failure counters, rate limits, verification codes and login tokens all live in the `store`
 * (src/store: SQLite file or Redis/Valkey for a deployment, memory for tests), under "rp:" keys,
 * so a restart forgets nothing and several processes share one view. Secrets that index records
 * (session ids, tokens, verification codes) are stored as SHA-256 hashes.
 *
 * Identity proofing (issue 13 §3): an identity registers only through a verification link sent to
 * it (`verification`) or an explicit `authorizeRegistration`; with neither, nothing registers.
 * Each registration gets a fresh mpinId; re-registering revokes the previous one at the DTAs.
 *
 * Cookies: HttpOnly, SameSite=Strict, and Secure with the `__Host-` prefix on HTTPS. Over plain
 * HTTP cookies are only set when `allowInsecureLoopbackCookies` is on AND the peer is a loopback
 * address (the demo and the tests); any other plain-HTTP request is refused (insecure_transport).
 *
 * CSRF: every state-changing browser endpoint requires the double-submit token (the CSRF cookie
 * echoed in the `x-mpin-csrf` header, which a cross-site form cannot set), an Origin from the
 * allowed list when the browser sends one, and no `Sec-Fetch-Site: cross-site|same-site`. The CLI
 * endpoint of the out-of-band flow uses no cookie, so it only gets the Origin check.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, equalBytes, hexToBytes } from '../../codec/bytes.ts';
import { decodeG1 } from '../../crypto/bncx/index.ts';
import { hashId as sha256Id } from '../../crypto/mpin.ts';
import { dayOf } from '../../crypto/mpin.ts';
import type { EnrolmentKey } from '../../identity/auth.ts';
import type { IdentityCrypto } from '../../identity/crypto-port.ts';
import { MilagroCrypto } from '../../identity/milagro-crypto.ts';
import { MilagroWorkerPool } from '../../kex/milagro/pool.ts';
import { type Clock, type RandomSource, systemClock, systemRandom } from '../../providers.ts';
import { type KeyValueStore, MemoryStore, namespaced } from '../../store/index.ts';
import {
  ACTIVATE_PARAM,
  CSRF_HEADER,
  DEFAULT_PREFIX,
  ENDPOINTS,
  type ErrorBody,
  type ErrorCode,
  IDENTITY_PARAM,
  isHex,
  isValidIdentity,
  LOGIN_TOKEN_PREFIX,
  type LoginTokenVerdict,
  makeAccessNumber,
  parseAccessNumber,
  type Purpose,
  UNLOCK_PARAM,
} from '../protocol.ts';
import { DtaRelay, RelayError } from './dta-relay.ts';
import { type RateLimit, RateLimiter } from './limits.ts';
import { isValidAudience, LoginTokens, type VerifyLoginTokenRequest } from './login-tokens.ts';
import { LoginVerifier, type Verdict } from './login-verifier.ts';
import { MPIN_CHECK_OP, type MpinCheckInput, type MpinCheckOutput } from './verify-ops.ts';
import { sourceKey } from '../../source-key.ts';

export interface RpRequest {
  readonly method: string;
  /** Path and query, as in the request line. */
  readonly url: string;
  /** Lower-case header names. */
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  readonly body: Uint8Array;
  readonly remoteAddress: string;
  /** True when the request came over TLS. */
  readonly secure: boolean;
}

export interface RpResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | readonly string[]>>;
  readonly body: string;
}

export interface WebAssets {
  /** ESM bundle of the browser client and PIN pad (src/web/browser/index.ts). */
  readonly client: string;
  /** Classic script of the password-form override (src/web/browser/override.ts). */
  readonly override: string;
}

/** A verification message for the identity's owner (an e-mail in practice). */
export interface VerificationMessage {
  readonly identity: string;
  /** "register": activate a (new or replacing) registration; "unlock": clear a lockout. */
  readonly purpose: 'register' | 'unlock';
  /** The link to deliver: the PIN-pad page with a one-time code. Whoever opens it may act. */
  readonly link: string;
  readonly expiresAt: number;
}

/**
 * Identity proofing by a link sent to the identity (issue 13 §3), like the original M-Pin MFA
 * server's activation e-mail. The registration (or unlock) happens in the browser that opens
 * the link, so a message triggered by an attacker only ever helps the mailbox owner.
 */
export interface IdentityVerification {
  /**
   * Public URL of the page with the PIN pad, e.g. "https://shop.example/signin". Configured, never
   * taken from the request's Host header (a forged Host would send the code to the attacker).
   */
  readonly pageUrl: string;
  /** Delivers the message (sends the e-mail). A rejection answers 502 and nothing is stored. */
  send(message: VerificationMessage): Promise<void>;
  /** Validity of a link. Default 1 h. */
  readonly ttlMs?: number;
  /** Messages per identity per hour (mail-bombing bound). Default 3. */
  readonly maxPerHour?: number;
}

/** Context of an `authorizeRegistration` decision. */
export interface RegistrationContext {
  /** The identity of the request's session, if signed in. */
  readonly signedInAs: string | undefined;
  /** True when the identity is registered already (allowing it revokes that registration). */
  readonly registered: boolean;
}

export interface RelyingPartyOptions {
  readonly dtas: readonly string[];
  /** Enrolment key the DTAs trust: the relying party signs issuing requests with it. */
  readonly enrolmentKey: EnrolmentKey;
  readonly crypto?: IdentityCrypto;
  /**
   * Worker threads for the M-Pin pairings and PIN-error search (issue 11 §6: on the event loop,
   * junk sign-ins stalled every page). Share the TLS server's pool, or leave unset: the relying
   * party then starts its own (min(2, cores) threads, started lazily, closed by `close()`).
   */
  readonly pool?: MilagroWorkerPool;
  readonly clock?: Clock;
  readonly random?: RandomSource;
  /** URL prefix of every endpoint. Default "/mpin". */
  readonly prefix?: string;
  /** Origins allowed to call (e.g. "https://example.org"). Default: the request's own Host. */
  readonly origins?: readonly string[];
  /** Consecutive failed sign-ins before an identity is locked. Default 10. */
  readonly maxFailures?: number;
  /** Back-off after the n-th failure: min(base·2^(n−1), max). Defaults 1 s and 15 min; base 0 turns it off. */
  readonly backoff?: { readonly baseMs?: number; readonly maxMs?: number };
  /** Failed sign-ins one source address (IPv6: /64) may cause per window. Default 20 per hour. */
  readonly sourceFailures?: { readonly max: number; readonly windowMs: number };
  /** Require today's time permit (revocation takes effect the next day). Default true. */
  readonly requireTimePermits?: boolean;
  readonly sessionTtlMs?: number;
  /**
   * Shared state (src/store, issue 13 §2). Pass the deployment's SQLite or Redis store (e.g.
   * `await openStore('sqlite:/var/lib/site/rp.db')`): registrations must survive restarts. Default
   * an in-process memory store — for tests and throw-away demos only.
   */
  readonly store?: KeyValueStore;
  /** Validity of a one-time login token (issue 15 §1). Default 60 s. */
  readonly loginTokenTtlMs?: number;
  /** Audience of tokens when the sign-in names none (and of `redeemToken`). Default "site". */
  readonly defaultTokenAudience?: string;
  /** Audiences a browser may ask tokens for. Default: any well-formed audience. */
  readonly tokenAudiences?: readonly string[];
  /**
   * Shared secret of `POST {prefix}/token/verify` (header `authorization: Bearer <secret>`, at
   * least 16 characters). Without it the endpoint answers 404.
   */
  readonly tokenVerifySecret?: string;
  readonly accessNumberTtlMs?: number;
  readonly rateLimits?: { readonly perAddress?: RateLimit; readonly perIdentity?: RateLimit };
  /** Allow cookies without Secure for plain-HTTP requests from loopback addresses (demo, tests). */
  readonly allowInsecureLoopbackCookies?: boolean;
  /** Identity proofing by a link sent to the identity. */
  readonly verification?: IdentityVerification;
  /**
   * An explicit decision instead of (or before) the verification link: true registers at once
   * (and replaces an existing registration), false refuses. Sites that already know the user
   * (an account they are signed in to) use this. Without it and without `verification`, no
   * identity can register (secure by default).
   */
  readonly authorizeRegistration?: (identity: string, req: RpRequest, ctx: RegistrationContext) => boolean | Promise<boolean>;
  readonly assets?: WebAssets;
  /** Largest accepted request body. Default 8 KiB. */
  readonly maxBodyBytes?: number;
  readonly dtaTimeoutMs?: number;
  /** One line per refused or failed request; never secrets. */
  readonly log?: (line: string) => void;
}

interface Session {
  readonly identity: string;
  readonly expiresAt: number;
}
/** A registration: which mpinId the identity's current token belongs to. Durable. */
interface Registration {
  readonly identity: string;
  readonly mpinId: string;
  readonly registeredAt: number;
}
interface AccessRecord {
  readonly handle: string;
  readonly expiresAt: number;
  readonly audience: string;
}
interface VerificationCode {
  readonly identity: string;
  readonly purpose: 'register' | 'unlock';
  readonly expiresAt: number;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly extra: { readonly attemptsLeft?: number; readonly retryAfter?: number } = {},
  ) {
    super(message);
  }
}

/** A login token refused by the verify endpoint: 403 with the contract's `{ ok: false, error }`. */
class TokenRefused extends Error {
  constructor(readonly verdict: LoginTokenVerdict) {
    super('login token refused');
  }
}

/** A 202 answer (a verification link was sent; nothing registered yet). */
class Accepted {
  constructor(readonly body: unknown) {}
}

type Json = Record<string, unknown>;

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3})$/;

function header(req: Pick<RpRequest, 'headers'>, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === 'string' ? v : Array.isArray(v) ? (v as readonly string[])[0] : undefined;
}

function parseCookies(h: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (h === undefined) return out;
  for (const part of h.split(';')) {
    const i = part.indexOf('=');
    if (i <= 0) continue;
    const k = part.slice(0, i).trim();
    if (!out.has(k)) out.set(k, part.slice(i + 1).trim());
  }
  return out;
}

/** Only these fields; each checked by the caller. Unknown fields are refused (nothing is ignored silently). */
function fields(body: Json, allowed: readonly string[]): void {
  for (const k of Object.keys(body)) {
    if (!allowed.includes(k)) throw new HttpError(400, 'invalid_field', `unknown field "${k}"`);
  }
}

function identityField(body: Json): string {
  const v = body['identity'];
  if (!isValidIdentity(v)) throw new HttpError(400, 'invalid_field', '"identity" must be 1 to 256 printable characters without surrounding spaces');
  return v;
}

function hexField(body: Json, name: string, bytes: number, optional = false): string | undefined {
  const v = body[name];
  if (v === undefined && optional) return undefined;
  if (!isHex(v, bytes)) throw new HttpError(400, 'invalid_field', `"${name}" must be ${bytes} bytes of lowercase hex`);
  return v;
}

/** A G1 point in hex, validated (on curve, in G1, not O: spec §2.6) before anything else happens. */
function pointField(body: Json, name: string, optional = false): string | undefined {
  const v = hexField(body, name, 65, optional);
  if (v === undefined) return undefined;
  try {
    decodeG1(hexToBytes(v));
  } catch {
    throw new HttpError(400, 'invalid_field', `"${name}" is not a valid G1 point`);
  }
  return v;
}

function purposeField(body: Json): Purpose {
  const v = body['purpose'];
  if (v === undefined || v === 'session') return 'session';
  if (v === 'token' || v === 'proof') return 'token';
  throw new HttpError(400, 'invalid_field', '"purpose" must be "session" or "token"');
}

function timeValueField(body: Json): number {
  const v = body['timeValue'];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > 0xffffffff) throw new HttpError(400, 'invalid_field', '"timeValue" must be Unix seconds');
  return v;
}

const hashKey = (s: string): string => bytesToHex(sha256(new TextEncoder().encode(s)));

export class RelyingParty {
  readonly #opts: RelyingPartyOptions;
  readonly #clock: Clock;
  readonly #random: RandomSource;
  readonly #prefix: string;
  readonly #relay: DtaRelay;
  readonly #verifier: LoginVerifier;
  readonly #byAddress: RateLimiter;
  readonly #byIdentity: RateLimiter;
  readonly #mails: RateLimiter | undefined;
  /** The relying party's view of the store: every key starts with "rp:". */
  readonly #kv: KeyValueStore;
  readonly #store: KeyValueStore;
  readonly #ownsStore: boolean;
  readonly #tokens: LoginTokens;
  readonly #defaultAudience: string;
  readonly #maxBody: number;
  readonly #pool: MilagroWorkerPool;
  readonly #ownsPool: boolean;
  /** Records written by this instance, by kind (tests check refused requests wrote nothing). */
  readonly #writes = { sessions: 0, accessNumbers: 0, challenges: 0, registered: 0 };

  private constructor(opts: RelyingPartyOptions, relay: DtaRelay, serverSecret: Uint8Array) {
    this.#opts = opts;
    this.#clock = opts.clock ?? systemClock;
    this.#random = opts.random ?? systemRandom;
    this.#prefix = (opts.prefix ?? DEFAULT_PREFIX).replace(/\/+$/, '');
    this.#relay = relay;
    this.#ownsStore = opts.store === undefined;
    this.#store = opts.store ?? new MemoryStore({ clock: this.#clock });
    this.#kv = namespaced(this.#store, 'rp:');
    this.#ownsPool = opts.pool === undefined;
    this.#pool = opts.pool ?? new MilagroWorkerPool();
    const pool = this.#pool;
    this.#verifier = new LoginVerifier({
      serverSecret,
      clock: this.#clock,
      random: this.#random,
      store: namespaced(this.#kv, 'auth:'),
      check: (input: MpinCheckInput, source: string) => pool.run<MpinCheckOutput>(MPIN_CHECK_OP, input, { source }),
      ...(opts.maxFailures !== undefined ? { maxFailures: opts.maxFailures } : {}),
      ...(opts.backoff?.baseMs !== undefined ? { backoffBaseMs: opts.backoff.baseMs } : {}),
      ...(opts.backoff?.maxMs !== undefined ? { backoffMaxMs: opts.backoff.maxMs } : {}),
      ...(opts.sourceFailures !== undefined ? { sourceFailures: opts.sourceFailures } : {}),
      ...(opts.requireTimePermits !== undefined ? { requireTimePermits: opts.requireTimePermits } : {}),
    });
    this.#byAddress = new RateLimiter(opts.rateLimits?.perAddress ?? { burst: 120, perMinute: 240 }, this.#clock, namespaced(this.#kv, 'rl:addr:'));
    this.#byIdentity = new RateLimiter(opts.rateLimits?.perIdentity ?? { burst: 20, perMinute: 30 }, this.#clock, namespaced(this.#kv, 'rl:id:'));
    const perHour = opts.verification?.maxPerHour ?? 3;
    this.#mails = opts.verification === undefined ? undefined : new RateLimiter({ burst: perHour, perMinute: perHour / 60 }, this.#clock, namespaced(this.#kv, 'rl:mail:'));
    this.#tokens = new LoginTokens({
      store: namespaced(this.#kv, 'login-token:'),
      clock: this.#clock,
      random: this.#random,
      ...(opts.loginTokenTtlMs !== undefined ? { ttlMs: opts.loginTokenTtlMs } : {}),
    });
    this.#defaultAudience = opts.defaultTokenAudience ?? 'site';
    if (!isValidAudience(this.#defaultAudience)) throw new RangeError('defaultTokenAudience must be 1-128 characters of [A-Za-z0-9._:/@-]');
    for (const a of opts.tokenAudiences ?? []) if (!isValidAudience(a)) throw new RangeError(`token audience "${a}" must be 1-128 characters of [A-Za-z0-9._:/@-]`);
    if (opts.tokenVerifySecret !== undefined && opts.tokenVerifySecret.length < 16) throw new RangeError('tokenVerifySecret must be at least 16 characters');
    this.#maxBody = opts.maxBodyBytes ?? 8 * 1024;
  }

  /** Fetches and assembles the server secret from the DTAs, then returns a ready relying party. */
  static async create(opts: RelyingPartyOptions): Promise<RelyingParty> {
    const relay = new DtaRelay({
      dtas: opts.dtas,
      enrolmentKey: opts.enrolmentKey,
      crypto: opts.crypto ?? new MilagroCrypto(),
      clock: opts.clock ?? systemClock,
      random: opts.random ?? systemRandom,
      ...(opts.dtaTimeoutMs !== undefined ? { timeoutMs: opts.dtaTimeoutMs } : {}),
    });
    return new RelyingParty(opts, relay, await relay.serverSecret());
  }

  get prefix(): string {
    return this.#prefix;
  }

  get maxBodyBytes(): number {
    return this.#maxBody;
  }

  get verifier(): LoginVerifier {
    return this.#verifier;
  }

  /** True when `url` is one of ours (adapters pass everything else on). */
  owns(url: string): boolean {
    const path = url.split('?', 1)[0] ?? '';
    return path === this.#prefix || path.startsWith(`${this.#prefix}/`);
  }

  /** Records this instance wrote, by kind: lets tests check that refused requests stored nothing. */
  stats(): { readonly sessions: number; readonly accessNumbers: number; readonly challenges: number; readonly registered: number } {
    return { ...this.#writes };
  }

  /** The signed-in identity of a request, if its session cookie is valid. */
  async sessionOf(req: Pick<RpRequest, 'headers' | 'secure'>): Promise<string | undefined> {
    const id = parseCookies(header(req, 'cookie')).get(this.#cookieName('session', req.secure));
    if (id === undefined || !isHex(id, 32)) return undefined;
    const s = await this.#getJson<Session>(`session:${hashKey(id)}`);
    return s !== undefined && s.expiresAt > this.#clock() ? s.identity : undefined;
  }

  /** The identity's current registration, if any. */
  async registration(identity: string): Promise<{ readonly mpinId: string; readonly registeredAt: number } | undefined> {
    const r = await this.#getJson<Registration>(`reg:${hashKey(identity)}`);
    return r === undefined ? undefined : { mpinId: r.mpinId, registeredAt: r.registeredAt };
  }

  /**
   * Records a registration made outside the relying party: an administrator issued the client
   * secret for `mpinId` (default the identity itself) with the enrolment key, e.g. with
   * `milagro-ts identity register`. Replaces (without revoking) any earlier registration.
   */
  async adoptRegistration(identity: string, mpinId = identity): Promise<void> {
    if (!isValidIdentity(identity)) throw new RangeError('identity must be 1 to 256 printable characters');
    const rec: Registration = { identity, mpinId, registeredAt: this.#clock() };
    await this.#kv.set(`reg:${hashKey(identity)}`, JSON.stringify(rec));
  }

  /** Administrator unlock of an identity's current registration. */
  async unlock(identity: string): Promise<void> {
    const r = await this.registration(identity);
    if (r !== undefined) await this.#verifier.reset(bytesToHex(this.#hashIdOf(r.mpinId)));
  }

  /**
   * Verifies and consumes a one-time login token (CONTRACTS.md): `{ ok: true, identity, audience }`
   * or `{ ok: false, error }` with error invalid_token | expired | replayed | wrong_audience |
   * wrong_identity. The same check as `POST {prefix}/token/verify`.
   */
  verifyLoginToken(req: VerifyLoginTokenRequest): Promise<LoginTokenVerdict> {
    return this.#tokens.verify(req);
  }

  /**
   * The password-form override's check (item 4): true once for a fresh login token minted for
   * `username` and the default audience. A site calls this where it would compare the password:
   * `(await rp.redeemToken(user, password)) || checkPassword(user, password)`.
   */
  async redeemToken(username: string, passwordField: string, audience = this.#defaultAudience): Promise<boolean> {
    if (!passwordField.startsWith(LOGIN_TOKEN_PREFIX)) return false;
    return (await this.#tokens.verify({ token: passwordField, audience, identity: username })).ok;
  }

  /** Closes the store and the worker pool when the relying party opened them (the defaults). */
  async close(): Promise<void> {
    if (this.#ownsStore) await this.#store.close();
    if (this.#ownsPool) await this.#pool.close();
  }

  async #getJson<T>(key: string): Promise<T | undefined> {
    const raw = await this.#kv.get(key);
    return raw === undefined ? undefined : (JSON.parse(raw) as T);
  }

  /** Creates a fresh session (new id at every sign-in: no fixation) and returns its Set-Cookie value. */
  async #newSession(identity: string, secure: boolean): Promise<string> {
    const id = bytesToHex(this.#random(32));
    const ttl = this.#opts.sessionTtlMs ?? 8 * 3_600_000;
    const s: Session = { identity, expiresAt: this.#clock() + ttl };
    await this.#kv.set(`session:${hashKey(id)}`, JSON.stringify(s), ttl);
    this.#writes.sessions++;
    return this.#cookie('session', id, secure, Math.floor(ttl / 1000));
  }

  #cookieName(kind: 'session' | 'csrf', secure: boolean): string {
    // __Host- binds the cookie to this exact host over HTTPS (no Domain, Path=/, Secure).
    return `${secure ? '__Host-' : ''}mpin-${kind}`;
  }

  #cookie(kind: 'session' | 'csrf', value: string, secure: boolean, maxAge: number): string {
    return `${this.#cookieName(kind, secure)}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${secure ? '; Secure' : ''}`;
  }

  async handle(req: RpRequest): Promise<RpResponse> {
    const setCookies: string[] = [];
    if (req.method === 'GET' || req.method === 'HEAD') {
      const asset = this.serveAsset(req.url);
      if (asset !== undefined) return asset;
    }
    try {
      const r = await this.#route(req, setCookies);
      if (r instanceof Accepted) return this.#json(202, r.body, setCookies);
      return this.#json(200, r, setCookies);
    } catch (e) {
      if (e instanceof TokenRefused) return this.#json(403, e.verdict, setCookies);
      if (e instanceof HttpError) {
        this.#opts.log?.(`${req.method} ${req.url.split('?', 1)[0] ?? ''} ${e.status} ${e.code}`);
        const err: ErrorBody = { error: { code: e.code, message: e.message, ...e.extra } };
        const extraHeaders: Record<string, string> = e.extra.retryAfter !== undefined ? { 'retry-after': String(e.extra.retryAfter) } : {};
        return this.#json(e.status, err, setCookies, extraHeaders);
      }
      this.#opts.log?.(`internal error: ${e instanceof Error ? e.message : String(e)}`);
      return this.#json(500, { error: { code: 'internal', message: 'internal error' } }, []);
    }
  }

  #json(status: number, body: unknown, cookies: readonly string[], extra: Record<string, string> = {}): RpResponse {
    return {
      status,
      headers: {
        'content-type': 'application/json; charset=utf-8',
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
        ...extra,
        ...(cookies.length > 0 ? { 'set-cookie': cookies } : {}),
      },
      body: JSON.stringify(body),
    };
  }

  /** Plain HTTP is only acceptable from loopback, and only when allowed (demo/tests). */
  #transportOk(req: RpRequest): void {
    if (req.secure) return;
    if (this.#opts.allowInsecureLoopbackCookies === true && LOOPBACK.test(req.remoteAddress)) return;
    throw new HttpError(403, 'insecure_transport', 'M-Pin sign-in needs HTTPS (plain HTTP is only allowed on loopback when configured)');
  }

  #allowedOrigins(req: Pick<RpRequest, 'headers' | 'secure'>): readonly string[] {
    return this.#opts.origins ?? [`${req.secure ? 'https' : 'http'}://${header(req, 'host') ?? ''}`];
  }

  /** Our endpoints: a foreign Origin, or a browser saying the request is cross-site, is refused. */
  #originOk(req: RpRequest): void {
    const origin = header(req, 'origin');
    if (origin !== undefined) {
      if (!this.#allowedOrigins(req).includes(origin)) throw new HttpError(403, 'bad_origin', `requests from origin ${origin} are not allowed`);
      return;
    }
    const site = header(req, 'sec-fetch-site');
    if (site === 'cross-site' || site === 'same-site') throw new HttpError(403, 'bad_origin', `${site} requests are not allowed`);
  }

  /**
   * For the site's own state-changing forms (log-in, log-out; issue 11 §6 login CSRF): true only
   * with a same-origin signal from the browser — an Origin in `origins` (default this host), else
   * `Sec-Fetch-Site: same-origin`, else `formToken` equal to the CSRF cookie (GET
   * {prefix}/session returns it; for browsers that send neither header). No signal → false:
   * a form posted from another site, or by a browser that hides both, is not trusted.
   */
  isSameOrigin(req: Pick<RpRequest, 'headers' | 'secure'>, formToken?: string): boolean {
    const origin = header(req, 'origin');
    if (origin !== undefined) return this.#allowedOrigins(req).includes(origin);
    const site = header(req, 'sec-fetch-site');
    if (site !== undefined) return site === 'same-origin';
    const cookie = parseCookies(header(req, 'cookie')).get(this.#cookieName('csrf', req.secure));
    if (formToken === undefined || cookie === undefined || !isHex(cookie, 32)) return false;
    const enc = new TextEncoder();
    return equalBytes(enc.encode(cookie), enc.encode(formToken));
  }

  #csrfOk(req: RpRequest): void {
    const cookie = parseCookies(header(req, 'cookie')).get(this.#cookieName('csrf', req.secure));
    const sent = header(req, CSRF_HEADER);
    const enc = new TextEncoder();
    if (cookie === undefined || sent === undefined || !isHex(cookie, 32) || !equalBytes(enc.encode(cookie), enc.encode(sent))) {
      throw new HttpError(403, 'csrf', `missing or wrong CSRF token: GET ${this.#prefix}${ENDPOINTS.session} and echo its "csrf" in the ${CSRF_HEADER} header`);
    }
  }

  async #limit(limiter: RateLimiter, key: string): Promise<void> {
    const wait = await limiter.take(key);
    if (wait > 0) throw new HttpError(429, 'rate_limited', `too many requests; retry in ${wait} s`, { retryAfter: wait });
  }

  #readJson(req: RpRequest): Json {
    const ctype = (header(req, 'content-type') ?? '').split(';', 1)[0]?.trim().toLowerCase();
    if (ctype !== 'application/json') throw new HttpError(415, 'unsupported_media_type', 'send Content-Type: application/json');
    if (req.body.length > this.#maxBody) throw new HttpError(413, 'body_too_large', `the body is larger than ${this.#maxBody} bytes`);
    let v: unknown;
    try {
      v = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(req.body));
    } catch {
      throw new HttpError(400, 'bad_json', 'the body is not valid UTF-8 JSON');
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new HttpError(400, 'bad_json', 'the body must be a JSON object');
    return v as Json;
  }

  async #route(req: RpRequest, setCookies: string[]): Promise<unknown> {
    const path = req.url.split('?', 1)[0] ?? '';
    if (!this.owns(path)) throw new HttpError(404, 'not_found', `no endpoint ${path}`);
    const sub = path.slice(this.#prefix.length);
    const get = req.method === 'GET' || req.method === 'HEAD';
    switch (sub) {
      case ENDPOINTS.clientScript:
      case ENDPOINTS.overrideScript:
        throw new HttpError(get ? 404 : 405, get ? 'not_found' : 'method_not_allowed', 'no browser bundle configured (pass `assets`), or use GET');
      case ENDPOINTS.session:
        if (!get) throw new HttpError(405, 'method_not_allowed', `use GET for ${path}`);
        this.#transportOk(req);
        return this.#session(req, setCookies);
      case ENDPOINTS.time:
        if (!get) throw new HttpError(405, 'method_not_allowed', `use GET for ${path}`);
        return { now: this.#clock() };
      case ENDPOINTS.tokenVerify:
        return this.#tokenVerify(req, path);
      case ENDPOINTS.register:
      case ENDPOINTS.permit:
      case ENDPOINTS.pass:
      case ENDPOINTS.start:
      case ENDPOINTS.finish:
      case ENDPOINTS.signOut:
      case ENDPOINTS.oobStart:
      case ENDPOINTS.oobPoll:
      case ENDPOINTS.oobAuthenticate:
      case ENDPOINTS.unlock:
      case ENDPOINTS.unlockFinish:
        break;
      default:
        throw new HttpError(404, 'not_found', `no endpoint ${path}`);
    }
    if (req.method !== 'POST') throw new HttpError(405, 'method_not_allowed', `use POST for ${path}`);
    this.#transportOk(req);
    this.#originOk(req);
    await this.#limit(this.#byAddress, sourceKey(req.remoteAddress));
    if (sub !== ENDPOINTS.oobAuthenticate) this.#csrfOk(req);
    const body = this.#readJson(req);
    switch (sub) {
      case ENDPOINTS.register:
        return this.#register(req, body);
      case ENDPOINTS.permit:
        return this.#permit(body);
      case ENDPOINTS.pass:
        return this.#pass(req, body, setCookies);
      case ENDPOINTS.start:
        return this.#start(req, body);
      case ENDPOINTS.finish:
        return this.#finish(req, body, setCookies);
      case ENDPOINTS.signOut:
        return this.#signOut(req, body, setCookies);
      case ENDPOINTS.oobStart:
        return this.#oobStart(body);
      case ENDPOINTS.oobPoll:
        return this.#oobPoll(req, body, setCookies);
      case ENDPOINTS.oobAuthenticate:
        return this.#oobAuthenticate(req, body);
      case ENDPOINTS.unlock:
        return this.#unlockStart(body);
      case ENDPOINTS.unlockFinish:
        return this.#unlockFinish(body);
      default:
        throw new HttpError(404, 'not_found', `no endpoint ${path}`);
    }
  }

  /** GET session: signed-in state and the CSRF token (a new CSRF cookie when there is none). */
  async #session(req: RpRequest, setCookies: string[]): Promise<unknown> {
    let csrf = parseCookies(header(req, 'cookie')).get(this.#cookieName('csrf', req.secure));
    if (csrf === undefined || !isHex(csrf, 32)) {
      csrf = bytesToHex(this.#random(32));
      setCookies.push(this.#cookie('csrf', csrf, req.secure, 86_400));
    }
    const identity = await this.sessionOf(req);
    return identity === undefined ? { signedIn: false, csrf } : { signedIn: true, identity, csrf };
  }

  #hashIdOf(mpinId: string): Uint8Array {
    return sha256Id(new TextEncoder().encode(mpinId));
  }

  /** The registration a sign-in is for; unregistered identities are refused before any pairing. */
  async #registered(identity: string): Promise<Registration> {
    const r = await this.#getJson<Registration>(`reg:${hashKey(identity)}`);
    if (r === undefined) throw new HttpError(404, 'not_registered', `${identity} is not registered here; register first`);
    return r;
  }

  // ---- registration and identity proofing (issue 13 §3) -------------------------------------

  /** A one-time verification code for `identity`, stored hashed; the link goes to its owner. */
  async #sendVerification(identity: string, purpose: 'register' | 'unlock'): Promise<void> {
    const v = this.#opts.verification;
    if (v === undefined || this.#mails === undefined) throw new Error('no verification configured');
    // Mail bombing: a few messages per identity per hour, whoever asks.
    const wait = await this.#mails.take(hashKey(identity));
    if (wait > 0) throw new HttpError(429, 'rate_limited', `a message was sent to ${identity} recently; use it, or retry in ${wait} s`, { retryAfter: wait });
    const code = bytesToHex(this.#random(32));
    const ttl = v.ttlMs ?? 3_600_000;
    const expiresAt = this.#clock() + ttl;
    const rec: VerificationCode = { identity, purpose, expiresAt };
    let url: URL;
    try {
      url = new URL(v.pageUrl);
    } catch {
      throw new Error(`verification.pageUrl ${v.pageUrl} is not an absolute URL`);
    }
    url.searchParams.set(purpose === 'register' ? ACTIVATE_PARAM : UNLOCK_PARAM, code);
    url.searchParams.set(IDENTITY_PARAM, identity);
    try {
      await v.send({ identity, purpose, link: url.href, expiresAt });
    } catch (e) {
      this.#opts.log?.(`verification message to ${identity} failed: ${e instanceof Error ? e.message : String(e)}`);
      throw new HttpError(502, 'internal', 'the verification message could not be sent; try again later');
    }
    await this.#kv.set(`verify:${hashKey(code)}`, JSON.stringify(rec), ttl);
  }

  /** Consumes a verification code (once, in any process) and checks what it was issued for. */
  async #redeemCode(code: unknown, identity: string, purpose: 'register' | 'unlock'): Promise<void> {
    const bad = new HttpError(403, 'bad_activation', 'this link is invalid, used or expired; ask for a new one');
    if (!isHex(code, 32)) throw new HttpError(400, 'invalid_field', '"activation" must be the 32-byte code from the link, in hex');
    const key = `verify:${hashKey(code)}`;
    const rec = await this.#getJson<VerificationCode>(key);
    if (rec === undefined || !(await this.#kv.delete(key))) throw bad;
    if (rec.identity !== identity || rec.purpose !== purpose || rec.expiresAt <= this.#clock()) throw bad;
  }

  async #register(req: RpRequest, body: Json): Promise<unknown> {
    fields(body, ['identity', 'activation']);
    const identity = identityField(body);
    await this.#limit(this.#byIdentity, hashKey(identity));
    const existing = await this.#getJson<Registration>(`reg:${hashKey(identity)}`);
    if (body['activation'] !== undefined) {
      await this.#redeemCode(body['activation'], identity, 'register');
    } else if (this.#opts.authorizeRegistration !== undefined) {
      const signedInAs = await this.sessionOf(req);
      if (!(await this.#opts.authorizeRegistration(identity, req, { signedInAs, registered: existing !== undefined }))) {
        if (this.#opts.verification === undefined) throw new HttpError(403, 'registration_refused', `registration of ${identity} is not allowed here`);
        await this.#sendVerification(identity, 'register');
        return new Accepted({ status: 'verification_sent', identity });
      }
    } else if (this.#opts.verification !== undefined) {
      // Nothing is registered and nothing is revealed: the link goes to the identity's owner.
      await this.#sendVerification(identity, 'register');
      return new Accepted({ status: 'verification_sent', identity });
    } else {
      throw new HttpError(403, 'registration_refused', `registration of ${identity} is not allowed here: this site verifies no identities (configure verification or authorizeRegistration)`);
    }
    // A fresh name per registration: a replaced token can never verify again, and its old
    // mpinId is revoked at the DTAs so no time permit is issued for it either.
    const mpinId = JSON.stringify({ userID: identity, salt: bytesToHex(this.#random(16)) });
    const hid = this.#hashIdOf(mpinId);
    const shares = await this.#relayCall(() => this.#relay.clientSecretShares(hid));
    if (existing !== undefined) await this.#relayCall(() => this.#relay.revoke(this.#hashIdOf(existing.mpinId), 're-registered'));
    const rec: Registration = { identity, mpinId, registeredAt: this.#clock() };
    await this.#kv.set(`reg:${hashKey(identity)}`, JSON.stringify(rec));
    this.#writes.registered++;
    return { status: 'registered', identity, mpinId, hashId: bytesToHex(hid), shares };
  }

  async #unlockStart(body: Json): Promise<unknown> {
    fields(body, ['identity']);
    const identity = identityField(body);
    await this.#limit(this.#byIdentity, hashKey(identity));
    if (this.#opts.verification === undefined) throw new HttpError(403, 'registration_refused', 'this site has no self-service unlock; ask an administrator');
    // The same answer whether or not the identity exists or is locked: no oracle.
    const reg = await this.#getJson<Registration>(`reg:${hashKey(identity)}`);
    if (reg !== undefined) await this.#sendVerification(identity, 'unlock');
    return new Accepted({ status: 'verification_sent', identity });
  }

  async #unlockFinish(body: Json): Promise<unknown> {
    fields(body, ['identity', 'activation']);
    const identity = identityField(body);
    await this.#limit(this.#byIdentity, hashKey(identity));
    await this.#redeemCode(body['activation'], identity, 'unlock');
    await this.unlock(identity);
    return { status: 'unlocked', identity };
  }

  async #relayCall<T>(f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (e) {
      if (e instanceof RelayError) {
        const f2 = e.failure;
        switch (f2.kind) {
          case 'revoked':
            throw new HttpError(403, 'revoked', 'this identity has been revoked by the trust authorities');
          case 'unavailable':
            this.#opts.log?.(`DTA relay failed: ${f2.detail}`);
            throw new HttpError(502, 'dta_unavailable', 'a trust authority did not answer; try again later');
          default: {
            const never: never = f2;
            throw new Error(`unexpected relay failure ${String(never)}`);
          }
        }
      }
      throw e;
    }
  }

  async #permit(body: Json): Promise<unknown> {
    fields(body, ['identity']);
    const identity = identityField(body);
    await this.#limit(this.#byIdentity, hashKey(identity));
    const reg = await this.#registered(identity);
    const now = this.#clock();
    if (!this.#verifier.requireTimePermits) return { identity, mpinId: reg.mpinId, day: 0, serverTime: now, shares: [] };
    const day = dayOf(now);
    const shares = await this.#relayCall(() => this.#relay.timePermitShares(this.#hashIdOf(reg.mpinId), day));
    return { identity, mpinId: reg.mpinId, day, serverTime: now, shares };
  }

  #points(body: Json): { readonly u: string; readonly ut: string | undefined } {
    const u = pointField(body, 'u') as string;
    const ut = pointField(body, 'ut', true);
    return { u, ut };
  }

  async #pass(req: RpRequest, body: Json, setCookies: string[]): Promise<unknown> {
    fields(body, ['identity', 'u', 'ut', 'v', 'timeValue', 'purpose', 'audience']);
    const identity = identityField(body);
    const pts = this.#points(body);
    const v = pointField(body, 'v') as string;
    const timeValue = timeValueField(body);
    const purpose = purposeField(body);
    const audience = this.#audienceField(body);
    await this.#limit(this.#byIdentity, hashKey(identity));
    const reg = await this.#registered(identity);
    const verdict = await this.#verifier.verifyPass({ hashId: this.#hashIdOf(reg.mpinId), ...pts, v, timeValue }, req.remoteAddress);
    return this.#conclude(req, identity, purpose, audience, verdict, setCookies);
  }

  async #start(req: RpRequest, body: Json): Promise<unknown> {
    fields(body, ['identity', 'u', 'ut']);
    const identity = identityField(body);
    const pts = this.#points(body);
    await this.#limit(this.#byIdentity, hashKey(identity));
    const reg = await this.#registered(identity);
    const r = await this.#verifier.start({ hashId: this.#hashIdOf(reg.mpinId), ...pts }, identity, req.remoteAddress);
    if ('ok' in r) return this.#refuse(r);
    this.#writes.challenges++;
    return r;
  }

  async #finish(req: RpRequest, body: Json, setCookies: string[]): Promise<unknown> {
    fields(body, ['challenge', 'v', 'purpose', 'audience']);
    const challenge = hexField(body, 'challenge', 16) as string;
    const v = pointField(body, 'v') as string;
    const purpose = purposeField(body);
    const audience = this.#audienceField(body);
    const { verdict, tag } = await this.#verifier.finish(challenge, v, req.remoteAddress);
    if (tag === undefined) return this.#refuse(verdict);
    return this.#conclude(req, tag, purpose, audience, verdict, setCookies);
  }

  /** The audience a browser asks a token for; checked against `tokenAudiences` when configured. */
  #audienceField(body: Json): string {
    const v = body['audience'];
    if (v === undefined) return this.#defaultAudience;
    if (!isValidAudience(v)) throw new HttpError(400, 'invalid_field', '"audience" must be 1-128 characters of [A-Za-z0-9._:/@-]');
    const allowed = this.#opts.tokenAudiences;
    if (allowed !== undefined && v !== this.#defaultAudience && !allowed.includes(v)) throw new HttpError(400, 'invalid_field', `tokens for audience "${v}" are not issued here`);
    return v;
  }

  /** Every successful sign-in mints a one-time login token; purpose "session" also sets the cookie. */
  async #conclude(req: RpRequest, identity: string, purpose: Purpose, audience: string, verdict: Verdict, setCookies: string[]): Promise<unknown> {
    if (!verdict.ok) return this.#refuse(verdict);
    const { token } = await this.#tokens.mint(identity, audience);
    if (purpose === 'session') setCookies.push(await this.#newSession(identity, req.secure));
    return { ok: true, identity, token, audience };
  }

  /** POST {prefix}/token/verify: server-to-server, bearer secret, the contract's JSON shapes. */
  async #tokenVerify(req: RpRequest, path: string): Promise<unknown> {
    const secret = this.#opts.tokenVerifySecret;
    if (secret === undefined) throw new HttpError(404, 'not_found', `no endpoint ${path} (set tokenVerifySecret to enable it)`);
    if (req.method !== 'POST') throw new HttpError(405, 'method_not_allowed', `use POST for ${path}`);
    // The secret travels in the request: HTTPS, or plain HTTP between processes on one host.
    if (!req.secure && !LOOPBACK.test(req.remoteAddress)) throw new HttpError(403, 'insecure_transport', 'token verification needs HTTPS (plain HTTP only from loopback)');
    await this.#limit(this.#byAddress, sourceKey(req.remoteAddress));
    const auth = header(req, 'authorization') ?? '';
    const enc = new TextEncoder();
    const sent = enc.encode(auth.startsWith('Bearer ') ? auth.slice(7) : '');
    const want = enc.encode(secret);
    // equalBytes compares in constant time for equal lengths; the length of the secret is no secret.
    if (sent.length !== want.length || !equalBytes(sent, want)) throw new HttpError(401, 'unauthorized', 'missing or wrong bearer secret (authorization: Bearer <tokenVerifySecret>)');
    const body = this.#readJson(req);
    fields(body, ['token', 'audience', 'identity']);
    const token = body['token'];
    const audience = body['audience'];
    const identity = body['identity'];
    if (typeof token !== 'string' || token.length > 256) throw new HttpError(400, 'invalid_field', '"token" must be a string');
    if (typeof audience !== 'string' || audience.length > 256) throw new HttpError(400, 'invalid_field', '"audience" must be a string');
    if (identity !== undefined && (typeof identity !== 'string' || identity.length > 1024)) throw new HttpError(400, 'invalid_field', '"identity" must be a string');
    const verdict = await this.#tokens.verify({ token, audience, identity });
    if (!verdict.ok) {
      this.#opts.log?.(`POST ${path} 403 ${verdict.error}`);
      throw new TokenRefused(verdict);
    }
    return verdict;
  }

  #refuse(v: Verdict): never {
    if (v.ok) throw new Error('refuse() called with a success');
    switch (v.code) {
      case 'wrong_pin':
        throw new HttpError(401, 'wrong_pin', `wrong PIN; ${v.attemptsLeft} attempt(s) left`, { attemptsLeft: v.attemptsLeft, ...(v.retryAfter > 0 ? { retryAfter: v.retryAfter } : {}) });
      case 'bad_credentials':
        throw new HttpError(401, 'bad_credentials', `sign-in failed; ${v.attemptsLeft} attempt(s) left`, { attemptsLeft: v.attemptsLeft, ...(v.retryAfter > 0 ? { retryAfter: v.retryAfter } : {}) });
      case 'locked':
        throw new HttpError(403, 'locked', 'too many failed sign-ins: this identity is locked; unlock it with the link sent to it, or ask an administrator');
      case 'backoff':
        throw new HttpError(429, 'backoff', `too many wrong PINs; wait ${v.retryAfter} s before the next attempt`, { retryAfter: v.retryAfter, attemptsLeft: v.attemptsLeft });
      case 'throttled':
        throw new HttpError(429, 'throttled', `too many failed sign-ins from this address; retry in ${v.retryAfter} s`, { retryAfter: v.retryAfter });
      case 'overloaded':
        throw new HttpError(503, 'overloaded', 'the server is busy; retry in a moment', { retryAfter: 1 });
      case 'stale':
        throw new HttpError(400, 'stale', v.message);
      case 'replayed':
        throw new HttpError(409, 'replayed', v.message);
      case 'unknown_challenge':
        throw new HttpError(410, 'unknown_challenge', v.message);
      case 'invalid_field':
        throw new HttpError(400, 'invalid_field', v.message);
      default: {
        const never: never = v;
        throw new Error(`unexpected verdict ${String(never)}`);
      }
    }
  }

  async #signOut(req: RpRequest, body: Json, setCookies: string[]): Promise<unknown> {
    fields(body, []);
    const id = parseCookies(header(req, 'cookie')).get(this.#cookieName('session', req.secure));
    if (id !== undefined && isHex(id, 32)) await this.#kv.delete(`session:${hashKey(id)}`);
    setCookies.push(this.#cookie('session', '', req.secure, 0));
    return { signedIn: false };
  }

  // ---- out-of-band sign-in (item 5) ----------------------------------------------------------

  async #oobStart(body: Json): Promise<unknown> {
    fields(body, ['audience']);
    const audience = this.#audienceField(body);
    const ttl = this.#opts.accessNumberTtlMs ?? 5 * 60_000;
    const expiresAt = this.#clock() + ttl;
    const handle = bytesToHex(this.#random(32));
    const rec: AccessRecord = { handle, expiresAt, audience };
    // Claiming the number is atomic across processes; a collision draws again.
    for (let i = 0; i < 10; i++) {
      const accessNumber = makeAccessNumber(this.#random);
      if (await this.#kv.setIfAbsent(`access:${accessNumber}`, JSON.stringify(rec), ttl)) {
        await this.#kv.set(`handle:${hashKey(handle)}`, accessNumber, ttl);
        this.#writes.accessNumbers++;
        return { accessNumber, handle, expiresAt };
      }
    }
    throw new HttpError(503, 'internal', 'no free access number; retry');
  }

  async #oobPoll(req: RpRequest, body: Json, setCookies: string[]): Promise<unknown> {
    fields(body, ['handle']);
    const handle = hexField(body, 'handle', 32) as string;
    const expired = new HttpError(410, 'expired', 'this access number expired; ask for a new one');
    const accessNumber = await this.#kv.get(`handle:${hashKey(handle)}`);
    const rec = accessNumber === undefined ? undefined : await this.#getJson<AccessRecord>(`access:${accessNumber}`);
    if (accessNumber === undefined || rec === undefined || rec.handle !== handle || rec.expiresAt <= this.#clock()) throw expired;
    const identity = await this.#kv.get(`access-done:${accessNumber}`);
    if (identity === undefined) return { status: 'pending' };
    // Collecting is atomic too: one poll gets the session.
    if (!(await this.#kv.delete(`handle:${hashKey(handle)}`))) throw expired;
    await this.#kv.delete(`access:${accessNumber}`);
    const { token } = await this.#tokens.mint(identity, rec.audience);
    setCookies.push(await this.#newSession(identity, req.secure));
    return { status: 'signed-in', identity, token, audience: rec.audience };
  }

  async #oobAuthenticate(req: RpRequest, body: Json): Promise<unknown> {
    fields(body, ['accessNumber', 'identity', 'u', 'ut', 'v', 'timeValue']);
    const raw = body['accessNumber'];
    const accessNumber = typeof raw === 'string' ? parseAccessNumber(raw) : undefined;
    if (accessNumber === undefined) throw new HttpError(400, 'invalid_field', '"accessNumber" is not a valid access number (check digit mismatch?)');
    const identity = identityField(body);
    const pts = this.#points(body);
    const v = pointField(body, 'v') as string;
    const timeValue = timeValueField(body);
    await this.#limit(this.#byIdentity, hashKey(identity));
    const unknown = new HttpError(404, 'unknown_access_number', 'no browser is waiting with this access number');
    const rec = await this.#getJson<AccessRecord>(`access:${accessNumber}`);
    if (rec === undefined || rec.expiresAt <= this.#clock() || (await this.#kv.get(`access-done:${accessNumber}`)) !== undefined) throw unknown;
    const reg = await this.#registered(identity);
    const verdict = await this.#verifier.verifyPass({ hashId: this.#hashIdOf(reg.mpinId), ...pts, v, timeValue }, req.remoteAddress);
    if (!verdict.ok) return this.#refuse(verdict);
    // Another sign-in may have claimed the number while this one was being checked.
    if (!(await this.#kv.setIfAbsent(`access-done:${accessNumber}`, identity, Math.max(1000, rec.expiresAt - this.#clock())))) throw unknown;
    return { ok: true, identity };
  }

  /** Serves the browser bundles (item 1/4) when configured; undefined for other paths. */
  serveAsset(url: string): RpResponse | undefined {
    const path = url.split('?', 1)[0] ?? '';
    const a = this.#opts.assets;
    if (a === undefined) return undefined;
    const body = path === `${this.#prefix}${ENDPOINTS.clientScript}` ? a.client : path === `${this.#prefix}${ENDPOINTS.overrideScript}` ? a.override : undefined;
    if (body === undefined) return undefined;
    return {
      status: 200,
      headers: { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' },
      body,
    };
  }
}
