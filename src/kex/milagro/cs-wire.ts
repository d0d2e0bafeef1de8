/**
 * Wire codecs of MILAGRO_CS (milagro.md §7.3, §7.4): the ClientHello extension (type 37 by
 * default) and the ServerKeyExchange / ClientKeyExchange bodies. No crypto here: points are only
 * length-checked; they are validated by the point decoders where they are used.
 *
 * The original trusts every length (§10 items 1–4: heap overflow, over-read, exit() on a zero
 * length). Here every field has its one legal size and anything else is refused:
 *  - extension: len_HID = 32, len_P = 65, len_V = 65, total 172, nothing trailing;
 *  - key exchange bodies: BE16(65) ‖ 65-byte point, nothing trailing.
 * A legal-looking but forbidden length is illegal_parameter; a structure that does not add up
 * (truncated, trailing bytes) is decode_error (RFC 5246 §7.2.2).
 */
import { DecodeError, IllegalParameterError } from '../../alerts.ts';
import { ByteReader } from '../../codec/reader.ts';
import { ByteWriter } from '../../codec/writer.ts';

/** milagro-tls's extension number (collides with a later IANA assignment; configurable). */
export const MILAGRO_CS_EXTENSION = 37;
export const HASH_ID_BYTES = 32;
export const G1_POINT_BYTES = 65;
/** len_HID + len_P + len_V + 3 length fields + the 4-byte time value (§7.3). */
export const CS_EXTENSION_BYTES = HASH_ID_BYTES + 2 * G1_POINT_BYTES + 10;

/** The client's one-pass M-Pin values as carried in the ClientHello (§5.5 step 6). */
export interface CsHelloValues {
  /** SHA-256 of the identity (the identity itself is never sent). */
  readonly hashId: Uint8Array;
  /** UT with time permits, U without — nothing on the wire says which (§7.3). */
  readonly point: Uint8Array;
  readonly V: Uint8Array;
  /** Unix seconds the client used for y (BE32). */
  readonly timeValue: number;
}

export function encodeCsExtension(v: CsHelloValues): Uint8Array {
  if (v.hashId.length !== HASH_ID_BYTES || v.point.length !== G1_POINT_BYTES || v.V.length !== G1_POINT_BYTES) {
    throw new RangeError('MILAGRO_CS extension: hashId must be 32 bytes, point and V 65 bytes');
  }
  if (!Number.isInteger(v.timeValue) || v.timeValue < 0 || v.timeValue > 0xffffffff) throw new RangeError('time value must be a u32');
  // §7.3: all three lengths first, then the values, then the time value without a length.
  const w = new ByteWriter(CS_EXTENSION_BYTES);
  w.u16(v.hashId.length).u16(v.point.length).u16(v.V.length);
  w.bytes(v.hashId).bytes(v.point).bytes(v.V).u32(v.timeValue);
  return w.finish();
}

/** Parse extension_data of the MILAGRO_CS extension with a bounded reader (§10 items 1–3). */
export function decodeCsExtension(data: Uint8Array): CsHelloValues {
  const r = new ByteReader(data, 'milagro_cs extension');
  const lenHid = r.u16('len_HID');
  const lenP = r.u16('len_P');
  const lenV = r.u16('len_V');
  if (lenHid !== HASH_ID_BYTES) throw new IllegalParameterError(`milagro_cs extension: len_HID ${lenHid}, expected ${HASH_ID_BYTES}`);
  if (lenP !== G1_POINT_BYTES) throw new IllegalParameterError(`milagro_cs extension: len_P ${lenP}, expected ${G1_POINT_BYTES}`);
  if (lenV !== G1_POINT_BYTES) throw new IllegalParameterError(`milagro_cs extension: len_V ${lenV}, expected ${G1_POINT_BYTES}`);
  // Checked before any field is read, unlike the original (§7.3 step 3 comes last there).
  if (data.length !== CS_EXTENSION_BYTES) {
    throw new DecodeError(`milagro_cs extension: ${data.length} bytes, the lengths say ${CS_EXTENSION_BYTES}`);
  }
  const hashId = r.bytes(lenHid, 'HID');
  const point = r.bytes(lenP, 'U/UT');
  const V = r.bytes(lenV, 'V');
  const timeValue = r.u32('time value');
  r.expectEnd();
  return { hashId, point, V, timeValue };
}

/** ServerKeyExchange (W) and ClientKeyExchange (R) bodies: BE16(65) ‖ point (§7.4). */
export function encodeCsKeyExchange(point: Uint8Array): Uint8Array {
  if (point.length !== G1_POINT_BYTES) throw new RangeError('MILAGRO_CS key exchange point must be 65 bytes');
  const w = new ByteWriter(2 + G1_POINT_BYTES);
  w.withLength16((b) => b.bytes(point));
  return w.finish();
}

export function decodeCsKeyExchange(body: Uint8Array, what: 'server_key_exchange' | 'client_key_exchange'): Uint8Array {
  const r = new ByteReader(body, `milagro_cs ${what}`);
  const len = r.u16('point length');
  if (len !== G1_POINT_BYTES) throw new IllegalParameterError(`milagro_cs ${what}: point length ${len}, expected ${G1_POINT_BYTES}`);
  const point = r.bytes(len, 'point');
  r.expectEnd();
  return point;
}
