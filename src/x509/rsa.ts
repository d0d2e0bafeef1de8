/**
 * RSA signatures (RFC 8017): RSASSA-PKCS1-v1_5 (§8.2) and RSASSA-PSS (§8.1) with SHA-256/384/512,
 * over bigint arithmetic. Verification is public and need not be constant time. Signing uses CRT
 * with base blinding; JavaScript bigint is not constant time, so signing is best effort against
 * timing attacks (documented limitation).
 */
import { sha256, sha384, sha512 } from '@noble/hashes/sha2.js';
import { equalBytes, concatBytes } from '../codec/bytes.ts';
import type { RandomSource } from '../providers.ts';
import { bigIntToBytes, bytesToBigInt } from './der.ts';

export type HashName = 'sha256' | 'sha384' | 'sha512';

export interface HashFn {
  (msg: Uint8Array): Uint8Array;
  readonly outputLen: number;
}

export function hashByName(name: HashName): HashFn {
  switch (name) {
    case 'sha256':
      return sha256;
    case 'sha384':
      return sha384;
    case 'sha512':
      return sha512;
    default: {
      const never: never = name;
      throw new TypeError(`unknown hash ${String(never)}`);
    }
  }
}

export interface RsaPublic {
  readonly n: bigint;
  readonly e: bigint;
}
export interface RsaPrivate extends RsaPublic {
  readonly d: bigint;
  readonly p: bigint;
  readonly q: bigint;
  readonly dp: bigint;
  readonly dq: bigint;
  readonly qi: bigint;
}

/** Smallest modulus we accept (issue 4: reject keys under 2048 bits). */
export const MIN_RSA_BITS = 2048;
export const MAX_RSA_BITS = 16384;

export function bitLength(n: bigint): number {
  return n <= 0n ? 0 : n.toString(2).length;
}

/** base^exp mod mod, fixed 4-bit windows (≈25% fewer multiplications than binary for RSA-size exponents). */
export function modPow(base: bigint, exp: bigint, mod: bigint): bigint {
  if (mod === 1n) return 0n;
  let b = base % mod;
  if (b < 0n) b += mod;
  if (exp < 16n) {
    let r = 1n;
    for (let e = exp; e > 0n; e >>= 1n, b = (b * b) % mod) if (e & 1n) r = (r * b) % mod;
    return r;
  }
  const table: bigint[] = [1n, b];
  for (let i = 2; i < 16; i++) table.push(((table[i - 1] as bigint) * b) % mod);
  const hex = exp.toString(16);
  let result = table[parseInt(hex[0] as string, 16)] as bigint;
  for (let i = 1; i < hex.length; i++) {
    result = (result * result) % mod;
    result = (result * result) % mod;
    result = (result * result) % mod;
    result = (result * result) % mod;
    const w = parseInt(hex[i] as string, 16);
    if (w !== 0) result = (result * (table[w] as bigint)) % mod;
  }
  return result;
}

function modInverse(a: bigint, m: bigint): bigint {
  let [oldR, r] = [a % m, m];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const q = oldR / r;
    [oldR, r] = [r, oldR - q * r];
    [oldS, s] = [s, oldS - q * s];
  }
  if (oldR !== 1n) throw new RangeError('not invertible');
  return ((oldS % m) + m) % m;
}

// RFC 8017 §9.2 note 1: DER DigestInfo prefixes.
const digestInfoPrefix: Readonly<Record<HashName, string>> = {
  sha256: '3031300d060960864801650304020105000420',
  sha384: '3041300d060960864801650304020205000430',
  sha512: '3051300d060960864801650304020305000440',
};

function hexBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** RSAVP1 (§5.2.2): s^e mod n as k octets, or undefined if the signature is malformed. */
function rsavp1(key: RsaPublic, signature: Uint8Array): Uint8Array | undefined {
  const k = Math.ceil(bitLength(key.n) / 8);
  if (signature.length !== k) return undefined;
  const s = bytesToBigInt(signature);
  if (s >= key.n) return undefined;
  return bigIntToBytes(modPow(s, key.e, key.n), k);
}

/** EMSA-PKCS1-v1_5 encoding (§9.2). */
function emsaPkcs1(hash: HashName, digest: Uint8Array, k: number): Uint8Array | undefined {
  const t = concatBytes(hexBytes(digestInfoPrefix[hash]), digest);
  if (k < t.length + 11) return undefined;
  const em = new Uint8Array(k).fill(0xff);
  em[0] = 0x00;
  em[1] = 0x01;
  em[k - t.length - 1] = 0x00;
  em.set(t, k - t.length);
  return em;
}

/** RSASSA-PKCS1-v1_5 verification over a message (§8.2.2): re-encode and compare. */
export function rsaPkcs1Verify(key: RsaPublic, hash: HashName, message: Uint8Array, signature: Uint8Array): boolean {
  const em = rsavp1(key, signature);
  if (em === undefined) return false;
  const expected = emsaPkcs1(hash, hashByName(hash)(message), em.length);
  return expected !== undefined && equalBytes(em, expected);
}

