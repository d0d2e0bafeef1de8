/**
 * RFC 7301 §3.1 application_layer_protocol_negotiation:
 * `ProtocolName protocol_name_list<2..2^16-1>` with `opaque ProtocolName<1..2^8-1>`.
 * Names are opaque bytes on the wire, kept as bytes; an empty name is malformed (decode_error).
 * The server's reply must hold exactly one name — checked by the caller.
 */
import { ByteReader } from '../../../codec/reader.ts';
import { ByteWriter } from '../../../codec/writer.ts';

export function decodeAlpn(data: Uint8Array): Uint8Array[] {
  const r = new ByteReader(data, 'alpn');
  const list = r.vec16('protocol_name_list', 2);
  r.expectEnd();
  const out: Uint8Array[] = [];
  while (list.remaining > 0) out.push(list.opaque8('ProtocolName', 1));
  return out;
}

export function encodeAlpn(protocols: readonly Uint8Array[]): Uint8Array {
  if (protocols.length === 0) throw new RangeError('alpn: empty protocol list');
  const w = new ByteWriter();
  w.withLength16((l) => {
    for (const p of protocols) {
      if (p.length === 0) throw new RangeError('alpn: empty protocol name');
      l.withLength8((b) => b.bytes(p));
    }
  });
  return w.finish();
}
