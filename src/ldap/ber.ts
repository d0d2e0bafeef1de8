/**
 * A bounded BER reader/writer for the LDAP subset (RFC 4511 §5.1): definite lengths only,
 * single-byte tags, lengths of at most 4 octets. Every byte read comes from an untrusted peer,
 * so each read is checked against its enclosing element and any violation throws `BerError`
 * (the proxy answers it with a protocol-error notice of disconnection). Nothing here recurses:
 * the structure check walks nested elements with an explicit, depth-limited stack.
 */
import { concatBytes } from '../codec/bytes.ts';

export type BerErrorCode = 'malformed' | 'too_large' | 'too_deep' | 'unexpected';

export class BerError extends Error {
  readonly code: BerErrorCode;
  constructor(code: BerErrorCode, message: string) {
    super(message);
    this.name = 'BerError';
    this.code = code;
  }
}

/** One element: tag byte and where its value lies in the buffer. */
export interface Tlv {
  readonly tag: number;
  readonly constructed: boolean;
  /** Offset of the tag byte. */
  readonly start: number;
  /** Offset of the first value byte. */
  readonly valueStart: number;
  /** Offset just past the value. */
  readonly end: number;
}

export const Tag = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  ENUMERATED: 0x0a,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/**
 * Reads the header of the element at `offset`. Returns undefined when `buf` ends before the
 * header or the value is complete (more bytes may come), throws BerError when the header is
 * invalid or the element would exceed `maxLength` bytes in all.
 */
export function peekTlv(buf: Uint8Array, offset: number, maxLength: number): Tlv | undefined {
  if (offset >= buf.length) return undefined;
  const tag = buf[offset] as number;
  if ((tag & 0x1f) === 0x1f) throw new BerError('malformed', `multi-byte BER tag 0x${tag.toString(16)} (LDAP uses single-byte tags)`);
  if (offset + 1 >= buf.length) return undefined;
  const first = buf[offset + 1] as number;
  let length: number;
  let valueStart: number;
  if (first < 0x80) {
    length = first;
    valueStart = offset + 2;
  } else {
    const n = first & 0x7f;
    if (n === 0) throw new BerError('malformed', 'indefinite BER length (RFC 4511 §5.1 allows definite lengths only)');
    if (n > 4) throw new BerError('too_large', `BER length of ${n} octets (at most 4 accepted)`);
    if (offset + 2 + n > buf.length) return undefined;
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + (buf[offset + 2 + i] as number);
    valueStart = offset + 2 + n;
  }
  const end = valueStart + length;
  if (end - offset > maxLength) throw new BerError('too_large', `BER element of ${end - offset} bytes exceeds the limit of ${maxLength}`);
  if (end > buf.length) return undefined;
  return { tag, constructed: (tag & 0x20) !== 0, start: offset, valueStart, end };
}

/** Like peekTlv, but the element must be complete within [offset, limit). */
function readTlvWithin(buf: Uint8Array, offset: number, limit: number): Tlv {
  const t = peekTlv(buf.subarray(0, limit), offset, limit - offset);
  if (t === undefined) throw new BerError('malformed', `BER element at offset ${offset} runs past its enclosing element`);
  return t;
}

/**
 * Checks that [start, end) is a sequence of well-formed elements, descending into constructed
 * ones, at most `maxDepth` levels and `maxElements` elements in all (bounded work per byte).
 */
