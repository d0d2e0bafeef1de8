/**
 * Tunnel server: accepts TLS (MILAGRO_P2P, MILAGRO_CS or certificates), lets through only the
 * allowed peers, and forwards the plaintext to a target (TCP or unix socket) — ghostunnel for
 * Milagro identities. Nothing is sent to the target before the peer is authenticated.
 *
 *   const t = await createTunnelServer({ listen: { host: '0.0.0.0', port: 8883 }, target: { host: '127.0.0.1', port: 1883 },
 *     credentials: { mode: 'p2p', identity: 'broker.plant', key: { key: { file: 'P2PServerKey' } }, allowIdentities: ['sensor-1.plant'] } });
 *   await t.reload();  // new keys/permits for new connections; open ones keep running
 *   await t.close();   // stop accepting, drain, cut what is left after drainTimeoutMs
 */
import type { AddressInfo, Socket } from 'node:net';
import { availableParallelism } from 'node:os';
import { createServer, type Server } from '../api/server.ts';
import type { ServerOptions } from '../api/options.ts';
import type { TLSSocket } from '../api/tls-socket.ts';
import { MilagroWorkerPool } from '../kex/milagro/pool.ts';
import { addressTextOf, Credentials, every, dialTarget, listenOn, peerInfo, resolveCommon, statusOf, stopListening, suiteKind, tcpAddressOf, type Connection, type TunnelBook, type TunnelCommonOptions } from './common.ts';
import { serverCredentialLoader, type LoadedCredentials, type TunnelServerCredentials } from './credentials.ts';
import { formatEndpoint, remoteOf } from './endpoint.ts';
import type { TunnelMetrics } from './metrics.ts';
import { describeError, handshakeFailureReason } from './reasons.ts';

export interface TunnelServerOptions extends TunnelCommonOptions {
  readonly credentials: TunnelServerCredentials;
  /**
   * Where the Milagro pairings run: a number of worker threads owned by the tunnel (0 =
   * in-process; default min(2, cores)), or a shared MilagroWorkerPool (never closed by us).
   */
  readonly workers?: number | MilagroWorkerPool;
}

export interface TunnelStatus {
  readonly side: 'server' | 'client';
  readonly state: 'starting' | 'serving' | 'draining' | 'closed';
  readonly listen: string;
  readonly target: string;
  readonly active: number;
  readonly credentials: string;
  readonly loadedAt: string;
}

export class TunnelServer {
  readonly metrics: TunnelMetrics;
  readonly #o: TunnelServerOptions;
  readonly #c: ReturnType<typeof resolveCommon>;
  readonly #book: TunnelBook;
  readonly #pool: MilagroWorkerPool | undefined;
  readonly #ownsPool: boolean;
  readonly #credentials: Credentials<ServerOptions>;
  #server: Server | undefined;
  #state: TunnelStatus['state'] = 'starting';
  /** Accepted TCP connections by remote address:port until their TLS socket reports back. */
  readonly #pending = new Map<string, Connection>();
  /** Every accepted TCP socket still open, so close() can cut what the drain left. */
  readonly #raw = new Set<Socket>();
  #stopRefresh: () => void = () => undefined;

