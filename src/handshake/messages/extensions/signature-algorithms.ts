/**
 * RFC 5246 §7.4.1.4.1 signature_algorithms:
 * `SignatureAndHashAlgorithm supported_signature_algorithms<2..2^16-2>`, each carried as one u16
 * code (hash << 8 | signature, the RFC 8446 SignatureScheme numbering).
 */
import { decodeU16List, encodeU16List } from './u16-list.ts';

export function decodeSignatureAlgorithms(data: Uint8Array): number[] {
  return decodeU16List(data, 'signature_algorithms');
}

export function encodeSignatureAlgorithms(schemes: readonly number[]): Uint8Array {
  return encodeU16List(schemes, 'signature_algorithms');
}
