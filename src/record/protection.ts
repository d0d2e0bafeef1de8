/**
 * Record protection: turns a TLSPlaintext fragment into a TLSCiphertext fragment and back
 * (RFC 5246 §6.2.3). Two kinds exist for TLS 1.2 with AEAD suites:
 *
 * - `nullProtection`: TLS_NULL_WITH_NULL_NULL, before the first ChangeCipherSpec.
 * - `aeadProtection`: RFC 5246 §6.2.3.3 with the nonce rules of RFC 5288 §3 (AES-GCM: 4-byte
 *   implicit salt ‖ 8-byte explicit nonce carried in the record) or RFC 7905 §2 (ChaCha20-Poly1305:
 *   12-byte IV XOR the left-padded sequence number, nothing explicit).
 *
 * Sequence numbers are owned by the caller (the half-connection), passed per record.
 */
import { BadRecordMacError } from '../alerts.ts';
import { nobleAeadProvider } from '../crypto/aead/noble.ts';
import type { AeadProvider } from '../crypto/aead/provider.ts';
import type { AeadDescriptor } from '../suites.ts';
import type { ContentType } from './content-type.ts';

export interface RecordProtection {
  /** Bytes added to a fragment (explicit nonce + tag); 0 for null. Omitted: assume the RFC 5288/7905 maximum. */
  readonly overhead?: number;
  /** False only for null protection; omitted means true. */
  readonly encrypted?: boolean;
  /** Returns the TLSCiphertext.fragment body for this plaintext (no record header). */
  protect(type: ContentType, version: number, plaintext: Uint8Array, seq: bigint): Uint8Array;
  /**
   * Optional bulk path: writes the fragment body into `out` at `at` and returns its length, which
   * must be exactly plaintext.length + overhead (the record layer sizes one buffer for a whole
   * write from `overhead`, so it only uses this when `overhead` is given).
   */
  protectInto?(type: ContentType, version: number, plaintext: Uint8Array, seq: bigint, out: Uint8Array, at: number): number;
  /** Optional: n bytes the record layer will overwrite entirely (the provider's `allocate`). */
  allocate?(n: number): Uint8Array;
  /** Returns the plaintext; throws BadRecordMacError on any failure (one identical message). */
  unprotect(type: ContentType, version: number, fragment: Uint8Array, seq: bigint): Uint8Array;
  /** Best-effort wipe of keys and IVs when the state is left (style.md §10). */
  destroy?(): void;
}

export const nullProtection: RecordProtection = Object.freeze({
  overhead: 0,
  encrypted: false,
  protect: (_type: ContentType, _version: number, plaintext: Uint8Array): Uint8Array => plaintext,
  unprotect: (_type: ContentType, _version: number, fragment: Uint8Array): Uint8Array => fragment,
});

/**
 * additional_data = seq_num(8) ‖ TLSCompressed.type(1) ‖ version(2) ‖ TLSCompressed.length(2)
 * (RFC 5246 §6.2.3.3), the length being that of the plaintext.
 */
function writeAad(aad: Uint8Array, view: DataView, seq: bigint, type: number, version: number, length: number): void {
  view.setBigUint64(0, seq);
  aad[8] = type;
  view.setUint16(9, version);
  view.setUint16(11, length);
}

class GcmProtection implements RecordProtection {
  readonly overhead: number;
  readonly encrypted = true;
  readonly #aead: ReturnType<AeadProvider['create']>;
  readonly #provider: AeadProvider;
  readonly #explicit: number;
  readonly #tag: number;
  // Per-instance scratch (synchronous use only): salt ‖ explicit nonce, and the 13-byte AAD.
  readonly #nonce: Uint8Array;
  readonly #nonceView: DataView;
  readonly #aad = new Uint8Array(13);
  readonly #aadView = new DataView(this.#aad.buffer);

  constructor(desc: AeadDescriptor, key: Uint8Array, fixedIv: Uint8Array, provider: AeadProvider) {
    this.#aead = provider.create(desc.name, key);
    this.#provider = provider;
    this.#explicit = desc.explicitNonceLength;
    this.#tag = desc.tagLength;
    this.overhead = this.#explicit + this.#tag;
    this.#nonce = new Uint8Array(fixedIv.length + this.#explicit);
    this.#nonceView = new DataView(this.#nonce.buffer);
    this.#nonce.set(fixedIv, 0);
  }

  protect(type: ContentType, version: number, plaintext: Uint8Array, seq: bigint): Uint8Array {
    const out = new Uint8Array(plaintext.length + this.overhead);
    this.protectInto(type, version, plaintext, seq, out, 0);
    return out;
  }

  allocate(n: number): Uint8Array {
    return this.#provider.allocate?.(n) ?? new Uint8Array(n);
  }

