/**
 * TLSSocket: a stream.Duplex carrying application data over a transport Duplex (normally a
 * net.Socket), with the sans-I/O TlsEngine in between (style.md §1). This is the only layer
 * that sees Buffers and sockets; bytes cross into the engine as plain Uint8Array views.
 *
 * Backpressure: transport → engine → readable side stops reading the transport when `push()`
 * says the reader is full, and resumes in `_read()`; it also stops reading while the engine waits
 * for an asynchronous key-exchange step (a pairing in the worker pool), so a peer streaming
 * bytes meanwhile fills its own TCP window rather than our memory. Writable side → engine →
 * transport waits for 'drain' when `transport.write()` returns false before accepting more.
 */
import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import { TlsEngine, type EngineEvents, type HandshakeInfo } from '../handshake/engine.ts';
import type { ClientEngineConfig, ServerEngineConfig } from '../handshake/config.ts';
import { toPeerCertificate, type Certificate, type PeerCertificate } from '../x509/index.ts';
import { encodeSessionState } from '../handshake/session/state.ts';

/** Largest slice handed to the engine per write, so huge writes interleave with 'drain'. */
const WRITE_SLICE = 256 * 1024;
/** A full TLS 1.2 record's plaintext (RFC 5246 §6.2.1): smaller queued writes are joined up to it. */
const FULL_RECORD = 1 << 14;

export interface CipherInfo {
  /** OpenSSL name, as node:tls reports it. */
  readonly name: string;
  /** IANA name. */
  readonly standardName: string;
  readonly version: 'TLSv1.2';
}

export interface EphemeralKeyInfo {
  readonly type: 'ECDH';
  readonly name: 'X25519' | 'prime256v1' | 'secp384r1';
  readonly size: number;
}

/** An error tagged with a node-style code. */
export class TlsSocketError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'TlsSocketError';
  }
}

/** Internal construction parameters (used by connect/createServer). */
export type TlsSocketSetup =
  | { readonly isServer: false; readonly engine: ClientEngineConfig; readonly handshakeTimeout: number }
  | {
      readonly isServer: true;
      readonly engine: ServerEngineConfig;
      readonly handshakeTimeout: number;
      /** Server: handshake failures go to the server's 'tlsClientError', not to this socket's 'error'. */
      readonly onHandshakeError?: (err: Error, socket: TLSSocket) => void;
    };

function toView(b: Buffer | Uint8Array): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

function chunkToView(chunk: unknown, encoding: BufferEncoding): Uint8Array {
  if (chunk instanceof Uint8Array) return toView(chunk);
  if (typeof chunk === 'string') return toView(Buffer.from(chunk, encoding));
  throw new TypeError('TLSSocket: write() takes a string, Buffer or Uint8Array');
}

/**
 * node:tls gives every error a string `code`. TlsError / PeerAlertError carry theirs; anything
 * else the engine reports (it was answered with internal_error) gets ERR_SSL_INTERNAL_ERROR.
 */
function withCode(err: Error): Error {
  if (typeof (err as { code?: unknown }).code !== 'string') {
    Object.defineProperty(err, 'code', { value: 'ERR_SSL_INTERNAL_ERROR', enumerable: true, configurable: true, writable: true });
  }
  return err;
}

/** The server's own 'error' listener on accepted sockets: the socket is already being destroyed. */
function swallowAcceptedSocketError(): void {}

export class TLSSocket extends Duplex {
  /** Always true, like node:tls. */
  readonly encrypted = true as const;
  /** The ALPN protocol agreed (RFC 7301), false when none (node:tls semantics). */
  alpnProtocol: string | false = false;
  /**
   * Client: whether the server chain and name verified. Server: whether the client sent a
   * certificate that verified against `ca` (requestCert), or proved a Milagro identity.
   */
  authorized = false;
  /**
   * node:tls: why the peer's certificate did not verify, as node's string code
   * ('UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'ERR_TLS_CERT_ALTNAME_INVALID', ...); null when it verified
   * or none was asked for. The human-readable reason is `authorizationErrorMessage`.
   */
  authorizationError: string | null = null;
  authorizationErrorMessage: string | null = null;

