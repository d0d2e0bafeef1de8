/// <reference lib="dom" preserve="true" />
/**
 * `<mpin-pad>`: the PIN pad web component (issue 8 item 2). Pure UI: it shows one state at a time
 * and reports what the user did as DOM events; the login controller (./login.ts) does the work.
 *
 * Accessibility: every field has a visible <label>; one persistent status line is an aria-live
 * region (re-creating it would make screen readers miss the announcement), so "Wrong PIN, 2
 * attempts left" is read out; errors set aria-invalid and aria-describedby; after every state
 * change focus moves to the first thing to do (or to the heading when there is nothing to type).
 * The PIN is typed in a numeric password field; the on-screen keypad is for pointer and touch
 * users and stays out of the tab order (tabindex=-1) so keyboard users are not made to tab through
 * twelve buttons, while screen readers still reach the buttons by their names.
 */

export type PadState =
  | { readonly kind: 'register'; readonly identity?: string; readonly fixedIdentity?: boolean }
  | { readonly kind: 'set-pin'; readonly identity: string }
  | { readonly kind: 'sign-in'; readonly identities: readonly string[]; readonly selected?: string; readonly fixedIdentity?: boolean }
  | { readonly kind: 'wrong-pin'; readonly identity: string; readonly attemptsLeft: number }
  | { readonly kind: 'locked'; readonly identity: string; readonly canUnlock?: boolean }
  /** A verification link was sent to the identity (registration or unlock). */
  | { readonly kind: 'check-email'; readonly identity: string; readonly purpose: 'register' | 'unlock' }
  | { readonly kind: 'revoked'; readonly identity: string }
  | { readonly kind: 'manage'; readonly identities: readonly string[] }
  | { readonly kind: 'signed-in'; readonly identity: string }
  | { readonly kind: 'access-number'; readonly accessNumber: string; readonly expiresAt: number }
  | { readonly kind: 'busy'; readonly message: string }
  | { readonly kind: 'error'; readonly message: string };

export type PadStateKind = PadState['kind'];

/** Events the pad dispatches (bubbling, composed), with their `detail`. */
export interface PadEvents {
  'mpin-continue': { readonly identity: string };
  'mpin-register': { readonly identity: string; readonly pin: string };
  'mpin-sign-in': { readonly identity: string; readonly pin: string };
  'mpin-remove': { readonly identity: string };
  'mpin-add': Record<string, never>;
  'mpin-manage': Record<string, never>;
  'mpin-back': Record<string, never>;
  'mpin-sign-out': Record<string, never>;
  'mpin-access-number': Record<string, never>;
  'mpin-unlock': { readonly identity: string };
}

const STYLE = `
:host { display: block; max-width: 22rem; font: 16px/1.4 system-ui, sans-serif; color: #1d2330; }
.card { border: 1px solid #c9cfdb; border-radius: 12px; padding: 1.25rem; background: #fff; box-shadow: 0 2px 8px rgb(0 0 0 / .06); }
h2 { font-size: 1.15rem; margin: 0 0 .5rem; outline: none; }
p { margin: .25rem 0 .75rem; }
label { display: block; font-weight: 600; margin: .5rem 0 .25rem; }
input, select { box-sizing: border-box; width: 100%; font: inherit; padding: .5rem .6rem; border: 1px solid #8a93a6; border-radius: 8px; }
input[aria-invalid="true"] { border-color: #b3261e; }
input.pin { letter-spacing: .6em; font-size: 1.4rem; text-align: center; }
.keys { display: grid; grid-template-columns: repeat(3, 1fr); gap: .4rem; margin: .75rem 0; }
.keys button { font-size: 1.2rem; padding: .6rem 0; }
button { font: inherit; border-radius: 8px; border: 1px solid #8a93a6; background: #f4f6fa; padding: .5rem .8rem; cursor: pointer; }
button.primary { background: #1f5eff; border-color: #1f5eff; color: #fff; font-weight: 600; width: 100%; margin-top: .5rem; }
button.link { border: none; background: none; color: #1f4fd1; text-decoration: underline; padding: .25rem 0; }
button:focus-visible, input:focus-visible, select:focus-visible { outline: 3px solid #ffbf47; outline-offset: 2px; }
.status { min-height: 1.4em; margin: .25rem 0 .5rem; font-weight: 600; }
.status.error { color: #b3261e; }
.status.ok { color: #1b6b2f; }
.access { font: 700 2rem/1.2 ui-monospace, monospace; letter-spacing: .12em; text-align: center; margin: .75rem 0; }
ul { list-style: none; padding: 0; margin: .5rem 0; }
li { display: flex; justify-content: space-between; align-items: center; gap: .5rem; padding: .35rem 0; border-bottom: 1px solid #e3e6ee; }
.links { display: flex; flex-wrap: wrap; gap: .75rem; margin-top: .75rem; }
.hint { font-size: .85rem; color: #4a5263; }
`;

