/** RFC 5246 §7.4.5 ServerHelloDone: `struct { }` — any body byte is a decode_error. */
import type { ByteReader } from '../../codec/reader.ts';
import type { ByteWriter } from '../../codec/writer.ts';

export function decodeServerHelloDone(r: ByteReader): void {
  r.expectEnd();
}

export function encodeServerHelloDone(_w: ByteWriter): void {
  // Empty body: nothing to write.
}
