/**
 * TLS 1.2 handshake signatures (ServerKeyExchange, CertificateVerify).
 *
 * RFC 5246 §7.4.1.4.1 pairs a hash with a signature algorithm; the 16-bit codes are the same as
 * RFC 8446's SignatureScheme names, which we use. In TLS 1.2 an ECDSA code names only the hash,
 * not the curve (0x0403 = sha256+ecdsa), so any of our curves verifies under any ECDSA code.
 * ECDSA signatures are DER (RFC 4492 §5.4). RSA-PSS uses salt length = hash length (RFC 8446 §4.2.3).
 *
 * The scheme rules (which scheme fits which key, key-size floors, hashing choices) live here once;
 * the arithmetic sits behind `SignatureBackend`: noble + our bigint RSA by default
 * (`nobleSignatures`), node:crypto in signature-node.ts. Both get the same inputs and must agree.
 */
import { concatBytes } from '../codec/bytes.ts';
import type { RandomSource } from '../providers.ts';
import { assertAcceptableKey, curveImpl } from './keys.ts';
import { hashByName, rsaPkcs1Sign, rsaPkcs1Verify, rsaPssSign, rsaPssVerify, type HashName } from './rsa.ts';
import type { PrivateKey, PublicKey } from './types.ts';

export type EcPublicKey = PublicKey & { readonly type: 'ec' };
export type RsaPublicKey = PublicKey & { readonly type: 'rsa' };
export type EcPrivateKey = PrivateKey & { readonly type: 'ec' };
export type RsaPrivateKey = PrivateKey & { readonly type: 'rsa' };

/**
 * Signature arithmetic over whole messages (the backend hashes). Verify methods may throw on
 * malformed input; callers turn that into `false`. Keys are already checked for type and size.
 */
export interface SignatureBackend {
  readonly name: string;
  /** ECDSA, DER-encoded output (RFC 4492 §5.4). `random` hedges the nonce where the backend can use it. */
  ecdsaSign(key: EcPrivateKey, hash: HashName, data: Uint8Array, random: RandomSource): Uint8Array;
  /** ECDSA over DER; high-S accepted (as OpenSSL does). */
  ecdsaVerify(key: EcPublicKey, hash: HashName, data: Uint8Array, derSignature: Uint8Array): boolean;
  /** RSASSA-PKCS1-v1_5 (RFC 8017 §8.2). */
  rsaPkcs1Sign(key: RsaPrivateKey, hash: HashName, data: Uint8Array, random: RandomSource): Uint8Array;
  rsaPkcs1Verify(key: RsaPublicKey, hash: HashName, data: Uint8Array, signature: Uint8Array): boolean;
  /** RSASSA-PSS with MGF1 over the same hash, salt length = hash length (RFC 8446 §4.2.3). */
  rsaPssSign(key: RsaPrivateKey, hash: HashName, data: Uint8Array, random: RandomSource): Uint8Array;
  /** RSASSA-PSS verification requiring exactly `saltLength` bytes of salt. */
  rsaPssVerify(key: RsaPublicKey, hash: HashName, data: Uint8Array, signature: Uint8Array, saltLength: number): boolean;
}

/** Pure TypeScript backend: @noble/curves ECDSA and the bigint RSA of rsa.ts. Stateless. */
export const nobleSignatures: SignatureBackend = Object.freeze({
  name: 'noble',
  ecdsaSign(key: EcPrivateKey, hash: HashName, data: Uint8Array, random: RandomSource): Uint8Array {
    // Hedged RFC 6979 nonces: deterministic k mixed with fresh randomness (noble `extraEntropy`).
    return curveImpl(key.curve).sign(hashByName(hash)(data), key.d, { prehash: false, lowS: true, format: 'der', extraEntropy: random(32) });
  },
  ecdsaVerify(key: EcPublicKey, hash: HashName, data: Uint8Array, derSignature: Uint8Array): boolean {
    return ecdsaVerifyDigest(key, hashByName(hash)(data), derSignature);
  },
  rsaPkcs1Sign: (key: RsaPrivateKey, hash: HashName, data: Uint8Array, random: RandomSource): Uint8Array => rsaPkcs1Sign(key, hash, data, random),
  rsaPkcs1Verify: (key: RsaPublicKey, hash: HashName, data: Uint8Array, signature: Uint8Array): boolean => rsaPkcs1Verify(key, hash, data, signature),
  rsaPssSign: (key: RsaPrivateKey, hash: HashName, data: Uint8Array, random: RandomSource): Uint8Array => rsaPssSign(key, hash, data, random),
  rsaPssVerify: (key: RsaPublicKey, hash: HashName, data: Uint8Array, signature: Uint8Array, saltLength: number): boolean =>
    rsaPssVerify(key, hash, data, signature, saltLength),
} satisfies SignatureBackend);

