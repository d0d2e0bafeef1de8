/**
 * X.509 v3 certificate decoding (RFC 5280 §4.1) and the extensions path validation needs
 * (§4.2.1.3 keyUsage, §4.2.1.6 subjectAltName, §4.2.1.9 basicConstraints, §4.2.1.12 extKeyUsage).
 * Decoding only: signatures, validity and chain rules are checked in chain.ts.
 */
import {
  DerReader,
  Tag,
  children,
  contextTag,
  decodeBoolean,
  decodeNamedBits,
  decodeString,
  decodeTime,
  readBitStringBytes,
  readOid,
  readSingle,
  readSmallInt,
  type DerElement,
} from './der.ts';
import { CertificateError } from './errors.ts';
import { parseSpki } from './keys.ts';
import { asPemText, decodePem } from './pem.ts';
import type { AltNameEntry, Certificate, DistinguishedName } from './types.ts';

/** Attribute short names as OpenSSL (and so node:tls) prints them. */
const attributeNames: ReadonlyMap<string, string> = new Map([
  ['2.5.4.3', 'CN'],
  ['2.5.4.4', 'SN'],
  ['2.5.4.5', 'serialNumber'],
  ['2.5.4.6', 'C'],
  ['2.5.4.7', 'L'],
  ['2.5.4.8', 'ST'],
  ['2.5.4.9', 'street'],
  ['2.5.4.10', 'O'],
  ['2.5.4.11', 'OU'],
  ['2.5.4.12', 'title'],
  ['2.5.4.17', 'postalCode'],
  ['2.5.4.41', 'name'],
  ['2.5.4.42', 'GN'],
  ['2.5.4.43', 'initials'],
  ['2.5.4.46', 'dnQualifier'],
  ['2.5.4.65', 'pseudonym'],
  ['1.2.840.113549.1.9.1', 'emailAddress'],
  ['0.9.2342.19200300.100.1.1', 'UID'],
  ['0.9.2342.19200300.100.1.25', 'DC'],
]);

export const ExtOid = {
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
} as const;

export const EkuOid = {
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  anyExtendedKeyUsage: '2.5.29.37.0',
} as const;

/** RFC 5280 §4.2.1.3 KeyUsage bit names. */
const keyUsageNames = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
] as const;

/** Name ::= SEQUENCE OF RelativeDistinguishedName (RFC 5280 §4.1.2.4). */
function parseName(el: DerElement, what: string): DistinguishedName {
  const rdns = children(el, what);
  const attributes: { type: string; value: string }[] = [];
  while (!rdns.done) {
    const set = new DerReader(rdns.expect(Tag.SET, 'RelativeDistinguishedName').value, what);
    if (set.done) throw new CertificateError(`${what}: empty RDN`);
    while (!set.done) {
      const atv = set.sequence('AttributeTypeAndValue');
      const oid = readOid(atv, 'attribute type');
      const valueEl = atv.read();
      atv.end();
      if (attributes.length >= 64) throw new CertificateError(`${what}: too many attributes`);
      attributes.push({ type: attributeNames.get(oid) ?? oid, value: decodeString(valueEl, `${what} ${oid}`) });
    }
  }
  return { raw: el.raw, attributes };
}

/** Canonical text of an IP address from SAN bytes (RFC 5952 §4 for IPv6, like node's net module). */
export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join('.');
  if (bytes.length !== 16) throw new CertificateError('SAN iPAddress: length must be 4 or 16');
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] as number) << 8) | (bytes[i + 1] as number));
  // Longest run (≥ 2) of zero groups becomes '::' (leftmost on ties).
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

const ia5 = (el: DerElement, what: string): string => {
  for (const x of el.value) if (x > 0x7e || x < 0x20) throw new CertificateError(`${what}: not printable IA5`);
  return new TextDecoder('latin1').decode(el.value);
};

/** GeneralNames (RFC 5280 §4.2.1.6). */
function parseSubjectAltName(value: Uint8Array): AltNameEntry[] {
  const r = new DerReader(readSingle(value, Tag.SEQUENCE, 'subjectAltName').value, 'subjectAltName');
  const out: AltNameEntry[] = [];
  while (!r.done) {
    const el = r.read();
    if (out.length >= 1024) throw new CertificateError('subjectAltName: too many names');
    switch (el.tag) {
      case contextTag(1, false):
        out.push({ type: 'email', value: ia5(el, 'SAN rfc822Name') });
        break;
      case contextTag(2, false):
        out.push({ type: 'DNS', value: ia5(el, 'SAN dNSName') });
        break;
      case contextTag(6, false):
        out.push({ type: 'URI', value: ia5(el, 'SAN URI') });
        break;
      case contextTag(7, false):
        out.push({ type: 'IP', value: formatIp(el.value), bytes: el.value });
        break;
      default:
        out.push({ type: 'other', tag: el.tag });
    }
  }
  if (out.length === 0) throw new CertificateError('subjectAltName: empty'); // RFC 5280 §4.2.1.6 SIZE (1..MAX)
  return out;
}

