/**
 * The TLS 1.2 record layer (RFC 5246 §6), sans-I/O and synchronous: bytes from the socket go in
 * with `push`, complete decrypted records come out of `read`; `write` fragments, protects and
 * frames outgoing data. Each direction is a `HalfConnection` with its own sequence number and
 * pending protection, switched by the handshake at ChangeCipherSpec.
 *
 * Header checks (RFC 5246 §6.2.1, §6.2.3, Appendix E.1), made as soon as 5 bytes are buffered
 * and before any body is waited for:
 *   - unknown content type and a version byte that is not 3: the bytes are not TLS at all
 *     (an HTTP request, SSLv2) → decode_error;
 *   - unknown content type → unexpected_message (§6: "MUST send an unexpected_message alert");
 *   - version major not 3 → protocol_version; any minor is accepted because a ClientHello may
 *     carry {03,xx} (Appendix E.1), unless `expectedReadVersion` pins it after ServerHello;
 *   - length > maxPlaintext (unprotected) or > maxPlaintext + 256 (AEAD) → record_overflow;
 *   - zero-length handshake, alert or ChangeCipherSpec fragments are forbidden (§6.2.1)
 *     → unexpected_message (as GnuTLS; the RFC names no alert); zero-length application data
 *     is allowed (the engine bounds how many arrive in a row).
 * After decryption, a plaintext above maxPlaintext → record_overflow. All decryption failures
 * → bad_record_mac with one message.
 *
 * Once `read` has thrown, the layer is failed and rethrows the same error: a dead connection must
 * not parse further bytes.
 */
import { AlertDescription, DecodeError, ProtocolVersionError, RecordOverflowError, TlsError, UnexpectedMessageError } from '../alerts.ts';
import { ContentType, isContentType } from './content-type.ts';
import { HalfConnection } from './half-connection.ts';
import type { RecordProtection } from './protection.ts';

export interface PlainRecord {
  readonly type: ContentType;
  readonly version: number;
  readonly data: Uint8Array;
}

export interface RecordLayerOptions {
  /** Largest plaintext fragment in either direction: 2^14 by default, smaller with max_fragment_length (RFC 6066 §4). */
  readonly maxPlaintext?: number;
}

export const MAX_PLAINTEXT = 1 << 14;
/** RFC 5246 §6.2.3 allows 2048 bytes of expansion; AEAD suites add at most 24, we allow 256. */
export const MAX_AEAD_EXPANSION = 256;
export const RECORD_HEADER_LENGTH = 5;
/** Pushed chunks kept before they are coalesced (see `push`). */
const MAX_CHUNKS = 64;

function checkMaxPlaintext(n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > MAX_PLAINTEXT) throw new RangeError(`maxPlaintext must be 1..${MAX_PLAINTEXT}, got ${n}`);
}

export class RecordLayer {
  /** Record-layer version for outgoing records: mbedTLS sends 0x0301 on the first ClientHello, then 0x0303. */
  writeVersion = 0x0303;
  /** When set (after ServerHello), incoming records must carry exactly this version. */
  expectedReadVersion: number | undefined;

  readonly #read = new HalfConnection();
  readonly #write = new HalfConnection();
  #maxPlaintext: number;

  // Received bytes not yet consumed: a list of pushed chunks, the first one starting at #off.
  #chunks: Uint8Array[] = [];
  #off = 0;
  #avail = 0;
  readonly #header = new Uint8Array(RECORD_HEADER_LENGTH);
  #failed: TlsError | undefined;

  constructor(opts: RecordLayerOptions = {}) {
    const max = opts.maxPlaintext ?? MAX_PLAINTEXT;
    checkMaxPlaintext(max);
    this.#maxPlaintext = max;
  }

  get readEncrypted(): boolean {
    return this.#read.encrypted;
  }

  get writeEncrypted(): boolean {
    return this.#write.encrypted;
  }

  get maxPlaintext(): number {
    return this.#maxPlaintext;
  }

  /** Bytes received but not yet returned as records (e.g. to detect data after close_notify). */
  get buffered(): number {
    return this.#avail;
  }

  /** Sequence numbers of the next record in each direction (for logs and tests). */
  get readSequence(): bigint {
    return this.#read.sequence;
  }

  get writeSequence(): bigint {
    return this.#write.sequence;
  }

  setMaxPlaintext(n: number): void {
    checkMaxPlaintext(n);
    this.#maxPlaintext = n;
  }

  setPendingRead(p: RecordProtection): void {
    this.#read.setPending(p);
  }

  /** At a received ChangeCipherSpec: switch to the pending read state, read sequence restarts at 0. */
  activateRead(): void {
    this.#read.activate();
  }

  setPendingWrite(p: RecordProtection): void {
    this.#write.setPending(p);
  }

