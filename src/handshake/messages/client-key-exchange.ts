/** RFC 5246 §7.4.7 ClientKeyExchange: opaque here; the negotiated key exchange decodes the body. */
import type { ByteReader } from '../../codec/reader.ts';
import type { ByteWriter } from '../../codec/writer.ts';
import type { ClientKeyExchange } from './types.ts';

export function decodeClientKeyExchange(r: ByteReader): ClientKeyExchange {
  const body = r.rest();
  r.expectEnd();
  return { body };
}

export function encodeClientKeyExchange(w: ByteWriter, m: ClientKeyExchange): void {
  w.bytes(m.body);
}
