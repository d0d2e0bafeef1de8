/**
 * A small, bounded DER reader (ITU-T X.690 §8, §10) for X.509 (RFC 5280) and key formats.
 *
 * Schema-driven: callers say which element they expect next, so nesting depth is bounded by the
 * schema and no generic recursion runs on untrusted bytes. Only what DER allows is accepted:
 * definite minimal lengths, single-byte tags (X.509 never needs the high-tag-number form).
 * Every failure is a `CertificateError`.
 */
import { CertificateError } from './errors.ts';

export const Tag = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8String: 0x0c,
  PrintableString: 0x13,
  TeletexString: 0x14,
  IA5String: 0x16,
  UTCTime: 0x17,
  GeneralizedTime: 0x18,
  UniversalString: 0x1c,
  BMPString: 0x1e,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** Context-specific tag [n]: constructed (EXPLICIT or constructed IMPLICIT) or primitive. */
export const contextTag = (n: number, constructed: boolean): number => (constructed ? 0xa0 : 0x80) | n;

export interface DerElement {
  readonly tag: number;
  /** The whole TLV, e.g. for signature input (tbsCertificate) or DN comparison. */
  readonly raw: Uint8Array;
  /** The contents octets. */
  readonly value: Uint8Array;
}

export class DerReader {
  #pos = 0;
  readonly #bytes: Uint8Array;
  readonly #what: string;

  constructor(bytes: Uint8Array, what: string) {
    this.#bytes = bytes;
    this.#what = what;
  }

  get done(): boolean {
    return this.#pos >= this.#bytes.length;
  }

  peekTag(): number | undefined {
    return this.#bytes[this.#pos];
  }

  /** Reads the next TLV, whatever its tag. */
  read(): DerElement {
    const b = this.#bytes;
    const start = this.#pos;
    const tag = b[start];
    if (tag === undefined) throw new CertificateError(`${this.#what}: unexpected end of data`);
    if ((tag & 0x1f) === 0x1f) throw new CertificateError(`${this.#what}: high-tag-number form not supported`);
    const first = b[start + 1];
    if (first === undefined) throw new CertificateError(`${this.#what}: truncated length`);
    let len: number;
    let header: number;
    if (first < 0x80) {
      len = first;
      header = 2;
    } else {
      const n = first & 0x7f;
      // 0x80 is BER indefinite length; more than 4 length octets cannot address our inputs.
      if (n === 0 || n > 4) throw new CertificateError(`${this.#what}: unsupported length form`);
      len = 0;
      for (let i = 0; i < n; i++) {
        const x = b[start + 2 + i];
        if (x === undefined) throw new CertificateError(`${this.#what}: truncated length`);
        len = len * 256 + x;
      }
      // X.690 §10.1: the definite form with the minimum number of octets.
      if (len < 0x80 || (n > 1 && b[start + 2] === 0)) throw new CertificateError(`${this.#what}: non-minimal length`);
      header = 2 + n;
    }
    const end = start + header + len;
    if (end > b.length) throw new CertificateError(`${this.#what}: element overruns its container`);
    this.#pos = end;
    return { tag, raw: b.subarray(start, end), value: b.subarray(start + header, end) };
  }

  /** Reads the next element and checks its tag. */
  expect(tag: number, what: string): DerElement {
    const t = this.peekTag();
    if (t !== tag) {
      throw new CertificateError(
        `${this.#what}: expected ${what} (tag 0x${tag.toString(16)}), got ${t === undefined ? 'end of data' : `0x${t.toString(16)}`}`,
      );
    }
    return this.read();
  }

  /** Reads the next element only if it has this tag (OPTIONAL / DEFAULT fields). */
  optional(tag: number): DerElement | undefined {
    return this.peekTag() === tag ? this.read() : undefined;
  }

  /** Reads a SEQUENCE and returns a reader over its contents. */
  sequence(what: string): DerReader {
    return new DerReader(this.expect(Tag.SEQUENCE, what).value, what);
  }

