/**
 * A bounded cursor over untrusted bytes. Every read checks the remaining length and throws
 * `DecodeError` (→ decode_error alert) instead of over-reading; length-prefixed vectors yield a
 * child reader limited to exactly that many bytes, so an inner length can never reach past its
 * enclosing structure.
 */
import { DecodeError } from '../alerts.ts';

export class ByteReader {
  readonly #buf: Uint8Array;
  #pos: number;
  readonly #end: number;
  readonly #what: string;

  constructor(buf: Uint8Array, what = 'message') {
    this.#buf = buf;
    this.#pos = 0;
    this.#end = buf.length;
    this.#what = what;
  }

  get remaining(): number {
    return this.#end - this.#pos;
  }

  get offset(): number {
    return this.#pos;
  }

  #need(n: number, field: string): number {
    if (n > this.#end - this.#pos) {
      throw new DecodeError(`${this.#what}: truncated ${field} (need ${n} bytes, have ${this.#end - this.#pos})`);
    }
    const at = this.#pos;
    this.#pos += n;
    return at;
  }

  u8(field = 'u8'): number {
    return this.#buf[this.#need(1, field)] as number;
  }

  u16(field = 'u16'): number {
    const at = this.#need(2, field);
    return ((this.#buf[at] as number) << 8) | (this.#buf[at + 1] as number);
  }

  u24(field = 'u24'): number {
    const at = this.#need(3, field);
    return ((this.#buf[at] as number) << 16) | ((this.#buf[at + 1] as number) << 8) | (this.#buf[at + 2] as number);
  }

  u32(field = 'u32'): number {
    const at = this.#need(4, field);
    return (
      (((this.#buf[at] as number) << 24) >>> 0) +
      (((this.#buf[at + 1] as number) << 16) | ((this.#buf[at + 2] as number) << 8) | (this.#buf[at + 3] as number))
    );
  }

  /** Exactly n bytes, copied (callers may keep them after the buffer is reused). */
  bytes(n: number, field = 'bytes'): Uint8Array {
    const at = this.#need(n, field);
    return this.#buf.slice(at, at + n);
  }

  /** All remaining bytes, copied. */
  rest(): Uint8Array {
    return this.bytes(this.remaining, 'rest');
  }

  /** A child reader over the next n bytes. */
  sub(n: number, field = 'vector'): ByteReader {
    const at = this.#need(n, field);
    return new ByteReader(this.#buf.subarray(at, at + n), `${this.#what}.${field}`);
  }

  vec8(field = 'vector', min = 0, max = 0xff): ByteReader {
    return this.#vec(this.u8(`${field} length`), field, min, max);
  }

  vec16(field = 'vector', min = 0, max = 0xffff): ByteReader {
    return this.#vec(this.u16(`${field} length`), field, min, max);
  }

  vec24(field = 'vector', min = 0, max = 0xffffff): ByteReader {
    return this.#vec(this.u24(`${field} length`), field, min, max);
  }

  #vec(len: number, field: string, min: number, max: number): ByteReader {
    if (len < min || len > max) {
      throw new DecodeError(`${this.#what}: ${field} length ${len} outside [${min}, ${max}]`);
    }
    return this.sub(len, field);
  }

  /** Length-prefixed opaque values, copied. */
  opaque8(field = 'opaque', min = 0, max = 0xff): Uint8Array {
    return this.vec8(field, min, max).rest();
  }

  opaque16(field = 'opaque', min = 0, max = 0xffff): Uint8Array {
    return this.vec16(field, min, max).rest();
  }

  opaque24(field = 'opaque', min = 0, max = 0xffffff): Uint8Array {
    return this.vec24(field, min, max).rest();
  }

  /** Reject trailing bytes: every structure must be consumed exactly. */
  expectEnd(): void {
    if (this.#pos !== this.#end) {
      throw new DecodeError(`${this.#what}: ${this.#end - this.#pos} trailing bytes`);
    }
  }
}
