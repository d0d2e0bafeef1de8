/**
 * Public and private key formats:
 * - SubjectPublicKeyInfo (RFC 5280 §4.1.2.7) with id-ecPublicKey (RFC 5480) or rsaEncryption (RFC 8017 A.1.1);
 * - PKCS#8 PrivateKeyInfo (RFC 5208 / 5958), SEC1 ECPrivateKey (RFC 5915), PKCS#1 RSAPrivateKey (RFC 8017 A.1.2).
 * EC points and scalars are validated; RSA moduli must be 2048..16384 bits.
 */
import { p256, p384 } from '@noble/curves/nist.js';
import { equalBytes } from '../codec/bytes.ts';
import {
  DerReader,
  Tag,
  bytesToBigInt,
  contextTag,
  readBitStringBytes,
  readOid,
  readSingle,
  readUnsigned,
  type DerElement,
} from './der.ts';
import { CertificateError, UnsupportedCertificateError } from './errors.ts';
import { asPemText, decodePem } from './pem.ts';
import { MAX_RSA_BITS, MIN_RSA_BITS, bitLength } from './rsa.ts';
import type { EcCurve, PrivateKey, PublicKey } from './types.ts';

export const Oid = {
  ecPublicKey: '1.2.840.10045.2.1',
  rsaEncryption: '1.2.840.113549.1.1.1',
  rsassaPss: '1.2.840.113549.1.1.10',
  secp256r1: '1.2.840.10045.3.1.7',
  secp384r1: '1.3.132.0.34',
} as const;

export function curveImpl(curve: EcCurve): typeof p256 {
  switch (curve) {
    case 'P-256':
      return p256;
    case 'P-384':
      return p384;
    default: {
      const never: never = curve;
      throw new TypeError(`unknown curve ${String(never)}`);
    }
  }
}

export function curveByteLength(curve: EcCurve): number {
  return curve === 'P-256' ? 32 : 48;
}

function curveFromOid(oid: string): EcCurve {
  if (oid === Oid.secp256r1) return 'P-256';
  if (oid === Oid.secp384r1) return 'P-384';
  throw new UnsupportedCertificateError(`unsupported EC curve ${oid}`);
}

/** Validates an encoded point (on curve, not infinity) and returns it uncompressed. */
function ecPoint(curve: EcCurve, bytes: Uint8Array): Uint8Array {
  try {
    return curveImpl(curve).Point.fromBytes(bytes).toBytes(false);
  } catch (cause) {
    throw new CertificateError(`invalid ${curve} public key`, { cause });
  }
}

function rsaPublic(n: bigint, e: bigint): PublicKey & { type: 'rsa' } {
  const bits = bitLength(n);
  if (bits > MAX_RSA_BITS) throw new UnsupportedCertificateError(`RSA modulus too large (${bits} bits)`);
  if (n % 2n === 0n || e < 3n || e % 2n === 0n || e >= n) throw new CertificateError('invalid RSA public key');
  return { type: 'rsa', n, e, bits };
}

/** Sizes below MIN_RSA_BITS parse (so certificates can be shown) but are refused for use. */
export function assertAcceptableKey(key: PublicKey): void {
  if (key.type === 'rsa' && key.bits < MIN_RSA_BITS) {
    throw new UnsupportedCertificateError(`RSA key of ${key.bits} bits is below the ${MIN_RSA_BITS}-bit minimum`);
  }
}

function parseRsaPublicKey(der: Uint8Array): PublicKey & { type: 'rsa' } {
  const r = new DerReader(readSingle(der, Tag.SEQUENCE, 'RSAPublicKey').value, 'RSAPublicKey');
  const n = readUnsigned(r, 'modulus');
  const e = readUnsigned(r, 'publicExponent');
  r.end();
  return rsaPublic(n, e);
}