  end(): void {
    if (!this.done) throw new CertificateError(`${this.#what}: trailing data`);
  }
}

/** A reader over the contents of a constructed element. */
export function children(el: DerElement, what: string): DerReader {
  if ((el.tag & 0x20) === 0) throw new CertificateError(`${what}: expected a constructed element`);
  return new DerReader(el.value, what);
}

/** Reads exactly one element from `bytes` (no trailing data). */
export function readSingle(bytes: Uint8Array, tag: number, what: string): DerElement {
  const r = new DerReader(bytes, what);
  const el = r.expect(tag, what);
  r.end();
  return el;
}

/** OBJECT IDENTIFIER contents → dotted string (X.690 §8.19). */
export function decodeOid(el: DerElement): string {
  const v = el.value;
  if (v.length === 0 || v.length > 64) throw new CertificateError('OID: bad length');
  const arcs: number[] = [];
  let acc = 0;
  for (let i = 0; i < v.length; i++) {
    const x = v[i] as number;
    if (acc === 0 && x === 0x80) throw new CertificateError('OID: non-minimal arc');
    acc = acc * 128 + (x & 0x7f);
    if (acc > Number.MAX_SAFE_INTEGER / 128) throw new CertificateError('OID: arc too large');
    if ((x & 0x80) === 0) {
      arcs.push(acc);
      acc = 0;
    } else if (i === v.length - 1) {
      throw new CertificateError('OID: truncated arc');
    }
  }
  const first = arcs[0] as number;
  const head = first < 40 ? [0, first] : first < 80 ? [1, first - 40] : [2, first - 80];
  return [...head, ...arcs.slice(1)].join('.');
}

export function readOid(r: DerReader, what: string): string {
  return decodeOid(r.expect(Tag.OID, what));
}

/** INTEGER contents as a bigint (two's complement, X.690 §8.3). */
export function decodeInteger(el: DerElement): bigint {
  const v = el.value;
  if (v.length === 0) throw new CertificateError('INTEGER: empty');
  if (v.length > 1 && ((v[0] === 0 && ((v[1] as number) & 0x80) === 0) || (v[0] === 0xff && ((v[1] as number) & 0x80) !== 0))) {
    throw new CertificateError('INTEGER: non-minimal encoding');
  }
  let n = 0n;
  for (const x of v) n = (n << 8n) | BigInt(x);
  if (((v[0] as number) & 0x80) !== 0) n -= 1n << BigInt(8 * v.length);
  return n;
}

/** A non-negative INTEGER as a bigint (RSA moduli, versions). */
export function readUnsigned(r: DerReader, what: string): bigint {
  const n = decodeInteger(r.expect(Tag.INTEGER, what));
  if (n < 0n) throw new CertificateError(`${what}: negative`);
  return n;
}

/** A small non-negative INTEGER as a number (versions, pathLen). */
export function readSmallInt(el: DerElement, what: string): number {
  if (el.value.length > 4) throw new CertificateError(`${what}: too large`);
  const n = decodeInteger(el);
  if (n < 0n) throw new CertificateError(`${what}: negative`);
  return Number(n);
}

/** BIT STRING with no unused bits (keys, signatures): the octets. */
export function readBitStringBytes(r: DerReader, what: string): Uint8Array {
  const v = r.expect(Tag.BIT_STRING, what).value;
  if (v.length === 0 || v[0] !== 0) throw new CertificateError(`${what}: BIT STRING with unused bits`);
  return v.subarray(1);
}

/** BIT STRING as a list of set bit indices (keyUsage, X.690 §8.6: bit 0 is the MSB of the first octet). */
export function decodeNamedBits(el: DerElement, what: string): number[] {
  const v = el.value;
  const unused = v[0];
  if (unused === undefined || unused > 7 || (v.length === 1 && unused !== 0)) throw new CertificateError(`${what}: bad BIT STRING`);
  const bits: number[] = [];
  for (let i = 1; i < v.length; i++) {
    const x = v[i] as number;
    for (let j = 0; j < 8; j++) if (x & (0x80 >> j)) bits.push((i - 1) * 8 + j);
  }
  return bits;
}

