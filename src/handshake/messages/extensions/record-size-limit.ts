/**
 * RFC 8449 §4 record_size_limit: `uint16 RecordSizeLimit`. "Endpoints MUST NOT send a value
 * smaller than 64 … MUST treat receipt of a smaller value as a fatal error and generate an
 * illegal_parameter alert." Clamping to 2^14 (+1 for TLS 1.3) is the caller's job.
 */
import { IllegalParameterError } from '../../../alerts.ts';
import { ByteReader } from '../../../codec/reader.ts';
import { ByteWriter } from '../../../codec/writer.ts';

export const minRecordSizeLimit = 64;

export function decodeRecordSizeLimit(data: Uint8Array): number {
  const r = new ByteReader(data, 'record_size_limit');
  const limit = r.u16('record_size_limit');
  r.expectEnd();
  if (limit < minRecordSizeLimit) throw new IllegalParameterError(`record_size_limit: ${limit} < 64`);
  return limit;
}

export function encodeRecordSizeLimit(limit: number): Uint8Array {
  if (limit < minRecordSizeLimit) throw new RangeError('record_size_limit: below 64');
  return new ByteWriter(2).u16(limit).finish();
}
