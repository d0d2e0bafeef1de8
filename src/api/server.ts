/**
 * `createServer(options[, secureConnectionListener])`, like node:tls. Wraps a net.Server; each
 * accepted socket gets its own engine from one shared, pre-validated configuration.
 *
 * Events: 'secureConnection' (TLSSocket), 'tlsClientError' (err, TLSSocket) for any failure
 * before the handshake completes — the socket is destroyed, the server keeps serving —
 * 'keylog' (line: Buffer, TLSSocket), 'drop' (a connection refused by `maxConnections` or
 * `maxHandshakesPerSource`), and the net.Server events 'listening', 'close', 'error',
 * 'connection' (raw socket).
 *
 * Limits (docs/security.md): `maxConnections` as net.Server; `maxHandshakesPerSource` counts
 * unfinished handshakes per source (IPv4 address or IPv6 /64, since one IPv6 host holds a whole
 * /64) and closes further connections from it on accept; every handshake still ends by
 * `handshakeTimeout`, which frees its slot.
 */
import { EventEmitter } from 'node:events';
import { createServer as netCreateServer, Socket as NetSocket, type AddressInfo, type ListenOptions, type Server as NetServer, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { resolveServerOptions, type ResolvedServer } from './config.ts';
import type { ServerOptions } from './options.ts';
import { TLSSocket } from './tls-socket.ts';
import { TlsOptionError } from './config.ts';
import type { ExternalSessionCache } from '../handshake/session/store.ts';
import { sourceKey } from '../source-key.ts';

/** What 'drop' carries: net.Server's fields, plus which limit refused the connection. */
export interface DropInfo {
  readonly localAddress?: string | undefined;
  readonly localPort?: number | undefined;
  readonly remoteAddress?: string | undefined;
  readonly remotePort?: number | undefined;
  readonly remoteFamily?: string | undefined;
  readonly reason: 'maxConnections' | 'maxHandshakesPerSource';
}

function checkLimit(name: string, n: number | undefined): number | undefined {
  if (n === undefined) return undefined;
  if (!Number.isInteger(n) || n < 1) throw new TlsOptionError('ERR_INVALID_ARG_VALUE', `${name} must be a positive integer, got ${String(n)}`);
  return n;
}

export class Server extends EventEmitter {
  readonly #net: NetServer;
  #resolved: ResolvedServer;
  /** Disposers of configurations replaced by setSecureContext, run at close() at the latest. */
  readonly #retired = new Set<() => Promise<void>>();
  readonly #maxHandshakesPerSource: number | undefined;
  /** Unfinished handshakes per source key (only with maxHandshakesPerSource). */
  readonly #handshaking = new Map<string, number>();

  /**
   * node:tls 'newSession' (sessionId, sessionData, callback) and 'resumeSession' (sessionId,
   * callback(err, sessionData)): while the application listens, session-ID sessions go to its
   * cache instead of ours. The handshake does not wait for newSession's callback.
   */
  readonly #externalSessions: ExternalSessionCache = {
    active: (event) => this.listenerCount(event) > 0,
    save: (id, data) => {
      this.emit('newSession', Buffer.from(id), Buffer.from(data), () => undefined);
    },
    load: (id) =>
      new Promise<Uint8Array | undefined>((resolve) => {
        let done = false;
        this.emit('resumeSession', Buffer.from(id), (err: Error | null, data?: Buffer | null) => {
          if (done) return;
          done = true;
          resolve(err === null && data instanceof Uint8Array && data.length > 0 ? new Uint8Array(data) : undefined);
        });
      }),
  };

  constructor(options: ServerOptions, secureConnectionListener?: (socket: TLSSocket) => void) {
    super();
    const maxConnections = checkLimit('maxConnections', options.maxConnections);
    this.#maxHandshakesPerSource = checkLimit('maxHandshakesPerSource', options.maxHandshakesPerSource);
    this.#resolved = resolveServerOptions(options, this.#externalSessions);
    this.#net = netCreateServer({ allowHalfOpen: options.allowHalfOpen ?? false }, (raw) => this.#accept(raw));
    if (maxConnections !== undefined) this.#net.maxConnections = maxConnections;
    this.#net.on('drop', (d?: Omit<DropInfo, 'reason'>) => this.emit('drop', { ...d, reason: 'maxConnections' } satisfies DropInfo));
    this.#net.on('listening', () => this.emit('listening'));
    this.#net.on('close', () => this.emit('close'));
    this.#net.on('error', (err) => this.emit('error', err));
    if (secureConnectionListener !== undefined) this.on('secureConnection', secureConnectionListener);
  }

  #accept(raw: Socket): void {
    const release = this.#claimHandshakeSlot(raw);
    if (release === false) return;
    this.emit('connection', raw);
    this.#startTls(raw, release);
  }

  /**
   * Starts the server side of TLS on a transport that is already connected — StartTLS (LDAP,
   * SMTP, ...) upgrading a plain socket after its own protocol agreed to, or a socket accepted
   * elsewhere (node:tls does this for `server.emit('connection', socket)`). The returned socket
   * behaves like an accepted one: 'secureConnection' on this server when the handshake completes
   * (the TLSSocket itself emits 'secure'), 'tlsClientError' and a closed socket when it fails,
   * and it counts against `maxHandshakesPerSource`. The server need not be listening. Undefined
   * when the socket was refused or could not even be set up (the transport is destroyed).
   */
  upgrade(raw: Duplex): TLSSocket | undefined {
    const release = raw instanceof NetSocket ? this.#claimHandshakeSlot(raw) : undefined;
    if (release === false) return undefined;
    return this.#startTls(raw, release);
  }

  #startTls(raw: Duplex, release: (() => void) | undefined): TLSSocket | undefined {
    let tls: TLSSocket;
    try {
      // The remote address lets key exchanges queue expensive work per source (issue 11 §3).
      const peerAddress = (raw as Partial<Socket>).remoteAddress;
      tls = new TLSSocket(raw, {
        isServer: true,
        engine: peerAddress === undefined ? this.#resolved.engine : { ...this.#resolved.engine, peerAddress },
        handshakeTimeout: this.#resolved.handshakeTimeout,
        onHandshakeError: (err, s) => this.emit('tlsClientError', err, s),
      });
    } catch (e) {
      // Never let one connection take the server down.
      raw.destroy();
      release?.();
      this.emit('tlsClientError', e instanceof Error ? e : new Error(String(e)), undefined);
      return undefined;
    }
    if (release !== undefined) {
      // The slot is held until the handshake completes or the connection ends (failure, timeout).
      tls.once('secure', release);
      tls.once('close', release);
    }
    tls.on('secure', () => this.emit('secureConnection', tls));
    tls.on('keylog', (line: Buffer) => this.emit('keylog', line, tls));
    return tls;
  }

  /**
   * With maxHandshakesPerSource: count this connection against its source, or close it (false)
   * when the source is at its limit. Returns the (idempotent) release, or undefined without a limit.
   */
  #claimHandshakeSlot(raw: Socket): (() => void) | undefined | false {
    const limit = this.#maxHandshakesPerSource;
    if (limit === undefined) return undefined;
    const key = sourceKey(raw.remoteAddress);
    const n = this.#handshaking.get(key) ?? 0;
    if (n >= limit) {
      const info: DropInfo = {
        localAddress: raw.localAddress,
        localPort: raw.localPort,
        remoteAddress: raw.remoteAddress,
        remotePort: raw.remotePort,
        remoteFamily: raw.remoteFamily,
        reason: 'maxHandshakesPerSource',
      };
      raw.destroy();
      this.emit('drop', info);
      return false;
    }
    this.#handshaking.set(key, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.#handshaking.get(key) ?? 1) - 1;
      if (left <= 0) this.#handshaking.delete(key);
      else this.#handshaking.set(key, left);
    };
  }

  /** Connections beyond this many are refused ('drop'), as net.Server#maxConnections. */
  get maxConnections(): number | undefined {
    const n = this.#net.maxConnections;
    return typeof n === 'number' && n > 0 && Number.isFinite(n) ? n : undefined;
  }

  set maxConnections(n: number | undefined) {
    const v = checkLimit('maxConnections', n);
    // net.Server treats a non-positive or absent value as "no limit".
    (this.#net as { maxConnections: number | undefined }).maxConnections = v;
  }

  /** Same forms as net.Server#listen. */
  listen(port?: number, hostname?: string, backlog?: number, listeningListener?: () => void): this;
  listen(port?: number, hostname?: string, listeningListener?: () => void): this;
  listen(port?: number, listeningListener?: () => void): this;
  listen(path: string, listeningListener?: () => void): this;
  listen(options: ListenOptions, listeningListener?: () => void): this;
  listen(...args: unknown[]): this {
    (this.#net.listen as (...a: unknown[]) => NetServer).apply(this.#net, args);
    return this;
  }

  /** node:tls: the 48 bytes of ticket keys, to share with the other workers of a cluster. */
  getTicketKeys(): Buffer {
    return Buffer.from(this.#resolved.sessionStore.getTicketKeys());
  }

  /** node:tls: replace the ticket keys (48 bytes); tickets under the previous keys still resume. */
  setTicketKeys(keys: Uint8Array): void {
    this.#resolved.sessionStore.setTicketKeys(keys);
  }

  /**
   * node:tls: replace the configuration (keys, certificates, Milagro credentials, time permits)
   * for connections accepted from now on; open connections keep theirs. The new options are
   * validated first, so a bad reload throws and leaves the server as it was. Session tickets
   * stay valid (the ticket keys carry over unless the options give `ticketKeys`). A worker pool
   * owned by the previous options is closed once its handshakes in flight have timed out (or at
   * close()); pass a shared `workers: MilagroWorkerPool` when reloading often.
   */
  setSecureContext(options: ServerOptions): void {
    const next = resolveServerOptions(options, this.#externalSessions);
    const prev = this.#resolved;
    if (options.ticketKeys === undefined) next.sessionStore.setTicketKeys(prev.sessionStore.getTicketKeys());
    this.#resolved = next;
    const dispose = prev.dispose;
    if (dispose === undefined) return;
    this.#retired.add(dispose);
    setTimeout(() => {
      if (this.#retired.delete(dispose)) void dispose();
    }, prev.handshakeTimeout).unref();
  }

  close(callback?: (err?: Error) => void): this {
    this.#net.close(callback);
    // Stop the Milagro worker pool (if the options own one); running handshakes fail.
    void this.#resolved.dispose?.();
    for (const d of this.#retired) void d();
    this.#retired.clear();
    return this;
  }

  address(): AddressInfo | string | null {
    return this.#net.address();
  }

  get listening(): boolean {
    return this.#net.listening;
  }

  getConnections(cb: (error: Error | null, count: number) => void): this {
    this.#net.getConnections(cb);
    return this;
  }

  ref(): this {
    this.#net.ref();
    return this;
  }

  unref(): this {
    this.#net.unref();
    return this;
  }
}

export function createServer(options: ServerOptions, secureConnectionListener?: (socket: TLSSocket) => void): Server {
  return new Server(options, secureConnectionListener);
}
