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
 *
 * With a `shared` store (src/store) every process of a deployment sees the same state:
 *  - the session-ID cache lives in the store (TTL = sessionTimeout);
 *  - ticket keys follow a shared schedule: time is cut into rotation periods (epochs); the first
 *    process that needs the key of epoch e creates it with setIfAbsent and everyone else reads
 *    it. Key e encrypts during its epoch and still decrypts until its last ticket's lifetime ends
 *    ((e + 1)·rotation + sessionTimeout), then it is refused and its store entry expires. The key
 *    name carries the epoch, so a ticket says which key to fetch; fetched keys are cached here.
 * A store that fails only costs resumption: lookups miss (full handshake) and a ticket we cannot
 * seal is sent empty (RFC 5077 §3.3).
 */
import { nobleAeadProvider } from '../../crypto/aead/noble.ts';
import type { Aead, AeadProvider } from '../../crypto/aead/provider.ts';
import { bytesToHex, equalBytes, hexToBytes } from '../../codec/bytes.ts';
import type { Clock, RandomSource } from '../../providers.ts';
import { namespaced } from '../../store/index.ts';
import type { KeyValueStore } from '../../store/types.ts';
import type { MaybePromise } from '../../kex/key-exchange.ts';
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
  /**
   * Share the session-ID cache and the ticket-key schedule with every process using this store
   * (keys 'tls:…'). Explicit `ticketKeys` still override the shared schedule.
   */
  readonly shared?: KeyValueStore;
  /** The application's own session cache (node:tls 'newSession' / 'resumeSession' events). */
  readonly external?: ExternalSessionCache;
}

/**
 * node:tls's external session cache: `save` when a session-ID session is created ('newSession'),
 * `load` when a client asks to resume one ('resumeSession'). Each is consulted only while
 * `active` says the application listens; otherwise the built-in cache serves.
 */