function parseBasicConstraints(value: Uint8Array): { ca: boolean; pathLen?: number } {
  const r = new DerReader(readSingle(value, Tag.SEQUENCE, 'basicConstraints').value, 'basicConstraints');
  const caEl = r.optional(Tag.BOOLEAN);
  const ca = caEl !== undefined && decodeBoolean(caEl, 'basicConstraints cA');
  const lenEl = r.optional(Tag.INTEGER);
  r.end();
  return lenEl === undefined ? { ca } : { ca, pathLen: readSmallInt(lenEl, 'pathLenConstraint') };
}

function parseKeyUsage(value: Uint8Array): string[] {
  return decodeNamedBits(readSingle(value, Tag.BIT_STRING, 'keyUsage'), 'keyUsage')
    .map((bit) => keyUsageNames[bit])
    .filter((n): n is (typeof keyUsageNames)[number] => n !== undefined);
}

function parseExtKeyUsage(value: Uint8Array): string[] {
  const r = new DerReader(readSingle(value, Tag.SEQUENCE, 'extKeyUsage').value, 'extKeyUsage');
  const out: string[] = [];
  while (!r.done) {
    if (out.length >= 64) throw new CertificateError('extKeyUsage: too many purposes');
    out.push(readOid(r, 'KeyPurposeId'));
  }
  if (out.length === 0) throw new CertificateError('extKeyUsage: empty');
  return out;
}