export function decodeBoolean(el: DerElement, what: string): boolean {
  // X.690 §11.1: DER TRUE is 0xFF.
  if (el.value.length !== 1 || (el.value[0] !== 0 && el.value[0] !== 0xff)) throw new CertificateError(`${what}: bad BOOLEAN`);
  return el.value[0] === 0xff;
}

const latin1 = new TextDecoder('latin1');

/** Directory string types → JS string (RFC 5280 §4.1.2.4). */
export function decodeString(el: DerElement, what: string): string {
  const v = el.value;
  switch (el.tag) {
    case Tag.UTF8String:
      try {
        return new TextDecoder('utf-8', { fatal: true }).decode(v);
      } catch (cause) {
        throw new CertificateError(`${what}: invalid UTF-8`, { cause });
      }
    case Tag.PrintableString:
    case Tag.IA5String:
    case Tag.TeletexString: // treated as Latin-1, as OpenSSL does in practice
      return latin1.decode(v);
    case Tag.BMPString: {
      if (v.length % 2 !== 0) throw new CertificateError(`${what}: odd BMPString length`);
      let s = '';
      for (let i = 0; i < v.length; i += 2) s += String.fromCharCode(((v[i] as number) << 8) | (v[i + 1] as number));
      return s;
    }
    case Tag.UniversalString: {
      if (v.length % 4 !== 0) throw new CertificateError(`${what}: bad UniversalString length`);
      let s = '';
      for (let i = 0; i < v.length; i += 4) {
        const cp = (((v[i] as number) << 24) | ((v[i + 1] as number) << 16) | ((v[i + 2] as number) << 8) | (v[i + 3] as number)) >>> 0;
        if (cp > 0x10ffff) throw new CertificateError(`${what}: bad code point`);
        s += String.fromCodePoint(cp);
      }
      return s;
    }
    default:
      throw new CertificateError(`${what}: unsupported string type 0x${el.tag.toString(16)}`);
  }
}

/** UTCTime / GeneralizedTime in the RFC 5280 §4.1.2.5 profile (Z, seconds, no fractions). */
export function decodeTime(el: DerElement, what: string): Date {
  const s = latin1.decode(el.value);
  let m: RegExpExecArray | null;
  let year: number;
  if (el.tag === Tag.UTCTime) {
    m = /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(s);
    if (m === null) throw new CertificateError(`${what}: bad UTCTime`);
    const yy = Number(m[1]);
    year = yy >= 50 ? 1900 + yy : 2000 + yy; // RFC 5280 §4.1.2.5.1
  } else if (el.tag === Tag.GeneralizedTime) {
    m = /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(s);
    if (m === null) throw new CertificateError(`${what}: bad GeneralizedTime`);
    year = Number(m[1]);
  } else {
    throw new CertificateError(`${what}: expected a time`);
  }
  const [mo, d, h, mi, sec] = [m[2], m[3], m[4], m[5], m[6]].map(Number) as [number, number, number, number, number];
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 59) throw new CertificateError(`${what}: time out of range`);
  const t = Date.UTC(year, mo - 1, d, h, mi, sec);
  const date = new Date(t);
  if (date.getUTCDate() !== d) throw new CertificateError(`${what}: no such day`);
  return date;
}

/** Big-endian unsigned bytes → bigint. */
export function bytesToBigInt(b: Uint8Array): bigint {
  let n = 0n;
  for (const x of b) n = (n << 8n) | BigInt(x);
  return n;
}

/** bigint → big-endian bytes of exactly `len` octets; throws if it does not fit. */
export function bigIntToBytes(n: bigint, len: number): Uint8Array {
  const out = new Uint8Array(len);
  let x = n;
  for (let i = len - 1; i >= 0; i--) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  if (x !== 0n || n < 0n) throw new RangeError('integer does not fit');
  return out;
}
