/**
 * `createServer(options[, secureConnectionListener])`, like node:tls. Wraps a net.Server; each
 * accepted socket gets its own engine from one shared, pre-validated configuration.
 *
 * Events: 'secureConnection' (TLSSocket), 'tlsClientError' (err, TLSSocket) for any failure
 * before the handshake completes — the socket is destroyed, the server keeps serving —
 * 'keylog' (line: Buffer, TLSSocket), and the net.Server events 'listening', 'close', 'error',
 * 'connection' (raw socket).
 */
import { EventEmitter } from 'node:events';
import { createServer as netCreateServer, type AddressInfo, type ListenOptions, type Server as NetServer, type Socket } from 'node:net';
import { resolveServerOptions, type ResolvedServer } from './config.ts';
import type { ServerOptions } from './options.ts';
import { TLSSocket } from './tls-socket.ts';

export class Server extends EventEmitter {
  readonly #net: NetServer;
  readonly #resolved: ResolvedServer;

  constructor(options: ServerOptions, secureConnectionListener?: (socket: TLSSocket) => void) {
    super();
    this.#resolved = resolveServerOptions(options);
    this.#net = netCreateServer({ allowHalfOpen: options.allowHalfOpen ?? false }, (raw) => this.#accept(raw));
    this.#net.on('listening', () => this.emit('listening'));
    this.#net.on('close', () => this.emit('close'));
    this.#net.on('error', (err) => this.emit('error', err));
    if (secureConnectionListener !== undefined) this.on('secureConnection', secureConnectionListener);
  }

  #accept(raw: Socket): void {
    this.emit('connection', raw);
    let tls: TLSSocket;
    try {
      tls = new TLSSocket(raw, {
        isServer: true,
        // The remote address lets key exchanges queue expensive work per source (issue 11 §3).
        engine: raw.remoteAddress === undefined ? this.#resolved.engine : { ...this.#resolved.engine, peerAddress: raw.remoteAddress },
        handshakeTimeout: this.#resolved.handshakeTimeout,
        onHandshakeError: (err, s) => this.emit('tlsClientError', err, s),
      });
    } catch (e) {
      // Never let one connection take the server down.
      raw.destroy();
      this.emit('tlsClientError', e instanceof Error ? e : new Error(String(e)), undefined);
      return;
    }
    tls.on('secure', () => this.emit('secureConnection', tls));
    tls.on('keylog', (line: Buffer) => this.emit('keylog', line, tls));
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

  close(callback?: (err?: Error) => void): this {
    this.#net.close(callback);
    // Stop the Milagro worker pool (if the options own one); running handshakes fail.
    void this.#resolved.dispose?.();
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
