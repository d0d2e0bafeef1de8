/**
 * What both tunnel ends share: options with their defaults, connection bookkeeping (one log
 * record per connection, metrics), the target dial with a timeout, and the drain on close.
 */
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from '../api/tls-socket.ts';
import { systemClock, systemRandom, type Clock, type RandomSource } from '../providers.ts';
import { dialEndpoint, formatEndpoint, type Endpoint } from './endpoint.ts';
import type { LoadedCredentials, PeerInfo } from './credentials.ts';
import { formatRecord, type ConnectionRecord, type LogFormat, type TunnelLogRecord } from './log.ts';
import { TunnelMetrics } from './metrics.ts';
import { describeError, type CloseReason } from './reasons.ts';
import { splice, type Splice } from './splice.ts';
import type { TunnelStatus } from './server.ts';

export interface TunnelCommonOptions {
  readonly listen: Endpoint;
  readonly target: Endpoint;
  /** Open connections at most (handshaking or forwarding); more are closed at once. Default 1024. */
  readonly maxConnections?: number;
  /** Abort a TLS handshake that takes longer (ms). Default 10000. */
  readonly handshakeTimeoutMs?: number;
  /** Close a connection after this long without data either way (ms); 0 = never. Default 3600000. */
  readonly idleTimeoutMs?: number;
  /** Give up connecting to the target after this long (ms). Default 10000. */
  readonly connectTimeoutMs?: number;
  /** close(): how long open connections may finish before they are cut (ms). Default 10000. */
  readonly drainTimeoutMs?: number;
  /** Reload the credentials this often (ms), e.g. daily permits from the DTAs; 0 = only on reload(). */
  readonly refreshIntervalMs?: number;
  /** Record-layer arithmetic: 'noble' (default) or 'node' (node:crypto). */
  readonly cryptoProvider?: 'noble' | 'node';
  /** Receives one record per connection and the tunnel's events. Default: text lines on stderr. */
  readonly log?: (record: TunnelLogRecord) => void;
  readonly metrics?: TunnelMetrics;
  readonly clock?: Clock;
  readonly random?: RandomSource;
}

export const DEFAULTS = {
  maxConnections: 1024,
  handshakeTimeoutMs: 10_000,
  idleTimeoutMs: 3_600_000,
  connectTimeoutMs: 10_000,
  drainTimeoutMs: 10_000,
} as const;

export function textLogTo(stream: NodeJS.WritableStream, format: LogFormat): (r: TunnelLogRecord) => void {
  return (r) => stream.write(`${formatRecord(r, format)}\n`);
}

/** The authenticated peer of a finished handshake, as the log and the allow-lists see it. */
export function peerInfo(s: TLSSocket): PeerInfo {
  const id = s.getPeerIdentity();
  const cert = s.getPeerCertificate();
  const cn = cert !== null && 'subject' in cert ? cert.subject['CN'] : undefined;
  const san = cert !== null && 'subject' in cert && cert.subjectaltname !== undefined ? cert.subjectaltname.split(', ') : undefined;
  return {
    ...(id !== null ? { identity: id.identity ?? `hash:${id.hashId}` } : {}),
    ...(typeof cn === 'string' ? { cn } : {}),
    ...(san !== undefined ? { san } : {}),
  };
}

/** Metric label for a completed handshake: which kind of authentication it was. */
export function suiteKind(s: TLSSocket): string {
  const name = s.getCipher()?.standardName ?? '';
  if (name.includes('MILAGRO_P2P')) return 'milagro_p2p';
  if (name.includes('MILAGRO_CS')) return 'milagro_cs';
  return 'certificate';
}

/** One open connection's bookkeeping until its record is written. */
export class Connection {
  readonly started: number;
  identity: string | undefined;
  suite: string | undefined;
  splice: Splice | undefined;
  #ended = false;

  constructor(
    private readonly tunnel: TunnelBook,
    readonly conn: number,
    readonly remote: string,
  ) {
    this.started = performance.now();
    tunnel.open.add(this);
    tunnel.metrics.active.inc();
  }

  /**
   * Forwards between `accepted` and `target` (counting bytes into the metrics) until either side
   * ends, then writes the record. Listeners are attached before this returns its promise.
   */
  async forward(accepted: Duplex, target: Duplex, idleTimeoutMs: number): Promise<void> {
    const bytesIn = this.tunnel.metrics.bytes.labels('in');
    const bytesOut = this.tunnel.metrics.bytes.labels('out');
    this.splice = splice(accepted, target, { idleTimeoutMs, onBytesIn: (n) => bytesIn.inc(n), onBytesOut: (n) => bytesOut.inc(n) });
    const r = await this.splice.done;
    this.end(r.reason, { bytesIn: r.bytesIn, bytesOut: r.bytesOut, ...(r.detail !== undefined ? { detail: r.detail } : {}) });
  }

