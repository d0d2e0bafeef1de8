/**
 * Module-level members of node:tls that ported programs reach for: the default trust store,
 * the cipher list, the version bounds and `checkServerIdentity` over node's certificate object.
 */
import * as nodeTls from 'node:tls';
import { allSuites } from '../suites.ts';
import { loadCertificates, type PeerCertificate } from '../x509/index.ts';
import type { Certificate } from '../x509/types.ts';

/**
 * node's bundled Mozilla CA store (PEM strings), the same array node:tls exposes. A client with no
 * `ca` verifies servers against these, as node:tls does.
 */
export const rootCertificates: readonly string[] = nodeTls.rootCertificates;

/** milagro-ts speaks TLS 1.2 only: both bounds are 'TLSv1.2'. */
export const DEFAULT_MIN_VERSION = 'TLSv1.2' as const;
export const DEFAULT_MAX_VERSION = 'TLSv1.2' as const;

/** The suites this engine implements, lower-case OpenSSL names as node's `tls.getCiphers()` lists them. */
export function getCiphers(): string[] {
  return allSuites.map((s) => s.opensslName.toLowerCase());
}

/**
 * node:tls `checkServerIdentity(hostname, cert)` on the certificate object `getPeerCertificate()`
 * returns (and that the `checkServerIdentity` option receives): undefined when `hostname` matches
 * (RFC 6125), else an Error with code ERR_TLS_CERT_ALTNAME_INVALID. Node's own implementation is
 * used, so the answers and messages are node's.
 */
export function checkServerIdentity(hostname: string, cert: PeerCertificate): Error | undefined {
  return nodeTls.checkServerIdentity(hostname, cert as unknown as nodeTls.PeerCertificate);
}

/**
 * The parsed default trust store. Parsing 144 roots costs ~200 ms, so it is done once per process,
 * on the first connection that needs it: a write-once memo of immutable data (the one module-level
 * variable in the API, equivalent to a constant that is expensive to compute). A root our parser
 * cannot read is left out (the connection then fails as for an unknown CA, never silently trusts).
 */
const defaultRoots: { parsed?: readonly Certificate[] } = {};

export function defaultTrustAnchors(): readonly Certificate[] {
  if (defaultRoots.parsed === undefined) {
    const out: Certificate[] = [];
    for (const pem of rootCertificates) {
      try {
        out.push(...loadCertificates([pem]));
      } catch {
        // unsupported algorithm or encoding: not trusted
      }
    }
    defaultRoots.parsed = Object.freeze(out);
  }
  return defaultRoots.parsed;
}
