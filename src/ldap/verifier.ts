/**
 * How the proxy asks the relying party whether a one-time login token is good (CONTRACTS.md:
 * "One-time login tokens"): over HTTP (`POST {prefix}/token/verify`, bearer secret) when the
 * proxy runs apart from the relying party, or by calling it directly when both share a process.
 * A successful verification consumes the token.
 */
import { readResponseText } from '../identity/http-body.ts';
import { LOGIN_TOKEN_PREFIX } from '../web/protocol.ts';

export { LOGIN_TOKEN_PREFIX };

export interface TokenVerifyRequest {
  readonly token: string;
  readonly audience: string;
  readonly identity?: string;
}

/**
 * `error` is the relying party's reason (invalid_token, expired, replayed, wrong_audience,
 * wrong_identity), or `unavailable` when the relying party could not be asked or answered
 * something other than the contract (the proxy then says `unavailable`, not `invalidCredentials`).
 */
export type TokenVerification =
  | { readonly ok: true; readonly identity: string; readonly audience: string }
  | { readonly ok: false; readonly error: string; readonly detail?: string };

export interface TokenVerifier {
  verify(req: TokenVerifyRequest): Promise<TokenVerification>;
}

/** Tokens are the prefix and base64url of 32 random bytes; anything else is not even asked about. */
export function looksLikeToken(password: string): boolean {
  return password.startsWith(LOGIN_TOKEN_PREFIX) && /^[A-Za-z0-9_-]{16,128}$/.test(password.slice(LOGIN_TOKEN_PREFIX.length));
}

/** The relying party in the same process (anything with its `verifyLoginToken`). */
export interface InProcessTokenSource {
  verifyLoginToken(req: TokenVerifyRequest): Promise<TokenVerification> | TokenVerification;
}

export class InProcessTokenVerifier implements TokenVerifier {
  readonly #rp: InProcessTokenSource;
  constructor(rp: InProcessTokenSource) {
    this.#rp = rp;
  }
  async verify(req: TokenVerifyRequest): Promise<TokenVerification> {
    try {
      return await this.#rp.verifyLoginToken(req);
    } catch (e) {
      return { ok: false, error: 'unavailable', detail: (e as Error).message };
    }
  }
}

export interface HttpTokenVerifierOptions {
  /** The relying party's token endpoint, e.g. https://login.example.org/mpin/token/verify. */
  readonly url: string;
  /** The relying party's tokenVerifySecret. */
  readonly secret: string;
  readonly timeoutMs?: number;
  readonly fetch?: typeof fetch;
}

/** Largest verification answer read (the contract's answers are a few dozen bytes). */
const MAX_ANSWER = 16 * 1024;

export class HttpTokenVerifier implements TokenVerifier {
  readonly #o: HttpTokenVerifierOptions;
  constructor(o: HttpTokenVerifierOptions) {
    const u = new URL(o.url);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new TypeError(`token endpoint must be an http(s) URL, not ${o.url}`);
    this.#o = o;
  }

  async verify(req: TokenVerifyRequest): Promise<TokenVerification> {
    const f = this.#o.fetch ?? fetch;
    let status: number;
    let text: string;
    try {
      const res = await f(this.#o.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${this.#o.secret}` },
        body: JSON.stringify(req),
        signal: AbortSignal.timeout(this.#o.timeoutMs ?? 5000),
        redirect: 'error',
      });
      status = res.status;
      text = await readResponseText(res, MAX_ANSWER);
    } catch (e) {
      return { ok: false, error: 'unavailable', detail: `token endpoint ${this.#o.url}: ${(e as Error).message}` };
    }
    if (status !== 200 && status !== 403) {
      const why = status === 401 ? ' (wrong --verify-secret-file?)' : '';
      return { ok: false, error: 'unavailable', detail: `token endpoint answered HTTP ${status}${why}` };
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return { ok: false, error: 'unavailable', detail: 'token endpoint answered non-JSON' };
    }
    const b = body as { ok?: unknown; identity?: unknown; audience?: unknown; error?: unknown };
    if (status === 200 && b.ok === true && typeof b.identity === 'string' && typeof b.audience === 'string') {
      return { ok: true, identity: b.identity, audience: b.audience };
    }
    if (status === 403 && b.ok === false && typeof b.error === 'string') return { ok: false, error: b.error.slice(0, 64) };
    return { ok: false, error: 'unavailable', detail: `token endpoint answered HTTP ${status} with an unexpected body` };
  }
}
