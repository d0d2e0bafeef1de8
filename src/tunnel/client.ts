/**
 * Tunnel client: accepts plaintext locally (TCP or unix socket) and carries each connection over
 * TLS to a tunnel server (or any TLS server), authenticating with a MILAGRO_P2P identity, an M-Pin
 * keystore (MILAGRO_CS) or certificates. The local connection is held (not read) until the
 * handshake completes, so nothing leaves the machine unencrypted.
 *
 *   const t = await createTunnelClient({ listen: { host: '127.0.0.1', port: 1883 }, target: { host: 'broker.plant', port: 8883 },
 *     credentials: { mode: 'p2p', identity: 'sensor-1.plant', key: { key: { file: 'P2PClientKey' } }, serverIdentity: 'broker.plant' } });
 */
import { createServer as netCreateServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { connect } from '../api/connect.ts';
import type { ConnectionOptions } from '../api/options.ts';
import type { TLSSocket } from '../api/tls-socket.ts';
import { InProcessCsCompute } from '../kex/milagro/cs-compute.ts';
import { InProcessP2pCompute } from '../kex/milagro/p2p-compute.ts';
import { addressTextOf, Credentials, every, listenOn, peerInfo, resolveCommon, statusOf, stopListening, suiteKind, tcpAddressOf, type TunnelBook, type TunnelCommonOptions } from './common.ts';
import { clientCredentialLoader, type TunnelClientCredentials } from './credentials.ts';
import { formatEndpoint, remoteOf } from './endpoint.ts';
import type { TunnelMetrics } from './metrics.ts';
import { describeError, handshakeFailureReason } from './reasons.ts';
import type { TunnelStatus } from './server.ts';

export interface TunnelClientOptions extends TunnelCommonOptions {
  readonly target: { readonly host: string; readonly port: number };
  readonly credentials: TunnelClientCredentials;
}

type ClientTls = Omit<ConnectionOptions, 'host' | 'port' | 'socket'>;

export class TunnelClient {
  readonly metrics: TunnelMetrics;
  readonly #o: TunnelClientOptions;
  readonly #c: ReturnType<typeof resolveCommon>;
  readonly #book: TunnelBook;
  readonly #credentials: Credentials<ClientTls>;
  #net: NetServer | undefined;
  #state: TunnelStatus['state'] = 'starting';
  #stopRefresh: () => void = () => undefined;
  /** Local connections still open, so close() can cut what the drain left. */
  readonly #locals = new Set<Socket>();

  constructor(o: TunnelClientOptions) {
    this.#o = o;
    this.#c = resolveCommon(o, 'client');
    this.#book = this.#c.book;
    this.metrics = this.#book.metrics;
    // One compute object for all connections: the identity points and prepared keys stay cached.
    const load = clientCredentialLoader(o.credentials, { clock: this.#c.clock, random: this.#c.random }, { p2p: new InProcessP2pCompute(), cs: new InProcessCsCompute() });
    this.#credentials = new Credentials(load, this.#book);
  }

  async start(): Promise<void> {
    const loaded = await this.#credentials.init();
    const server = netCreateServer({ pauseOnConnect: true }, (local) => void this.#onLocal(local));
    this.#net = server;
    server.maxConnections = this.#c.maxConnections;
    server.on('drop', (d: { remoteAddress?: string; remotePort?: number } | undefined) => {
      this.#book.connection(remoteOf(d ?? {})).end('max_connections', { detail: `${this.#c.maxConnections} connections open` });
    });
    await listenOn(server, this.#o.listen);
    server.on('error', (e: Error) => this.#book.event('reload_failed', `listener error: ${e.message}`));
    this.#state = 'serving';
    this.#book.event('listening', `on ${this.addressText()} forwarding over TLS to ${formatEndpoint(this.#o.target)}; ${loaded.summary}`);
    this.#stopRefresh = every(this.#o.refreshIntervalMs, () => this.reload());
  }

  async #onLocal(local: Socket): Promise<void> {
    const conn = this.#book.connection(remoteOf(local));
    this.#locals.add(local);
    local.once('close', () => this.#locals.delete(local));
    local.on('error', () => undefined); // reported through the splice, or irrelevant before it
    const loaded = this.#credentials.current;
    if (loaded === undefined) {
      local.destroy();
      conn.end('shutdown', { detail: 'no credentials loaded' });
      return;
    }
    let tls: TLSSocket;
    try {
      tls = connect({
        ...loaded.options,
        host: this.#o.target.host,
        port: this.#o.target.port,
        handshakeTimeout: this.#c.handshakeTimeoutMs,
        ...(this.#o.cryptoProvider !== undefined ? { cryptoProvider: this.#o.cryptoProvider } : {}),
      });
    } catch (e) {
      // Options that cannot be used now (e.g. a keystore without today's permit).
      local.destroy();
      this.metrics.handshakes.inc({ result: 'failed', reason: 'error' });
      conn.end('handshake_failed', { handshake: 'error', detail: describeError(e) });
      return;
    }
    // Later errors (e.g. a reset after a refused handshake) are reported through the splice or not at all.
    tls.on('error', () => undefined);
    const ok = await new Promise<Error | undefined>((resolve) => {
      tls.once('secureConnect', () => resolve(undefined));
      tls.once('error', (e: Error) => resolve(e));
      tls.once('close', () => resolve(new Error('the server closed the connection during the handshake')));
    });
    if (ok !== undefined) {
      const reason = handshakeFailureReason(ok);
      this.metrics.handshakes.inc({ result: 'failed', reason });
      local.destroy();
      tls.destroy();
      // A refused TCP connection is the target being down, not a TLS problem.
      const code = (ok as { code?: unknown }).code;
      if (code === 'ECONNREFUSED' || code === 'EHOSTUNREACH' || code === 'ENOTFOUND' || code === 'ETIMEDOUT') conn.end('target_unreachable', { detail: describeError(ok) });
      else conn.end('handshake_failed', { handshake: reason, detail: describeError(ok) });
      return;
    }
    this.metrics.handshakes.inc({ result: 'ok', reason: suiteKind(tls) });
    this.metrics.handshakeSeconds.observe((performance.now() - conn.started) / 1000);
    const peer = peerInfo(tls);
    conn.identity = peer.identity ?? peer.cn;
    conn.suite = tls.getCipher()?.standardName;
    if (local.destroyed) {
      tls.end();
      conn.end('peer_closed', { detail: 'the local client left during the handshake' });
      return;
    }
    tls.setKeepAlive(true, 60_000);
    const forwarded = conn.forward(local, tls, this.#c.idleTimeoutMs);
    local.resume();
    await forwarded;
  }

  /** Re-reads keys and keystore, refetches permits from the DTAs; used by new connections. */
  async reload(): Promise<void> {
    if (this.#state !== 'serving') return;
    await this.#credentials.reload();
  }

  async close(drainTimeoutMs = this.#c.drainTimeoutMs): Promise<void> {
    if (this.#state === 'closed' || this.#state === 'draining') return;
    this.#state = 'draining';
    this.#stopRefresh();
    await stopListening(this.#book, this.#net, this.#locals, drainTimeoutMs);
    this.#state = 'closed';
    this.#book.event('closed');
  }

  address(): AddressInfo {
    return tcpAddressOf(this.#net, 'client');
  }

  addressText(): string {
    return addressTextOf(this.#net);
  }

  status(): TunnelStatus {
    return statusOf(this.#state, this.addressText(), this.#o.target, this.#book, this.#credentials);
  }
}

export async function createTunnelClient(o: TunnelClientOptions): Promise<TunnelClient> {
  const t = new TunnelClient(o);
  await t.start();
  return t;
}