  /** After sending ChangeCipherSpec: switch to the pending write state, write sequence restarts at 0. */
  activateWrite(): void {
    this.#write.activate();
  }

  /** Best-effort wipe of all traffic keys and drop buffered input (at close or failure). */
  destroy(): void {
    this.#read.destroy();
    this.#write.destroy();
    this.#chunks = [];
    this.#off = 0;
    this.#avail = 0;
  }

  /** Drop buffered input (the connection failed; nothing more will be read). Keys stay for the alert. */
  discardInput(): void {
    this.#chunks = [];
    this.#off = 0;
    this.#avail = 0;
  }

  /**
   * Raw bytes from the transport, split anywhere. The layer keeps a reference to `wire` (no copy)
   * until its records are read, so the caller must not modify it afterwards.
   */
  push(wire: Uint8Array): void {
    if (wire.length === 0) return;
    this.#chunks.push(wire);
    this.#avail += wire.length;
    // A peer trickling bytes one at a time would otherwise build thousands of tiny chunks (memory
    // per connection, quadratic shifting); past a bound, fold them into one buffer.
    if (this.#chunks.length > MAX_CHUNKS) {
      const all = this.#take(this.#avail); // consumes everything: no chunks left, offset 0
      this.#chunks = [all];
      this.#avail = all.length;
    }
  }

