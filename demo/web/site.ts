/**
 * The sample site of the M-Pin web demo (issue 8 items 4 and 6), on plain node:http.
 *
 *   /login   a plain HTML password form (login.html) that knows nothing of M-Pin. The site adds
 *            one <script> tag (as a CMS plugin would) and the override swaps the password field
 *            for a PIN pad; POST /login accepts a one-time M-Pin login token where it would accept a
 *            password: `(await rp.redeemToken(user, password)) || passwords.get(user) === password`.
 *            `/login?plain` serves the page without the script.
 *   /signin  a page with the <mpin-login> component (session cookie from the relying party).
 *   /        who is signed in, by either route.
 *   /outbox  the verification messages (activation / unlock links) the site would e-mail.
 *   /mpin/*  the relying party (handleNode).
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { bytesToHex } from '../../src/codec/bytes.ts';
import { type RandomSource, systemRandom } from '../../src/providers.ts';
import { handleNode, readBody, toRpRequest } from '../../src/web/server/node-http.ts';
import type { RelyingParty } from '../../src/web/server/relying-party.ts';
import type { DemoOutbox } from './outbox.ts';

const file = (name: string): string => readFileSync(new URL(`./${name}`, import.meta.url), 'utf8');

export interface SiteOptions {
  readonly rp: RelyingParty;
  /** Classic password accounts of the site (the override leaves them working). */
  readonly passwords?: ReadonlyMap<string, string>;
  /** Add the override script to /login (default true). */
  readonly override?: boolean;
  readonly random?: RandomSource;
  /** The relying party's verification messages, shown at /outbox instead of being e-mailed. */
  readonly outbox?: DemoOutbox;
}

