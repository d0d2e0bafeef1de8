/**
 * The sans-I/O TLS 1.2 engine (style.md §1; engine-contract.md): bytes in with `receive`,
 * wire bytes and events out through `EngineEvents`. It owns the record layer, the handshake
 * reassembler and the current state, and is the single choke point where a thrown `TlsError`
 * becomes a fatal alert (any other exception: internal_error), style.md §4.
 *
 * Asynchronous key-exchange steps: when a state returns a Promise, further input is queued
 * untouched (not even deframed) until it settles, so records are never processed out of order.
 */
import {
  AlertDescription,
  AlertLevel,
  DecodeError,
  PeerAlertError,
  UnexpectedMessageError,
  alertFor,
} from '../alerts.ts';
import { concatBytes } from '../codec/bytes.ts';
import { prf, Transcript } from '../crypto/prf.ts';
import { ContentType } from '../record/content-type.ts';
import { RecordLayer, type PlainRecord } from '../record/record-layer.ts';
import type { RecordProtection } from '../record/protection.ts';
import { Traffic, type HandshakeInfo, type HandshakeIo, type Secrets, type State, type Step } from './common.ts';
import type { ClientEngineConfig, ServerEngineConfig } from './config.ts';
import { startClient } from './client.ts';
import { startServer } from './server.ts';
import { acceptsChangeCipherSpec } from './flows.ts';
import { DEFAULT_MAX_HANDSHAKE_BUFFER, HandshakeReassembler, encodeHandshake } from './messages/handshake.ts';
import { HandshakeType, type HandshakeMessage } from './messages/types.ts';

export type { HandshakeInfo } from './common.ts';
export type { PeerIdentity } from '../kex/key-exchange.ts';

export interface EngineEvents {
  /** Wire bytes to send to the peer (records, alerts). */
  onOutgoing(bytes: Uint8Array): void;
  /** Decrypted application data. */
  onData(bytes: Uint8Array): void;
  /** Handshake finished; peer Finished verified. */
  onSecure(info: HandshakeInfo): void;
  /** NSS key-log line, e.g. "CLIENT_RANDOM <hex32> <hex48>". */
  onKeylog(line: string): void;
  /** Peer sent close_notify (we answer with our own close_notify automatically unless already sent). */
  onPeerClose(): void;
  /** Fatal error. The alert (if any) was already passed to onOutgoing. The engine is dead after this. */
  onError(err: Error): void;
}

export type EngineState = 'handshaking' | 'open' | 'closed' | 'failed';

/** RFC 5246 §7.2.2 (and RFC 7507, RFC 5246 §7.4.1.4): descriptions that are always fatal. */
const alwaysFatal: ReadonlySet<number> = new Set<number>([
  AlertDescription.unexpected_message,
  AlertDescription.bad_record_mac,
  21, // decryption_failed_RESERVED
  AlertDescription.record_overflow,
  30, // decompression_failure
  AlertDescription.handshake_failure,
  AlertDescription.illegal_parameter,
  AlertDescription.unknown_ca,
  AlertDescription.access_denied,
  AlertDescription.decode_error,
  AlertDescription.decrypt_error,
  AlertDescription.protocol_version,
  AlertDescription.insufficient_security,
  AlertDescription.internal_error,
  AlertDescription.inappropriate_fallback,
  AlertDescription.unsupported_extension,
]);

/**
 * Consecutive warning alerts accepted before the connection is aborted with unexpected_message:
 * a peer must not keep us busy with alerts that carry no obligation (CVE-2016-8610 class).
 * OpenSSL's MAX_WARN_ALERT_COUNT is 5.
 */
export const MAX_CONSECUTIVE_WARNINGS = 5;
/** Consecutive empty records accepted (RFC 5246 §6.2.1 allows empty application data); OpenSSL's MAX_EMPTY_RECORDS is 32. */
export const MAX_CONSECUTIVE_EMPTY_RECORDS = 32;