const TITLES: Readonly<Record<PadStateKind, string>> = {
  register: 'Register this browser',
  'set-pin': 'Choose a PIN',
  'sign-in': 'Sign in with your PIN',
  'wrong-pin': 'Wrong PIN',
  locked: 'Identity locked',
  'check-email': 'Check your e-mail',
  revoked: 'Identity revoked',
  manage: 'Identities on this browser',
  'signed-in': 'Signed in',
  'access-number': 'Sign in with another device',
  busy: 'Please wait',
  error: 'Something went wrong',
};

type Child = Node | string;

function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Readonly<Record<string, string>> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  // Text goes in as text nodes: identities and messages are never parsed as HTML.
  for (const c of children) el.append(c);
  return el;
}

export class MpinPad extends HTMLElement {
  readonly #root: ShadowRoot;
  readonly #title: HTMLHeadingElement;
  readonly #status: HTMLParagraphElement;
  readonly #body: HTMLDivElement;
  #state: PadState = { kind: 'busy', message: 'Loading…' };

  constructor() {
    super();
    this.#root = this.attachShadow({ mode: 'open' });
    this.#title = h('h2', { id: 'title', tabindex: '-1' });
    this.#status = h('p', { id: 'status', class: 'status', role: 'status', 'aria-live': 'polite', 'aria-atomic': 'true' });
    this.#body = h('div', { id: 'body' });
    const card = h('section', { class: 'card', 'aria-labelledby': 'title' }, this.#title, this.#status, this.#body);
    this.#root.append(h('style', {}, STYLE), card);
  }

  get state(): PadState {
    return this.#state;
  }

  /** Shows a state; `status` goes to the live region (read out by screen readers). */
  show(state: PadState, status = '', tone: 'info' | 'error' | 'ok' = 'info'): void {
    this.#state = state;
    this.setAttribute('data-state', state.kind);
    this.#title.textContent = TITLES[state.kind];
    this.#body.replaceChildren(...this.#render(state));
    this.announce(status, tone);
    const first = this.#body.querySelector<HTMLElement>('[data-autofocus]');
    (first ?? this.#title).focus();
  }

  announce(text: string, tone: 'info' | 'error' | 'ok' = 'info'): void {
    this.#status.className = `status${tone === 'info' ? '' : ` ${tone}`}`;
    this.#status.textContent = text;
  }

  #emit<K extends keyof PadEvents>(name: K, detail: PadEvents[K]): void {
    this.dispatchEvent(new CustomEvent(name, { detail, bubbles: true, composed: true }));
  }

  #pinField(id: string, label: string, autofocus: boolean): { readonly nodes: Node[]; readonly input: HTMLInputElement } {
    const help = h('p', { id: `${id}-help`, class: 'hint' }, '4 digits');
    const input = h('input', {
      id,
      class: 'pin',
      type: 'password',
      inputmode: 'numeric',
      pattern: '[0-9]*',
      maxlength: '4',
      autocomplete: 'off',
      'aria-describedby': `${id}-help`,
      ...(autofocus ? { 'data-autofocus': '' } : {}),
    });
    input.addEventListener('input', () => {
      input.value = input.value.replace(/[^0-9]/g, '').slice(0, 4);
      input.removeAttribute('aria-invalid');
    });
    return { nodes: [h('label', { for: id }, label), input, help], input };
  }

