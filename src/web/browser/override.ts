/// <reference lib="dom" preserve="true" />
/// <reference lib="dom.iterable" preserve="true" />
/**
 * Password-form override (issue 8 item 4). Included in an existing login page with one tag,
 *
 *   <script src="/mpin/static/mpin-override.js" defer></script>
 *
 * it finds each form with a password field, hides that field (and its label), and puts a PIN pad
 * in its place. The pad signs in with M-Pin for purpose "token"; the relying party answers with a
 * one-time login token (`mpin-token:…`), which goes into the hidden password field before the
 * form is submitted as usual. The site's login handler accepts it with
 * `await rp.redeemToken(username, password)`, or an LDAP proxy in front of the directory verifies
 * it (issue 15). The page's markup and the form's action are not changed. Optional attributes on
 * the script tag: data-mpin-prefix (default /mpin), data-mpin-mode (two-pass | one-pass) and
 * data-mpin-audience (the application the token is for; default the relying party's).
 */
import { LOGIN_TOKEN_PREFIX } from '../protocol.ts';
import { defineElements, MpinLogin } from './login.ts';

export interface OverrideOptions {
  readonly prefix?: string;
  readonly mode?: 'one-pass' | 'two-pass';
  readonly audience?: string;
}

const USERNAME_SELECTORS = [
  'input[autocomplete~="username"]',
  'input[type="email"]',
  'input[name*="user" i]',
  'input[name*="login" i]',
  'input[name*="email" i]',
  'input[type="text"]',
];

function findUsername(form: HTMLFormElement): HTMLInputElement | undefined {
  for (const sel of USERNAME_SELECTORS) {
    const el = form.querySelector<HTMLInputElement>(sel);
    if (el !== null) return el;
  }
  return undefined;
}

function labelsOf(input: HTMLInputElement): HTMLElement[] {
  return input.labels === null ? [] : [...input.labels];
}

/** Replaces the password field of every login form in `doc`; returns the pads it inserted. */
export function overridePasswordForms(doc: Document, opts: OverrideOptions = {}): MpinLogin[] {
  defineElements();
  const pads: MpinLogin[] = [];
  for (const form of doc.querySelectorAll('form')) {
    const password = form.querySelector<HTMLInputElement>('input[type="password"]');
    const username = findUsername(form);
    if (password === null || username === undefined || form.hasAttribute('data-mpin-done')) continue;
    form.setAttribute('data-mpin-done', '');
    // The field stays in the form (its name is what the site reads) but is no longer shown.
    for (const l of labelsOf(password)) {
      if (l.contains(username)) continue;
      // Both: site styles such as `label { display: block }` would override [hidden] alone.
      l.hidden = true;
      l.style.display = 'none';
    }
    password.type = 'hidden';
    password.value = '';
    const pad = doc.createElement('mpin-login') as MpinLogin;
    pad.setAttribute('purpose', 'token');
    if (opts.audience !== undefined) pad.setAttribute('audience', opts.audience);
    pad.setAttribute('prefix', opts.prefix ?? '/mpin');
    if (opts.mode !== undefined) pad.setAttribute('mode', opts.mode);
    pad.identityInput = username;
    pad.onSignedIn = (identity, token) => {
      username.value = identity;
      password.value = token;
      form.requestSubmit();
    };
    username.addEventListener('change', () => pad.restart());
    password.insertAdjacentElement('afterend', pad);
    form.addEventListener('submit', (e) => {
      // Without a fresh token the form would send an empty password: point the user to the pad.
      if (!password.value.startsWith(LOGIN_TOKEN_PREFIX)) {
        e.preventDefault();
        pad.announce('Sign in with your PIN in the PIN pad.', 'error');
        pad.focus();
      }
    });
    pads.push(pad);
  }
  return pads;
}

function boot(): void {
  const script = document.currentScript;
  const data = script instanceof HTMLScriptElement ? script.dataset : {};
  const mode = data['mpinMode'] === 'one-pass' ? 'one-pass' : data['mpinMode'] === 'two-pass' ? 'two-pass' : undefined;
  const audience = data['mpinAudience'];
  const opts: OverrideOptions = { prefix: data['mpinPrefix'] ?? '/mpin', ...(mode !== undefined ? { mode } : {}), ...(audience !== undefined ? { audience } : {}) };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', () => overridePasswordForms(document, opts));
  else overridePasswordForms(document, opts);
}

if (typeof document !== 'undefined') boot();