  /** Writes the connection's one record; later calls are ignored. */
  end(reason: CloseReason, extra: { readonly bytesIn?: number; readonly bytesOut?: number; readonly handshake?: string; readonly detail?: string } = {}): void {
    if (this.#ended) return;
    this.#ended = true;
    this.tunnel.open.delete(this);
    this.tunnel.metrics.active.dec();
    this.tunnel.metrics.connections.inc({ reason });
    const r: ConnectionRecord = {
      type: 'connection',
      time: new Date(this.tunnel.clock()).toISOString(),
      side: this.tunnel.side,
      conn: this.conn,
      remote: this.remote,
      ...(this.identity !== undefined ? { identity: this.identity } : {}),
      ...(this.suite !== undefined ? { suite: this.suite } : {}),
      bytesIn: extra.bytesIn ?? this.splice?.bytesIn ?? 0,
      bytesOut: extra.bytesOut ?? this.splice?.bytesOut ?? 0,
      durationMs: Math.round((performance.now() - this.started) * 1000) / 1000,
      reason,
      ...(extra.handshake !== undefined ? { handshake: extra.handshake } : {}),
      ...(extra.detail !== undefined ? { detail: extra.detail } : {}),
    };
    this.tunnel.log(r);
  }
}

/** State shared by the connections of one tunnel. */
export class TunnelBook {
  readonly open = new Set<Connection>();
  #next = 0;
  constructor(
    readonly side: 'server' | 'client',
    readonly metrics: TunnelMetrics,
    readonly log: (r: TunnelLogRecord) => void,
    readonly clock: Clock,
  ) {}

  connection(remote: string): Connection {
    this.#next += 1;
    return new Connection(this, this.#next, remote);
  }

  event(event: Extract<TunnelLogRecord, { type: 'event' }>['event'], detail?: string): void {
    this.log({ type: 'event', time: new Date(this.clock()).toISOString(), side: this.side, event, ...(detail !== undefined ? { detail } : {}) });
  }

  /** Waits for the open connections to finish, up to `timeoutMs`, then cuts the rest. */
  async drain(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.open.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, Math.min(50, Math.max(1, deadline - Date.now()))));
    for (const c of [...this.open]) {
      if (c.splice !== undefined) c.splice.abort('shutdown', `still open after the ${timeoutMs} ms drain timeout`);
    }
    // Connections still handshaking or dialling have no splice yet: they end on their own
    // (handshake timeout, connect timeout); the caller destroys what is left.
  }
}

export function resolveCommon(o: TunnelCommonOptions, side: 'server' | 'client'): {
  maxConnections: number;
  handshakeTimeoutMs: number;
  idleTimeoutMs: number;
  connectTimeoutMs: number;
  drainTimeoutMs: number;
  clock: Clock;
  random: RandomSource;
  book: TunnelBook;
} {
  const positive = (name: string, v: number | undefined, dflt: number, allowZero: boolean): number => {
    const n = v ?? dflt;
    if (!Number.isFinite(n) || n < 0 || (!allowZero && n === 0)) throw new RangeError(`tunnel option ${name} must be a ${allowZero ? 'non-negative' : 'positive'} number, not ${String(v)}`);
    return n;
  };
  const clock = o.clock ?? systemClock;
  const metrics = o.metrics ?? new TunnelMetrics(side);
  return {
    maxConnections: positive('maxConnections', o.maxConnections, DEFAULTS.maxConnections, false),
    handshakeTimeoutMs: positive('handshakeTimeoutMs', o.handshakeTimeoutMs, DEFAULTS.handshakeTimeoutMs, false),
    idleTimeoutMs: positive('idleTimeoutMs', o.idleTimeoutMs, DEFAULTS.idleTimeoutMs, true),
    connectTimeoutMs: positive('connectTimeoutMs', o.connectTimeoutMs, DEFAULTS.connectTimeoutMs, false),
    drainTimeoutMs: positive('drainTimeoutMs', o.drainTimeoutMs, DEFAULTS.drainTimeoutMs, true),
    clock,
    random: o.random ?? systemRandom,
    book: new TunnelBook(side, metrics, o.log ?? textLogTo(process.stderr, 'text'), clock),
  };
}

/**
 * The credentials a tunnel end serves with and when they were loaded; `reload` swaps them for new
 * connections (open ones keep theirs) or, on failure, keeps the current ones, logs and rethrows.
 */
export class Credentials<T> {
  #current: LoadedCredentials<T> | undefined;
  #loadedAt = 0;

