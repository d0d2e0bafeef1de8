/**
 * Server-side session resumption state, one instance per server (shared by its connections):
 *  - a session-ID cache (RFC 5246 §7.4.1.3), bounded (oldest evicted first) with expiry;
 *  - RFC 5077 session tickets: the session state encrypted with AES-256-GCM under a ticket key,
 *    laid out as RFC 5077 §4 recommends: key_name(16) ‖ iv(12) ‖ ciphertext ‖ tag(16), with the
 *    key name as additional data. Keys rotate: a new key encrypts after `ticketKeyRotation` ms,
 *    the previous one still decrypts for one more period.
 * Keys are 48 bytes, like node:tls `ticketKeys`: 16-byte name ‖ 32-byte AES key. Setting keys
 * explicitly (to share them between the workers of a cluster) stops automatic rotation; the
 * application rotates by calling `setTicketKeys` in every worker.
 */
import { nobleAeadProvider } from '../../crypto/aead/noble.ts';
import type { Aead, AeadProvider } from '../../crypto/aead/provider.ts';
import { bytesToHex, equalBytes } from '../../codec/bytes.ts';
import type { Clock, RandomSource } from '../../providers.ts';
import { decodeSessionState, encodeSessionState, type SessionState } from './state.ts';

export const TICKET_KEYS_LENGTH = 48;
const NAME = 16;
const IV = 12;
const TAG = 16;

export interface SessionStoreOptions {
  readonly random: RandomSource;
  readonly clock: Clock;
  /** Seconds a session may be resumed (node:tls `sessionTimeout`, default 300). */
  readonly sessionTimeout?: number;
  /** Sessions kept in the ID cache (default 1024; 0 disables the cache). */
  readonly cacheSize?: number;
  /** Issue and accept RFC 5077 tickets (default true). */
  readonly tickets?: boolean;
  /** 48 bytes shared across processes; disables automatic rotation. */
  readonly ticketKeys?: Uint8Array;
  /** Milliseconds between automatic ticket-key rotations (default: sessionTimeout). */
  readonly ticketKeyRotation?: number;
  /** AES-256-GCM for the tickets: the server's crypto provider (node:crypto is ~5× faster than noble here). Default noble. */
  readonly aead?: AeadProvider;
}

interface TicketKey {
  readonly name: Uint8Array;
  readonly key: Uint8Array;
  readonly aead: Aead;
  readonly createdAt: number;
}

export class SessionStore {
  readonly #random: RandomSource;
  readonly #clock: Clock;
  readonly #aead: AeadProvider;
  readonly #timeoutMs: number;
  readonly #cacheSize: number;
  readonly #rotationMs: number;
  readonly tickets: boolean;
  readonly #cache = new Map<string, { readonly state: SessionState; readonly expires: number }>();
  #current: TicketKey;
  #previous: TicketKey | undefined;
  #manualKeys: boolean;

