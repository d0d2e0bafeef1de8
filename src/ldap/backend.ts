/**
 * A connection from the proxy to the directory. It starts in "setup" mode, where the proxy runs
 * its own few operations on it (service-account bind, identity look-up) one at a time with
 * message IDs of its own; `release()` then hands the raw byte stream over to the client's
 * forwarding. Setup operations finish before any client message is forwarded, so the client's
 * message IDs are forwarded unchanged and never collide with the proxy's.
 */
import { connect as netConnect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect } from '../api/connect.ts';
import type { ConnectionOptions } from '../api/options.ts';
import { BerError } from './ber.ts';
import {
  decodeLdapResult,
  decodeSearchResultEntry,
  encodeBindRequest,
  encodeSearchRequest,
  encodeUnbindRequest,
  LdapFramer,
  Op,
  parseEnvelope,
  type LdapEnvelope,
  type LdapResult,
  type SearchEntry,
  type SearchParams,
} from './messages.ts';

export interface LdapTarget {
  readonly secure: boolean;
  readonly host: string;
  readonly port: number;
  /** For ldaps:// targets: TLS client options (ca, servername, ...) for our TLS engine. */
  readonly tls?: Omit<ConnectionOptions, 'host' | 'port' | 'socket'>;
}

/** ldap://HOST[:PORT] or ldaps://HOST[:PORT] (default ports 389 / 636). */
export function parseLdapUrl(s: string): { secure: boolean; host: string; port: number } {
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    throw new TypeError(`not an LDAP URL: "${s}" (expected ldap://HOST:PORT or ldaps://HOST:PORT)`);
  }
  if (u.protocol !== 'ldap:' && u.protocol !== 'ldaps:') throw new TypeError(`"${s}": the scheme must be ldap:// or ldaps://`);
  if (u.hostname === '') throw new TypeError(`"${s}": no host`);
  if ((u.pathname !== '' && u.pathname !== '/') || u.search !== '' || u.username !== '') throw new TypeError(`"${s}": only ldap[s]://HOST:PORT is accepted`);
  const secure = u.protocol === 'ldaps:';
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  return { secure, host, port: u.port === '' ? (secure ? 636 : 389) : Number(u.port) };
}

export class BackendError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackendError';
  }
}

/** Bound on a directory's answer during setup (the look-up reads one entry's attribute). */
const SETUP_MAX_MESSAGE = 256 * 1024;

export class BackendConnection {
  readonly socket: Duplex;
  readonly #framer = new LdapFramer(SETUP_MAX_MESSAGE);
  #pending: { readonly id: number; readonly collect: (env: LdapEnvelope) => boolean; readonly reject: (e: Error) => void } | undefined;
  #failure: Error | undefined;
  #nextId = 1;
  #released = false;
  readonly #onData = (d: Buffer): void => this.#receive(d);
  readonly #onGone = (e?: Error): void => this.#fail(new BackendError(`directory connection closed${e instanceof Error ? `: ${e.message}` : ''}`));