  #keypad(target: () => HTMLInputElement): HTMLDivElement {
    const keys = h('div', { class: 'keys', role: 'group', 'aria-label': 'PIN keypad' });
    const press = (f: (v: string) => string): void => {
      const input = target();
      input.value = f(input.value).slice(0, 4);
      input.removeAttribute('aria-invalid');
    };
    for (const d of ['1', '2', '3', '4', '5', '6', '7', '8', '9']) {
      keys.append(this.#key(d, `digit ${d}`, () => press((v) => v + d)));
    }
    keys.append(this.#key('C', 'clear PIN', () => press(() => '')));
    keys.append(this.#key('0', 'digit 0', () => press((v) => `${v}0`)));
    keys.append(this.#key('⌫', 'delete last digit', () => press((v) => v.slice(0, -1))));
    return keys;
  }

  #key(text: string, label: string, onClick: () => void): HTMLButtonElement {
    const b = h('button', { type: 'button', tabindex: '-1', 'aria-label': label }, text);
    b.addEventListener('click', onClick);
    return b;
  }

  #link(text: string, event: 'mpin-add' | 'mpin-manage' | 'mpin-back' | 'mpin-sign-out' | 'mpin-access-number', attrs: Record<string, string> = {}): HTMLButtonElement {
    const b = h('button', { type: 'button', class: 'link', ...attrs }, text);
    b.addEventListener('click', () => this.#emit(event, {}));
    return b;
  }

  #form(onSubmit: (f: HTMLFormElement) => void, ...children: Child[]): HTMLFormElement {
    const f = h('form', { novalidate: '' }, ...children);
    f.addEventListener('submit', (e) => {
      e.preventDefault();
      onSubmit(f);
    });
    return f;
  }

  #invalid(input: HTMLInputElement, message: string): void {
    input.setAttribute('aria-invalid', 'true');
    this.announce(message, 'error');
    input.focus();
  }

