/**
 * Server identity check with node:tls `checkServerIdentity` semantics (RFC 6125 §6.4):
 * an IP host matches SAN iPAddress only; a DNS host matches SAN dNSName entries, with a wildcard
 * allowed only in the left-most label and never for `*.tld`; the subject CN is consulted only
 * when the certificate has no SAN dNSName.
 */
import type { Certificate } from './types.ts';

export class HostnameMismatchError extends Error {
  readonly code = 'ERR_TLS_CERT_ALTNAME_INVALID';
  readonly reason: string;
  readonly host: string;
  readonly cert: Certificate;
  constructor(reason: string, host: string, cert: Certificate) {
    super(`Hostname/IP does not match certificate's altnames: ${reason}`);
    this.name = 'Error';
    this.reason = reason;
    this.host = host;
    this.cert = cert;
  }
}

/** Parses an IPv4 or IPv6 literal to bytes, or undefined if `s` is not an IP address. */
export function parseIp(s: string): Uint8Array | undefined {
  return parseIpv4(s) ?? parseIpv6(s);
}

function parseIpv4(s: string): Uint8Array | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i] ?? '';
    // Decimal only, no leading zeros (node's net.isIPv4 rejects '01.2.3.4').
    if (!/^(0|[1-9]\d{0,2})$/.test(p) || Number(p) > 255) return undefined;
    out[i] = Number(p);
  }
  return out;
}

function parseIpv6(input: string): Uint8Array | undefined {
  // Like node's net.isIP: no brackets, no zone id (a zone never matches a certificate).
  const s = input;
  if (s.includes('%') || s.length > 45) return undefined; // zone ids never match a certificate
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const parseGroups = (part: string): number[] | undefined => {
    if (part === '') return [];
    const groups: number[] = [];
    const items = part.split(':');
    for (let i = 0; i < items.length; i++) {
      const g = items[i] ?? '';
      if (i === items.length - 1 && g.includes('.')) {
        const v4 = parseIpv4(g);
        if (v4 === undefined) return undefined;
        groups.push(((v4[0] as number) << 8) | (v4[1] as number), ((v4[2] as number) << 8) | (v4[3] as number));
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
        groups.push(parseInt(g, 16));
      }
    }
    return groups;
  };
  const head = parseGroups(halves[0] ?? '');
  const tail = halves.length === 2 ? parseGroups(halves[1] ?? '') : [];
  if (head === undefined || tail === undefined) return undefined;
  const fill = 8 - head.length - tail.length;
  if (halves.length === 2 ? fill < 1 : fill !== 0) return undefined;
  const groups = [...head, ...new Array<number>(halves.length === 2 ? fill : 0).fill(0), ...tail];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}

const unfqdn = (host: string): string => host.replace(/[.]$/, '');
const splitHost = (host: string): string[] => unfqdn(host).toLowerCase().split('.');

/** node:tls `check(hostParts, pattern, wildcards)`. */
function matchesPattern(hostParts: readonly string[], pattern: string): boolean {
  if (pattern === '') return false;
  const patternParts = splitHost(pattern);
  if (hostParts.length !== patternParts.length) return false;
  if (patternParts.includes('')) return false;
  // Blanks, controls and non-ASCII (IDNA U-labels) never match.
  if (patternParts.some((p) => /[^\u0021-\u007F]/u.test(p))) return false;
  for (let i = hostParts.length - 1; i > 0; i--) if (hostParts[i] !== patternParts[i]) return false;
  const hostSub = hostParts[0] ?? '';
  const patternSub = patternParts[0] ?? '';
  const pieces = patternSub.split('*');
  // No wildcard, or an A-label (RFC 6125 §6.4.3 forbids wildcards in those): exact match.
  if (pieces.length === 1 || patternSub.includes('xn--')) return hostSub === patternSub;
  if (pieces.length > 2) return false; // more than one wildcard
  if (patternParts.length <= 2) return false; // *.tld
  const prefix = pieces[0] ?? '';
  const suffix = pieces[1] ?? '';
  if (prefix.length + suffix.length > hostSub.length) return false;
  return hostSub.startsWith(prefix) && hostSub.endsWith(suffix);
}

function sameIp(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Returns undefined when `cert` is valid for `host`, else an Error with code ERR_TLS_CERT_ALTNAME_INVALID. */
export function checkServerIdentity(host: string, cert: Certificate): Error | undefined {
  const hostname = unfqdn(String(host));
  const dnsNames = cert.subjectAltNames.dns;
  const altText = cert.altNameEntries
    .map((e) => (e.type === 'IP' ? `IP Address:${e.value}` : e.type === 'other' ? 'othername:<unsupported>' : `${e.type}:${e.value}`))
    .join(', ');
  const ipBytes = parseIp(hostname);
  let valid = false;
  let reason: string;
  if (ipBytes !== undefined) {
    valid = cert.altNameEntries.some((e) => e.type === 'IP' && sameIp(e.bytes, ipBytes));
    reason = `IP: ${hostname} is not in the cert's list: ${cert.subjectAltNames.ip.join(', ')}`;
  } else {
    const cns = cert.subject.attributes.filter((a) => a.type === 'CN').map((a) => a.value);
    if (dnsNames.length > 0 || cns.length > 0) {
      const hostParts = splitHost(hostname);
      if (dnsNames.length > 0) {
        valid = dnsNames.some((p) => matchesPattern(hostParts, p));
        reason = `Host: ${hostname}. is not in the cert's altnames: ${altText}`;
      } else {
        valid = cns.some((p) => matchesPattern(hostParts, p));
        reason = `Host: ${hostname}. is not cert's CN: ${cns.join(',')}`;
      }
    } else {
      reason = 'Cert does not contain a DNS name';
    }
  }
  return valid ? undefined : new HostnameMismatchError(reason, hostname, cert);
}