export const SignatureScheme = {
  rsa_pkcs1_sha256: 0x0401,
  rsa_pkcs1_sha384: 0x0501,
  rsa_pkcs1_sha512: 0x0601,
  ecdsa_secp256r1_sha256: 0x0403,
  ecdsa_secp384r1_sha384: 0x0503,
  ecdsa_secp521r1_sha512: 0x0603,
  rsa_pss_rsae_sha256: 0x0804,
  rsa_pss_rsae_sha384: 0x0805,
  rsa_pss_rsae_sha512: 0x0806,
} as const;
export type SignatureScheme = (typeof SignatureScheme)[keyof typeof SignatureScheme];

const schemeNames: ReadonlyMap<number, string> = new Map(Object.entries(SignatureScheme).map(([k, v]) => [v, k]));

/** Name of a scheme code for logs; unknown codes are carried, not crashed on. */
export function signatureSchemeName(code: number): string {
  return schemeNames.get(code) ?? `unknown_scheme(0x${code.toString(16).padStart(4, '0')})`;
}

interface SchemeInfo {
  readonly kind: 'ecdsa' | 'rsa_pkcs1' | 'rsa_pss';
  readonly hash: HashName;
}

function schemeInfo(code: number): SchemeInfo | undefined {
  switch (code) {
    case SignatureScheme.ecdsa_secp256r1_sha256:
      return { kind: 'ecdsa', hash: 'sha256' };
    case SignatureScheme.ecdsa_secp384r1_sha384:
      return { kind: 'ecdsa', hash: 'sha384' };
    case SignatureScheme.ecdsa_secp521r1_sha512:
      return { kind: 'ecdsa', hash: 'sha512' };
    case SignatureScheme.rsa_pkcs1_sha256:
      return { kind: 'rsa_pkcs1', hash: 'sha256' };
    case SignatureScheme.rsa_pkcs1_sha384:
      return { kind: 'rsa_pkcs1', hash: 'sha384' };
    case SignatureScheme.rsa_pkcs1_sha512:
      return { kind: 'rsa_pkcs1', hash: 'sha512' };
    case SignatureScheme.rsa_pss_rsae_sha256:
      return { kind: 'rsa_pss', hash: 'sha256' };
    case SignatureScheme.rsa_pss_rsae_sha384:
      return { kind: 'rsa_pss', hash: 'sha384' };
    case SignatureScheme.rsa_pss_rsae_sha512:
      return { kind: 'rsa_pss', hash: 'sha512' };
    default:
      return undefined;
  }
}

const SUPPORTED: readonly number[] = Object.freeze([
  SignatureScheme.ecdsa_secp256r1_sha256,
  SignatureScheme.ecdsa_secp384r1_sha384,
  SignatureScheme.ecdsa_secp521r1_sha512,
  SignatureScheme.rsa_pss_rsae_sha256,
  SignatureScheme.rsa_pss_rsae_sha384,
  SignatureScheme.rsa_pss_rsae_sha512,
  SignatureScheme.rsa_pkcs1_sha256,
  SignatureScheme.rsa_pkcs1_sha384,
  SignatureScheme.rsa_pkcs1_sha512,
]);

/** Schemes we can verify, in preference order (for the signature_algorithms extension). */
export function supportedSchemes(): readonly number[] {
  return SUPPORTED;
}

/** Our preference for signing with `key`: the hash matching the curve first (what peers expect). */
function signingPreference(key: PrivateKey): readonly number[] {
  if (key.type === 'ec') {
    return key.curve === 'P-256'
      ? [SignatureScheme.ecdsa_secp256r1_sha256, SignatureScheme.ecdsa_secp384r1_sha384, SignatureScheme.ecdsa_secp521r1_sha512]
      : [SignatureScheme.ecdsa_secp384r1_sha384, SignatureScheme.ecdsa_secp256r1_sha256, SignatureScheme.ecdsa_secp521r1_sha512];
  }
  return [
    SignatureScheme.rsa_pss_rsae_sha256,
    SignatureScheme.rsa_pss_rsae_sha384,
    SignatureScheme.rsa_pss_rsae_sha512,
    SignatureScheme.rsa_pkcs1_sha256,
    SignatureScheme.rsa_pkcs1_sha384,
    SignatureScheme.rsa_pkcs1_sha512,
  ];
}

