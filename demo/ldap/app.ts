/**
 * The sample application of `npm run demo:ldap`: an "Example Wiki" that knows nothing of M-Pin.
 * Its log-in form posts a user name and a password, and it authenticates the user by an LDAP
 * simple bind with exactly those (ldapts, an ordinary npm LDAP client) — here against the LDAP
 * proxy instead of the directory. The only addition is the one script tag of the password-form
 * override, so a browser shows a PIN pad and the password field carries a one-time token.
 *
 * The relying party's endpoints are mounted on the same origin (/mpin/...), as a site would
 * reverse-proxy them.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from 'ldapts';
import { handleNode, readBody, toRpRequest } from '../../src/web/server/node-http.ts';
import type { RelyingParty } from '../../src/web/server/relying-party.ts';

const page = (title: string, body: string, head = ''): string =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title>${head}</head><body><main><h1>Example Wiki</h1>${body}</main></body></html>`;

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const LOGIN_FORM = `<form method="post" action="/login">
  <p><label for="user">E-mail</label> <input id="user" name="user" type="email" autocomplete="username" required></p>
  <p><label for="pass">Password</label> <input id="pass" name="password" type="password" autocomplete="current-password"></p>
  <p><button type="submit">Log in</button></p>
</form>`;

export interface WikiOptions {
  readonly rp: RelyingParty;
  /** The LDAP server the wiki binds against (the proxy): ldap://127.0.0.1:PORT. */
  readonly ldapUrl: string;
  /** Audience of the tokens the override asks for (the proxy's --audience). */
  readonly audience: string;
}

export class ExampleWiki {
  readonly server: Server;
  readonly #o: WikiOptions;

  constructor(o: WikiOptions) {
    this.#o = o;
    this.server = createServer((req, res) => {
      this.#handle(req, res).catch(() => {
        if (!res.headersSent) res.writeHead(500);
        res.end('internal error');
      });
    });
  }

  listen(port = 0): Promise<string> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => resolve(`http://127.0.0.1:${(this.server.address() as AddressInfo).port}`));
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  #send(res: ServerResponse, status: number, html: string): void {
    res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(html);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (await handleNode(this.#o.rp, req, res)) return;
    const path = new URL(req.url ?? '/', 'http://wiki.invalid').pathname;
    if ((path === '/' || path === '/login') && req.method === 'GET') {
      // The one line the wiki adds: the override script, asking tokens for the LDAP proxy.
      const tag = `<script src="/mpin/static/mpin-override.js" data-mpin-audience="${escapeHtml(this.#o.audience)}" defer></script>`;
      this.#send(res, 200, page('Example Wiki: log in', LOGIN_FORM, tag));
      return;
    }
    if (path === '/login' && req.method === 'POST') {
      const form = new URLSearchParams(new TextDecoder().decode(await readBody(req, 8192)));
      if (!this.#o.rp.isSameOrigin(toRpRequest(req), form.get('mpin-csrf') ?? undefined)) {
        this.#send(res, 403, page('Forbidden', '<p>Cross-site log-in refused.</p>'));
        return;
      }
      const user = form.get('user') ?? '';
      const password = form.get('password') ?? '';
      const result = await ldapLogin(this.#o.ldapUrl, user, password);
      if (result.ok) this.#send(res, 200, page('Welcome', `<p id="who">Welcome, ${escapeHtml(user)}: the LDAP bind succeeded; the directory knows you as <code>${escapeHtml(result.whoami)}</code>.</p>`));
      else this.#send(res, 401, page('Log-in failed', `<p id="error">Log-in failed: ${escapeHtml(result.error)}</p><p><a href="/login">Try again</a></p>`));
      return;
    }
    this.#send(res, 404, page('Not found', '<p>Not found.</p>'));
  }
}

/** What the wiki does per log-in: bind with what the user typed, ask who it is, unbind. */
export async function ldapLogin(url: string, user: string, password: string): Promise<{ ok: true; whoami: string } | { ok: false; error: string }> {
  if (user === '' || password === '') return { ok: false, error: 'user name and password are required' };
  const c = new Client({ url, timeout: 10_000, connectTimeout: 5000 });
  try {
    await c.bind(user, password);
    const who = await c.exop('1.3.6.1.4.1.4203.1.11.3');
    return { ok: true, whoami: typeof who.value === 'string' ? who.value : '' };
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  } finally {
    await c.unbind().catch(() => undefined);
  }
}
