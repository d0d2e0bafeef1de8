/**
 * Certificate path building and validation (RFC 5280 §6, simplified) with node:tls / OpenSSL
 * error codes, so `authorizationError` reads the same as with node:tls.
 *
 * Path building: from the leaf, each issuer is looked up first among the trust anchors, then among
 * the other certificates the peer sent (any order), by issuer/subject DN bytes. Any certificate in
 * `ca` is a trust anchor (like Go, and OpenSSL with X509_V_FLAG_PARTIAL_CHAIN), so a CA given as the
 * leaf's direct issuer works. Checks then follow OpenSSL's order: chain rules (critical
 * extensions, CA flags, path length, purposes, key sizes), then per certificate from the anchor
 * down: signature, validity period; finally the host name.
 *
 * Bounded work (issue 11 §4): the peer chooses the certificates, so path building runs within a
 * budget, as Go's crypto/x509 (100 signature checks) and rustls/webpki do: at most
 * `maxCandidatesPerDepth` issuer candidates are tried per link, an issuer key already refused for
 * a certificate is not tried again, and the whole verification stops after `maxSignatureChecks`
 * signature verifications with CHAIN_BUDGET_EXCEEDED (→ bad_certificate). Our defaults are lower
 * than Go's because the checks run on the event loop (noble ECDSA P-256 ≈ 1–2 ms each).
 */
import { bytesToHex, equalBytes } from '../codec/bytes.ts';
import { EkuOid } from './certificate.ts';
import { DerReader, Tag, contextTag, readOid, readSmallInt } from './der.ts';
import { CertificateError } from './errors.ts';
import { checkServerIdentity } from './hostname.ts';
import { MIN_RSA_BITS, type HashName } from './rsa.ts';
import { nobleSignatures, type SignatureBackend } from './signature.ts';
import type { Certificate, PublicKey } from './types.ts';

export type ChainResult = { readonly authorized: true } | { readonly authorized: false; readonly code: string; readonly message: string };

export interface VerifyChainOptions {
  readonly ca: readonly Certificate[];
  readonly now: Date;
  /** Checked with `checkServerIdentity` (or the override) after the chain. */
  readonly host?: string;
  /** Which extKeyUsage the leaf needs when it has one; default 'server'. */
  readonly purpose?: 'server' | 'client';
  readonly checkServerIdentity?: (host: string, cert: Certificate) => Error | undefined;
  /** Remembers verified certificate signatures across calls (e.g. one per client config). */
  readonly cache?: SignatureCache;
  /** Arithmetic for the signature checks; default `nobleSignatures` (node:crypto: signature-node.ts). */
  readonly signatures?: SignatureBackend;
  /** Work limits for this verification; defaults in `DEFAULT_CHAIN_BUDGET`. */
  readonly budget?: Partial<ChainBudget>;
}

/** Limits on the work one chain verification may do (the peer chooses the certificates). */
export interface ChainBudget {
  /** Signature verifications per chain (cache hits are free). Go uses 100; default 16. */
  readonly maxSignatureChecks: number;
  /** Issuer candidates with the right name tried per link; default 4. */
  readonly maxCandidatesPerDepth: number;
}

export const DEFAULT_CHAIN_BUDGET: ChainBudget = Object.freeze({ maxSignatureChecks: 16, maxCandidatesPerDepth: 4 });

/** What the path builder needs besides the certificates. */
interface LinkCheck {
  readonly cache: SignatureCache | undefined;
  readonly signatures: SignatureBackend;
  readonly budget: ChainBudget;
  /** Signature verifications done so far (this verification). */
  checks: number;
  /** Issuer keys (SPKI hex) already refused per certificate (raw hex): never retried. */
  readonly refused: Map<Certificate, Set<string>>;
}

/** Thrown inside path building when the budget is spent; becomes CHAIN_BUDGET_EXCEEDED. */
class BudgetExceeded extends Error {}