/** SubjectPublicKeyInfo → PublicKey. */
export function parseSpki(spki: DerElement): PublicKey {
  const r = new DerReader(spki.value, 'SubjectPublicKeyInfo');
  const alg = r.sequence('AlgorithmIdentifier');
  const oid = readOid(alg, 'algorithm');
  let key: PublicKey;
  if (oid === Oid.ecPublicKey) {
    // RFC 5480 §2.1.1: namedCurve only (implicit/explicit curves are not allowed).
    const curve = curveFromOid(readOid(alg, 'namedCurve'));
    alg.end();
    key = { type: 'ec', curve, point: ecPoint(curve, readBitStringBytes(r, 'subjectPublicKey')) };
  } else if (oid === Oid.rsaEncryption || oid === Oid.rsassaPss) {
    // rsaEncryption has NULL parameters; id-RSASSA-PSS keys may carry restrictions we do not enforce.
    alg.optional(oid === Oid.rsaEncryption ? Tag.NULL : Tag.SEQUENCE);
    alg.end();
    key = parseRsaPublicKey(readBitStringBytes(r, 'subjectPublicKey'));
  } else {
    throw new UnsupportedCertificateError(`unsupported public key algorithm ${oid}`);
  }
  r.end();
  return key;
}

function ecPrivate(curve: EcCurve, dBytes: Uint8Array, embeddedPublic: Uint8Array | undefined): PrivateKey {
  const len = curveByteLength(curve);
  if (dBytes.length > len) throw new CertificateError('EC private key too long');
  const d = new Uint8Array(len);
  d.set(dBytes, len - dBytes.length);
  const impl = curveImpl(curve);
  const scalar = bytesToBigInt(d);
  if (scalar === 0n || scalar >= impl.Point.CURVE().n) throw new CertificateError('EC private key out of range');
  const point = impl.getPublicKey(d, false);
  if (embeddedPublic !== undefined && !equalBytes(ecPoint(curve, embeddedPublic), point)) {
    throw new CertificateError('EC private key does not match its embedded public key');
  }
  return { type: 'ec', curve, d, publicKey: { type: 'ec', curve, point } };
}

/** SEC1 ECPrivateKey (RFC 5915 §3); `curveHint` comes from the PKCS#8 AlgorithmIdentifier. */
function parseEcPrivateKey(der: Uint8Array, curveHint: EcCurve | undefined): PrivateKey {
  const r = new DerReader(readSingle(der, Tag.SEQUENCE, 'ECPrivateKey').value, 'ECPrivateKey');
  if (readUnsigned(r, 'version') !== 1n) throw new CertificateError('ECPrivateKey: version must be 1');
  const d = r.expect(Tag.OCTET_STRING, 'privateKey').value;
  const params = r.optional(contextTag(0, true));
  const pub = r.optional(contextTag(1, true));
  r.end();
  let curve = curveHint;
  if (params !== undefined) {
    const pr = new DerReader(params.value, 'ECParameters');
    const named = curveFromOid(readOid(pr, 'namedCurve'));
    pr.end();
    if (curve !== undefined && curve !== named) throw new CertificateError('ECPrivateKey: curve mismatch');
    curve = named;
  }
  if (curve === undefined) throw new CertificateError('ECPrivateKey: curve not given');
  let pubBytes: Uint8Array | undefined;
  if (pub !== undefined) {
    const pr = new DerReader(pub.value, 'publicKey');
    pubBytes = readBitStringBytes(pr, 'publicKey');
    pr.end();
  }
  return ecPrivate(curve, d, pubBytes);
}

/** PKCS#1 RSAPrivateKey (RFC 8017 A.1.2), two-prime only. */
function parseRsaPrivateKey(der: Uint8Array): PrivateKey {
  const r = new DerReader(readSingle(der, Tag.SEQUENCE, 'RSAPrivateKey').value, 'RSAPrivateKey');
  if (readUnsigned(r, 'version') !== 0n) throw new UnsupportedCertificateError('RSAPrivateKey: multi-prime keys not supported');
  const n = readUnsigned(r, 'modulus');
  const e = readUnsigned(r, 'publicExponent');
  const d = readUnsigned(r, 'privateExponent');
  const p = readUnsigned(r, 'prime1');
  const q = readUnsigned(r, 'prime2');
  const dp = readUnsigned(r, 'exponent1');
  const dq = readUnsigned(r, 'exponent2');
  const qi = readUnsigned(r, 'coefficient');
  r.end();
  const publicKey = rsaPublic(n, e);
  assertAcceptableKey(publicKey);
  if (p * q !== n || (qi * q) % p !== 1n % p || dp !== d % (p - 1n) || dq !== d % (q - 1n)) {
    throw new CertificateError('RSAPrivateKey: inconsistent CRT parameters');
  }
  return { type: 'rsa', n, e, d, p, q, dp, dq, qi, bits: publicKey.bits, publicKey };
}

