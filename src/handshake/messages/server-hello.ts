/** RFC 5246 §7.4.1.3 ServerHello. */
import { ByteReader } from '../../codec/reader.ts';
import type { ByteWriter } from '../../codec/writer.ts';
import { decodeExtensions, encodeExtensions } from './extensions/index.ts';
import { maxSessionIdLength, randomLength } from './client-hello.ts';
import type { ServerHello } from './types.ts';

export function decodeServerHello(r: ByteReader): ServerHello {
  const version = r.u16('server_version');
  const random = r.bytes(randomLength, 'random');
  const sessionId = r.opaque8('session_id', 0, maxSessionIdLength);
  const cipherSuite = r.u16('cipher_suite');
  const compressionMethod = r.u8('compression_method');
  const extensions = r.remaining > 0 ? decodeExtensions(r) : [];
  r.expectEnd();
  return { version, random, sessionId, cipherSuite, compressionMethod, extensions };
}

/** An empty extension list is encoded as an absent block (see encodeClientHello). */
export function encodeServerHello(w: ByteWriter, m: ServerHello): void {
  if (m.random.length !== randomLength) throw new RangeError('server_hello: random must be 32 bytes');
  if (m.sessionId.length > maxSessionIdLength) throw new RangeError('server_hello: session_id longer than 32');
  w.u16(m.version);
  w.bytes(m.random);
  w.withLength8((b) => b.bytes(m.sessionId));
  w.u16(m.cipherSuite);
  w.u8(m.compressionMethod);
  if (m.extensions.length > 0) encodeExtensions(w, m.extensions);
}

export function parseServerHello(body: Uint8Array): ServerHello {
  return decodeServerHello(new ByteReader(body, 'server_hello'));
}
