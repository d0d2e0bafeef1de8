/// <reference lib="dom" preserve="true" />
/**
 * The login controller: connects a `<mpin-pad>` to an MpinWebClient and walks the states of
 * issue 8 item 2 (register → set PIN → signed in; sign in → wrong PIN (attempts left) → locked;
 * revoked; add/remove identity; out-of-band access number). `<mpin-login>` is a pad that attaches
 * a controller to itself from its attributes:
 *
 *   <mpin-login mode="two-pass|one-pass" purpose="session|token" audience="site" prefix="/mpin"></mpin-login>
 */
import { ACTIVATE_PARAM, formatAccessNumber, IDENTITY_PARAM, type Purpose, UNLOCK_PARAM } from '../protocol.ts';
import { type AuthMode, MpinWebClient, MpinWebError } from './client.ts';
import { MpinPad, type PadEvents } from './pin-pad.ts';
import { IndexedDbStore } from './store.ts';

export interface LoginControllerOptions {
  readonly client: MpinWebClient;
  readonly mode?: AuthMode;
  readonly purpose?: Purpose;
  /** Audience of the one-time login token (default: the relying party's default). */
  readonly audience?: string;
  /** When set, the identity is this field's value (the password-form override's username). */
  readonly identityInput?: HTMLInputElement;
  /** A verification link opened on this page (`?mpin-activate=…` or `?mpin-unlock=…`). */
  readonly link?: { readonly kind: 'register' | 'unlock'; readonly code: string; readonly identity: string };
  /** Called after a successful sign-in with the one-time login token. */
  readonly onSignedIn?: (identity: string, token: string) => void;
}

function message(e: unknown): string {
  if (e instanceof MpinWebError) return e.message;
  return e instanceof Error ? e.message : String(e);
}

export class LoginController {
  readonly #pad: MpinPad;
  readonly #opts: LoginControllerOptions;
  #oob: AbortController | undefined;
  /** The code of an activation link opened here, used by the next registration of its identity. */
  #activation: { readonly identity: string; readonly code: string } | undefined;
  #link: LoginControllerOptions['link'];

