/** RFC 5246 §7.4.1.2 ClientHello. */
import { ByteReader } from '../../codec/reader.ts';
import type { ByteWriter } from '../../codec/writer.ts';
import { DecodeError } from '../../alerts.ts';
import { decodeExtensions, encodeExtensions } from './extensions/index.ts';
import type { ClientHello } from './types.ts';

export const randomLength = 32;
export const maxSessionIdLength = 32;

export function decodeClientHello(r: ByteReader): ClientHello {
  const version = r.u16('client_version');
  const random = r.bytes(randomLength, 'random');
  const sessionId = r.opaque8('session_id', 0, maxSessionIdLength);
  // CipherSuite cipher_suites<2..2^16-2>: whole 2-byte entries only.
  const suites = r.vec16('cipher_suites', 2, 0xfffe);
  if (suites.remaining % 2 !== 0) throw new DecodeError('client_hello: odd cipher_suites length');
  const cipherSuites: number[] = [];
  while (suites.remaining > 0) cipherSuites.push(suites.u16('cipher_suite'));
  // CompressionMethod compression_methods<1..2^8-1>
  const comp = r.vec8('compression_methods', 1, 0xff);
  const compressionMethods: number[] = [];
  while (comp.remaining > 0) compressionMethods.push(comp.u8('compression_method'));
  // §7.4.1.2: the extensions block may be absent entirely (e.g. milagro-tls's P2P client).
  const extensions = r.remaining > 0 ? decodeExtensions(r) : [];
  r.expectEnd();
  return { version, random, sessionId, cipherSuites, compressionMethods, extensions };
}

/**
 * An empty extension list is encoded as an absent block (what milagro-tls and older stacks send);
 * transcripts always hash the received raw bytes, never a re-encoding.
 */
export function encodeClientHello(w: ByteWriter, m: ClientHello): void {
  if (m.random.length !== randomLength) throw new RangeError('client_hello: random must be 32 bytes');
  if (m.sessionId.length > maxSessionIdLength) throw new RangeError('client_hello: session_id longer than 32');
  if (m.cipherSuites.length === 0) throw new RangeError('client_hello: no cipher suites');
  if (m.compressionMethods.length === 0) throw new RangeError('client_hello: no compression methods');
  w.u16(m.version);
  w.bytes(m.random);
  w.withLength8((b) => b.bytes(m.sessionId));
  w.withLength16((b) => {
    for (const s of m.cipherSuites) b.u16(s);
  });
  w.withLength8((b) => {
    for (const c of m.compressionMethods) b.u8(c);
  });
  if (m.extensions.length > 0) encodeExtensions(w, m.extensions);
}

export function parseClientHello(body: Uint8Array): ClientHello {
  return decodeClientHello(new ByteReader(body, 'client_hello'));
}