  readonly #transport: import('node:stream').Duplex;
  readonly #engine: TlsEngine;
  readonly #isServer: boolean;
  readonly #onHandshakeError: ((err: Error, socket: TLSSocket) => void) | undefined;
  /** Trust anchors, so getPeerCertificate(true) can link up to the root like node:tls. */
  readonly #anchors: readonly Certificate[];
  #info: HandshakeInfo | undefined;
  #handshakeTimer: NodeJS.Timeout | undefined;
  /** Transport paused because our reader is full, or because the engine waits for a kex step. */
  #pausedForReader = false;
  #pausedForHandshake = false;
  #transportNeedsDrain = false;
  #peerClosed = false;
  #failed = false;
  /** A write or end() that arrived before the handshake finished (node:tls buffers them too). */
  #pendingWrite: (() => void) | undefined;
  #pendingFinal: (() => void) | undefined;

  constructor(transport: import('node:stream').Duplex, setup: TlsSocketSetup) {
    super({ allowHalfOpen: false, decodeStrings: true });
    this.#transport = transport;
    this.#isServer = setup.isServer;
    this.#onHandshakeError = setup.isServer ? setup.onHandshakeError : undefined;
    this.#anchors = setup.isServer ? (setup.engine.ca ?? []) : setup.engine.ca;
    const events: EngineEvents = {
      onOutgoing: (bytes) => this.#sendToTransport(bytes),
      onData: (bytes) => this.#onEngineData(bytes),
      onSecure: (info) => this.#onSecure(info),
      onKeylog: (line) => this.emit('keylog', Buffer.from(`${line}\n`, 'latin1')),
      onPeerClose: () => this.#onPeerClose(),
      onError: (err) => this.#fail(withCode(err)),
    };
    this.#engine = setup.isServer ? TlsEngine.server(setup.engine, events) : TlsEngine.client(setup.engine, events);
    if (setup.isServer) {
      // As node:tls (TLSSocket#_tlsError): an accepted socket always has an 'error' listener, so a
      // client that corrupts a record or resets TCP after the handshake destroys its own socket
      // instead of raising an unhandled 'error' that kills a server written without one (the
      // README's `(s) => s.pipe(s)`). Failures before the handshake go to 'tlsClientError'.
      this.on('error', swallowAcceptedSocketError);
    }

    transport.on('data', (d: Buffer | string) => this.#onTransportData(typeof d === 'string' ? Buffer.from(d, 'latin1') : d));
    transport.on('end', () => this.#onTransportEnd());
    transport.on('error', (err: Error) => this.#fail(err));
    transport.on('close', () => this.#onTransportClose());
    transport.on('drain', () => {
      this.#transportNeedsDrain = false;
    });
    transport.on('timeout', () => this.emit('timeout'));

    this.#handshakeTimer = setTimeout(() => {
      this.#fail(new TlsSocketError('ERR_TLS_HANDSHAKE_TIMEOUT', 'TLS handshake timeout'));
    }, setup.handshakeTimeout);

    if (!setup.isServer) {
      // A net.Socket still connecting has `connecting === true`; any other Duplex is ready.
      const sock = transport as Partial<Socket>;
      if (sock.connecting === true) transport.once('connect', () => this.#startClient());
      else queueMicrotask(() => this.#startClient());
    }
  }

  #startClient(): void {
    if (this.destroyed || this.#failed) return;
    this.emit('connect');
    this.#engine.start();
  }

  // ---- transport → engine → reader ------------------------------------------------------

  #onTransportData(d: Buffer): void {
    if (this.#failed || this.destroyed) return;
    this.#engine.receive(toView(d));
    if (this.#engine.waiting && !this.#pausedForHandshake && !this.#failed) {
      this.#pausedForHandshake = true;
      this.#updateFlow();
      void this.#engine.idle.then(() => {
        this.#pausedForHandshake = false;
        this.#updateFlow();
      });
    }
  }

  /** Read from the transport only while neither the reader nor the handshake holds us back. */
  #updateFlow(): void {
    if (this.destroyed || this.#transport.destroyed) return;
    if (this.#pausedForReader || this.#pausedForHandshake) this.#transport.pause();
    else this.#transport.resume();
  }

  #onEngineData(bytes: Uint8Array): void {
    if (this.destroyed || this.#peerClosed) return;
    if (!this.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)) && !this.#pausedForReader) {
      this.#pausedForReader = true;
      this.#updateFlow();
    }
  }

  override _read(): void {
    if (this.#pausedForReader) {
      this.#pausedForReader = false;
      this.#updateFlow();
    }
  }

  #onPeerClose(): void {
    // RFC 5246 §7.2.1: the engine answered with its own close_notify; our side is done too.
    this.#peerClosed = true;
    this.push(null);
    this.#transport.end();
  }