/**
 * A bounded memo of certificate signatures already verified: a client reconnecting to the same
 * server skips the ECDSA/RSA work for its chain. Only successes are stored, keyed by the full
 * certificate bytes and the issuer's SubjectPublicKeyInfo, so a hit proves the same check passed.
 * Per-instance state (no module globals); evicts the oldest entry when full.
 */
export class SignatureCache {
  readonly #entries = new Set<string>();
  readonly #max: number;
  constructor(maxEntries = 256) {
    this.#max = maxEntries;
  }
  #key(cert: Certificate, issuer: Certificate): string {
    return `${hex(cert.raw)}/${hex(issuer.spki)}`;
  }
  has(cert: Certificate, issuer: Certificate): boolean {
    return this.#entries.has(this.#key(cert, issuer));
  }
  add(cert: Certificate, issuer: Certificate): void {
    const k = this.#key(cert, issuer);
    if (this.#entries.has(k)) return;
    if (this.#entries.size >= this.#max) {
      const oldest = this.#entries.values().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
    this.#entries.add(k);
  }
  get size(): number {
    return this.#entries.size;
  }
}

const hex = bytesToHex;

/** OpenSSL's X509_verify_cert_error_string texts, as node:tls reports them. */
const messages = {
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'unable to get local issuer certificate',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'unable to verify the first certificate',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed certificate',
  SELF_SIGNED_CERT_IN_CHAIN: 'self-signed certificate in certificate chain',
  CERT_SIGNATURE_FAILURE: 'certificate signature failure',
  CERT_NOT_YET_VALID: 'certificate is not yet valid',
  CERT_HAS_EXPIRED: 'certificate has expired',
  INVALID_CA: 'invalid CA certificate',
  PATH_LENGTH_EXCEEDED: 'path length constraint exceeded',
  INVALID_PURPOSE: 'unsuitable certificate purpose',
  UNHANDLED_CRITICAL_EXTENSION: 'unhandled critical extension',
  EE_KEY_TOO_SMALL: 'EE certificate key too weak',
  CA_KEY_TOO_SMALL: 'CA certificate key too weak',
  CERT_CHAIN_TOO_LONG: 'certificate chain too long',
  // Not an OpenSSL code: path building gave up within its work budget (bad_certificate).
  CHAIN_BUDGET_EXCEEDED: 'certificate path building exceeded its work budget',
  NO_PEER_CERTIFICATE: 'peer did not present a certificate',
} as const;
type ChainCode = keyof typeof messages;

const fail = (code: ChainCode): ChainResult => ({ authorized: false, code, message: messages[code] });

/** OpenSSL's default verify depth is 100; real chains are short, so bound the work tighter. */
const MAX_PATH = 10;

const SigOid = {
  ecdsaSha256: '1.2.840.10045.4.3.2',
  ecdsaSha384: '1.2.840.10045.4.3.3',
  ecdsaSha512: '1.2.840.10045.4.3.4',
  rsaSha256: '1.2.840.113549.1.1.11',
  rsaSha384: '1.2.840.113549.1.1.12',
  rsaSha512: '1.2.840.113549.1.1.13',
  rsassaPss: '1.2.840.113549.1.1.10',
  mgf1: '1.2.840.113549.1.1.8',
} as const;

const hashOids: ReadonlyMap<string, HashName> = new Map([
  ['2.16.840.1.101.3.4.2.1', 'sha256'],
  ['2.16.840.1.101.3.4.2.2', 'sha384'],
  ['2.16.840.1.101.3.4.2.3', 'sha512'],
]);

function hashAlgorithm(r: DerReader, what: string): HashName {
  const alg = r.sequence(what);
  const oid = readOid(alg, what);
  alg.optional(Tag.NULL);
  alg.end();
  const h = hashOids.get(oid);
  if (h === undefined) throw new CertificateError(`${what}: unsupported hash ${oid}`);
  return h;
}

/** RSASSA-PSS-params (RFC 4055 §3.1). SHA-1 defaults are not supported, so [0] and [1] are required. */
function parsePssParams(params: Uint8Array | undefined): { hash: HashName; saltLength: number } {
  if (params === undefined) throw new CertificateError('RSASSA-PSS: SHA-1 defaults not supported');
  const outer = new DerReader(params, 'RSASSA-PSS-params');
  const r = outer.sequence('RSASSA-PSS-params');
  outer.end();
  const hashEl = r.expect(contextTag(0, true), 'hashAlgorithm');
  const hash = hashAlgorithm(new DerReader(hashEl.value, 'hashAlgorithm'), 'hashAlgorithm');
  const mgfEl = r.expect(contextTag(1, true), 'maskGenAlgorithm');
  const mgfOuter = new DerReader(mgfEl.value, 'maskGenAlgorithm');
  const mgf = mgfOuter.sequence('maskGenAlgorithm');
  mgfOuter.end();
  if (readOid(mgf, 'maskGenAlgorithm') !== SigOid.mgf1) throw new CertificateError('RSASSA-PSS: only MGF1 is supported');
  if (hashAlgorithm(mgf, 'MGF1 hash') !== hash) throw new CertificateError('RSASSA-PSS: MGF1 hash differs from the message hash');
  mgf.end();
  let saltLength = 20;
  const saltEl = r.optional(contextTag(2, true));
  if (saltEl !== undefined) {
    const sr = new DerReader(saltEl.value, 'saltLength');
    saltLength = readSmallInt(sr.expect(Tag.INTEGER, 'saltLength'), 'saltLength');
    sr.end();
  }
  const trailerEl = r.optional(contextTag(3, true));
  if (trailerEl !== undefined) {
    const tr = new DerReader(trailerEl.value, 'trailerField');
    if (readSmallInt(tr.expect(Tag.INTEGER, 'trailerField'), 'trailerField') !== 1) throw new CertificateError('RSASSA-PSS: bad trailerField');
    tr.end();
  }
  r.end();
  return { hash, saltLength };
}

/**
 * Verifies `cert`'s signature with its issuer's public key (RFC 5280 §6.1.3 (a)(1)).
 * ecdsa-with-SHA256/384/512, sha256/384/512WithRSAEncryption, RSASSA-PSS. Never throws.
 */
export function verifyCertificateSignature(cert: Certificate, issuerKey: PublicKey, backend: SignatureBackend = nobleSignatures): boolean {
  try {
    const alg = cert.signatureAlgorithm;
    switch (alg) {
      case SigOid.ecdsaSha256:
      case SigOid.ecdsaSha384:
      case SigOid.ecdsaSha512: {
        // RFC 5758 §3.2: parameters absent.
        if (issuerKey.type !== 'ec' || cert.signatureParameters !== undefined) return false;
        const hash: HashName = alg === SigOid.ecdsaSha256 ? 'sha256' : alg === SigOid.ecdsaSha384 ? 'sha384' : 'sha512';
        return backend.ecdsaVerify(issuerKey, hash, cert.tbs, cert.signature);
      }
      case SigOid.rsaSha256:
      case SigOid.rsaSha384:
      case SigOid.rsaSha512: {
        if (issuerKey.type !== 'rsa' || issuerKey.bits < MIN_RSA_BITS) return false;
        const hash: HashName = alg === SigOid.rsaSha256 ? 'sha256' : alg === SigOid.rsaSha384 ? 'sha384' : 'sha512';
        return backend.rsaPkcs1Verify(issuerKey, hash, cert.tbs, cert.signature);
      }
      case SigOid.rsassaPss: {
        if (issuerKey.type !== 'rsa' || issuerKey.bits < MIN_RSA_BITS) return false;
        const { hash, saltLength } = parsePssParams(cert.signatureParameters);
        return backend.rsaPssVerify(issuerKey, hash, cert.tbs, cert.signature, saltLength);
      }
      default:
        return false;
    }
  } catch {
    return false;
  }
}

const sameName = (a: Certificate['subject'], b: Certificate['subject']): boolean => equalBytes(a.raw, b.raw);
const isSelfIssued = (c: Certificate): boolean => sameName(c.subject, c.issuer);
const sameCert = (a: Certificate, b: Certificate): boolean => equalBytes(a.raw, b.raw);

/** Checks one link, through the cache when there is one. */
function linkVerifies(cert: Certificate, issuer: Certificate, check: LinkCheck): boolean {
  const { cache } = check;
  if (cache?.has(cert, issuer) === true) return true;
  // The same key over the same TBS gives the same answer: a look-alike issuer with a key already
  // refused for this certificate costs nothing.
  const key = hex(issuer.spki);
  const refused = check.refused.get(cert);
  if (refused?.has(key) === true) return false;
  if (check.checks >= check.budget.maxSignatureChecks) throw new BudgetExceeded();
  check.checks++;
  const ok = verifyCertificateSignature(cert, issuer.publicKey, check.signatures);
  if (ok) cache?.add(cert, issuer);
  else if (refused === undefined) check.refused.set(cert, new Set([key]));
  else refused.add(key);
  return ok;
}

/**
 * Among candidates named as `cert`'s issuer, prefer one whose signature verifies (cross-signed or
 * re-keyed CAs share a name). `verified` records the outcome so it is not computed twice.
 */
function findIssuer(
  cert: Certificate,
  candidates: readonly Certificate[],
  check: LinkCheck,
): { issuer: Certificate; verified: boolean } | undefined {
  const named = candidates.filter((c) => sameName(c.subject, cert.issuer) && !sameCert(c, cert)).slice(0, check.budget.maxCandidatesPerDepth);
  const first = named[0];
  if (first === undefined) return undefined;
  if (named.length === 1) return { issuer: first, verified: false };
  const good = named.find((c) => linkVerifies(cert, c, check));
  return good !== undefined ? { issuer: good, verified: true } : { issuer: first, verified: false };
}

/** Builds leaf → … → anchor; on failure returns the OpenSSL code. */
interface BuiltPath {
  readonly path: Certificate[];
  /** verified[i]: the signature of path[i] by path[i+1] was already checked and is good. */
  readonly verified: boolean[];
}

function buildPath(chain: readonly Certificate[], ca: readonly Certificate[], check: LinkCheck): BuiltPath | { error: ChainCode } {
  const leaf = chain[0];
  if (leaf === undefined) return { error: 'NO_PEER_CERTIFICATE' };
  const path: Certificate[] = [leaf];
  const verified: boolean[] = [];
  const pool = chain.slice(1);
  for (;;) {
    const current = path[path.length - 1] as Certificate;
    // The peer may send the anchor itself.
    if (ca.some((a) => sameCert(a, current))) return { path, verified };
    const anchor = findIssuer(current, ca, check);
    if (anchor !== undefined) {
      path.push(anchor.issuer);
      verified.push(anchor.verified);
      return { path, verified };
    }
    const next = isSelfIssued(current) ? undefined : findIssuer(current, pool.filter((c) => !path.some((p) => sameCert(p, c))), check);
    if (next === undefined) {
      if (isSelfIssued(current)) return { error: path.length === 1 ? 'DEPTH_ZERO_SELF_SIGNED_CERT' : 'SELF_SIGNED_CERT_IN_CHAIN' };
      return { error: path.length === 1 ? 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' : 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY' };
    }
    if (path.length >= MAX_PATH) return { error: 'CERT_CHAIN_TOO_LONG' };
    path.push(next.issuer);
    verified.push(next.verified);
  }
}

/** RFC 5280 §4.2.1.9 / §6.1.4: the rules for certificates that issue others. */
function checkIssuer(cert: Certificate, index: number, path: readonly Certificate[]): ChainCode | undefined {
  // A v1 trust anchor has no extensions; OpenSSL accepts a self-signed v1 root as a CA.
  const isV1Anchor = index === path.length - 1 && cert.version === 1 && isSelfIssued(cert);
  if (!isV1Anchor && cert.basicConstraints?.ca !== true) return 'INVALID_CA';
  // OpenSSL's X509_check_ca() treats a keyUsage without keyCertSign as "not a CA" (INVALID_CA).
  if (cert.keyUsage !== undefined && !cert.keyUsage.includes('keyCertSign')) return 'INVALID_CA';
  const pathLen = cert.basicConstraints?.pathLen;
  if (pathLen !== undefined) {
    // Non-self-issued intermediates between this issuer and the leaf (§6.1.4 (l), (m)).
    let below = 0;
    for (let j = 1; j < index; j++) if (!isSelfIssued(path[j] as Certificate)) below++;
    if (below > pathLen) return 'PATH_LENGTH_EXCEEDED';
  }
  if (cert.publicKey.type === 'rsa' && cert.publicKey.bits < MIN_RSA_BITS) return 'CA_KEY_TOO_SMALL';
  return undefined;
}

function checkLeaf(leaf: Certificate, purpose: 'server' | 'client'): ChainCode | undefined {
  if (leaf.extKeyUsage !== undefined) {
    const wanted = purpose === 'server' ? EkuOid.serverAuth : EkuOid.clientAuth;
    if (!leaf.extKeyUsage.includes(wanted) && !leaf.extKeyUsage.includes(EkuOid.anyExtendedKeyUsage)) return 'INVALID_PURPOSE';
  }
  // ECDHE_ECDSA / ECDHE_RSA sign the key exchange (RFC 4492 §2.2, RFC 5246 §7.4.2).
  if (leaf.keyUsage !== undefined && !leaf.keyUsage.includes('digitalSignature')) return 'INVALID_PURPOSE';
  if (leaf.publicKey.type === 'rsa' && leaf.publicKey.bits < MIN_RSA_BITS) return 'EE_KEY_TOO_SMALL';
  return undefined;
}

/**
 * Validates the chain the peer sent (leaf first) against the trust anchors, at `now`, and the host
 * name if given. Never throws; the result carries the node:tls error code.
 */
export function verifyChain(chain: readonly Certificate[], opts: VerifyChainOptions): ChainResult {
  const budget = { ...DEFAULT_CHAIN_BUDGET, ...opts.budget };
  const check: LinkCheck = { cache: opts.cache, signatures: opts.signatures ?? nobleSignatures, budget, checks: 0, refused: new Map() };
  try {
    return verifyWithin(chain, opts, check);
  } catch (e) {
    if (e instanceof BudgetExceeded) return fail('CHAIN_BUDGET_EXCEEDED');
    throw e;
  }
}

function verifyWithin(chain: readonly Certificate[], opts: VerifyChainOptions, check: LinkCheck): ChainResult {
  const built = buildPath(chain, opts.ca, check);
  if ('error' in built) return fail(built.error);
  const { path, verified } = built;
  for (const cert of path) if (cert.unknownCriticalExtensions.length > 0) return fail('UNHANDLED_CRITICAL_EXTENSION');
  for (let i = 1; i < path.length; i++) {
    const code = checkIssuer(path[i] as Certificate, i, path);
    if (code !== undefined) return fail(code);
  }
  const leafCode = checkLeaf(path[0] as Certificate, opts.purpose ?? 'server');
  if (leafCode !== undefined) return fail(leafCode);
  const now = opts.now.getTime();
  for (let i = path.length - 1; i >= 0; i--) {
    const cert = path[i] as Certificate;
    const issuer = path[i + 1];
    if (issuer !== undefined && verified[i] !== true && !linkVerifies(cert, issuer, check)) return fail('CERT_SIGNATURE_FAILURE');
    if (now < cert.validFrom.getTime()) return fail('CERT_NOT_YET_VALID');
    if (now > cert.validTo.getTime()) return fail('CERT_HAS_EXPIRED');
  }
  if (opts.host !== undefined) {
    const err = (opts.checkServerIdentity ?? checkServerIdentity)(opts.host, path[0] as Certificate);
    if (err !== undefined) {
      const code = (err as Error & { code?: unknown }).code;
      return { authorized: false, code: typeof code === 'string' ? code : 'ERR_TLS_CERT_ALTNAME_INVALID', message: err.message };
    }
  }
  return { authorized: true };
}