const SECURITY_HEADERS = {
  // The PIN pad must not be framed (clickjacking); scripts only from this origin. Shadow-DOM
  // <style> elements count as inline styles.
  'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  // Not no-referrer: with it Chrome sends "Origin: null" on form posts, which the origin check must refuse.
  'referrer-policy': 'same-origin',
} as const;

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export class DemoSite {
  readonly server: Server;
  readonly #opts: SiteOptions;
  readonly #random: RandomSource;
  /** The site's own sessions (password or login-token log-ins through /login). */
  readonly #sessions = new Map<string, string>();
  readonly #login = file('login.html');
  readonly #mpin = file('mpin.html');
  readonly #css = file('site.css');

  constructor(opts: SiteOptions) {
    this.#opts = opts;
    this.#random = opts.random ?? systemRandom;
    this.server = createServer((req, res) => {
      this.#handle(req, res).catch(() => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('internal error');
      });
    });
  }

  listen(port = 0, host = '127.0.0.1'): Promise<string> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        const a = this.server.address() as AddressInfo;
        const url = `http://${host}:${a.port}`;
        if (this.#opts.outbox !== undefined) this.#opts.outbox.base = url;
        resolve(url);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  #page(res: ServerResponse, status: number, html: string, extra: Record<string, string> = {}): void {
    res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', ...SECURITY_HEADERS, ...extra });
    res.end(html);
  }

  #siteUser(req: IncomingMessage): string | undefined {
    const m = /(?:^|;\s*)site-session=([0-9a-f]{64})/.exec(req.headers.cookie ?? '');
    return m?.[1] === undefined ? undefined : this.#sessions.get(m[1]);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (await handleNode(this.#opts.rp, req, res)) return;
    const url = new URL(req.url ?? '/', 'http://site.invalid');
    const get = req.method === 'GET' || req.method === 'HEAD';
    switch (url.pathname) {
      case '/outbox':
        if (get && this.#opts.outbox !== undefined) {
          this.#page(res, 200, this.#opts.outbox.html(Date.now()));
          return;
        }
        break;
      case '/site.css':
        res.writeHead(200, { 'content-type': 'text/css; charset=utf-8', ...SECURITY_HEADERS });
        res.end(this.#css);
        return;
      case '/signin': {
        const mode = url.searchParams.get('mode') === 'one-pass' ? ' mode="one-pass"' : '';
        this.#page(res, 200, this.#mpin.replace('<mpin-login id="pad">', `<mpin-login id="pad"${mode}>`));
        return;
      }
      case '/login':
        if (get) {
          // The one line a site adds to enable the override (e.g. a CMS plugin's script hook).
          const tag = '<script src="/mpin/static/mpin-override.js" defer></script>';
          // `/login?plain` shows the page untouched (the classic password accounts still work).
          const plain = this.#opts.override === false || url.searchParams.has('plain');
          this.#page(res, 200, plain ? this.#login : this.#login.replace('</head>', `${tag}\n</head>`));
          return;
        }
        if (req.method === 'POST') return this.#postLogin(req, res);
        break;
      case '/logout':
        if (req.method === 'POST') {
          // Log-out CSRF: another site must not end the session either.
          if (!this.#opts.rp.isSameOrigin(toRpRequest(req))) {
            this.#page(res, 403, '<!doctype html><title>Forbidden</title><p class="error">Cross-site log-out refused.</p>');
            return;
          }
          const m = /(?:^|;\s*)site-session=([0-9a-f]{64})/.exec(req.headers.cookie ?? '');
          if (m?.[1] !== undefined) this.#sessions.delete(m[1]);
          res.writeHead(303, { location: '/', 'set-cookie': 'site-session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0' });
          res.end();
          return;
        }
        break;
      case '/': {
        const user = this.#siteUser(req) ?? (await this.#opts.rp.sessionOf(toRpRequest(req)));
        const who = user === undefined ? '<p id="who">Not signed in.</p>' : `<p id="who">Signed in as <strong>${escapeHtml(user)}</strong>.</p>`;
        this.#page(res, 200, `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Example Shop</title><link rel="stylesheet" href="/site.css"></head><body><main><h1>Example Shop</h1>${who}<p><a href="/login">Log in (classic form)</a> · <a href="/signin">Sign in with M-Pin</a></p></main></body></html>`);
        return;
      }
      default:
        break;
    }
    this.#page(res, get ? 404 : 405, '<!doctype html><title>Not found</title><p>Not found.</p>');
  }

  async #postLogin(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body: Uint8Array;
    try {
      body = await readBody(req, 8192);
    } catch {
      this.#page(res, 413, '<!doctype html><title>Too large</title><p>Too large.</p>', { connection: 'close' });
      return;
    }
    const form = new URLSearchParams(new TextDecoder().decode(body));
    // Login CSRF: a form posted from another site would sign the victim in to the attacker's
    // account. Require the browser's same-origin signal (Origin, Sec-Fetch-Site, or the CSRF token
    // as a form field), not just the absence of a foreign Origin.
    if (!this.#opts.rp.isSameOrigin(toRpRequest(req), form.get('mpin-csrf') ?? undefined)) {
      this.#page(res, 403, '<!doctype html><title>Forbidden</title><p class="error">Cross-site log-in refused.</p>');
      return;
    }
    const user = form.get('log') ?? '';
    const password = form.get('pwd') ?? '';
    // The only M-Pin-aware line of the site: a login token is accepted where a password would be.
    const ok = user !== '' && ((await this.#opts.rp.redeemToken(user, password)) || (password !== '' && this.#opts.passwords?.get(user) === password));
    if (!ok) {
      this.#page(res, 401, `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Log-in failed</title><link rel="stylesheet" href="/site.css"></head><body><main><p class="error" id="login-error">Wrong user name or password.</p><p><a href="/login">Try again</a></p></main></body></html>`);
      return;
    }
    const sid = bytesToHex(this.#random(32));
    this.#sessions.set(sid, user);
    res.writeHead(303, { location: '/', 'set-cookie': `site-session=${sid}; Path=/; HttpOnly; SameSite=Lax` });
    res.end();
  }
}