  constructor(pad: MpinPad, opts: LoginControllerOptions) {
    this.#pad = pad;
    this.#opts = opts;
    this.#link = opts.link;
    const on = <K extends keyof PadEvents>(name: K, f: (d: PadEvents[K]) => Promise<void>): void => {
      pad.addEventListener(name, (e) => {
        void f((e as CustomEvent<PadEvents[K]>).detail).catch((err: unknown) => pad.show({ kind: 'error', message: message(err) }, message(err), 'error'));
      });
    };
    on('mpin-continue', async (d) => pad.show({ kind: 'set-pin', identity: d.identity }, 'Choose a 4-digit PIN and type it twice.'));
    on('mpin-unlock', async (d) => {
      await opts.client.requestUnlock(d.identity);
      pad.show({ kind: 'check-email', identity: d.identity, purpose: 'unlock' }, `An unlock link was sent to ${d.identity}.`);
    });
    on('mpin-register', async (d) => this.#register(d.identity, d.pin));
    on('mpin-sign-in', async (d) => this.#signIn(d.identity, d.pin));
    on('mpin-remove', async (d) => {
      await opts.client.remove(d.identity);
      await this.#manage(`${d.identity} was removed from this browser.`);
    });
    on('mpin-add', async () => pad.show({ kind: 'register', ...this.#fixed() }));
    on('mpin-manage', async () => this.#manage(''));
    on('mpin-back', async () => {
      this.#oob?.abort();
      await this.start();
    });
    on('mpin-sign-out', async () => {
      await opts.client.signOut();
      await this.start('You are signed out.');
    });
    on('mpin-access-number', async () => this.#accessNumber());
  }

  #fixed(): { identity?: string; fixedIdentity?: boolean } {
    const v = this.#opts.identityInput?.value.trim();
    return v === undefined ? {} : { identity: v, fixedIdentity: v.length > 0 };
  }

  /** Picks the first state: a verification link being opened, signed in, sign in, or register. */
  async start(status = ''): Promise<void> {
    const client = this.#opts.client;
    this.#pad.show({ kind: 'busy', message: 'Loading…' });
    const link = this.#link;
    if (link !== undefined) {
      this.#link = undefined; // a link's code works once
      if (link.kind === 'register') {
        this.#activation = { identity: link.identity, code: link.code };
        this.#pad.show({ kind: 'set-pin', identity: link.identity }, `${link.identity} is confirmed. Choose a 4-digit PIN and type it twice.`);
        return;
      }
      try {
        await client.unlock(link.identity, link.code);
        status = `${link.identity} is unlocked. Sign in with your PIN.`;
      } catch (e) {
        status = `Unlock failed: ${message(e)}`;
      }
    }
    const purpose = this.#opts.purpose ?? 'session';
    const s = await client.session();
    if (purpose === 'session' && s.signedIn && s.identity !== undefined) {
      this.#pad.show({ kind: 'signed-in', identity: s.identity }, status);
      return;
    }
    const ids = await client.identities();
    const fixed = this.#opts.identityInput?.value.trim();
    if (fixed !== undefined) {
      if (fixed.length === 0) this.#pad.show({ kind: 'register', identity: '', fixedIdentity: false }, status || 'Type your user name first.');
      else if (ids.includes(fixed)) this.#pad.show({ kind: 'sign-in', identities: [fixed], selected: fixed, fixedIdentity: true }, status);
      else this.#pad.show({ kind: 'register', identity: fixed, fixedIdentity: true }, status || `${fixed} is not registered on this browser yet.`);
      return;
    }
    if (ids.length === 0) this.#pad.show({ kind: 'register' }, status);
    else this.#pad.show({ kind: 'sign-in', identities: ids }, status);
  }

  async #manage(status: string): Promise<void> {
    this.#pad.show({ kind: 'manage', identities: await this.#opts.client.identities() }, status);
  }

  /**
   * Registers once the PIN is chosen: with the code of an opened activation link, or else the
   * site either registers at once or sends a link to the identity ("check your e-mail").
   */
  async #register(identity: string, pin: string): Promise<void> {
    const code = this.#activation?.identity === identity ? this.#activation.code : undefined;
    this.#activation = undefined;
    this.#pad.show({ kind: 'busy', message: `Registering ${identity}…` }, 'Registering…');
    try {
      const r = await this.#opts.client.startRegistration(identity, code);
      if (r.kind === 'verification-sent') {
        this.#pad.show({ kind: 'check-email', identity, purpose: 'register' }, `A link to finish registering was sent to ${identity}.`);
        return;
      }
      await r.complete(pin);
    } catch (e) {
      this.#pad.show({ kind: 'register', identity, ...(this.#opts.identityInput !== undefined ? { fixedIdentity: true } : {}) }, `Registration failed: ${message(e)}`, 'error');
      return;
    }
    // Registering proves the PIN was just chosen; sign in with it straight away.
    await this.#signIn(identity, pin, `${identity} is registered on this browser. `);
  }

  async #signIn(identity: string, pin: string, prefix = ''): Promise<void> {
    this.#pad.show({ kind: 'busy', message: 'Signing in…' }, 'Signing in…');
    const r = await this.#opts.client.authenticate(identity, pin, {
      mode: this.#opts.mode ?? 'two-pass',
      purpose: this.#opts.purpose ?? 'session',
      ...(this.#opts.audience !== undefined ? { audience: this.#opts.audience } : {}),
    });
    switch (r.kind) {
      case 'ok':
        this.#pad.show({ kind: 'signed-in', identity }, `${prefix}Signed in as ${identity}.`, 'ok');
        this.#opts.onSignedIn?.(identity, r.token);
        return;
      case 'wrong-pin':
      case 'bad-credentials': {
        const what = r.kind === 'wrong-pin' ? 'Wrong PIN.' : 'Sign-in failed.';
        this.#pad.show({ kind: 'wrong-pin', identity, attemptsLeft: r.attemptsLeft }, `${what} ${r.attemptsLeft} attempt${r.attemptsLeft === 1 ? '' : 's'} left.`, 'error');
        return;
      }
      case 'locked':
        this.#pad.show({ kind: 'locked', identity }, `${identity} is locked after too many wrong PINs.`, 'error');
        return;
      case 'wait':
        this.#pad.show({ kind: 'sign-in', identities: [identity], selected: identity, ...(this.#opts.identityInput !== undefined ? { fixedIdentity: true } : {}) }, `Too many attempts: wait ${r.retryAfter} s before trying again.`, 'error');
        return;
      case 'replaced':
        this.#pad.show({ kind: 'register', identity }, `${identity} was registered again elsewhere: this browser's registration no longer works. Register it again here.`, 'error');
        return;
      case 'revoked':
        this.#pad.show({ kind: 'revoked', identity }, `${identity} has been revoked.`, 'error');
        return;
      case 'unknown-identity':
        this.#pad.show({ kind: 'register', identity }, `${identity} is not registered on this browser.`, 'error');
        return;
      default: {
        const never: never = r;
        throw new Error(`unexpected outcome ${String(never)}`);
      }
    }
  }

  async #accessNumber(): Promise<void> {
    this.#oob?.abort();
    const abort = new AbortController();
    this.#oob = abort;
    const a = await this.#opts.client.startAccessNumber(this.#opts.audience);
    this.#pad.show({ kind: 'access-number', accessNumber: a.accessNumber, expiresAt: a.expiresAt }, `Your access number is ${formatAccessNumber(a.accessNumber)}.`);
    try {
      const { identity, token } = await this.#opts.client.waitForAccessNumber(a.handle, { intervalMs: 500, signal: abort.signal });
      this.#pad.show({ kind: 'signed-in', identity }, `Signed in as ${identity} from your other device.`, 'ok');
      this.#opts.onSignedIn?.(identity, token);
    } catch (e) {
      if (abort.signal.aborted) return;
      this.#pad.show({ kind: 'error', message: message(e) }, message(e), 'error');
    }
  }
}

/**
 * A verification link in the page URL (`?mpin-activate=CODE&mpin-identity=ID`, or mpin-unlock):
 * taken once and removed from the address bar, so a reload or a shared URL does not reuse it.
 */
function linkFromLocation(): LoginControllerOptions['link'] {
  if (typeof location === 'undefined') return undefined;
  const q = new URLSearchParams(location.search);
  const identity = q.get(IDENTITY_PARAM);
  const activate = q.get(ACTIVATE_PARAM);
  const unlock = q.get(UNLOCK_PARAM);
  const code = activate ?? unlock;
  if (identity === null || code === null) return undefined;
  for (const p of [IDENTITY_PARAM, ACTIVATE_PARAM, UNLOCK_PARAM]) q.delete(p);
  const rest = q.toString();
  history.replaceState(history.state, '', `${location.pathname}${rest === '' ? '' : `?${rest}`}${location.hash}`);
  return { kind: activate !== null ? 'register' : 'unlock', code, identity };
}

/** `<mpin-login>`: a PIN pad that drives itself (IndexedDB store, same-origin relying party). */
export class MpinLogin extends MpinPad {
  #controller: LoginController | undefined;
  /** Set before insertion to sign in as the value of this field (password-form override). */
  identityInput: HTMLInputElement | undefined;
  onSignedIn: ((identity: string, token: string) => void) | undefined;