  #onTransportEnd(): void {
    if (this.#failed) return;
    if (this.#info === undefined) {
      this.#fail(new TlsSocketError('ECONNRESET', 'Client network socket disconnected before secure TLS connection was established'));
      return;
    }
    // TCP FIN without close_notify: a truncation the application may care about; node:tls
    // ends the stream the same way.
    if (!this.#peerClosed) {
      this.#peerClosed = true;
      this.push(null);
    }
  }

  #onTransportClose(): void {
    if (this.#info === undefined && !this.#failed) {
      this.#fail(new TlsSocketError('ECONNRESET', 'socket closed before the TLS handshake completed'));
      return;
    }
    if (!this.destroyed) this.destroy();
  }

  // ---- writer → engine → transport -------------------------------------------------------

  #sendToTransport(bytes: Uint8Array): void {
    if (this.#transport.destroyed || this.#transport.writableEnded) return;
    if (!this.#transport.write(bytes)) this.#transportNeedsDrain = true;
  }

  override _write(chunk: unknown, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    let data: Uint8Array;
    try {
      data = chunkToView(chunk, encoding);
    } catch (e) {
      callback(e as Error);
      return;
    }
    const run = (): void => this.#writeSlices(data, 0, callback);
    if (this.#info === undefined) this.#pendingWrite = run;
    else run();
  }

  /**
   * Writes queued while the transport was busy arrive together: small ones are coalesced so they
   * go out as full records (up to 2^14 bytes, RFC 5246 §6.2.1) rather than one short record each.
   */
  override _writev(chunks: ReadonlyArray<{ chunk: unknown; encoding: BufferEncoding }>, callback: (error?: Error | null) => void): void {
    const parts: Uint8Array[] = [];
    try {
      // Runs of small writes are joined (one copy) until they fill a record; writes of a record
      // or more go to the engine as they are, uncopied.
      let small: Uint8Array[] = [];
      let smallLen = 0;
      const flush = (): void => {
        if (small.length === 1) parts.push(small[0] as Uint8Array);
        else if (small.length > 1) parts.push(toView(Buffer.concat(small, smallLen)));
        small = [];
        smallLen = 0;
      };
      for (const c of chunks) {
        const v = chunkToView(c.chunk, c.encoding);
        if (v.length >= FULL_RECORD) {
          flush();
          parts.push(v);
          continue;
        }
        small.push(v);
        smallLen += v.length;
        if (smallLen >= FULL_RECORD) flush();
      }
      flush();
    } catch (e) {
      callback(e as Error);
      return;
    }
    // Iterative while parts complete synchronously (no stack growth with thousands of parts);
    // a part that waits for 'drain' resumes the loop from its callback.
    let i = 0;
    const run = (): void => {
      for (;;) {
        const part = parts[i++];
        if (part === undefined) {
          callback();
          return;
        }
        let sync = true;
        let done = false;
        this.#writeSlices(part, 0, (err) => {
          if (err) callback(err);
          else if (sync) done = true;
          else run();
        });
        sync = false;
        if (!done) return; // failed, or waiting for 'drain'
      }
    };
    if (this.#info === undefined) this.#pendingWrite = run;
    else run();
  }

  #writeSlices(data: Uint8Array, offset: number, callback: (error?: Error | null) => void): void {
    if (this.#failed || this.destroyed) {
      callback(new TlsSocketError('ERR_STREAM_DESTROYED', 'TLS connection is closed'));
      return;
    }
    if (offset >= data.length) {
      callback();
      return;
    }
    const end = Math.min(data.length, offset + WRITE_SLICE);
    try {
      this.#engine.write(data.subarray(offset, end));
    } catch (e) {
      callback(e as Error);
      return;
    }
    if (this.#transportNeedsDrain) {
      const onDrain = (): void => {
        this.#transport.off('close', onDrain);
        this.#transportNeedsDrain = false;
        this.#writeSlices(data, end, callback);
      };
      this.#transport.once('drain', onDrain);
      this.#transport.once('close', onDrain);
    } else {
      this.#writeSlices(data, end, callback);
    }
  }

  override _final(callback: (error?: Error | null) => void): void {
    const run = (): void => {
      // RFC 5246 §7.2.1: close_notify, then half-close the transport; the peer's close_notify
      // (or FIN) ends the readable side.
      if (!this.#failed) this.#engine.close();
      if (!this.#transport.writableEnded) this.#transport.end();
      callback();
    };
    if (this.#info === undefined && !this.#failed) this.#pendingFinal = run;
    else run();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#clearHandshakeTimer();
    this.#pendingWrite = undefined;
    this.#pendingFinal = undefined;
    if (!this.#transport.destroyed) {
      // After a fatal alert, let it reach the peer before closing (destroySoon-like).
      const sock = this.#transport as Partial<Socket>;
      if (this.#failed && typeof sock.destroySoon === 'function') sock.destroySoon();
      else this.#transport.destroy();
    }
    callback(error);
  }

  // ---- engine events -----------------------------------------------------------------

  #clearHandshakeTimer(): void {
    if (this.#handshakeTimer !== undefined) {
      clearTimeout(this.#handshakeTimer);
      this.#handshakeTimer = undefined;
    }
  }

  #onSecure(info: HandshakeInfo): void {
    this.#clearHandshakeTimer();
    this.#info = info;
    this.authorized = info.authorized;
    if (info.authorizationError !== undefined) {
      this.authorizationError = info.authorizationError.code;
      this.authorizationErrorMessage = info.authorizationError.message;
    }
    this.alpnProtocol = info.alpnProtocol ?? false;
    this.emit(this.#isServer ? 'secure' : 'secureConnect');
    // node:tls emits 'session' on the client with an opaque Buffer for the `session` option.
    const session = this.getSession();
    if (!this.#isServer && session !== undefined) this.emit('session', session);
    const w = this.#pendingWrite;
    this.#pendingWrite = undefined;
    w?.();
    const f = this.#pendingFinal;
    this.#pendingFinal = undefined;
    f?.();
  }

  #fail(err: Error): void {
    if (this.#failed || this.destroyed) return;
    this.#failed = true;
    this.#clearHandshakeTimer();
    const duringHandshake = this.#info === undefined;
    if (duringHandshake && this.#onHandshakeError !== undefined) {
      this.#onHandshakeError(err, this);
      this.destroy();
    } else {
      this.destroy(err);
    }
  }

  /** node:net: 'close' carries `hadError`, true when the socket was destroyed by an error. */
  override emit(event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'close' && args.length === 0) return super.emit('close', this.errored !== null || this.#failed);
    return super.emit(event, ...args);
  }

  // ---- node:tls-like accessors ---------------------------------------------------------

  /**
   * RFC 5705 keying material (node:tls `exportKeyingMaterial(length, label[, context])`), e.g. for
   * channel binding. Throws before the handshake completes.
   */
  exportKeyingMaterial(length: number, label: string, context?: Buffer | Uint8Array): Buffer {
    if (!Number.isInteger(length) || length < 1) throw new TlsSocketError('ERR_INVALID_ARG_VALUE', `exportKeyingMaterial: length must be a positive integer, got ${String(length)}`);
    if (typeof label !== 'string') throw new TlsSocketError('ERR_INVALID_ARG_TYPE', 'exportKeyingMaterial: label must be a string');
    if (this.#info === undefined) throw new TlsSocketError('ERR_TLS_INVALID_STATE', 'exportKeyingMaterial: TLS socket connection must be securely established');
    const out = this.#engine.exportKeyingMaterial(length, label, context === undefined ? undefined : toView(context));
    return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
  }

  /** verify_data of the Finished message we sent (node:tls `getFinished`); undefined before. */
  getFinished(): Buffer | undefined {
    const f = this.#engine.ownFinished;
    return f === undefined ? undefined : Buffer.from(f);
  }

  /** verify_data of the peer's Finished message (node:tls `getPeerFinished`); undefined before. */
  getPeerFinished(): Buffer | undefined {
    const f = this.#engine.peerFinished;
    return f === undefined ? undefined : Buffer.from(f);
  }

  /** The transport's bound address (node:net `address()`); {} when the transport has none. */
  address(): import('node:net').AddressInfo | Record<string, never> {
    const a = (this.#transport as Partial<Socket>).address?.();
    return a !== undefined && typeof a === 'object' && 'port' in a ? a : {};
  }

  /** Negotiated suite, or null before the handshake completes (node:tls semantics). */
  getCipher(): CipherInfo | null {
    const s = this.#info?.suite;
    return s === undefined ? null : { name: s.opensslName, standardName: s.name, version: 'TLSv1.2' };
  }

  getProtocol(): 'TLSv1.2' | null {
    return this.#info === undefined ? null : this.#info.protocol;
  }

  /** node:tls shape; {} when the peer sent no certificate, null before the handshake. */
  getPeerCertificate(detailed = false): PeerCertificate | Record<string, never> | null {
    if (this.#info === undefined) return null;
    const chain = this.#info.peerCertificates;
    const leaf = chain[0];
    if (leaf === undefined) return {};
    // node:tls links issuerCertificate through the rest of the peer chain, then the trust store.
    return toPeerCertificate(leaf, detailed, [...chain.slice(1), ...this.#anchors]);
  }

  /** node:tls `getEphemeralKeyInfo()`: the ECDHE group (client side in node; here both sides). */
  getEphemeralKeyInfo(): EphemeralKeyInfo | Record<string, never> | null {
    if (this.#info === undefined) return null;
    switch (this.#info.group) {
      case 'x25519':
        return { type: 'ECDH', name: 'X25519', size: 253 };
      case 'secp256r1':
        return { type: 'ECDH', name: 'prime256v1', size: 256 };
      case 'secp384r1':
        return { type: 'ECDH', name: 'secp384r1', size: 384 };
      default:
        return {};
    }
  }

  /**
   * Who the peer proved to be with a Milagro key exchange (server side of MILAGRO_CS: the M-Pin
   * identity hash, hex, and the identity when the server could name it); null before the
   * handshake completed (the peer's Finished verified) or when the suite authenticates nobody.
   */
  getPeerIdentity(): { readonly kind: 'mpin' | 'wcc'; readonly hashId: string; readonly identity?: string } | null {
    const p = this.#info?.peerIdentity;
    if (p === undefined) return null;
    return { kind: p.kind, hashId: Buffer.from(p.hashId).toString('hex'), ...(p.identity === undefined ? {} : { identity: p.identity }) };
  }

  /** Whether this connection resumed an earlier session (abbreviated handshake). */
  isSessionReused(): boolean {
    return this.#info?.resumed === true;
  }

  /**
   * Client: the session to pass as `session` to a later connect() (holds the master secret: keep
   * it as secret as node:tls's). Undefined on the server, before the handshake, or for Milagro
   * suites, which are never resumed.
   */
  getSession(): Buffer | undefined {
    const s = this.#info?.session;
    if (s === undefined) return undefined;
    const b = encodeSessionState(s);
    return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  }

  /** Full handshake details (suite object, group, peer identity for Milagro suites, ...). */
  get handshakeInfo(): HandshakeInfo | undefined {
    return this.#info;
  }

  /** Server side: the SNI name the client sent; client side: the name we asked for. */
  get servername(): string | false {
    return this.#info?.servername ?? false;
  }

  get remoteAddress(): string | undefined {
    return (this.#transport as Partial<Socket>).remoteAddress;
  }
  get remotePort(): number | undefined {
    return (this.#transport as Partial<Socket>).remotePort;
  }
  get remoteFamily(): string | undefined {
    return (this.#transport as Partial<Socket>).remoteFamily;
  }
  get localAddress(): string | undefined {
    return (this.#transport as Partial<Socket>).localAddress;
  }
  get localPort(): number | undefined {
    return (this.#transport as Partial<Socket>).localPort;
  }

  setNoDelay(noDelay = true): this {
    (this.#transport as Partial<Socket>).setNoDelay?.(noDelay);
    return this;
  }

  setKeepAlive(enable = false, initialDelay = 0): this {
    (this.#transport as Partial<Socket>).setKeepAlive?.(enable, initialDelay);
    return this;
  }

  setTimeout(ms: number, callback?: () => void): this {
    const sock = this.#transport as Partial<Socket>;
    sock.setTimeout?.(ms);
    if (callback !== undefined) this.once('timeout', callback);
    return this;
  }

  /** The engine state ('handshaking' | 'open' | 'closed' | 'failed'), for diagnostics. */
  get tlsState(): TlsEngine['state'] {
    return this.#engine.state;
  }
}
