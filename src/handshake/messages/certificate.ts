/** RFC 5246 §7.4.2 Certificate: `ASN.1Cert certificate_list<0..2^24-1>`, each `opaque ASN.1Cert<1..2^24-1>`. */
import type { ByteReader } from '../../codec/reader.ts';
import type { ByteWriter } from '../../codec/writer.ts';
import type { CertificateMessage } from './types.ts';

export function decodeCertificate(r: ByteReader): CertificateMessage {
  const list = r.vec24('certificate_list');
  const certificates: Uint8Array[] = [];
  while (list.remaining > 0) certificates.push(list.opaque24('ASN.1Cert', 1));
  r.expectEnd();
  return { certificates };
}

export function encodeCertificate(w: ByteWriter, m: CertificateMessage): void {
  w.withLength24((l) => {
    for (const c of m.certificates) {
      if (c.length === 0) throw new RangeError('certificate: empty ASN.1Cert');
      l.withLength24((b) => b.bytes(c));
    }
  });
}
