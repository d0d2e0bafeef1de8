/**
 * RFC 5246 §7.4.4 CertificateRequest (TLS 1.2 form):
 * `ClientCertificateType certificate_types<1..2^8-1>;
 *  SignatureAndHashAlgorithm supported_signature_algorithms<2..2^16-2>;
 *  DistinguishedName certificate_authorities<0..2^16-1>` with `opaque DistinguishedName<1..2^16-1>`.
 */
import type { ByteReader } from '../../codec/reader.ts';
import type { ByteWriter } from '../../codec/writer.ts';
import { DecodeError } from '../../alerts.ts';
import type { CertificateRequest } from './types.ts';

export function decodeCertificateRequest(r: ByteReader): CertificateRequest {
  const types = r.vec8('certificate_types', 1);
  const certificateTypes: number[] = [];
  while (types.remaining > 0) certificateTypes.push(types.u8('certificate_type'));
  const algs = r.vec16('supported_signature_algorithms', 2, 0xfffe);
  if (algs.remaining % 2 !== 0) throw new DecodeError('certificate_request: odd supported_signature_algorithms length');
  const signatureAlgorithms: number[] = [];
  while (algs.remaining > 0) signatureAlgorithms.push(algs.u16('signature_algorithm'));
  const cas = r.vec16('certificate_authorities');
  const certificateAuthorities: Uint8Array[] = [];
  while (cas.remaining > 0) certificateAuthorities.push(cas.opaque16('DistinguishedName', 1));
  r.expectEnd();
  return { certificateTypes, signatureAlgorithms, certificateAuthorities };
}

export function encodeCertificateRequest(w: ByteWriter, m: CertificateRequest): void {
  if (m.certificateTypes.length === 0) throw new RangeError('certificate_request: no certificate types');
  if (m.signatureAlgorithms.length === 0) throw new RangeError('certificate_request: no signature algorithms');
  w.withLength8((b) => {
    for (const t of m.certificateTypes) b.u8(t);
  });
  w.withLength16((b) => {
    for (const a of m.signatureAlgorithms) b.u16(a);
  });
  w.withLength16((b) => {
    for (const dn of m.certificateAuthorities) {
      if (dn.length === 0) throw new RangeError('certificate_request: empty DistinguishedName');
      b.withLength16((d) => d.bytes(dn));
    }
  });
}
