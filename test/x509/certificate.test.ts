import { X509Certificate } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CertificateError, checkServerIdentity, decodePem, encodePem, isCaCertificate, loadCertificates, parseCertificate, toPeerCertificate, verifyChain } from '../../src/x509/index.ts';
import { fixture, seededRandom } from './helpers.ts';

const dir = fileURLToPath(new URL('../fixtures/certs/', import.meta.url));
const pemFiles = readdirSync(dir).filter((f) => f.endsWith('.pem'));

/** node prints DNs one attribute per line: "O=milagro-ts fixtures\nCN=localhost". */
const nodeDn = (attrs: readonly { type: string; value: string }[]): string => attrs.map((a) => `${a.type}=${a.value}`).join('\n');

describe('RFC 5280 §4.1 parseCertificate on every fixture, compared with node:crypto X509Certificate', () => {
  it('has fixtures to check', () => expect(pemFiles.length).toBeGreaterThanOrEqual(20));
  for (const file of pemFiles) {
    it(file, () => {
      const pem = fixture(file);
      const ours = loadCertificates(pem);
      const blocks = decodePem(pem);
      expect(ours.length).toBe(blocks.length);
      ours.forEach((cert, i) => {
        const block = blocks[i];
        if (block === undefined) throw new Error('block');
        const node = new X509Certificate(block.der);
        expect(cert.raw).toEqual(block.der);
        expect(nodeDn(cert.subject.attributes)).toBe(node.subject);
        expect(nodeDn(cert.issuer.attributes)).toBe(node.issuer);
        expect(cert.serialNumber.toUpperCase()).toBe(node.serialNumber);
        expect(cert.validFrom.getTime()).toBe(new Date(node.validFrom).getTime());
        expect(cert.validTo.getTime()).toBe(new Date(node.validTo).getTime());
        expect(isCaCertificate(cert)).toBe(node.ca);
        expect(cert.extKeyUsage ?? []).toEqual(node.keyUsage ?? []);
        expect(Buffer.from(cert.spki)).toEqual(node.publicKey.export({ format: 'der', type: 'spki' }));
        const jwk = node.publicKey.export({ format: 'jwk' });
        if (cert.publicKey.type === 'ec') {
          expect(cert.publicKey.curve).toBe(jwk.crv);
          expect(Buffer.from(cert.publicKey.point.subarray(1, 1 + (cert.publicKey.point.length - 1) / 2)).toString('base64url')).toBe(jwk.x);
        } else {
          expect(cert.publicKey.n.toString(16)).toBe(Buffer.from(jwk.n ?? '', 'base64url').toString('hex').replace(/^0+/, ''));
          expect(cert.publicKey.bits).toBe(node.publicKey.asymmetricKeyDetails?.modulusLength);
        }
        const sanText = [
          ...cert.altNameEntries.map((e) => (e.type === 'IP' ? `IP Address:${e.value}` : e.type === 'other' ? '' : `${e.type}:${e.value}`)),
        ].join(', ');
        // node prints IPv6 uncompressed (0:0:0:0:0:0:0:1); compare after normalising ours.
        expect(sanText.replace('IP Address:::1', 'IP Address:0:0:0:0:0:0:0:1')).toBe(node.subjectAltName ?? '');
      });
    });
  }

  it('decodes the localhost leaf extensions', () => {
    const [c] = loadCertificates(fixture('server-ec256.pem'));
    if (c === undefined) throw new Error('fixture');
    expect(c.version).toBe(3);
    expect(c.subject.attributes).toEqual([
      { type: 'C', value: 'GB' },
      { type: 'O', value: 'milagro-ts fixtures' },
      { type: 'CN', value: 'localhost' },
    ]);
    expect(c.subjectAltNames).toEqual({ dns: ['localhost'], ip: ['127.0.0.1', '::1'] });
    expect(c.keyUsage).toEqual(['digitalSignature', 'keyEncipherment']);
    expect(c.basicConstraints).toEqual({ ca: false });
    expect(c.signatureAlgorithm).toBe('1.2.840.10045.4.3.2');
    expect(c.unknownCriticalExtensions).toEqual([]);
    const [ca] = loadCertificates(fixture('intermediate-ec.pem'));
    expect(ca?.basicConstraints).toEqual({ ca: true, pathLen: 0 });
    expect(ca?.keyUsage).toEqual(['keyCertSign', 'cRLSign']);
    const [pss] = loadCertificates(fixture('server-rsa-pss.pem'));
    expect(pss?.signatureAlgorithm).toBe('1.2.840.113549.1.1.10');
    expect(pss?.signatureParameters).toBeInstanceOf(Uint8Array);
    const [crit] = loadCertificates(fixture('critical-ext.pem'));
    expect(crit?.unknownCriticalExtensions).toEqual(['1.3.6.1.4.1.55555.1']);
  });

  it('loadCertificates accepts DER bytes, PEM bytes, and lists', () => {
    const pem = fixture('chain-leaf.pem');
    const der = decodePem(pem).map((b) => b.der);
    const fromPem = loadCertificates(pem);
    expect(loadCertificates(new TextEncoder().encode(pem))).toEqual(fromPem);
    expect(loadCertificates(der)).toEqual(fromPem);
    expect(loadCertificates([pem, fixture('ca-ec.pem')]).length).toBe(3);
    expect(() => loadCertificates('hello')).toThrow(CertificateError);
    expect(() => loadCertificates(fixture('server-ec256.key'))).toThrow(CertificateError);
  });

  it('keeps its own copy of the bytes', () => {
    const der = Uint8Array.from(decodePem(fixture('server-ec256.pem'))[0]?.der ?? []);
    const c = parseCertificate(der);
    der.fill(0);
    expect(c.raw[0]).toBe(0x30);
    expect(c.subject.attributes.at(-1)?.value).toBe('localhost');
  });
});