/** Placeholder before the client has written its hello (start() not yet called). */
class NotStarted implements State {
  readonly name = 'ExpectServerHello';
  readonly expects: readonly number[] = [];
  handle(): never {
    throw new UnexpectedMessageError('client engine not started');
  }
}

export class TlsEngine {
  readonly #role: 'client' | 'server';
  readonly #clientConfig: ClientEngineConfig | undefined;
  readonly #events: EngineEvents;
  readonly #record = new RecordLayer();
  readonly #reassembler = new HandshakeReassembler();
  readonly #transcript = new Transcript();
  readonly #io: HandshakeIo;
  #state: State;
  #status: EngineState = 'handshaking';
  #started = false;
  #processing = false;
  #sentClose = false;
  #receivedClose = false;

  /** Handshake messages waiting to be framed into records (one flight). */
  #flight: Uint8Array[] = [];
  /** Wire bytes waiting to be emitted through onOutgoing. */
  #out: Uint8Array[] = [];
  /** Input that arrived while an async step was pending. */
  #queue: Uint8Array[] = [];
  #queuedBytes = 0;
  /** Peer input held unprocessed before the handshake completes; more is a fatal error. */
  readonly #maxHandshakeBuffer: number;
  #pending: Promise<void> | undefined;
  #info: HandshakeInfo | undefined;
  /** Kept for exportKeyingMaterial (RFC 5705) and getFinished / getPeerFinished (node:tls). */
  #secrets: Secrets | undefined;
  #ownFinished: Uint8Array | undefined;
  #peerFinished: Uint8Array | undefined;
  readonly #recordPerMessage: boolean;
  /** Server: where this connection's session was cached, to drop it after a fatal alert. */
  #sessionStore: ServerEngineConfig['sessionStore'];
  /** Largest plaintext we put in one record (RFC 6066 §4 / RFC 8449 §4); undefined: the record layer's. */
  #sendLimit: number | undefined;
  /** Warning alerts / empty records received in a row (see MAX_CONSECUTIVE_*). */
  #warningsInRow = 0;
  #emptyInRow = 0;

  private constructor(
    role: 'client' | 'server',
    events: EngineEvents,
    clientConfig: ClientEngineConfig | undefined,
    initial: State,
    recordPerMessage: boolean,
    maxHandshakeBuffer: number | undefined,
  ) {
    this.#role = role;
    this.#maxHandshakeBuffer = maxHandshakeBuffer ?? DEFAULT_MAX_HANDSHAKE_BUFFER;
    this.#recordPerMessage = recordPerMessage;
    this.#events = events;
    this.#clientConfig = clientConfig;
    this.#state = initial;
    this.#io = this.#makeIo();
  }

  static client(config: ClientEngineConfig, events: EngineEvents): TlsEngine {
    return new TlsEngine('client', events, config, new NotStarted(), config.recordPerHandshakeMessage === true, config.maxHandshakeBuffer);
  }

  static server(config: ServerEngineConfig, events: EngineEvents): TlsEngine {
    const engine = new TlsEngine('server', events, undefined, startServer(config), config.recordPerHandshakeMessage === true, config.maxHandshakeBuffer);
    engine.#started = true;
    engine.#sessionStore = config.sessionStore;
    return engine;
  }

  get state(): EngineState {
    return this.#status;
  }

  get role(): 'client' | 'server' {
    return this.#role;
  }

  /** Details of the completed handshake (undefined before). */
  get info(): HandshakeInfo | undefined {
    return this.#info;
  }

  /** An asynchronous key-exchange step is running: input is only queued (the caller may pause its source). */
  get waiting(): boolean {
    return this.#pending !== undefined;
  }

  /** Peer bytes received and not yet processed: queued, in partial records or partial handshake messages. */
  get bufferedInput(): number {
    return this.#queuedBytes + this.#record.buffered + this.#reassembler.buffered;
  }

