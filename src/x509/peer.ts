/**
 * node:tls `getPeerCertificate()` view of a Certificate, field for field as node 20 prints it
 * (checked against node:tls in test/x509/peer-certificate.test.ts).
 */
import { sha1 } from '@noble/hashes/legacy.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { isCaCertificate } from './certificate.ts';
import type { Certificate, DistinguishedName } from './types.ts';

export interface PeerCertificate {
  readonly subject: Record<string, string | string[]>;
  readonly issuer: Record<string, string | string[]>;
  readonly subjectaltname?: string;
  readonly ca: boolean;
  readonly modulus?: string;
  readonly exponent?: string;
  readonly bits?: number;
  readonly pubkey?: Buffer;
  readonly asn1Curve?: string;
  readonly nistCurve?: string;
  readonly valid_from: string;
  readonly valid_to: string;
  readonly fingerprint: string;
  readonly fingerprint256: string;
  readonly fingerprint512: string;
  readonly ext_key_usage?: string[];
  readonly serialNumber: string;
  readonly raw: Buffer;
  /** With `detailed`: the issuer's view (a self-signed certificate points to itself, as in node). */
  issuerCertificate?: PeerCertificate;
}

/** node builds null-prototype objects; repeated attributes become arrays. */
function nameObject(dn: DistinguishedName): Record<string, string | string[]> {
  const out = Object.create(null) as Record<string, string | string[]>;
  for (const { type, value } of dn.attributes) {
    const prev = out[type];
    out[type] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return out;
}

const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;
const two = (n: number): string => String(n).padStart(2, '0');

/** OpenSSL ASN1_TIME_print: "Jan  1 00:00:00 2025 GMT". */
export function formatOpensslTime(d: Date): string {
  return `${months[d.getUTCMonth()] ?? ''} ${String(d.getUTCDate()).padStart(2, ' ')} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} ${d.getUTCFullYear()} GMT`;
}

const colonHex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0').toUpperCase()).join(':');

/** OpenSSL prints IPv6 SANs as eight uppercase hex groups, uncompressed. */
function opensslIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join('.');
  const groups: string[] = [];
  for (let i = 0; i + 1 < bytes.length; i += 2) groups.push((((bytes[i] as number) << 8) | (bytes[i + 1] as number)).toString(16).toUpperCase());
  return groups.join(':');
}

/** node quotes names that could be confused with the separators (CVE-2021-44532). */
function safeName(v: string): string {
  return /[,"\\\u0000-\u001f\u007f-\uffff]/u.test(v) ? JSON.stringify(v) : v;
}

function altNames(cert: Certificate): string | undefined {
  if (cert.altNameEntries.length === 0) return undefined;
  return cert.altNameEntries
    .map((e) => {
      switch (e.type) {
        case 'DNS':
        case 'email':
        case 'URI':
          return `${e.type}:${safeName(e.value)}`;
        case 'IP':
          return `IP Address:${opensslIp(e.bytes)}`;
        case 'other':
          return 'othername:<unsupported>';
        default: {
          const never: never = e;
          return String(never);
        }
      }
    })
    .join(', ');
}

function single(cert: Certificate): PeerCertificate {
  const key = cert.publicKey;
  const keyFields =
    key.type === 'rsa'
      ? {
          modulus: key.n.toString(16).toUpperCase(),
          bits: key.bits,
          exponent: `0x${key.e.toString(16)}`,
          pubkey: Buffer.from(cert.spki),
        }
      : {
          bits: key.curve === 'P-256' ? 256 : 384,
          pubkey: Buffer.from(key.point),
          asn1Curve: key.curve === 'P-256' ? 'prime256v1' : 'secp384r1',
          nistCurve: key.curve,
        };
  const san = altNames(cert);
  return {
    subject: nameObject(cert.subject),
    issuer: nameObject(cert.issuer),
    ...(san !== undefined ? { subjectaltname: san } : {}),
    ca: isCaCertificate(cert),
    ...keyFields,
    valid_from: formatOpensslTime(cert.validFrom),
    valid_to: formatOpensslTime(cert.validTo),
    fingerprint: colonHex(sha1(cert.raw)),
    fingerprint256: colonHex(sha256(cert.raw)),
    fingerprint512: colonHex(sha512(cert.raw)),
    ...(cert.extKeyUsage !== undefined ? { ext_key_usage: [...cert.extKeyUsage] } : {}),
    serialNumber: cert.serialNumber.toUpperCase(),
    raw: Buffer.from(cert.raw),
  };
}

/**
 * The node:tls shape of `cert`. With `detailed`, `issuerCertificate` links up through `issuers`
 * (the rest of the peer chain, then the trust anchors), matched by DN as node does. A certificate
 * that OpenSSL's X509_check_issued() accepts as its own issuer (same DN, keyUsage absent or with
 * keyCertSign) points to itself; otherwise the walk ends with `issuerCertificate` unset.
 */
export function toPeerCertificate(cert: Certificate, detailed = false, issuers: readonly Certificate[] = []): PeerCertificate {
  const first = single(cert);
  if (!detailed) return first;
  const same = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);
  const canSign = (c: Certificate): boolean => c.keyUsage === undefined || c.keyUsage.includes('keyCertSign');
  let view = first;
  let current = cert;
  const seen: Certificate[] = [cert];
  for (let depth = 0; depth < 10; depth++) {
    if (same(current.issuer.raw, current.subject.raw) && canSign(current)) {
      view.issuerCertificate = view;
      break;
    }
    const next = issuers.find((c) => same(c.subject.raw, current.issuer.raw) && !seen.includes(c));
    if (next === undefined) break;
    const nextView = single(next);
    view.issuerCertificate = nextView;
    view = nextView;
    current = next;
    seen.push(next);
  }
  return first;
}