  private constructor(socket: Duplex) {
    this.socket = socket;
    socket.on('data', this.#onData);
    socket.on('error', this.#onGone);
    socket.on('close', this.#onGone);
  }

  /** Connects (and for ldaps:// completes the TLS handshake) within `timeoutMs`. */
  static open(target: LdapTarget, timeoutMs = 10_000): Promise<BackendConnection> {
    return new Promise((resolve, reject) => {
      let sock: Duplex;
      const fail = (e: Error): void => {
        clearTimeout(timer);
        sock.destroy();
        reject(new BackendError(`cannot reach the directory at ${target.secure ? 'ldaps' : 'ldap'}://${target.host}:${target.port}: ${e.message}`));
      };
      const timer = setTimeout(() => fail(new Error(`no connection within ${timeoutMs} ms`)), timeoutMs);
      const ready = (): void => {
        clearTimeout(timer);
        sock.off('error', fail);
        resolve(new BackendConnection(sock));
      };
      if (target.secure) {
        sock = tlsConnect({ servername: target.host, ...target.tls, host: target.host, port: target.port });
        sock.once('secureConnect', ready);
      } else {
        sock = netConnect({ host: target.host, port: target.port });
        sock.once('connect', ready);
      }
      sock.once('error', fail);
      (sock as Partial<Socket>).setNoDelay?.(true);
    });
  }

  #receive(d: Buffer): void {
    let msgs: Uint8Array[];
    try {
      msgs = this.#framer.push(d);
    } catch (e) {
      this.#fail(new BackendError(`directory sent malformed LDAP: ${(e as Error).message}`));
      return;
    }
    for (const m of msgs) {
      let env: LdapEnvelope;
      try {
        env = parseEnvelope(m);
      } catch (e) {
        this.#fail(new BackendError(`directory sent malformed LDAP: ${(e as Error).message}`));
        return;
      }
      const p = this.#pending;
      if (p === undefined || env.messageId !== p.id) {
        this.#fail(new BackendError(`directory sent an unexpected message (ID ${env.messageId}, op 0x${env.opTag.toString(16)})`));
        return;
      }
      try {
        if (p.collect(env)) this.#pending = undefined;
      } catch (e) {
        this.#pending = undefined;
        p.reject(e instanceof BerError ? new BackendError(`directory sent malformed LDAP: ${e.message}`) : (e as Error));
      }
    }
  }

  #fail(e: Error): void {
    if (this.#failure !== undefined) return;
    this.#failure = e;
    const p = this.#pending;
    this.#pending = undefined;
    p?.reject(e);
    if (!this.#released) this.socket.destroy();
  }

  /** Sends one request and feeds the responses to `collect` until it returns true. */
  #request<T>(encode: (id: number) => Uint8Array, collect: (env: LdapEnvelope, done: (v: T) => void) => boolean): Promise<T> {
    if (this.#released) throw new Error('BackendConnection: setup request after release()');
    if (this.#pending !== undefined) throw new Error('BackendConnection: one setup request at a time');
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      this.#pending = { id, collect: (env) => collect(env, resolve), reject };
      this.socket.write(encode(id));
    });
  }

  bind(dn: string, password: string): Promise<LdapResult> {
    return this.#request<LdapResult>(
      (id) => encodeBindRequest(id, dn, password),
      (env, done) => {
        if (env.opTag !== Op.BindResponse) throw new BackendError(`directory answered a bind with op 0x${env.opTag.toString(16)}`);
        done(decodeLdapResult(env));
        return true;
      },
    );
  }

  /** At most `maxEntries` entries are kept (references are ignored). */
  search(params: SearchParams, maxEntries = 2): Promise<{ entries: SearchEntry[]; result: LdapResult }> {
    const entries: SearchEntry[] = [];
    return this.#request(
      (id) => encodeSearchRequest(id, { ...params, sizeLimit: maxEntries }),
      (env, done) => {
        if (env.opTag === Op.SearchResultEntry) {
          if (entries.length < maxEntries) entries.push(decodeSearchResultEntry(env));
          return false;
        }
        if (env.opTag === Op.SearchResultReference) return false;
        if (env.opTag !== Op.SearchResultDone) throw new BackendError(`directory answered a search with op 0x${env.opTag.toString(16)}`);
        done({ entries, result: decodeLdapResult(env) });
        return true;
      },
    );
  }

  /**
   * Ends setup: from now on the caller reads `socket` itself. Returns bytes the directory sent
   * after the last setup answer (normally none).
   */
  release(): Uint8Array {
    if (this.#pending !== undefined) throw new Error('BackendConnection: release() during a setup request');
    this.#released = true;
    this.socket.off('data', this.#onData);
    this.socket.off('error', this.#onGone);
    this.socket.off('close', this.#onGone);
    return this.#framer.takeRemainder();
  }

  get failed(): Error | undefined {
    return this.#failure;
  }

  /** Polite close: an UnbindRequest (the client's own when given; RFC 4511 §4.3), then the socket. */
  close(unbind?: Uint8Array): void {
    this.socket.on('error', () => undefined);
    if (!this.socket.destroyed && this.socket.writable && this.#failure === undefined) {
      this.socket.end(unbind ?? encodeUnbindRequest(this.#nextId++));
    }
    // A directory that does not close after unbind must not keep the socket forever.
    setTimeout(() => this.socket.destroy(), 2000).unref();
  }
}