function mgf1(hash: HashFn, seed: Uint8Array, len: number): Uint8Array {
  const out = new Uint8Array(len);
  const counter = new Uint8Array(4);
  for (let i = 0, at = 0; at < len; i++) {
    counter[0] = i >>> 24;
    counter[1] = i >>> 16;
    counter[2] = i >>> 8;
    counter[3] = i;
    const block = hash(concatBytes(seed, counter));
    out.set(block.subarray(0, Math.min(block.length, len - at)), at);
    at += block.length;
  }
  return out;
}

/**
 * RSASSA-PSS verification (§8.1.2, EMSA-PSS-VERIFY §9.1.2) with MGF1 over the same hash.
 * `saltLength` undefined accepts any salt length (recovered from the padding).
 */
export function rsaPssVerify(
  key: RsaPublic,
  hash: HashName,
  message: Uint8Array,
  signature: Uint8Array,
  saltLength?: number,
): boolean {
  const h = hashByName(hash);
  const hLen = h.outputLen;
  const modBits = bitLength(key.n);
  const emBits = modBits - 1;
  const emLen = Math.ceil(emBits / 8);
  const k = Math.ceil(modBits / 8);
  const m = rsavp1(key, signature);
  if (m === undefined) return false;
  // I2OSP(m, emLen): when emLen < k the leading octet must be zero.
  if (emLen < k && m[0] !== 0) return false;
  const em = m.subarray(k - emLen);
  if (emLen < hLen + 2 || em[emLen - 1] !== 0xbc) return false;
  const maskedDb = em.subarray(0, emLen - hLen - 1);
  const hh = em.subarray(emLen - hLen - 1, emLen - 1);
  const topMask = 0xff >> (8 * emLen - emBits);
  if (((maskedDb[0] as number) & ~topMask & 0xff) !== 0) return false;
  const db = mgf1(h, hh, maskedDb.length);
  for (let i = 0; i < db.length; i++) db[i] = (db[i] as number) ^ (maskedDb[i] as number);
  db[0] = (db[0] as number) & topMask;
  // DB = PS (zeros) || 0x01 || salt
  let one = 0;
  while (one < db.length && db[one] === 0) one++;
  if (one >= db.length || db[one] !== 0x01) return false;
  const salt = db.subarray(one + 1);
  if (saltLength !== undefined && salt.length !== saltLength) return false;
  const mPrime = concatBytes(new Uint8Array(8), h(message), salt);
  return equalBytes(h(mPrime), hh);
}

/** RSASP1 with CRT and base blinding (§5.2.1). */
function rsasp1(key: RsaPrivate, m: bigint, random: RandomSource): bigint {
  const k = Math.ceil(bitLength(key.n) / 8);
  let r = 0n;
  for (let tries = 0; tries < 16 && (r <= 1n || r >= key.n); tries++) r = bytesToBigInt(random(k)) % key.n;
  const blinded = (m * modPow(r, key.e, key.n)) % key.n;
  const m1 = modPow(blinded, key.dp, key.p);
  const m2 = modPow(blinded, key.dq, key.q);
  let hq = ((m1 - m2) * key.qi) % key.p;
  if (hq < 0n) hq += key.p;
  const s = (m2 + hq * key.q) % key.n;
  const unblinded = (s * modInverse(r, key.n)) % key.n;
  // Fault check (Boneh–DeMillo–Lipton): never release a signature that does not verify.
  if (modPow(unblinded, key.e, key.n) !== m) throw new Error('RSA signature self-check failed');
  return unblinded;
}

export function rsaPkcs1Sign(key: RsaPrivate, hash: HashName, message: Uint8Array, random: RandomSource): Uint8Array {
  const k = Math.ceil(bitLength(key.n) / 8);
  const em = emsaPkcs1(hash, hashByName(hash)(message), k);
  if (em === undefined) throw new RangeError('RSA key too small for this hash');
  return bigIntToBytes(rsasp1(key, bytesToBigInt(em), random), k);
}

/** RSASSA-PSS signing with salt length = hash length (RFC 8446 §4.2.3, also used by TLS 1.2). */
export function rsaPssSign(key: RsaPrivate, hash: HashName, message: Uint8Array, random: RandomSource): Uint8Array {
  const h = hashByName(hash);
  const hLen = h.outputLen;
  const modBits = bitLength(key.n);
  const emBits = modBits - 1;
  const emLen = Math.ceil(emBits / 8);
  const k = Math.ceil(modBits / 8);
  const sLen = hLen;
  if (emLen < hLen + sLen + 2) throw new RangeError('RSA key too small for this hash');
  const salt = random(sLen);
  const hh = h(concatBytes(new Uint8Array(8), h(message), salt));
  const db = new Uint8Array(emLen - hLen - 1);
  db[emLen - sLen - hLen - 2] = 0x01;
  db.set(salt, emLen - sLen - hLen - 1);
  const mask = mgf1(h, hh, db.length);
  for (let i = 0; i < db.length; i++) db[i] = (db[i] as number) ^ (mask[i] as number);
  db[0] = (db[0] as number) & (0xff >> (8 * emLen - emBits));
  const em = concatBytes(db, hh, new Uint8Array([0xbc]));
  return bigIntToBytes(rsasp1(key, bytesToBigInt(em), random), k);
}