describe('bad DER never escapes as anything but CertificateError', () => {
  const ders = pemFiles.flatMap((f) => decodePem(fixture(f)).map((b) => b.der));
  const anchors = loadCertificates(fixture('ca-ec.pem'));
  let parsedMutants = 0;
  /** Anything that parses must also go through validation and display without throwing. */
  const mustReject = (bytes: Uint8Array): void => {
    let cert;
    try {
      cert = parseCertificate(bytes);
    } catch (e) {
      if (!(e instanceof CertificateError)) throw e;
      return;
    }
    parsedMutants++;
    // Signature checks are slow; validate a sample of the parsed mutants.
    if (parsedMutants % 100 !== 1) return;
    const r = verifyChain([cert], { ca: anchors, now: new Date('2030-01-01T00:00:00Z'), host: 'localhost' });
    expect(typeof r.authorized).toBe('boolean');
    checkServerIdentity('127.0.0.1', cert);
    toPeerCertificate(cert, true, anchors);
  };

  it('rejects every truncated prefix of every fixture', () => {
    for (const der of ders) for (let n = 0; n < der.length; n++) expect(() => parseCertificate(der.subarray(0, n))).toThrow(CertificateError);
  });

  it('rejects trailing bytes', () => {
    const der = ders[0] ?? new Uint8Array();
    expect(() => parseCertificate(Uint8Array.of(...der, 0))).toThrow(/trailing/);
  });

  it('survives 20,000 random single-byte mutations and byte-run splices', () => {
    const rnd = seededRandom(2026);
    const pick = (n: number): number => (((rnd(1)[0] as number) << 16) | ((rnd(1)[0] as number) << 8) | (rnd(1)[0] as number)) % n;
    for (let i = 0; i < 20_000; i++) {
      const src = ders[pick(ders.length)] ?? new Uint8Array();
      const m = Uint8Array.from(src);
      const kind = i % 3;
      if (kind === 0) m[pick(m.length)] = rnd(1)[0] as number;
      else if (kind === 1) m.set(rnd(1 + pick(8)), pick(m.length - 8));
      else m[pick(m.length)] = (m[pick(m.length)] as number) ^ (1 << pick(8));
      mustReject(m);
    }
    // Mutations inside signatures, names and key bits still parse: validation ran on those.
    expect(parsedMutants).toBeGreaterThan(1000);
  });

  it('random garbage and hostile lengths', () => {
    const rnd = seededRandom(99);
    for (let i = 0; i < 2000; i++) mustReject(rnd(i % 300));
    for (const b of [
      [0x30, 0x80, 0, 0], // indefinite length
      [0x30, 0x84, 0xff, 0xff, 0xff, 0xff], // 4 GiB length
      [0x30, 0x81, 0x05, 1, 2, 3, 4, 5], // non-minimal length
      [0x30, 0x85, 1, 1, 1, 1, 1], // 5 length octets
      [0x1f, 0x81, 0x01, 0x00], // high tag number
      Array.from({ length: 20_000 }, (_, k) => (k % 2 === 0 ? 0x30 : 0x80)), // deep nesting attempt
    ]) {
      expect(() => parseCertificate(Uint8Array.from(b))).toThrow(CertificateError);
    }
  });

  it('rejects a duplicated extension (RFC 5280 §4.2)', () => {
    // Duplicate the SAN extension by re-encoding: find it in the DER and splice a copy after it.
    const der = decodePem(fixture('wildcard.pem'))[0]?.der ?? new Uint8Array();
    const san = Buffer.from(der).indexOf(Buffer.from([0x06, 0x03, 0x55, 0x1d, 0x11]));
    expect(san).toBeGreaterThan(0);
    // Extension SEQUENCE header is 2 bytes before the OID (short form length).
    const extStart = san - 2;
    const extLen = (der[extStart + 1] as number) + 2;
    const ext = der.subarray(extStart, extStart + extLen);
    // Rebuild with lengths patched: the SAN adds extLen bytes to Extensions, [3], tbs and Certificate.
    const grown = bumpLengths(der, extStart, ext);
    expect(() => parseCertificate(grown)).toThrow(/duplicate extension/);
  });

  it('PEM with mismatched labels, headers or bad base64 is refused', () => {
    expect(() => decodePem('-----BEGIN CERTIFICATE-----\nAAAA\n-----END X509 CRL-----')).toThrow(CertificateError);
    expect(() => decodePem('-----BEGIN CERTIFICATE-----\nA*AA\n-----END CERTIFICATE-----')).toThrow(CertificateError);
    expect(() => decodePem('-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nAAAA\n-----END RSA PRIVATE KEY-----')).toThrow(CertificateError);
    const der = Uint8Array.of(1, 2, 3, 250);
    expect(decodePem(`junk\n${encodePem('X', der)}more`)).toEqual([{ label: 'X', der }]);
  });
});