  constructor(o: SessionStoreOptions) {
    this.#random = o.random;
    this.#clock = o.clock;
    this.#aead = o.aead ?? nobleAeadProvider;
    const timeout = o.sessionTimeout ?? 300;
    if (!Number.isFinite(timeout) || timeout <= 0) throw new RangeError('sessionTimeout must be a positive number of seconds');
    this.#timeoutMs = timeout * 1000;
    this.#cacheSize = o.cacheSize ?? 1024;
    if (!Number.isInteger(this.#cacheSize) || this.#cacheSize < 0) throw new RangeError('cacheSize must be a non-negative integer');
    this.#rotationMs = o.ticketKeyRotation ?? this.#timeoutMs;
    this.tickets = o.tickets ?? true;
    this.#manualKeys = o.ticketKeys !== undefined;
    this.#current = o.ticketKeys !== undefined ? this.#keyFrom(o.ticketKeys) : this.#freshKey();
  }

  /** Lifetime hint for NewSessionTicket (RFC 5077 §3.3), in seconds. */
  get lifetimeSeconds(): number {
    return Math.floor(this.#timeoutMs / 1000);
  }

  get cacheEnabled(): boolean {
    return this.#cacheSize > 0;
  }

  // ---- session-ID cache ----

  store(sessionId: Uint8Array, state: SessionState): void {
    if (this.#cacheSize === 0 || sessionId.length === 0) return;
    const key = bytesToHex(sessionId);
    this.#cache.delete(key);
    this.#cache.set(key, { state, expires: this.#clock() + this.#timeoutMs });
    while (this.#cache.size > this.#cacheSize) {
      const oldest = this.#cache.keys().next();
      if (oldest.done === true) break;
      this.#cache.delete(oldest.value);
    }
  }

  lookup(sessionId: Uint8Array): SessionState | undefined {
    if (sessionId.length === 0) return undefined;
    const key = bytesToHex(sessionId);
    const hit = this.#cache.get(key);
    if (hit === undefined) return undefined;
    if (hit.expires <= this.#clock()) {
      this.#cache.delete(key);
      return undefined;
    }
    return hit.state;
  }

  /** Drop a session (e.g. after a fatal alert, RFC 5246 §7.2.2). */
  remove(sessionId: Uint8Array): void {
    this.#cache.delete(bytesToHex(sessionId));
  }

  get cachedSessions(): number {
    return this.#cache.size;
  }

  // ---- tickets ----

  /** node:tls `getTicketKeys()`: the 48 bytes currently used to encrypt. */
  getTicketKeys(): Uint8Array {
    const out = new Uint8Array(TICKET_KEYS_LENGTH);
    out.set(this.#current.name, 0);
    out.set(this.#current.key, NAME);
    return out;
  }

  /** node:tls `setTicketKeys()`: new encryption key; tickets under the previous one still decrypt. */
  setTicketKeys(keys: Uint8Array): void {
    const next = this.#keyFrom(keys);
    if (!equalBytes(next.name, this.#current.name)) this.#previous = this.#current;
    this.#current = next;
    this.#manualKeys = true;
  }

  #keyFrom(keys: Uint8Array): TicketKey {
    if (!(keys instanceof Uint8Array) || keys.length !== TICKET_KEYS_LENGTH) {
      throw new TypeError(`ticket keys must be ${TICKET_KEYS_LENGTH} bytes`);
    }
    const key = keys.slice(NAME);
    return { name: keys.slice(0, NAME), key, aead: this.#aead.create('AES-256-GCM', key), createdAt: this.#clock() };
  }

  #freshKey(): TicketKey {
    // Name first, then key: the order the random source has always been read in.
    const name = this.#random(NAME);
    const key = this.#random(32);
    return { name, key, aead: this.#aead.create('AES-256-GCM', key), createdAt: this.#clock() };
  }

  #rotate(): void {
    if (this.#manualKeys) return;
    if (this.#clock() - this.#current.createdAt >= this.#rotationMs) {
      this.#previous = this.#current;
      this.#current = this.#freshKey();
    }
  }

  /** RFC 5077 §4: encrypt the state under the current key. */
  seal(state: SessionState): Uint8Array {
    this.#rotate();
    const k = this.#current;
    const iv = this.#random(IV);
    const ct = k.aead.seal(iv, k.name, encodeSessionState(state));
    const out = new Uint8Array(NAME + IV + ct.length);
    out.set(k.name, 0);
    out.set(iv, NAME);
    out.set(ct, NAME + IV);
    return out;
  }

  /**
   * Decrypt and check a ticket; undefined for an unknown key, a tampered or malformed ticket, or
   * an expired session (RFC 5077 §3.4: the server then does a full handshake).
   */
  open(ticket: Uint8Array): SessionState | undefined {
    this.#rotate();
    if (ticket.length < NAME + IV + TAG + 1) return undefined;
    const name = ticket.subarray(0, NAME);
    const k = [this.#current, this.#previous].find((c) => c !== undefined && equalBytes(c.name, name));
    if (k === undefined) return undefined;
    // The previous key only decrypts for one rotation period after it was replaced.
    if (k === this.#previous && !this.#manualKeys && this.#clock() - this.#current.createdAt >= this.#rotationMs) return undefined;
    let state: SessionState;
    try {
      const plain = k.aead.open(ticket.subarray(NAME, NAME + IV), name, ticket.subarray(NAME + IV));
      if (plain === undefined) return undefined;
      state = decodeSessionState(plain);
    } catch {
      return undefined;
    }
    const age = this.#clock() - state.createdAt;
    if (age < 0 || age >= this.#timeoutMs) return undefined;
    return state;
  }
}