  connectedCallback(): void {
    if (this.#controller !== undefined) return;
    const mode = this.getAttribute('mode') === 'one-pass' ? 'one-pass' : 'two-pass';
    const p = this.getAttribute('purpose');
    const purpose = p === 'token' || p === 'proof' ? 'token' : 'session';
    const audience = this.getAttribute('audience') ?? undefined;
    const client = new MpinWebClient({ store: new IndexedDbStore(), prefix: this.getAttribute('prefix') ?? '/mpin' });
    const link = linkFromLocation();
    this.#controller = new LoginController(this, {
      client,
      mode,
      purpose,
      ...(audience !== undefined ? { audience } : {}),
      ...(link !== undefined ? { link } : {}),
      ...(this.identityInput !== undefined ? { identityInput: this.identityInput } : {}),
      onSignedIn: (id, token) => {
        this.onSignedIn?.(id, token);
        this.dispatchEvent(new CustomEvent('mpin-signed-in', { detail: { identity: id, token }, bubbles: true, composed: true }));
      },
    });
    void this.#controller.start().catch((e: unknown) => this.show({ kind: 'error', message: message(e) }, message(e), 'error'));
  }

  /** Re-reads the identity field and shows the matching state (the override calls it on change). */
  restart(): void {
    void this.#controller?.start().catch((e: unknown) => this.show({ kind: 'error', message: message(e) }, message(e), 'error'));
  }
}

/** Registers the custom elements once (idempotent: several bundles on a page share them). */
export function defineElements(registry: CustomElementRegistry = customElements): void {
  if (registry.get('mpin-pad') === undefined) registry.define('mpin-pad', MpinPad);
  if (registry.get('mpin-login') === undefined) registry.define('mpin-login', MpinLogin);
}
