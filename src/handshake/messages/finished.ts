/**
 * RFC 5246 §7.4.9 Finished: `opaque verify_data[verify_data_length]`. Every suite we implement
 * (ECDHE, MILAGRO_CS, MILAGRO_P2P) uses the default verify_data_length of 12, so any other
 * length is malformed.
 */
import type { ByteReader } from '../../codec/reader.ts';
import type { ByteWriter } from '../../codec/writer.ts';
import { DecodeError } from '../../alerts.ts';
import type { Finished } from './types.ts';

export const verifyDataLength = 12;

export function decodeFinished(r: ByteReader): Finished {
  if (r.remaining !== verifyDataLength) {
    throw new DecodeError(`finished: verify_data is ${r.remaining} bytes, expected ${verifyDataLength}`);
  }
  const verifyData = r.bytes(verifyDataLength, 'verify_data');
  r.expectEnd();
  return { verifyData };
}

export function encodeFinished(w: ByteWriter, m: Finished): void {
  if (m.verifyData.length !== verifyDataLength) throw new RangeError('finished: verify_data must be 12 bytes');
  w.bytes(m.verifyData);
}