  constructor(
    private readonly load: () => Promise<LoadedCredentials<T>>,
    private readonly book: TunnelBook,
  ) {}

  get current(): LoadedCredentials<T> | undefined {
    return this.#current;
  }

  get loadedAt(): number {
    return this.#loadedAt;
  }

  /** The first load (start()). */
  async init(): Promise<LoadedCredentials<T>> {
    return this.#set(await this.load());
  }

  /** Loads again; `apply` installs the result where it must go before it becomes current. */
  async reload(apply: (next: LoadedCredentials<T>) => void = () => undefined): Promise<void> {
    const { metrics } = this.book;
    try {
      const next = await this.load();
      apply(next);
      this.#set(next);
      metrics.reloads.inc({ result: 'ok' });
      this.book.event('reloaded', next.summary);
    } catch (e) {
      metrics.reloads.inc({ result: 'failed' });
      this.book.event('reload_failed', `${describeError(e)}; keeping the credentials loaded at ${new Date(this.#loadedAt).toISOString()}`);
      throw e;
    }
  }

  #set(next: LoadedCredentials<T>): LoadedCredentials<T> {
    this.#current = next;
    this.#loadedAt = this.book.clock();
    this.book.metrics.credentialsLoaded.set(this.#loadedAt / 1000);
    return next;
  }
}

/** Connects to the target; rejects with a message naming it on refusal or after `timeoutMs`. */
export function dialTarget(target: Endpoint, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = dialEndpoint(target);
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`connecting to ${formatEndpoint(target)} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    s.once('connect', () => {
      clearTimeout(timer);
      s.off('error', onError);
      resolve(s);
    });
    const onError = (e: Error): void => {
      clearTimeout(timer);
      reject(new Error(`cannot connect to ${formatEndpoint(target)}: ${(e as NodeJS.ErrnoException).code ?? e.message}`));
    };
    s.once('error', onError);
  });
}

/** Starts a periodic reload; returns the stopper. */
export function every(ms: number | undefined, f: () => Promise<unknown>): () => void {
  if (ms === undefined || ms <= 0) return () => undefined;
  const t = setInterval(() => void f().catch(() => undefined), ms);
  t.unref();
  return () => clearInterval(t);
}

interface Listener {
  listen(path: string, cb: () => void): unknown;
  listen(port: number, host: string, cb: () => void): unknown;
  once(event: 'error', l: (e: Error) => void): unknown;
  off(event: 'error', l: (e: Error) => void): unknown;
  close(cb: () => void): unknown;
  address(): AddressInfo | string | null;
}

/** Listens on a TCP address or unix socket; rejects with the listen error (EADDRINUSE...). */
export function listenOn(server: Listener, at: Endpoint): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    const ok = (): void => {
      server.off('error', reject);
      resolve();
    };
    if ('path' in at) server.listen(at.path, ok);
    else server.listen(at.port, at.host, ok);
  });
}

/** The listener's TCP address; throws when it listens on a unix socket or not at all. */
export function tcpAddressOf(server: Listener | undefined, side: 'server' | 'client'): AddressInfo {
  const a = server?.address();
  if (a === null || a === undefined || typeof a === 'string') throw new Error(`the tunnel ${side} is not listening on TCP`);
  return a;
}

export function addressTextOf(server: Listener | undefined): string {
  const a = server?.address();
  if (typeof a === 'string') return `unix:${a}`;
  if (a === null || a === undefined) return '-';
  return formatEndpoint({ host: a.address, port: a.port });
}

/** Graceful stop: no new connections, drain up to `drainTimeoutMs`, cut `leftovers`, wait for the listener. */
export async function stopListening(book: TunnelBook, server: Listener | undefined, leftovers: Iterable<{ destroy(): void }>, drainTimeoutMs: number): Promise<void> {
  book.event('draining', `${book.open.size} open connections, up to ${drainTimeoutMs} ms`);
  const closed = new Promise<void>((r) => (server === undefined ? r() : server.close(() => r())));
  await book.drain(drainTimeoutMs);
  // Handshakes and dials still running after the drain are cut too (they would hold close() open).
  for (const s of leftovers) s.destroy();
  await closed;
}

/** What status() reports, the same for both ends. */
export function statusOf(state: TunnelStatus['state'], listen: string, target: Endpoint, book: TunnelBook, credentials: Credentials<unknown>): TunnelStatus {
  return {
    side: book.side,
    state,
    listen,
    target: formatEndpoint(target),
    active: book.open.size,
    credentials: credentials.current?.summary ?? '-',
    loadedAt: new Date(credentials.loadedAt).toISOString(),
  };
}
