/**
 * An append-only byte builder. Length prefixes are back-filled by `withLength8/16/24`, so
 * message code never computes a length by hand.
 */
export class ByteWriter {
  #buf: Uint8Array;
  #len = 0;

  constructor(initialCapacity = 256) {
    this.#buf = new Uint8Array(initialCapacity);
  }

  get length(): number {
    return this.#len;
  }

  #reserve(n: number): number {
    const need = this.#len + n;
    if (need > this.#buf.length) {
      let cap = this.#buf.length * 2;
      while (cap < need) cap *= 2;
      const next = new Uint8Array(cap);
      next.set(this.#buf.subarray(0, this.#len));
      this.#buf = next;
    }
    const at = this.#len;
    this.#len = need;
    return at;
  }

  u8(v: number): this {
    checkRange(v, 0xff);
    // Reserve first: `this.#buf` must be read after a possible reallocation.
    const at = this.#reserve(1);
    this.#buf[at] = v;
    return this;
  }

  u16(v: number): this {
    checkRange(v, 0xffff);
    const at = this.#reserve(2);
    this.#buf[at] = v >>> 8;
    this.#buf[at + 1] = v & 0xff;
    return this;
  }

  u24(v: number): this {
    checkRange(v, 0xffffff);
    const at = this.#reserve(3);
    this.#buf[at] = v >>> 16;
    this.#buf[at + 1] = (v >>> 8) & 0xff;
    this.#buf[at + 2] = v & 0xff;
    return this;
  }

  u32(v: number): this {
    checkRange(v, 0xffffffff);
    const at = this.#reserve(4);
    this.#buf[at] = v >>> 24;
    this.#buf[at + 1] = (v >>> 16) & 0xff;
    this.#buf[at + 2] = (v >>> 8) & 0xff;
    this.#buf[at + 3] = v & 0xff;
    return this;
  }

  bytes(b: Uint8Array): this {
    const at = this.#reserve(b.length);
    this.#buf.set(b, at);
    return this;
  }

  withLength8(body: (w: this) => void): this {
    return this.#withLength(1, 0xff, body);
  }

  withLength16(body: (w: this) => void): this {
    return this.#withLength(2, 0xffff, body);
  }

  withLength24(body: (w: this) => void): this {
    return this.#withLength(3, 0xffffff, body);
  }

  #withLength(size: number, max: number, body: (w: this) => void): this {
    const at = this.#reserve(size);
    const start = this.#len;
    body(this);
    const len = this.#len - start;
    if (len > max) throw new RangeError(`length-prefixed field of ${len} bytes exceeds ${max}`);
    for (let i = size - 1, v = len; i >= 0; i--, v >>>= 8) this.#buf[at + i] = v & 0xff;
    return this;
  }

  /** The bytes written so far (a copy). */
  finish(): Uint8Array {
    return this.#buf.slice(0, this.#len);
  }
}

function checkRange(v: number, max: number): void {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new RangeError(`value ${v} out of range [0, ${max}]`);
}