  constructor(o: TunnelServerOptions) {
    this.#o = o;
    this.#c = resolveCommon(o, 'server');
    this.#book = this.#c.book;
    this.metrics = this.#book.metrics;
    const milagro = o.credentials.mode !== 'cert';
    const workers = o.workers ?? Math.min(2, availableParallelism());
    this.#ownsPool = typeof workers === 'number';
    this.#pool = !milagro ? undefined : typeof workers !== 'number' ? workers : workers > 0 ? new MilagroWorkerPool({ size: workers }) : undefined;
    const load = serverCredentialLoader(o.credentials, { clock: this.#c.clock, random: this.#c.random, ...(this.#pool !== undefined ? { pool: this.#pool } : {}) });
    this.#credentials = new Credentials(load, this.#book);
  }

  #tlsOptions(l: LoadedCredentials<ServerOptions>): ServerOptions {
    return { ...l.options, handshakeTimeout: this.#c.handshakeTimeoutMs, ...(this.#o.cryptoProvider !== undefined ? { cryptoProvider: this.#o.cryptoProvider } : {}) };
  }

  async start(): Promise<void> {
    try {
      const server = createServer(this.#tlsOptions(await this.#credentials.init()));
      this.#server = server;
      server.maxConnections = this.#c.maxConnections;
      server.on('connection', (raw: Socket) => this.#onConnection(raw));
      server.on('drop', (d: { remoteAddress?: string; remotePort?: number } | undefined) => {
        this.#book.connection(remoteOf(d ?? {})).end('max_connections', { detail: `${this.#c.maxConnections} connections open` });
      });
      server.on('tlsClientError', (err: Error, s: TLSSocket | undefined) => this.#onHandshakeError(err, s));
      server.on('secureConnection', (s: TLSSocket) => void this.#onSecure(s));
      await listenOn(server, this.#o.listen);
      server.on('error', (e: Error) => this.#book.event('reload_failed', `server error: ${e.message}`));
    } catch (e) {
      if (this.#ownsPool) await this.#pool?.close();
      throw e;
    }
    this.#state = 'serving';
    this.#book.event('listening', `on ${this.addressText()} forwarding to ${formatEndpoint(this.#o.target)}; ${this.#credentials.current?.summary ?? '-'}`);
    this.#stopRefresh = every(this.#o.refreshIntervalMs, () => this.reload());
  }

  #onConnection(raw: Socket): void {
    raw.setKeepAlive(true, 60_000);
    this.#raw.add(raw);
    raw.once('close', () => this.#raw.delete(raw));
    const key = remoteOf(raw);
    const conn = this.#book.connection(key);
    this.#pending.set(key, conn);
    raw.once('close', () => {
      // A connection that never produced a TLS socket event (should not happen) still gets its line.
      if (this.#pending.get(key) === conn) {
        this.#pending.delete(key);
        conn.end('handshake_failed', { handshake: 'reset', detail: 'closed before the TLS handshake completed' });
      }
    });
  }

  #take(s: TLSSocket | undefined): Connection | undefined {
    if (s === undefined) return undefined;
    const key = remoteOf(s);
    const conn = this.#pending.get(key);
    if (conn !== undefined) this.#pending.delete(key);
    return conn;
  }

  #onHandshakeError(err: Error, s: TLSSocket | undefined): void {
    const reason = handshakeFailureReason(err);
    this.metrics.handshakes.inc({ result: 'failed', reason });
    const conn = this.#take(s) ?? this.#book.connection(s !== undefined ? remoteOf(s) : 'unknown');
    conn.end('handshake_failed', { handshake: reason, detail: describeError(err) });
  }

  async #onSecure(tls: TLSSocket): Promise<void> {
    const conn = this.#take(tls) ?? this.#book.connection(remoteOf(tls));
    const seconds = (performance.now() - conn.started) / 1000;
    const peer = peerInfo(tls);
    conn.identity = peer.identity ?? peer.cn;
    conn.suite = tls.getCipher()?.standardName;
    tls.on('error', () => undefined); // reported through the splice
    const denied = this.#credentials.current?.authorize?.(peer);
    if (denied !== undefined) {
      this.metrics.handshakes.inc({ result: 'failed', reason: 'not_allowed' });
      tls.destroy();
      conn.end('not_allowed', { detail: denied });
      return;
    }
    this.metrics.handshakes.inc({ result: 'ok', reason: suiteKind(tls) });
    this.metrics.handshakeSeconds.observe(seconds);
    let target: Socket;
    try {
      target = await dialTarget(this.#o.target, this.#c.connectTimeoutMs);
    } catch (e) {
      tls.destroy();
      conn.end('target_unreachable', { detail: (e as Error).message });
      return;
    }
    if (tls.destroyed) {
      target.destroy();
      conn.end('peer_closed', { detail: 'the client left while the target was being dialled' });
      return;
    }
    target.setKeepAlive(true, 60_000);
    await conn.forward(tls, target, this.#c.idleTimeoutMs);
  }

  /**
   * Re-reads key files and certificates and refetches keys and permits from the DTAs; new
   * connections use them, open ones keep running. On failure the current credentials stay.
   */
  async reload(): Promise<void> {
    const server = this.#server;
    if (server === undefined || this.#state !== 'serving') return;
    await this.#credentials.reload((next) => server.setSecureContext(this.#tlsOptions(next)));
  }

  /** Stops accepting, lets open connections finish for up to drainTimeoutMs, then cuts them. */
  async close(drainTimeoutMs = this.#c.drainTimeoutMs): Promise<void> {
    if (this.#state === 'closed' || this.#state === 'draining') return;
    this.#state = 'draining';
    this.#stopRefresh();
    await stopListening(this.#book, this.#server, this.#raw, drainTimeoutMs);
    if (this.#ownsPool) await this.#pool?.close();
    this.#state = 'closed';
    this.#book.event('closed');
  }

  address(): AddressInfo {
    return tcpAddressOf(this.#server, 'server');
  }

  addressText(): string {
    return addressTextOf(this.#server);
  }

  status(): TunnelStatus {
    return statusOf(this.#state, this.addressText(), this.#o.target, this.#book, this.#credentials);
  }
}

export async function createTunnelServer(o: TunnelServerOptions): Promise<TunnelServer> {
  const t = new TunnelServer(o);
  await t.start();
  return t;
}
