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
  /** Largest accepted body for any message except Certificate. Default 64 KiB (as rustls, Go). */
  readonly maxMessageSize?: number;
  /** Largest accepted Certificate body. Default 256 KiB (Go's maxHandshakeCertificateMsg). */
  readonly maxCertificateSize?: number;
}

/**
 * Buffers handshake fragments and yields complete messages. The declared length is checked as
 * soon as the 4-byte header is complete, so a peer cannot make us buffer an oversize message.
 */
export class HandshakeReassembler {
  readonly #maxMessageSize: number;
  readonly #maxCertificateSize: number;
  #buf: Uint8Array = new Uint8Array(0);
  #start = 0;
  #end = 0;

  constructor(options: ReassemblerOptions = {}) {
    this.#maxMessageSize = options.maxMessageSize ?? 0x10000;
    this.#maxCertificateSize = Math.max(options.maxCertificateSize ?? 0x40000, this.#maxMessageSize);
  }

  /** A partial message is buffered: RFC 5246 §7.1 forbids a ChangeCipherSpec here. */
  get hasPartial(): boolean {
    return this.#end > this.#start;
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

  next(): HandshakeMessage | undefined {
    const avail = this.#end - this.#start;
    if (avail < headerLength) return undefined;
    const at = this.#start;
    const type = this.#buf[at] as number;
    const length =
      ((this.#buf[at + 1] as number) << 16) | ((this.#buf[at + 2] as number) << 8) | (this.#buf[at + 3] as number);
    const max = type === HandshakeType.certificate ? this.#maxCertificateSize : this.#maxMessageSize;
    if (length > max) throw new DecodeError(`handshake message type ${type} of ${length} bytes exceeds ${max}`);
    if (avail < headerLength + length) return undefined;
    const raw = this.#buf.slice(at, at + headerLength + length);
    this.#start += headerLength + length;
    if (this.#start === this.#end) {
      this.#start = 0;
      this.#end = 0;
      // Do not keep a large Certificate-sized buffer alive for the rest of the connection.
      if (this.#buf.length > this.#maxMessageSize) this.#buf = new Uint8Array(0);
    }
    return { type, body: raw.subarray(headerLength), raw };
  }
}
