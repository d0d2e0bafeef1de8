/**
 * The demo's "mail server" (issue 13 §3): the relying party's verification messages (activation
 * and unlock links) are written to a local outbox page, /outbox, instead of being e-mailed.
 * A real site sends them by e-mail; whoever can read the outbox can register any identity, which
 * is exactly why the demo only ever listens on loopback.
 */
import type { IdentityVerification, VerificationMessage } from '../../src/web/server/relying-party.ts';

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export class DemoOutbox implements IdentityVerification {
  readonly #messages: VerificationMessage[] = [];
  /** Set once the site listens: the page with the PIN pad that links point to. */
  base = 'http://127.0.0.1';

  get pageUrl(): string {
    return `${this.base}/signin`;
  }

  async send(message: VerificationMessage): Promise<void> {
    this.#messages.unshift(message);
    this.#messages.length = Math.min(this.#messages.length, 50); // bounded: newest 50
  }

  get messages(): readonly VerificationMessage[] {
    return this.#messages;
  }

  /** The newest link sent to `identity`, if any (tests, the demo's console). */
  latestLink(identity: string, purpose?: VerificationMessage['purpose']): string | undefined {
    return this.#messages.find((m) => m.identity === identity && (purpose === undefined || m.purpose === purpose))?.link;
  }

  html(now: number): string {
    const rows = this.#messages.map((m) => {
      const subject = m.purpose === 'register' ? 'Finish registering with M-Pin' : 'Unlock your M-Pin sign-in';
      const state = m.expiresAt > now ? '' : ' (expired)';
      return `<li class="mail"><p><strong>To:</strong> ${escapeHtml(m.identity)}<br><strong>Subject:</strong> ${subject}${state}</p><p><a class="mail-link" data-identity="${escapeHtml(m.identity)}" data-purpose="${m.purpose}" href="${escapeHtml(m.link)}">${escapeHtml(m.link)}</a></p></li>`;
    });
    return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Demo outbox</title><link rel="stylesheet" href="/site.css"></head><body><main><h1>Outbox</h1><p>Messages the site would e-mail (newest first). Open a link in the browser that should be registered or unlocked.</p>${rows.length === 0 ? '<p id="empty">No messages.</p>' : `<ul id="messages">${rows.join('')}</ul>`}<p><a href="/">Home</a></p></main></body></html>`;
  }
}