  /** Resolves when all queued input has been processed. */
  get idle(): Promise<void> {
    return this.#waitIdle();
  }

  async #waitIdle(): Promise<void> {
    while (this.#pending !== undefined) await this.#pending;
  }

  /** Client: build and send the ClientHello. Server: no-op. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    const config = this.#clientConfig;
    if (config === undefined) return;
    this.#processing = true;
    try {
      this.#guard(() => this.#advance(startClient(config, this.#io)));
    } finally {
      this.#processing = false;
    }
    this.#drain();
  }

  /** Bytes from the peer, split anywhere. Never throws; errors go to onError. */
  receive(bytes: Uint8Array): void {
    if (this.#status === 'failed' || this.#receivedClose || bytes.length === 0) return;
    this.#queue.push(bytes);
    this.#queuedBytes += bytes.length;
    this.#drain();
    // What is still held now is waiting for an async step or for the rest of a record/message.
    // Before the handshake completes a peer has no reason to send more than a flight ahead.
    if (this.#status === 'handshaking' && this.bufferedInput > this.#maxHandshakeBuffer) {
      const held = this.bufferedInput;
      this.#fail(
        new UnexpectedMessageError(
          `peer sent ${held} bytes ahead of the handshake (limit ${this.#maxHandshakeBuffer}, maxHandshakeBuffer)`,
        ),
      );
    }
  }