  protectInto(type: ContentType, version: number, plaintext: Uint8Array, seq: bigint, out: Uint8Array, at: number): number {
    // RFC 5288 §3 lets the sender choose nonce_explicit; like mbedTLS we send the sequence number,
    // which is unique per key and makes recorded milagro-tls sessions replay byte for byte.
    const nonce = this.#nonce;
    const fixed = nonce.length - this.#explicit;
    this.#nonceView.setBigUint64(fixed, seq);
    out.set(nonce.subarray(fixed), at);
    writeAad(this.#aad, this.#aadView, seq, type, version, plaintext.length);
    const body = at + this.#explicit;
    const aead = this.#aead;
    if (aead.sealInto !== undefined) return this.#explicit + aead.sealInto(nonce, this.#aad, plaintext, out, body);
    const sealed = aead.seal(nonce, this.#aad, plaintext);
    out.set(sealed, body);
    return this.#explicit + sealed.length;
  }

  unprotect(type: ContentType, version: number, fragment: Uint8Array, seq: bigint): Uint8Array {
    if (fragment.length < this.overhead) throw new BadRecordMacError();
    // Any explicit nonce from the peer is accepted (RFC 5288 §3 leaves the choice to the sender).
    this.#nonce.set(fragment.subarray(0, this.#explicit), this.#nonce.length - this.#explicit);
    const sealed = fragment.subarray(this.#explicit);
    writeAad(this.#aad, this.#aadView, seq, type, version, sealed.length - this.#tag);
    const plain = this.#aead.open(this.#nonce, this.#aad, sealed);
    if (plain === undefined) throw new BadRecordMacError();
    return plain;
  }

  destroy(): void {
    this.#nonce.fill(0);
    this.#aead.destroy?.();
  }
}

class ChaChaProtection implements RecordProtection {
  readonly overhead: number;
  readonly encrypted = true;
  readonly #aead: ReturnType<AeadProvider['create']>;
  readonly #provider: AeadProvider;
  readonly #iv: Uint8Array;
  readonly #ivTail: bigint;
  readonly #tag: number;
  readonly #nonce = new Uint8Array(12);
  readonly #nonceView = new DataView(this.#nonce.buffer);
  readonly #aad = new Uint8Array(13);
  readonly #aadView = new DataView(this.#aad.buffer);

  constructor(desc: AeadDescriptor, key: Uint8Array, fixedIv: Uint8Array, provider: AeadProvider) {
    this.#aead = provider.create(desc.name, key);
    this.#provider = provider;
    this.#iv = fixedIv.slice();
    this.#ivTail = new DataView(this.#iv.buffer).getBigUint64(4);
    this.#tag = desc.tagLength;
    this.overhead = this.#tag;
  }

  /** RFC 7905 §2: the 64-bit sequence number, left-padded to 12 bytes, XORed with the IV. */
  #nonceFor(seq: bigint): Uint8Array {
    this.#nonce.set(this.#iv.subarray(0, 4), 0);
    this.#nonceView.setBigUint64(4, this.#ivTail ^ seq);
    return this.#nonce;
  }

  protect(type: ContentType, version: number, plaintext: Uint8Array, seq: bigint): Uint8Array {
    writeAad(this.#aad, this.#aadView, seq, type, version, plaintext.length);
    return this.#aead.seal(this.#nonceFor(seq), this.#aad, plaintext);
  }

  allocate(n: number): Uint8Array {
    return this.#provider.allocate?.(n) ?? new Uint8Array(n);
  }

  protectInto(type: ContentType, version: number, plaintext: Uint8Array, seq: bigint, out: Uint8Array, at: number): number {
    writeAad(this.#aad, this.#aadView, seq, type, version, plaintext.length);
    const aead = this.#aead;
    if (aead.sealInto !== undefined) return aead.sealInto(this.#nonceFor(seq), this.#aad, plaintext, out, at);
    const sealed = aead.seal(this.#nonceFor(seq), this.#aad, plaintext);
    out.set(sealed, at);
    return sealed.length;
  }

  unprotect(type: ContentType, version: number, fragment: Uint8Array, seq: bigint): Uint8Array {
    if (fragment.length < this.overhead) throw new BadRecordMacError();
    writeAad(this.#aad, this.#aadView, seq, type, version, fragment.length - this.#tag);
    const plain = this.#aead.open(this.#nonceFor(seq), this.#aad, fragment);
    if (plain === undefined) throw new BadRecordMacError();
    return plain;
  }

  destroy(): void {
    this.#iv.fill(0);
    this.#nonce.fill(0);
    this.#aead.destroy?.();
  }
}

/**
 * Protection for one direction with the given traffic key and write IV (from `keyBlock`).
 * Lengths are checked here because a wrong key-block split would otherwise fail silently.
 */
export function aeadProtection(
  aead: AeadDescriptor,
  key: Uint8Array,
  fixedIv: Uint8Array,
  provider: AeadProvider = nobleAeadProvider,
): RecordProtection {
  if (key.length !== aead.keyLength) throw new TypeError(`${aead.name}: key must be ${aead.keyLength} bytes, got ${key.length}`);
  if (fixedIv.length !== aead.fixedIvLength) {
    throw new TypeError(`${aead.name}: fixed IV must be ${aead.fixedIvLength} bytes, got ${fixedIv.length}`);
  }
  if (aead.explicitNonceLength === 8 && aead.fixedIvLength === 4) return new GcmProtection(aead, key, fixedIv, provider);
  if (aead.explicitNonceLength === 0 && aead.fixedIvLength === 12) return new ChaChaProtection(aead, key, fixedIv, provider);
  throw new TypeError(`${aead.name}: unsupported nonce layout`);
}
