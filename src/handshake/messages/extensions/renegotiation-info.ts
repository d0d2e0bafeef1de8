/**
 * RFC 5746 §3.2 renegotiation_info: `opaque renegotiated_connection<0..255>`. On an initial
 * handshake it is empty; its contents are checked by the handshake (we refuse renegotiation).
 */
import { ByteReader } from '../../../codec/reader.ts';
import { ByteWriter } from '../../../codec/writer.ts';

export function decodeRenegotiationInfo(data: Uint8Array): Uint8Array {
  const r = new ByteReader(data, 'renegotiation_info');
  const conn = r.opaque8('renegotiated_connection');
  r.expectEnd();
  return conn;
}

export function encodeRenegotiationInfo(renegotiatedConnection: Uint8Array = new Uint8Array(0)): Uint8Array {
  const w = new ByteWriter(1 + renegotiatedConnection.length);
  w.withLength8((b) => b.bytes(renegotiatedConnection));
  return w.finish();
}