export interface ExternalSessionCache {
  readonly active: (event: 'newSession' | 'resumeSession') => boolean;
  readonly save: (sessionId: Uint8Array, data: Uint8Array) => void;
  readonly load: (sessionId: Uint8Array) => Promise<Uint8Array | undefined>;
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
  readonly #shared: KeyValueStore | undefined;
  readonly #external: ExternalSessionCache | undefined;
  /** Shared-schedule keys by epoch: a key, a fetch in flight, or a recent miss (time of the miss). */
  readonly #epochKeys = new Map<number, TicketKey | Promise<TicketKey | undefined> | number>();

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
    this.#shared = o.shared === undefined ? undefined : namespaced(o.shared, 'tls:');
    this.#external = o.external;
  }

  /** Lifetime hint for NewSessionTicket (RFC 5077 §3.3), in seconds. */
  get lifetimeSeconds(): number {
    return Math.floor(this.#timeoutMs / 1000);
  }

  get cacheEnabled(): boolean {
    return this.#cacheSize > 0 || this.#external?.active('newSession') === true;
  }

  // ---- session-ID cache ----

  store(sessionId: Uint8Array, state: SessionState): void {
    if (sessionId.length > 0 && this.#external?.active('newSession') === true) {
      this.#external.save(sessionId.slice(), encodeSessionState(state));
      return;
    }
    if (this.#cacheSize === 0 || sessionId.length === 0) return;
    const key = bytesToHex(sessionId);
    if (this.#shared !== undefined) {
      // Best effort: a write that fails only means this session cannot be resumed by ID.
      this.#shared.set(`session:${key}`, Buffer.from(encodeSessionState(state)).toString('base64'), this.#timeoutMs).catch(() => undefined);
      return;
    }
    this.#cache.delete(key);
    this.#cache.set(key, { state, expires: this.#clock() + this.#timeoutMs });
    while (this.#cache.size > this.#cacheSize) {
      const oldest = this.#cache.keys().next();
      if (oldest.done === true) break;
      this.#cache.delete(oldest.value);
    }
  }

  lookup(sessionId: Uint8Array): MaybePromise<SessionState | undefined> {
    if (sessionId.length === 0) return undefined;
    if (this.#external?.active('resumeSession') === true) {
      return this.#external.load(sessionId.slice()).then(
        (data) => (data === undefined ? undefined : this.#fresh(() => decodeSessionState(data))),
        () => undefined,
      );
    }
    const key = bytesToHex(sessionId);
    if (this.#shared !== undefined) {
      if (this.#cacheSize === 0) return undefined;
      return this.#shared.get(`session:${key}`).then(
        (v) => (v === undefined ? undefined : this.#fresh(() => decodeSessionState(Buffer.from(v, 'base64')))),
        () => undefined,
      );
    }
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
    if (this.#shared !== undefined && sessionId.length > 0) this.#shared.delete(`session:${bytesToHex(sessionId)}`).catch(() => undefined);
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

  /**
   * node:tls `setTicketKeys()`: new encryption key; tickets under the previous one still decrypt.
   * With a shared store this leaves the shared schedule (like node: the application rotates).
   */
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

  /** RFC 5077 §4: encrypt the state under the current key (an empty ticket if the shared key is unavailable). */
  seal(state: SessionState): MaybePromise<Uint8Array> {
    if (this.#sharedSchedule()) {
      const k = this.#sharedKey(this.#epoch(), true);
      const withKey = (key: TicketKey | undefined): Uint8Array => (key === undefined ? new Uint8Array(0) : this.#sealWith(key, state));
      return k instanceof Promise ? k.then(withKey, () => new Uint8Array(0)) : withKey(k);
    }
    this.#rotate();
    return this.#sealWith(this.#current, state);
  }

  #sealWith(k: TicketKey, state: SessionState): Uint8Array {
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
  open(ticket: Uint8Array): MaybePromise<SessionState | undefined> {
    if (ticket.length < NAME + IV + TAG + 1) return undefined;
    const name = ticket.subarray(0, NAME);
    if (this.#sharedSchedule()) {
      const epoch = epochOfName(name);
      if (epoch === undefined || !this.#decryptsAt(epoch)) return undefined;
      const k = this.#sharedKey(epoch, false);
      const withKey = (key: TicketKey | undefined): SessionState | undefined =>
        key !== undefined && equalBytes(key.name, name) ? this.#openWith(key, ticket) : undefined;
      return k instanceof Promise ? k.then(withKey, () => undefined) : withKey(k);
    }
    this.#rotate();
    const k = [this.#current, this.#previous].find((c) => c !== undefined && equalBytes(c.name, name));
    if (k === undefined) return undefined;
    // The previous key only decrypts for one rotation period after it was replaced.
    if (k === this.#previous && !this.#manualKeys && this.#clock() - this.#current.createdAt >= this.#rotationMs) return undefined;
    return this.#openWith(k, ticket);
  }

  #openWith(k: TicketKey, ticket: Uint8Array): SessionState | undefined {
    return this.#fresh(() => {
      const plain = k.aead.open(ticket.subarray(NAME, NAME + IV), k.name, ticket.subarray(NAME + IV));
      if (plain === undefined) return undefined;
      return decodeSessionState(plain);
    });
  }

  /** The decoded state if it decodes and is within sessionTimeout; never throws (untrusted input). */
  #fresh(decode: () => SessionState | undefined): SessionState | undefined {
    let state: SessionState | undefined;
    try {
      state = decode();
    } catch {
      return undefined;
    }
    if (state === undefined) return undefined;
    const age = this.#clock() - state.createdAt;
    if (age < 0 || age >= this.#timeoutMs) return undefined;
    return state;
  }

  // ---- shared ticket-key schedule ----

  #sharedSchedule(): boolean {
    return this.#shared !== undefined && this.tickets && !this.#manualKeys;
  }

  #epoch(): number {
    return Math.floor(this.#clock() / this.#rotationMs);
  }

  /** Key `epoch` decrypts until the tickets it sealed at the end of its epoch have expired. */
  #decryptsAt(epoch: number): boolean {
    const now = this.#clock();
    return epoch <= Math.floor(now / this.#rotationMs) && now < this.#decryptUntil(epoch);
  }

  #decryptUntil(epoch: number): number {
    return (epoch + 1) * this.#rotationMs + this.#timeoutMs;
  }

  /**
   * The shared key of `epoch`: cached, or read from the store, or (when `create`, for the current
   * epoch) created there if nobody has yet. A miss is remembered for a second, so tickets naming
   * a key nobody made cost at most one store read per epoch per second.
   */
  #sharedKey(epoch: number, create: boolean): TicketKey | Promise<TicketKey | undefined> | undefined {
    const shared = this.#shared;
    if (shared === undefined) return undefined;
    this.#pruneEpochKeys();
    const cached = this.#epochKeys.get(epoch);
    if (cached !== undefined && !(typeof cached === 'number' && (create || this.#clock() - cached >= 1000))) {
      return typeof cached === 'number' ? undefined : cached;
    }
    const id = `ticket-key:${epoch}`;
    const fetch = async (): Promise<TicketKey | undefined> => {
      let hex = await shared.get(id);
      if (hex === undefined && create) {
        const name = new Uint8Array(NAME);
        new DataView(name.buffer).setBigUint64(0, BigInt(epoch));
        name.set(this.#random(NAME - 8), 8);
        const fresh = bytesToHex(name) + bytesToHex(this.#random(32));
        const ttl = Math.max(1000, this.#decryptUntil(epoch) - this.#clock() + 60_000);
        hex = (await shared.setIfAbsent(id, fresh, ttl)) ? fresh : await shared.get(id);
      }
      if (hex === undefined || !/^[0-9a-f]{96}$/.test(hex)) return undefined;
      const bytes = hexToBytes(hex);
      if (epochOfName(bytes.subarray(0, NAME)) !== epoch) return undefined;
      return this.#keyFrom(bytes);
    };
    const pending = fetch().then(
      (k) => {
        this.#epochKeys.set(epoch, k ?? this.#clock());
        if (k !== undefined && epoch === this.#epoch()) this.#current = k;
        return k;
      },
      (e: unknown) => {
        this.#epochKeys.delete(epoch);
        throw e;
      },
    );
    this.#epochKeys.set(epoch, pending);
    return pending;
  }

  #pruneEpochKeys(): void {
    const now = this.#clock();
    for (const e of this.#epochKeys.keys()) if (now >= this.#decryptUntil(e)) this.#epochKeys.delete(e);
  }
}

/** The epoch a shared-schedule key name carries (first 8 bytes, big-endian). */
function epochOfName(name: Uint8Array): number | undefined {
  if (name.length !== NAME) return undefined;
  const e = new DataView(name.buffer, name.byteOffset, NAME).getBigUint64(0);
  return e <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(e) : undefined;
}
