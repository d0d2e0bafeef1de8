/**
 * RFC 5246 §7.4.8 CertificateVerify: a `digitally-signed` struct (§4.7), i.e.
 * SignatureAndHashAlgorithm (§7.4.1.4.1, as one u16 code) + `opaque signature<0..2^16-1>`.
 */
import type { ByteReader } from '../../codec/reader.ts';
import type { ByteWriter } from '../../codec/writer.ts';
import type { CertificateVerify } from './types.ts';

export function decodeCertificateVerify(r: ByteReader): CertificateVerify {
  const signatureScheme = r.u16('signature_algorithm');
  const signature = r.opaque16('signature');
  r.expectEnd();
  return { signatureScheme, signature };
}

export function encodeCertificateVerify(w: ByteWriter, m: CertificateVerify): void {
  w.u16(m.signatureScheme);
  w.withLength16((b) => b.bytes(m.signature));
}