/** AlgorithmIdentifier → OID and the raw parameters (absent or NULL → undefined). */
function parseAlgorithm(r: DerReader, what: string): { oid: string; params: Uint8Array | undefined; raw: Uint8Array } {
  const el = r.expect(Tag.SEQUENCE, what);
  const a = new DerReader(el.value, what);
  const oid = readOid(a, `${what} algorithm`);
  const p = a.done ? undefined : a.read();
  a.end();
  return { oid, params: p === undefined || p.tag === Tag.NULL ? undefined : p.raw, raw: el.raw };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Parses one DER certificate. Throws CertificateError on anything malformed or unsupported. */
export function parseCertificate(der: Uint8Array): Certificate {
  if (!(der instanceof Uint8Array)) throw new CertificateError('certificate must be bytes');
  if (der.length > 64 * 1024) throw new CertificateError('certificate larger than 64 KiB');
  const raw = Uint8Array.from(der); // own copy: the caller's buffer may be reused
  const cert = new DerReader(readSingle(raw, Tag.SEQUENCE, 'Certificate').value, 'Certificate');
  const tbsEl = cert.expect(Tag.SEQUENCE, 'tbsCertificate');
  const sigAlg = parseAlgorithm(cert, 'signatureAlgorithm');
  const signature = readBitStringBytes(cert, 'signatureValue');
  cert.end();

  const t = new DerReader(tbsEl.value, 'tbsCertificate');
  const versionEl = t.optional(contextTag(0, true));
  let version = 1;
  if (versionEl !== undefined) {
    const vr = new DerReader(versionEl.value, 'version');
    version = readSmallInt(vr.expect(Tag.INTEGER, 'version'), 'version') + 1;
    vr.end();
    if (version < 1 || version > 3) throw new CertificateError(`unsupported certificate version ${version}`);
  }
  const serialEl = t.expect(Tag.INTEGER, 'serialNumber');
  if (serialEl.value.length === 0 || serialEl.value.length > 64) throw new CertificateError('serialNumber: bad length');
  const serialBytes = serialEl.value[0] === 0 && serialEl.value.length > 1 ? serialEl.value.subarray(1) : serialEl.value;
  const serialNumber = Array.from(serialBytes, (x) => x.toString(16).padStart(2, '0')).join('');
  const innerSigAlg = parseAlgorithm(t, 'signature');
  // RFC 5280 §4.1.1.2: must equal the outer signatureAlgorithm.
  if (!sameBytes(innerSigAlg.raw, sigAlg.raw)) throw new CertificateError('signature algorithm mismatch between tbsCertificate and Certificate');
  const issuer = parseName(t.expect(Tag.SEQUENCE, 'issuer'), 'issuer');
  const validity = t.sequence('validity');
  const validFrom = decodeTime(validity.read(), 'notBefore');
  const validTo = decodeTime(validity.read(), 'notAfter');
  validity.end();
  const subject = parseName(t.expect(Tag.SEQUENCE, 'subject'), 'subject');
  const spkiEl = t.expect(Tag.SEQUENCE, 'subjectPublicKeyInfo');
  const publicKey = parseSpki(spkiEl);
  t.optional(contextTag(1, false)); // issuerUniqueID
  t.optional(contextTag(2, false)); // subjectUniqueID
  const extsEl = t.optional(contextTag(3, true));
  t.end();

  let altNameEntries: AltNameEntry[] = [];
  let basicConstraints: { ca: boolean; pathLen?: number } | undefined;
  let keyUsage: string[] | undefined;
  let extKeyUsage: string[] | undefined;
  const unknownCriticalExtensions: string[] = [];
  if (extsEl !== undefined) {
    if (version !== 3) throw new CertificateError('extensions in a non-v3 certificate');
    const wrapper = new DerReader(extsEl.value, 'extensions');
    const exts = wrapper.sequence('Extensions');
    wrapper.end();
    const seen = new Set<string>();
    if (exts.done) throw new CertificateError('extensions: empty'); // SIZE (1..MAX)
    while (!exts.done) {
      const ext = exts.sequence('Extension');
      const oid = readOid(ext, 'extnID');
      const critEl = ext.optional(Tag.BOOLEAN);
      const critical = critEl !== undefined && decodeBoolean(critEl, 'critical');
      const value = ext.expect(Tag.OCTET_STRING, 'extnValue').value;
      ext.end();
      // RFC 5280 §4.2: a certificate must not include more than one instance of an extension.
      if (seen.has(oid)) throw new CertificateError(`duplicate extension ${oid}`);
      if (seen.size >= 64) throw new CertificateError('too many extensions');
      seen.add(oid);
      switch (oid) {
        case ExtOid.subjectAltName:
          altNameEntries = parseSubjectAltName(value);
          break;
        case ExtOid.basicConstraints:
          basicConstraints = parseBasicConstraints(value);
          break;
        case ExtOid.keyUsage:
          keyUsage = parseKeyUsage(value);
          break;
        case ExtOid.extKeyUsage:
          extKeyUsage = parseExtKeyUsage(value);
          break;
        default:
          if (critical) unknownCriticalExtensions.push(oid);
      }
    }
  }

  const dns: string[] = [];
  const ip: string[] = [];
  for (const e of altNameEntries) {
    if (e.type === 'DNS') dns.push(e.value);
    else if (e.type === 'IP') ip.push(e.value);
  }
  return {
    raw,
    tbs: tbsEl.raw,
    version,
    subject,
    issuer,
    serialNumber,
    validFrom,
    validTo,
    publicKey,
    spki: spkiEl.raw,
    subjectAltNames: { dns, ip },
    altNameEntries,
    ...(basicConstraints !== undefined ? { basicConstraints } : {}),
    ...(keyUsage !== undefined ? { keyUsage } : {}),
    ...(extKeyUsage !== undefined ? { extKeyUsage } : {}),
    unknownCriticalExtensions,
    signatureAlgorithm: sigAlg.oid,
    ...(sigAlg.params !== undefined ? { signatureParameters: sigAlg.params } : {}),
    signature,
  };
}

/**
 * Loads certificates from PEM text/bytes (every CERTIFICATE block, in order) or DER bytes
 * (one certificate), or a list of those (node:tls `ca`/`cert` option shapes).
 */
export function loadCertificates(input: string | Uint8Array | readonly (string | Uint8Array)[]): Certificate[] {
  if (Array.isArray(input)) return (input as readonly (string | Uint8Array)[]).flatMap((x) => loadCertificates(x));
  const one = input as string | Uint8Array;
  const text = asPemText(one);
  if (text === undefined) {
    if (typeof one === 'string') throw new CertificateError('no PEM certificate found');
    return [parseCertificate(one)];
  }
  const blocks = decodePem(text).filter((b) => b.label === 'CERTIFICATE' || b.label === 'X509 CERTIFICATE');
  if (blocks.length === 0) throw new CertificateError('no PEM certificate found');
  return blocks.map((b) => parseCertificate(b.der));
}

/**
 * OpenSSL's X509_check_ca() as a boolean (node's `ca` field): basicConstraints cA with keyUsage
 * (if present) allowing keyCertSign; without basicConstraints, a self-signed v1 certificate.
 */
export function isCaCertificate(cert: Certificate): boolean {
  const kuOk = cert.keyUsage === undefined || cert.keyUsage.includes('keyCertSign');
  if (cert.basicConstraints !== undefined) return cert.basicConstraints.ca && kuOk;
  if (cert.version === 1 && cert.subject.raw.length === cert.issuer.raw.length && cert.subject.raw.every((x, i) => x === cert.issuer.raw[i])) return true;
  return cert.keyUsage?.includes('keyCertSign') === true;
}