/**
 * Picks the scheme to sign with, among those the peer offered in signature_algorithms.
 * Returns undefined when there is no overlap (→ handshake_failure). An empty list means the
 * peer sent no extension; RFC 5246 §7.4.1.4.1 then implies SHA-1, which we do not sign with.
 */
export function chooseScheme(key: PrivateKey, peerSchemes: readonly number[]): number | undefined {
  return signingPreference(key).find((s) => peerSchemes.includes(s));
}

/** Is `scheme` usable with this public key? (kind matches; RSA size acceptable). */
export function schemeMatchesKey(key: PublicKey, scheme: number): boolean {
  const info = schemeInfo(scheme);
  if (info === undefined) return false;
  return key.type === 'ec' ? info.kind === 'ecdsa' : info.kind !== 'ecdsa';
}

/** Signs `data` (the whole to-be-signed bytes; hashing happens in the backend). ECDSA output is DER. */
export function signTls(
  key: PrivateKey,
  scheme: number,
  data: Uint8Array,
  random: RandomSource,
  backend: SignatureBackend = nobleSignatures,
): Uint8Array {
  const info = schemeInfo(scheme);
  if (info === undefined || !schemeMatchesKey(key.publicKey, scheme)) {
    throw new TypeError(`signature scheme ${signatureSchemeName(scheme)} does not fit a ${key.type} key`);
  }
  if (key.type === 'ec') return backend.ecdsaSign(key, info.hash, data, random);
  switch (info.kind) {
    case 'rsa_pkcs1':
      return backend.rsaPkcs1Sign(key, info.hash, data, random);
    case 'rsa_pss':
      return backend.rsaPssSign(key, info.hash, data, random);
    case 'ecdsa':
      throw new TypeError('unreachable: ecdsa scheme with an RSA key');
    default: {
      const never: never = info.kind;
      throw new TypeError(`unknown scheme kind ${String(never)}`);
    }
  }
}

/** ECDSA verification over a precomputed digest; accepts high-S like OpenSSL. */
export function ecdsaVerifyDigest(key: PublicKey & { type: 'ec' }, digest: Uint8Array, derSignature: Uint8Array): boolean {
  try {
    return curveImpl(key.curve).verify(derSignature, digest, key.point, { prehash: false, lowS: false, format: 'der' });
  } catch {
    return false;
  }
}

/**
 * Verifies a peer's handshake signature. Never throws on bad signature bytes: any malformed
 * or non-matching signature, an unknown scheme, a scheme that does not fit the key, or an
 * RSA key below 2048 bits yields false.
 */
export function verifyTls(
  key: PublicKey,
  scheme: number,
  data: Uint8Array,
  signature: Uint8Array,
  backend: SignatureBackend = nobleSignatures,
): boolean {
  const info = schemeInfo(scheme);
  if (info === undefined || !schemeMatchesKey(key, scheme)) return false;
  try {
    assertAcceptableKey(key);
    if (key.type === 'ec') return backend.ecdsaVerify(key, info.hash, data, signature);
    switch (info.kind) {
      case 'rsa_pkcs1':
        return backend.rsaPkcs1Verify(key, info.hash, data, signature);
      case 'rsa_pss':
        return backend.rsaPssVerify(key, info.hash, data, signature, hashByName(info.hash).outputLen);
      case 'ecdsa':
        return false;
      default: {
        const never: never = info.kind;
        throw new TypeError(`unknown scheme kind ${String(never)}`);
      }
    }
  } catch {
    return false;
  }
}

/** RFC 5246 §7.4.3: the ServerKeyExchange signature covers client_random + server_random + params. */
export function serverKeyExchangeSignedData(clientRandom: Uint8Array, serverRandom: Uint8Array, params: Uint8Array): Uint8Array {
  return concatBytes(clientRandom, serverRandom, params);
}