/**
 * Inserts a copy of `ext` right after itself and grows every enclosing DER length.
 * Enclosing elements of the fixture use the 0x82 two-byte long form (certificate, tbs) or short/0x81 forms.
 */
function bumpLengths(der: Uint8Array, at: number, ext: Uint8Array): Uint8Array {
  const out = [...der.subarray(0, at + ext.length), ...ext, ...der.subarray(at + ext.length)];
  // Walk down from the root, growing each element that contains `at`.
  const grow = (pos: number): void => {
    const first = out[pos + 1] as number;
    let hdr = 2;
    let len = first;
    if (first === 0x81) {
      len = out[pos + 2] as number;
      hdr = 3;
      if (len + ext.length > 255) throw new Error('test helper: length form would change');
      out[pos + 2] = len + ext.length;
    } else if (first === 0x82) {
      len = ((out[pos + 2] as number) << 8) | (out[pos + 3] as number);
      hdr = 4;
      out[pos + 2] = (len + ext.length) >> 8;
      out[pos + 3] = (len + ext.length) & 0xff;
    } else {
      if (len + ext.length > 127) throw new Error('test helper: length form would change');
      out[pos + 1] = len + ext.length;
    }
    // Descend into the child containing `at`, unless `at` starts right here.
    let child = pos + hdr;
    while (child < pos + hdr + len) {
      if (child === at) return;
      const cf = out[child + 1] as number;
      const ch = cf < 0x80 ? 2 : 2 + (cf & 0x7f);
      let cl = cf < 0x80 ? cf : 0;
      for (let k = 0; k < (cf < 0x80 ? 0 : cf & 0x7f); k++) cl = cl * 256 + (out[child + 2 + k] as number);
      if (at >= child && at < child + ch + cl) return grow(child);
      child += ch + cl;
    }
  };
  grow(0);
  return Uint8Array.from(out);
}