  /**
   * The next complete record, unprotected, or undefined if more bytes are needed. Decryption is
   * lazy: records after a ChangeCipherSpec stay buffered until the handshake has called
   * `activateRead`. Bad input throws TlsError subclasses only (anything else is a bug here).
   */
  read(): PlainRecord | undefined {
    if (this.#failed !== undefined) throw this.#failed;
    try {
      return this.#readOne();
    } catch (e) {
      // A non-TlsError here is our bug: remember the connection as failed (internal_error) but
      // rethrow the original so tests and logs see it.
      this.#failed = e instanceof TlsError ? e : new TlsError(AlertDescription.internal_error, 'record layer failure', { cause: e });
      throw e;
    }
  }

  #readOne(): PlainRecord | undefined {
    if (this.#avail < RECORD_HEADER_LENGTH) return undefined;
    const h = this.#peekHeader();
    const typeByte = h[0] as number;
    const major = h[1] as number;
    const version = (major << 8) | (h[2] as number);
    const length = ((h[3] as number) << 8) | (h[4] as number);

    if (!isContentType(typeByte)) {
      if (major !== 3) throw new DecodeError(`not a TLS record (first bytes ${typeByte}, ${major})`);
      throw new UnexpectedMessageError(`unknown record content type ${typeByte}`);
    }
    const type: ContentType = typeByte;
    if (major !== 3) throw new ProtocolVersionError(`record version ${version.toString(16)} is not TLS`);
    if (this.expectedReadVersion !== undefined && version !== this.expectedReadVersion) {
      throw new ProtocolVersionError(`record version ${version.toString(16)}, expected ${this.expectedReadVersion.toString(16)}`);
    }
    const encrypted = this.#read.encrypted;
    const limit = encrypted ? this.#maxPlaintext + MAX_AEAD_EXPANSION : this.#maxPlaintext;
    if (length > limit) throw new RecordOverflowError(`record length ${length} exceeds ${limit}`);
    if (!encrypted && length === 0 && type !== ContentType.application_data) {
      throw new UnexpectedMessageError(`zero-length ${type} record`);
    }

    if (this.#avail < RECORD_HEADER_LENGTH + length) return undefined;
    this.#consume(RECORD_HEADER_LENGTH);
    const fragment = this.#take(length);

    const seq = this.#read.next();
    let data = this.#read.protection.unprotect(type, version, fragment, seq);
    if (data.length > this.#maxPlaintext) throw new RecordOverflowError(`plaintext length ${data.length} exceeds ${this.#maxPlaintext}`);
    if (data.length === 0 && type !== ContentType.application_data) throw new UnexpectedMessageError(`zero-length ${type} record`);
    // Unprotected data may be a view of the caller's pushed buffer; hand out an own copy.
    if (!encrypted) data = data.slice();
    return { type, version, data };
  }

  /** The first 5 buffered bytes, without consuming them. */
  #peekHeader(): Uint8Array {
    const first = this.#chunks[0];
    if (first !== undefined && first.length - this.#off >= RECORD_HEADER_LENGTH) {
      return first.subarray(this.#off, this.#off + RECORD_HEADER_LENGTH);
    }
    let i = 0;
    let off = this.#off;
    for (const c of this.#chunks) {
      while (off < c.length && i < RECORD_HEADER_LENGTH) this.#header[i++] = c[off++] as number;
      if (i === RECORD_HEADER_LENGTH) break;
      off = 0;
    }
    return this.#header;
  }

  #consume(n: number): void {
    this.#avail -= n;
    while (n > 0) {
      const first = this.#chunks[0];
      if (first === undefined) return;
      const left = first.length - this.#off;
      if (n < left) {
        this.#off += n;
        return;
      }
      n -= left;
      this.#chunks.shift();
      this.#off = 0;
    }
  }

  /** Consume n bytes; a view when they lie in one chunk (the common case), else one copy. */
  #take(n: number): Uint8Array {
    const first = this.#chunks[0];
    if (first === undefined || n === 0) return new Uint8Array(0);
    if (first.length - this.#off >= n) {
      const out = first.subarray(this.#off, this.#off + n);
      this.#consume(n);
      return out;
    }
    // Filled completely below (n <= #avail is checked by the callers), so no zero-fill needed.
    const out = this.#read.protection.allocate?.(n) ?? new Uint8Array(n);
    let at = 0;
    while (at < n) {
      const c = this.#chunks[0];
      if (c === undefined) break;
      const k = Math.min(c.length - this.#off, n - at);
      out.set(c.subarray(this.#off, this.#off + k), at);
      at += k;
      this.#consume(k);
    }
    // Never hand out unwritten (possibly uninitialised) bytes if the accounting were ever wrong.
    if (at !== n) throw new TlsError(AlertDescription.internal_error, 'record buffer accounting');
    return out;
  }

  /**
   * Fragment `data` into records of at most maxPlaintext bytes (RFC 5246 §6.2.1), or `maxFragment`
   * when smaller (the peer's max_fragment_length / record_size_limit), protect each
   * with the current write state and return the wire bytes. Empty application data yields one
   * empty record; empty handshake/alert/CCS data is a local bug (§6.2.1 forbids sending it).
   */
  write(type: ContentType, data: Uint8Array, maxFragment?: number): Uint8Array {
    if (data.length === 0 && type !== ContentType.application_data) {
      throw new TypeError(`refusing to send a zero-length ${type} record (RFC 5246 §6.2.1)`);
    }
    if (maxFragment !== undefined && (!Number.isInteger(maxFragment) || maxFragment < 1)) {
      throw new RangeError(`maxFragment must be a positive integer, got ${maxFragment}`);
    }
    const max = maxFragment === undefined ? this.#maxPlaintext : Math.min(maxFragment, this.#maxPlaintext);
    const count = Math.max(1, Math.ceil(data.length / max));
    const protection = this.#write.protection;
    const version = this.writeVersion;
    const overhead = protection.overhead;
    if (protection.protectInto !== undefined && overhead !== undefined) {
      // Bulk path: every record sealed straight into one buffer for the whole write (one
      // allocation, no per-record copies), handed to the transport as a single write.
      const total = data.length + count * (RECORD_HEADER_LENGTH + overhead);
      const out = protection.allocate?.(total) ?? new Uint8Array(total);
      let at = 0;
      for (let i = 0; i < count; i++) {
        const piece = data.subarray(i * max, Math.min(data.length, (i + 1) * max));
        const n = protection.protectInto(type, version, piece, this.#write.next(), out, at + RECORD_HEADER_LENGTH);
        if (n !== piece.length + overhead) throw new Error(`record protection wrote ${n} bytes, expected ${piece.length + overhead}`);
        writeHeader(out, at, type, version, n);
        at += RECORD_HEADER_LENGTH + n;
      }
      return out;
    }
    if (count === 1) {
      const body = protection.protect(type, version, data, this.#write.next());
      const out = new Uint8Array(RECORD_HEADER_LENGTH + body.length);
      writeHeader(out, 0, type, version, body.length);
      out.set(body, RECORD_HEADER_LENGTH);
      return out;
    }
    const bodies: Uint8Array[] = [];
    let total = 0;
    for (let i = 0; i < count; i++) {
      const piece = data.subarray(i * max, Math.min(data.length, (i + 1) * max));
      const body = protection.protect(type, version, piece, this.#write.next());
      bodies.push(body);
      total += RECORD_HEADER_LENGTH + body.length;
    }
    const out = new Uint8Array(total);
    let at = 0;
    for (const body of bodies) {
      writeHeader(out, at, type, version, body.length);
      out.set(body, at + RECORD_HEADER_LENGTH);
      at += RECORD_HEADER_LENGTH + body.length;
    }
    return out;
  }
}

function writeHeader(out: Uint8Array, at: number, type: ContentType, version: number, length: number): void {
  out[at] = type;
  out[at + 1] = version >>> 8;
  out[at + 2] = version & 0xff;
  out[at + 3] = length >>> 8;
  out[at + 4] = length & 0xff;
}