export function validateBer(buf: Uint8Array, start: number, end: number, maxDepth: number, maxElements = 1 << 16): void {
  const ends: number[] = [end];
  let pos = start;
  let count = 0;
  while (ends.length > 0) {
    const limit = ends[ends.length - 1] as number;
    if (pos === limit) {
      ends.pop();
      continue;
    }
    const t = readTlvWithin(buf, pos, limit);
    if (++count > maxElements) throw new BerError('too_large', `more than ${maxElements} BER elements in one message`);
    if (t.constructed) {
      if (ends.length > maxDepth) throw new BerError('too_deep', `BER nesting deeper than ${maxDepth} levels`);
      ends.push(t.end);
      pos = t.valueStart;
    } else {
      pos = t.end;
    }
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A cursor over the elements of one constructed value (or a whole buffer). */
export class BerReader {
  readonly #buf: Uint8Array;
  #pos: number;
  readonly #end: number;

  constructor(buf: Uint8Array, start = 0, end = buf.length) {
    this.#buf = buf;
    this.#pos = start;
    this.#end = end;
  }

  get done(): boolean {
    return this.#pos >= this.#end;
  }

  get buffer(): Uint8Array {
    return this.#buf;
  }

  peekTag(): number | undefined {
    return this.done ? undefined : this.#buf[this.#pos];
  }

  /** The next element; with `tag`, it must carry that tag. */
  next(tag?: number, what = 'element'): Tlv {
    if (this.done) throw new BerError('malformed', `missing ${what}`);
    const t = readTlvWithin(this.#buf, this.#pos, this.#end);
    if (tag !== undefined && t.tag !== tag) {
      throw new BerError('unexpected', `expected ${what} (tag 0x${tag.toString(16)}), found tag 0x${t.tag.toString(16)}`);
    }
    this.#pos = t.end;
    return t;
  }

  /** Reader over the value of the next (constructed) element. */
  enter(tag: number, what: string): BerReader {
    const t = this.next(tag, what);
    return new BerReader(this.#buf, t.valueStart, t.end);
  }

  value(t: Tlv): Uint8Array {
    return this.#buf.subarray(t.valueStart, t.end);
  }

  /** INTEGER / ENUMERATED within the signed 32-bit range (all LDAP needs). */
  integer(tag: number = Tag.INTEGER, what = 'INTEGER'): number {
    const v = this.value(this.next(tag, what));
    if (v.length === 0 || v.length > 4) throw new BerError('malformed', `${what} of ${v.length} bytes (1..4 accepted)`);
    let n = (v[0] as number) & 0x80 ? -1 : 0;
    for (const b of v) n = (n * 256 + b) | 0;
    return n;
  }

  octets(tag: number = Tag.OCTET_STRING, what = 'OCTET STRING'): Uint8Array {
    return this.value(this.next(tag, what));
  }

  /** An LDAPString (UTF-8, RFC 4511 §4.1.2). */
  string(tag: number = Tag.OCTET_STRING, what = 'LDAPString'): string {
    try {
      return utf8.decode(this.octets(tag, what));
    } catch (e) {
      if (e instanceof BerError) throw e;
      throw new BerError('malformed', `${what} is not valid UTF-8`);
    }
  }

  boolean(what = 'BOOLEAN'): boolean {
    const v = this.octets(Tag.BOOLEAN, what);
    if (v.length !== 1) throw new BerError('malformed', `${what} of ${v.length} bytes`);
    return v[0] !== 0;
  }
}

// ---- writer ----------------------------------------------------------------------------

function lengthBytes(n: number): Uint8Array {
  if (n < 0x80) return Uint8Array.of(n);
  if (n < 0x100) return Uint8Array.of(0x81, n);
  if (n < 0x10000) return Uint8Array.of(0x82, n >> 8, n & 0xff);
  if (n < 0x1000000) return Uint8Array.of(0x83, n >> 16, (n >> 8) & 0xff, n & 0xff);
  return Uint8Array.of(0x84, (n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff);
}

/** tag + definite length + the concatenated contents. */
export function berTlv(tag: number, ...contents: readonly Uint8Array[]): Uint8Array {
  const value = contents.length === 1 ? (contents[0] as Uint8Array) : concatBytes(...contents);
  return concatBytes(Uint8Array.of(tag), lengthBytes(value.length), value);
}

/** Minimal two's-complement INTEGER (or ENUMERATED with tag 0x0a). */
export function berInteger(n: number, tag: number = Tag.INTEGER): Uint8Array {
  if (!Number.isInteger(n) || n < -0x80000000 || n > 0x7fffffff) throw new RangeError(`BER integer out of 32-bit range: ${n}`);
  const bytes = [n & 0xff];
  let rest = n >> 8;
  while (!((rest === 0 && ((bytes[0] as number) & 0x80) === 0) || (rest === -1 && ((bytes[0] as number) & 0x80) !== 0))) {
    bytes.unshift(rest & 0xff);
    rest >>= 8;
  }
  return berTlv(tag, Uint8Array.from(bytes));
}

export function berOctets(v: Uint8Array | string, tag: number = Tag.OCTET_STRING): Uint8Array {
  return berTlv(tag, typeof v === 'string' ? new TextEncoder().encode(v) : v);
}

export function berBoolean(v: boolean): Uint8Array {
  return berTlv(Tag.BOOLEAN, Uint8Array.of(v ? 0xff : 0));
}