  #pinSignIn(identity: () => string, pinLabel: string): Node[] {
    const pin = this.#pinField('pin', pinLabel, true);
    const form = this.#form(
      () => {
        if (!/^[0-9]{4}$/.test(pin.input.value)) return this.#invalid(pin.input, 'The PIN must be 4 digits.');
        const value = pin.input.value;
        pin.input.value = '';
        this.#emit('mpin-sign-in', { identity: identity(), pin: value });
      },
      ...pin.nodes,
      this.#keypad(() => pin.input),
      h('button', { type: 'submit', class: 'primary' }, 'Sign in'),
    );
    return [form];
  }

  #render(s: PadState): Node[] {
    switch (s.kind) {
      case 'register': {
        const input = h('input', { id: 'identity', type: 'email', autocomplete: 'username', value: s.identity ?? '', ...(s.fixedIdentity === true ? { readonly: '' } : { 'data-autofocus': '' }) });
        const form = this.#form(
          () => {
            const v = input.value.trim();
            if (v.length === 0 || v.length > 256) return this.#invalid(input, 'Enter your identity (e-mail address).');
            this.#emit('mpin-continue', { identity: v });
          },
          h('p', {}, 'Register once; afterwards you sign in with a 4-digit PIN only.'),
          h('label', { for: 'identity' }, 'Identity (e-mail address)'),
          input,
          h('button', { type: 'submit', class: 'primary', ...(s.fixedIdentity === true ? { 'data-autofocus': '' } : {}) }, 'Continue'),
        );
        // With a fixed identity (password-form override) the result must be a login token for the
        // form, and the other device could sign in as someone else: no "another device" link there.
        return [
          form,
          h('div', { class: 'links' }, this.#link('Identities on this browser', 'mpin-manage'), ...(s.fixedIdentity === true ? [] : [this.#link('Use another device', 'mpin-access-number')])),
        ];
      }
      case 'set-pin': {
        const pin = this.#pinField('pin', 'New PIN', true);
        const again = this.#pinField('pin-again', 'Repeat the PIN', false);
        const form = this.#form(
          () => {
            if (!/^[0-9]{4}$/.test(pin.input.value)) return this.#invalid(pin.input, 'The PIN must be 4 digits.');
            if (again.input.value !== pin.input.value) return this.#invalid(again.input, 'The two PINs differ. Type the same PIN twice.');
            const value = pin.input.value;
            pin.input.value = '';
            again.input.value = '';
            this.#emit('mpin-register', { identity: s.identity, pin: value });
          },
          h('p', {}, 'Identity: ', h('strong', {}, s.identity)),
          ...pin.nodes,
          ...again.nodes,
          this.#keypad(() => (this.#root.activeElement === again.input || pin.input.value.length === 4 ? again.input : pin.input)),
          h('button', { type: 'submit', class: 'primary' }, 'Register'),
        );
        return [form, h('p', { class: 'hint' }, 'Only you know the PIN: it is never sent or stored.'), h('div', { class: 'links' }, this.#link('Back', 'mpin-back'))];
      }
      case 'sign-in': {
        const nodes: Node[] = [];
        let current = (): string => s.selected ?? s.identities[0] ?? '';
        if (s.fixedIdentity === true || s.identities.length <= 1) {
          nodes.push(h('p', {}, 'Identity: ', h('strong', { id: 'identity-name' }, current())));
        } else {
          const select = h('select', { id: 'identity' });
          for (const id of s.identities) {
            const o = h('option', { value: id }, id);
            if (id === current()) o.selected = true;
            select.append(o);
          }
          nodes.push(h('label', { for: 'identity' }, 'Identity'), select);
          current = () => select.value;
        }
        nodes.push(...this.#pinSignIn(() => current(), 'PIN'));
        const links = s.fixedIdentity === true ? [] : [this.#link('Add or remove identities', 'mpin-manage'), this.#link('Use another device', 'mpin-access-number')];
        nodes.push(h('div', { class: 'links' }, ...links));
        return nodes;
      }
      case 'wrong-pin':
        return [
          h('p', {}, 'Identity: ', h('strong', {}, s.identity)),
          h('p', { id: 'attempts' }, `${s.attemptsLeft} attempt${s.attemptsLeft === 1 ? '' : 's'} left before this identity is locked.`),
          ...this.#pinSignIn(() => s.identity, 'PIN'),
          h('div', { class: 'links' }, this.#link('Identities on this browser', 'mpin-manage')),
        ];
      case 'locked':
      case 'revoked': {
        const remove = h('button', { type: 'button', 'data-autofocus': '' }, 'Remove it from this browser');
        remove.addEventListener('click', () => this.#emit('mpin-remove', { identity: s.identity }));
        const why =
          s.kind === 'locked'
            ? 'Too many wrong PINs. This identity cannot sign in until it is unlocked.'
            : 'The trust authorities no longer issue time permits for this identity, so it cannot sign in.';
        const unlock: Node[] = [];
        if (s.kind === 'locked' && s.canUnlock !== false) {
          const b = h('button', { type: 'button', class: 'primary' }, 'Send me an unlock link');
          b.addEventListener('click', () => this.#emit('mpin-unlock', { identity: s.identity }));
          unlock.push(b);
        }
        return [h('p', {}, h('strong', {}, s.identity)), h('p', {}, why), ...unlock, remove, h('div', { class: 'links' }, this.#link('Use another identity', 'mpin-manage'))];
      }
      case 'check-email':
        return [
          h('p', {}, 'We sent a link to ', h('strong', { id: 'check-email-identity' }, s.identity), '.'),
          h('p', {}, s.purpose === 'register' ? 'Open it on the device you want to register to choose your PIN there.' : 'Open it to unlock this identity, then sign in.'),
          h('div', { class: 'links' }, this.#link('Back', 'mpin-back', { 'data-autofocus': '' })),
        ];
      case 'manage': {
        const list = h('ul', { 'aria-label': 'Registered identities' });
        for (const id of s.identities) {
          const b = h('button', { type: 'button', 'aria-label': `Remove ${id}` }, 'Remove');
          b.addEventListener('click', () => this.#emit('mpin-remove', { identity: id }));
          list.append(h('li', {}, h('span', {}, id), b));
        }
        const nodes: Node[] = s.identities.length > 0 ? [list] : [h('p', {}, 'No identity is registered on this browser.')];
        nodes.push(h('div', { class: 'links' }, this.#link('Add an identity', 'mpin-add', { 'data-autofocus': '' }), ...(s.identities.length > 0 ? [this.#link('Back to sign in', 'mpin-back')] : [])));
        return nodes;
      }
      case 'signed-in':
        return [h('p', {}, 'You are signed in as ', h('strong', { id: 'signed-in-as' }, s.identity), '.'), h('div', { class: 'links' }, this.#link('Sign out', 'mpin-sign-out', { 'data-autofocus': '' }))];
      case 'access-number': {
        const digits = s.accessNumber.replace(/(\d{4})(?=\d)/g, '$1 ');
        return [
          h('p', {}, 'On your other device, run:'),
          h('p', { class: 'hint' }, h('code', {}, 'milagro-ts identity login --access-number N')),
          h('p', { class: 'access', id: 'access-number', 'aria-label': `Access number ${s.accessNumber.split('').join(' ')}` }, digits),
          h('p', {}, 'Waiting for the other device… This page signs in by itself.'),
          h('div', { class: 'links' }, this.#link('Cancel', 'mpin-back', { 'data-autofocus': '' })),
        ];
      }
      case 'busy':
        return [h('p', { 'aria-busy': 'true' }, s.message)];
      case 'error':
        return [h('p', {}, s.message), h('div', { class: 'links' }, this.#link('Start again', 'mpin-back', { 'data-autofocus': '' }))];
      default: {
        const never: never = s;
        throw new Error(`unknown pad state ${String(never)}`);
      }
    }
  }
}
