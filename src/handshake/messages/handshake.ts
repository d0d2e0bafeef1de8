/**
 * Handshake message framing (RFC 5246 §7.4): `HandshakeType msg_type; uint24 length; body`.
 * The record layer may split one message across records or pack several into one
 * (RFC 5246 §6.2.1), so incoming fragments go through a reassembler that hands out whole
 * messages with their exact raw bytes for the transcript hash.
 */
import { DecodeError } from '../../alerts.ts';
import { ByteReader } from '../../codec/reader.ts';
import { ByteWriter } from '../../codec/writer.ts';
import { HandshakeType, type HandshakeMessage } from './types.ts';

const headerLength = 4;

/** Header + body. */
export function encodeHandshake(type: number, body: Uint8Array): Uint8Array {
  const w = new ByteWriter(headerLength + body.length);
  w.u8(type);
  w.withLength24((b) => b.bytes(body));
  return w.finish();
}

/**
 * Parses exactly one complete message (header length must match the buffer), for replays and
 * tests; network input goes through `HandshakeReassembler`.
 */
export function decodeHandshake(raw: Uint8Array): HandshakeMessage {
  const r = new ByteReader(raw, 'handshake');
  const type = r.u8('msg_type');
  const body = r.opaque24('body');
  r.expectEnd();
  return { type, body, raw: raw.slice() };
}

export interface ReassemblerOptions {
  /** Largest accepted body for a message type without its own limit below. Default 64 KiB (as rustls, Go). */
  readonly maxMessageSize?: number;
  /** Largest accepted Certificate body. Default 256 KiB (Go's maxHandshakeCertificateMsg). */
  readonly maxCertificateSize?: number;
  /** Largest accepted ClientHello body. Default: the largest its encoding allows (`MAX_CLIENT_HELLO`). */
  readonly maxClientHelloSize?: number;
}

/**
 * The largest ClientHello body the RFC 5246 §7.4.1.2 encoding allows: version, random,
 * session_id<0..32>, cipher_suites<2..2^16-2>, compression_methods<1..2^8-1>, extensions<0..2^16-1>.
 * A legitimate hello may carry thousands of extensions or signature schemes (issue 11 §5), so it
 * is not held to the 64 KiB of the other messages.
 */
export const MAX_CLIENT_HELLO = 2 + 32 + (1 + 32) + (2 + 65534) + (1 + 255) + (2 + 65535);
export const DEFAULT_MAX_MESSAGE = 0x10000;
export const DEFAULT_MAX_CERTIFICATE = 0x40000;
/**
 * Peer input held unprocessed before the handshake completes (queued while a key-exchange step is
 * pending, plus partial records and messages): the largest message we accept (a 256 KiB
 * Certificate) plus 64 KiB. A peer that sends more than that ahead of the handshake is not
 * following it; the engine answers unexpected_message.
 */
export const DEFAULT_MAX_HANDSHAKE_BUFFER = DEFAULT_MAX_CERTIFICATE + 0x10000;

/** Bodies whose size the protocol fixes, whatever the options say. */
const fixedLimits: ReadonlyMap<number, number> = new Map([
  [HandshakeType.hello_request, 0], // RFC 5246 §7.4.1.1: struct { }
  [HandshakeType.server_hello_done, 0], // §7.4.5: struct { }
  [HandshakeType.finished, 64], // §7.4.9: verify_data is 12 bytes for every TLS 1.2 suite we know
]);

/**
 * Buffers handshake fragments and yields complete messages. As soon as the 4-byte header is
 * complete the type is checked (the caller's `accept`, i.e. the current state) and then the
 * declared length against that type's limit, so a peer can make us buffer neither a message the
 * state cannot take nor one larger than its type allows.
 */
interface Limits {
  readonly message: number;
  readonly certificate: number;
  readonly clientHello: number;
}

function resolveLimits(options: ReassemblerOptions): Limits {
  const message = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE;
  return Object.freeze({
    message,
    certificate: Math.max(options.maxCertificateSize ?? DEFAULT_MAX_CERTIFICATE, message),
    clientHello: Math.max(options.maxClientHelloSize ?? MAX_CLIENT_HELLO, message),
  });
}

function limitFor(type: number, limits: Limits): number {
  const fixed = fixedLimits.get(type);
  if (fixed !== undefined) return fixed;
  if (type === HandshakeType.certificate) return limits.certificate;
  if (type === HandshakeType.client_hello) return limits.clientHello;
  return limits.message;
}

const defaultLimits = resolveLimits({});

/** The default body limit for a handshake message type (see `HandshakeReassembler#limitFor`). */
export function messageSizeLimit(type: number): number {
  return limitFor(type, defaultLimits);
}

export class HandshakeReassembler {
  readonly #limits: Limits;
  #buf: Uint8Array = new Uint8Array(0);
  #start = 0;
  #end = 0;

  constructor(options: ReassemblerOptions = {}) {
    this.#limits = resolveLimits(options);
  }

  /** Largest body accepted for a message of this type. */
  limitFor(type: number): number {
    return limitFor(type, this.#limits);
  }

  /** A partial message is buffered: RFC 5246 §7.1 forbids a ChangeCipherSpec here. */
  get hasPartial(): boolean {
    return this.#end > this.#start;
  }

  /** Bytes held (partial messages, or whole ones not yet taken with `next`). */
  get buffered(): number {
    return this.#end - this.#start;
  }

  /** Drop everything buffered (the connection failed). */
  clear(): void {
    this.#buf = new Uint8Array(0);
    this.#start = 0;
    this.#end = 0;
  }

  push(fragment: Uint8Array): void {
    if (fragment.length === 0) return;
    const pending = this.#end - this.#start;
    if (this.#end + fragment.length > this.#buf.length) {
      // Compact, growing geometrically so byte-by-byte fragments stay linear overall.
      let cap = Math.max(this.#buf.length, 256);
      while (cap < pending + fragment.length) cap *= 2;
      const next = cap === this.#buf.length ? this.#buf : new Uint8Array(cap);
      // TypedArray#set copes with an overlapping source when compacting in place.
      next.set(this.#buf.subarray(this.#start, this.#end), 0);
      this.#buf = next;
      this.#start = 0;
      this.#end = pending;
    }
    this.#buf.set(fragment, this.#end);
    this.#end += fragment.length;
  }

  /**
   * The next complete message, or undefined while more bytes are needed. `accept(type)` is called
   * once the header is complete and throws (unexpected_message) for a type the caller cannot take
   * now; a declared length above the type's limit throws DecodeError. Both happen before the body
   * is waited for.
   */
  next(accept?: (type: number) => void): HandshakeMessage | undefined {
    const avail = this.#end - this.#start;
    if (avail < headerLength) return undefined;
    const at = this.#start;
    const type = this.#buf[at] as number;
    const length =
      ((this.#buf[at + 1] as number) << 16) | ((this.#buf[at + 2] as number) << 8) | (this.#buf[at + 3] as number);
    accept?.(type);
    const max = this.limitFor(type);
    if (length > max) throw new DecodeError(`handshake message type ${type} of ${length} bytes exceeds ${max}`);
    if (avail < headerLength + length) return undefined;
    const raw = this.#buf.slice(at, at + headerLength + length);
    this.#start += headerLength + length;
    if (this.#start === this.#end) {
      this.#start = 0;
      this.#end = 0;
      // Do not keep a large Certificate-sized buffer alive for the rest of the connection.
      if (this.#buf.length > this.#limits.message) this.#buf = new Uint8Array(0);
    }
    return { type, body: raw.subarray(headerLength), raw };
  }
}