/** PKCS#8 PrivateKeyInfo / OneAsymmetricKey (RFC 5958 §2). */
function parsePkcs8(der: Uint8Array): PrivateKey {
  const r = new DerReader(readSingle(der, Tag.SEQUENCE, 'PrivateKeyInfo').value, 'PrivateKeyInfo');
  const version = readUnsigned(r, 'version');
  if (version > 1n) throw new CertificateError('PrivateKeyInfo: bad version');
  const alg = r.sequence('privateKeyAlgorithm');
  const oid = readOid(alg, 'algorithm');
  const inner = r.expect(Tag.OCTET_STRING, 'privateKey').value;
  // attributes [0] and publicKey [1] (v2) are allowed and ignored: the key carries its own.
  r.optional(contextTag(0, true));
  r.optional(contextTag(1, false));
  r.end();
  if (oid === Oid.ecPublicKey) {
    const curve = curveFromOid(readOid(alg, 'namedCurve'));
    alg.end();
    return parseEcPrivateKey(inner, curve);
  }
  if (oid === Oid.rsaEncryption) {
    alg.optional(Tag.NULL);
    alg.end();
    return parseRsaPrivateKey(inner);
  }
  throw new UnsupportedCertificateError(`unsupported private key algorithm ${oid}`);
}

function parsePrivateKeyDer(der: Uint8Array): PrivateKey {
  // Unlabelled DER: try each format; report the PKCS#8 error, the usual one.
  try {
    return parsePkcs8(der);
  } catch (pkcs8Error) {
    if (pkcs8Error instanceof UnsupportedCertificateError) throw pkcs8Error;
    for (const parse of [(b: Uint8Array) => parseEcPrivateKey(b, undefined), parseRsaPrivateKey]) {
      try {
        return parse(der);
      } catch {
        // try the next format
      }
    }
    throw pkcs8Error;
  }
}

/**
 * Loads a private key from PEM ("PRIVATE KEY", "EC PRIVATE KEY", "RSA PRIVATE KEY") or DER.
 * Throws CertificateError for anything else (encrypted keys included).
 */
export function loadPrivateKey(input: string | Uint8Array): PrivateKey {
  const text = asPemText(input);
  if (text === undefined) {
    if (typeof input === 'string') throw new CertificateError('no PEM private key found');
    return parsePrivateKeyDer(input);
  }
  const blocks = decodePem(text).filter((b) => b.label !== 'EC PARAMETERS');
  const block = blocks.find((b) => b.label.endsWith('PRIVATE KEY'));
  if (block === undefined) throw new CertificateError('no PEM private key found');
  switch (block.label) {
    case 'PRIVATE KEY':
      return parsePkcs8(block.der);
    case 'EC PRIVATE KEY':
      return parseEcPrivateKey(block.der, undefined);
    case 'RSA PRIVATE KEY':
      return parseRsaPrivateKey(block.der);
    case 'ENCRYPTED PRIVATE KEY':
      throw new UnsupportedCertificateError('encrypted private keys are not supported');
    default:
      throw new UnsupportedCertificateError(`unsupported PEM label ${block.label}`);
  }
}

/** Does this private key belong to this public key (e.g. a server's key and its leaf certificate)? */
export function keyMatches(priv: PrivateKey, pub: PublicKey): boolean {
  if (priv.type === 'ec') return pub.type === 'ec' && pub.curve === priv.curve && equalBytes(pub.point, priv.publicKey.point);
  return pub.type === 'rsa' && pub.n === priv.n && pub.e === priv.e;
}

