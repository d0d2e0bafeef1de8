/**
 * RFC 5246 §7.4.3 ServerKeyExchange. The body's layout depends on the negotiated key exchange
 * (ECDHE params + signature, MILAGRO_CS W, MILAGRO_P2P identity + point), so the handshake keeps
 * it opaque and the kex decodes it (style.md §7, as rustls does).
 */
import type { ByteReader } from '../../codec/reader.ts';
import type { ByteWriter } from '../../codec/writer.ts';
import type { ServerKeyExchange } from './types.ts';

export function decodeServerKeyExchange(r: ByteReader): ServerKeyExchange {
  const body = r.rest();
  r.expectEnd();
  return { body };
}

export function encodeServerKeyExchange(w: ByteWriter, m: ServerKeyExchange): void {
  w.bytes(m.body);
}