  /**
   * Move queued input into the record layer and process it, unless an async step is pending or
   * we are already inside processing (a re-entrant `receive` from an event handler is queued and
   * picked up by the outer loop).
   */
  #drain(): void {
    if (this.#processing || this.#pending !== undefined || !this.#started) return;
    this.#processing = true;
    try {
      // Flushing output can make a synchronously wired peer answer re-entrantly; its bytes land
      // in the queue, so keep going until the queue stays empty.
      while (this.#queue.length > 0 && this.#pending === undefined && this.#status !== 'failed' && !this.#receivedClose) {
        const queued = this.#queue;
        this.#queue = [];
        this.#queuedBytes = 0;
        this.#guard(() => {
          for (const q of queued) this.#record.push(q);
          this.#pump();
        });
      }
    } finally {
      this.#processing = false;
    }
  }

  /** Application data; throws if the handshake is not complete or the connection is closed. */
  write(data: Uint8Array): void {
    if (this.#status !== 'open' || this.#sentClose) throw new Error(`cannot write: connection is ${this.#status}`);
    this.#out.push(this.#seal(ContentType.application_data, data));
    this.#flushOut();
  }

  /** Send close_notify (idempotent). */
  close(): void {
    if (this.#sentClose || this.#status === 'failed') return;
    this.#sendCloseNotify();
    this.#flushOut();
  }

  /**
   * RFC 5705 keying material exporter (node:tls `exportKeyingMaterial`):
   * PRF(master_secret, label, client_random + server_random [+ uint16 length + context]).
   * Throws before the handshake completes.
   */
  exportKeyingMaterial(length: number, label: string, context?: Uint8Array): Uint8Array {
    const secrets = this.#secrets;
    if (secrets === undefined) throw new Error('exportKeyingMaterial: the TLS handshake has not completed');
    if (context !== undefined && context.length > 0xffff) throw new RangeError('exportKeyingMaterial: context longer than 65535 bytes');
    const { clientRandom: cr, serverRandom: sr } = secrets;
    const seed =
      context === undefined ? concatBytes(cr, sr) : concatBytes(cr, sr, new Uint8Array([context.length >> 8, context.length & 0xff]), context);
    return prf(secrets.suite.prfHash, secrets.master, label, seed, length);
  }

  /** verify_data of the last Finished we sent / the peer sent (RFC 5246 §7.4.9); undefined before. */
  get ownFinished(): Uint8Array | undefined {
    return this.#ownFinished;
  }
  get peerFinished(): Uint8Array | undefined {
    return this.#peerFinished;
  }

  // ---- internals ----

  /** Finished verify_data as it passes (node:tls getFinished / getPeerFinished). */
  #noteMessage(type: number, body: Uint8Array, ours: boolean): void {
    if (type !== HandshakeType.finished) return;
    if (ours) this.#ownFinished = body.slice();
    else this.#peerFinished = body.slice();
  }


  #makeIo(): HandshakeIo {
    return {
      transcript: this.#transcript,
      sendHandshake: (type, body) => {
        this.#noteMessage(type, body, true);
        const raw = encodeHandshake(type, body);
        this.#transcript.add(raw);
        this.#flight.push(raw);
      },
      flush: () => this.#flushFlight(),
      sendChangeCipherSpec: () => {
        this.#flushFlight();
        // Nothing follows our close_notify (RFC 5246 §7.2.1); the handshake may still run to
        // process the peer's answer, but its output is dropped.
        if (!this.#sentClose) this.#out.push(this.#record.write(ContentType.change_cipher_spec, new Uint8Array([1])));
        this.#record.activateWrite();
      },
      setPendingProtection: (read: RecordProtection, write: RecordProtection) => {
        this.#record.setPendingRead(read);
        this.#record.setPendingWrite(write);
      },
      activateRead: () => this.#record.activateRead(),
      setRecordVersion: (write, expectRead) => {
        this.#record.writeVersion = write;
        this.#record.expectedReadVersion = expectRead;
      },
      setFragmentLimits: (send, receive) => {
        if (receive !== undefined) this.#record.setMaxPlaintext(receive);
        this.#sendLimit = send;
      },
      sendWarning: (alert) => {
        this.#flushFlight();
        if (!this.#sentClose) this.#out.push(this.#record.write(ContentType.alert, new Uint8Array([AlertLevel.warning, alert])));
      },
      keylog: (line) => this.#events.onKeylog(line),
      secure: (info, secrets) => {
        this.#info = info;
        this.#secrets = secrets;
        this.#status = this.#sentClose ? 'closed' : 'open';
        this.#flushOut();
        this.#events.onSecure(info);
      },
    };
  }

  #flushFlight(): void {
    if (this.#flight.length === 0) return;
    if (this.#sentClose) {
      this.#flight = [];
      return;
    }
    if (this.#recordPerMessage) {
      for (const m of this.#flight) this.#out.push(this.#seal(ContentType.handshake, m));
      this.#flight = [];
      return;
    }
    const limit = this.#sendLimit;
    if (limit !== undefined) {
      // With a fragment limit, pack whole messages into records so that only a message larger
      // than the limit is split: mbedTLS 2.28 cannot reassemble a TLS handshake message that
      // straddles records.
      let group: Uint8Array[] = [];
      let size = 0;
      const emit = (): void => {
        if (group.length > 0) this.#out.push(this.#seal(ContentType.handshake, concatBytes(...group)));
        group = [];
        size = 0;
      };
      for (const m of this.#flight) {
        if (size + m.length > limit) emit();
        group.push(m);
        size += m.length;
      }
      emit();
      this.#flight = [];
      return;
    }
    const data = this.#flight.length === 1 ? (this.#flight[0] as Uint8Array) : concatBytes(...this.#flight);
    this.#flight = [];
    this.#out.push(this.#seal(ContentType.handshake, data));
  }

  /** Protect `data` as records no larger than the negotiated fragment limit. */
  #seal(type: ContentType, data: Uint8Array): Uint8Array {
    // The record layer splits at the limit itself and seals every record into one buffer.
    return this.#record.write(type, data, this.#sendLimit);
  }

  #flushOut(): void {
    if (this.#out.length === 0) return;
    const bytes = this.#out.length === 1 ? (this.#out[0] as Uint8Array) : concatBytes(...this.#out);
    this.#out = [];
    this.#events.onOutgoing(bytes);
  }

  /** The choke point: run `f`; any exception becomes a fatal alert and onError. */
  #guard(f: () => void): void {
    try {
      f();
    } catch (e) {
      this.#fail(e);
    }
    this.#flushOut();
  }

  #fail(e: unknown): void {
    if (this.#status === 'failed') return;
    this.#status = 'failed';
    this.#flight = [];
    this.#queue = [];
    this.#queuedBytes = 0;
    // Nothing more will be read: release what the peer made us hold.
    this.#record.discardInput();
    this.#reassembler.clear();
    // RFC 5246 §7.2.2: a session whose connection ended with a fatal alert must not be resumed
    // (the session-ID cache entry goes; an issued ticket cannot be recalled, RFC 5077 §5).
    if (this.#info !== undefined) this.#sessionStore?.remove(this.#info.sessionId);
    const err = e instanceof Error ? e : new Error(String(e));
    if (!(err instanceof PeerAlertError)) {
      const alert = alertFor(err);
      try {
        this.#out.push(this.#record.write(ContentType.alert, new Uint8Array([AlertLevel.fatal, alert])));
      } catch {
        // The write side itself failed (e.g. sequence exhausted): nothing more can be sent.
      }
    }
    this.#flushOut();
    this.#events.onError(err);
  }

  /** Install the next state, or wait for it when the step is asynchronous. */
  #advance(step: Step): boolean {
    if (!(step instanceof Promise)) {
      this.#state = step;
      return false;
    }
    this.#pending = step.then(
      (state) => {
        this.#pending = undefined;
        if (this.#status === 'failed') return;
        this.#state = state;
        this.#processing = true;
        try {
          // Messages already deframed (left in the reassembler or the record layer) come first.
          this.#guard(() => {
            this.#flushFlight();
            this.#pump();
          });
        } finally {
          this.#processing = false;
        }
        this.#drain();
      },
      (err: unknown) => {
        this.#pending = undefined;
        this.#guard(() => {
          throw err;
        });
      },
    );
    return true;
  }

  /** Process buffered messages and records until input runs out or a step goes async. */
  #pump(): void {
    for (;;) {
      if (this.#status === 'failed' || this.#receivedClose || this.#pending !== undefined) return;
      const msg = this.#reassembler.next(this.#acceptType);
      if (msg !== undefined) {
        if (this.#dispatch(msg)) return;
        continue;
      }
      const rec = this.#record.read();
      if (rec === undefined) return;
      this.#onRecord(rec);
    }
  }

  #onRecord(rec: PlainRecord): void {
    if (rec.type !== ContentType.alert) this.#warningsInRow = 0;
    if (rec.data.length > 0) {
      this.#emptyInRow = 0;
    } else if (++this.#emptyInRow > MAX_CONSECUTIVE_EMPTY_RECORDS) {
      throw new UnexpectedMessageError(`more than ${MAX_CONSECUTIVE_EMPTY_RECORDS} empty records in a row`);
    }
    switch (rec.type) {
      case ContentType.handshake:
        this.#reassembler.push(rec.data);
        return;
      case ContentType.change_cipher_spec:
        this.#onChangeCipherSpec(rec.data);
        return;
      case ContentType.alert:
        this.#onAlert(rec.data);
        return;
      case ContentType.application_data:
        // RFC 5246 §7.4.9 / §6: no application data before the handshake completes.
        if (!(this.#state instanceof Traffic)) throw new UnexpectedMessageError('application data before the handshake completed');
        // Keep a partial handshake message from being interleaved with data (RFC 5246 §6.2.1 permits it, we do not need it).
        if (rec.data.length > 0) this.#events.onData(rec.data);
        return;
      default:
        throw new UnexpectedMessageError(`record type ${String(rec.type)}`);
    }
  }

  #onChangeCipherSpec(data: Uint8Array): void {
    // RFC 5246 §7.1: a single byte of value 1. The alert is not specified; OpenSSL and GnuTLS send
    // unexpected_message (src/handshake/README.md, "Alerts where RFC 5246 leaves the choice open").
    if (data.length !== 1 || data[0] !== 1) throw new UnexpectedMessageError('ChangeCipherSpec must be the single byte 1');
    // §7.1 / style.md §5: only in its own state, and never in the middle of a handshake message.
    if (this.#reassembler.hasPartial) throw new UnexpectedMessageError('ChangeCipherSpec inside a fragmented handshake message');
    const state = this.#state;
    if (!acceptsChangeCipherSpec(state.name) || state.handleChangeCipherSpec === undefined) {
      throw new UnexpectedMessageError(`ChangeCipherSpec in state ${state.name}`);
    }
    this.#advance(state.handleChangeCipherSpec(this.#io));
  }

  #onAlert(data: Uint8Array): void {
    // RFC 5246 §7.2: struct { AlertLevel level; AlertDescription description; }
    // A malformed alert is answered with unexpected_message, as OpenSSL and GnuTLS do.
    if (data.length !== 2) throw new UnexpectedMessageError(`alert record of ${data.length} bytes`);
    const level = data[0] as number;
    const description = data[1] as number;
    if (level !== AlertLevel.warning && level !== AlertLevel.fatal) throw new UnexpectedMessageError(`alert level ${level}`);
    if (description === AlertDescription.close_notify) {
      // §7.2.1: answer with our own close_notify and stop reading.
      this.#receivedClose = true;
      if (!this.#sentClose) this.#sendCloseNotify();
      this.#status = 'closed';
      this.#flushOut();
      this.#events.onPeerClose();
      return;
    }
    // §7.2.2 lists alerts that are "always fatal": treat them so even at warning level.
    if (level === AlertLevel.fatal || alwaysFatal.has(description)) throw new PeerAlertError(description);
    // Other warnings (user_canceled, no_renegotiation, certificate_* at warning level) carry no
    // obligation for us; we go on — but not forever (OpenSSL: SSL_R_TOO_MANY_WARN_ALERTS).
    if (++this.#warningsInRow > MAX_CONSECUTIVE_WARNINGS) {
      throw new UnexpectedMessageError(`more than ${MAX_CONSECUTIVE_WARNINGS} warning alerts in a row`);
    }
  }

  #sendCloseNotify(): void {
    this.#flushFlight();
    this.#sentClose = true;
    this.#out.push(this.#record.write(ContentType.alert, new Uint8Array([AlertLevel.warning, AlertDescription.close_notify])));
    if (this.#status !== 'failed') this.#status = 'closed';
  }

  /**
   * Called by the reassembler as soon as a message header is complete, so a message the current
   * state cannot take is refused before its body is buffered. The client takes a HelloRequest
   * in any state (RFC 5246 §7.4.1.1).
   */
  readonly #acceptType = (type: number): void => {
    if (this.#role === 'client' && type === HandshakeType.hello_request) return;
    const state = this.#state;
    if (!state.expects.includes(type)) throw new UnexpectedMessageError(`handshake message ${type} in state ${state.name}`);
  };

  /** Returns true when the state went asynchronous (input processing pauses). */
  #dispatch(msg: HandshakeMessage): boolean {
    const state = this.#state;
    // RFC 5246 §7.4.1.1: a HelloRequest during a handshake is ignored by the client; it is not
    // part of the transcript. After the handshake the Traffic state refuses it (no_renegotiation).
    if (this.#role === 'client' && msg.type === HandshakeType.hello_request) {
      if (msg.body.length !== 0) throw new DecodeError('HelloRequest with a body');
      if (!(state instanceof Traffic)) return false;
    }
    this.#acceptType(msg.type);
    const step = state.handle(msg, this.#io);
    // Noted after the state parsed (and so length-checked) the message; a refused renegotiation
    // hello (Traffic) changes nothing.
    if (!(state instanceof Traffic)) this.#noteMessage(msg.type, msg.body, false);
    return this.#advance(step);
  }
}
