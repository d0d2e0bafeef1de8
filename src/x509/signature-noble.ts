/**
 * A noble `SignatureBackend` that remembers the ECDSA public keys it verifies against: from the
 * second signature under the same key (a client reconnecting to the same server), the key's
 * point gets a fixed-window table (noble `precompute`, 4-bit windows), and verification becomes
 * two table walks (u1·G + u2·Q) instead of a joint 256-doubling chain — about 4–5× faster on
 * P-256, after a one-off table cost of a few verifications. Everything else is `nobleSignatures`.
 *
 * The cache is per instance (one per server, secure context or connection), bounded, keyed by
 * curve and point bytes; verification is over public data, so timing is not a concern here.
 * SEC 1 §4.1.4 verification, same acceptance as noble's `verify` with lowS: false.
 */
import { bytesToHex } from '../codec/bytes.ts';
import { curveImpl } from './keys.ts';
import { hashByName, type HashName } from './rsa.ts';
import { nobleSignatures, type EcPublicKey, type SignatureBackend } from './signature.ts';

type Curve = ReturnType<typeof curveImpl>;
type Point = InstanceType<Curve['Point']>;

interface Entry {
  /** Undefined until the key is seen a second time. */
  point: Point | undefined;
}

export interface NobleSignatureOptions {
  /** Keys whose tables are kept (default 16); the oldest is dropped first. */
  readonly maxKeys?: number;
  /** Window of the per-key table (default 4: cheap to build, most of the gain). */
  readonly windowBits?: number;
}

export class NobleSignatureBackend implements SignatureBackend {
  readonly name = 'noble';
  readonly #keys = new Map<string, Entry>();
  readonly #max: number;
  readonly #window: number;

  constructor(opts: NobleSignatureOptions = {}) {
    this.#max = opts.maxKeys ?? 16;
    this.#window = opts.windowBits ?? 4;
  }

  readonly ecdsaSign = nobleSignatures.ecdsaSign;
  readonly rsaPkcs1Sign = nobleSignatures.rsaPkcs1Sign;
  readonly rsaPkcs1Verify = nobleSignatures.rsaPkcs1Verify;
  readonly rsaPssSign = nobleSignatures.rsaPssSign;
  readonly rsaPssVerify = nobleSignatures.rsaPssVerify;

  /** Number of keys remembered (with or without a table). */
  get size(): number {
    return this.#keys.size;
  }

  ecdsaVerify(key: EcPublicKey, hash: HashName, data: Uint8Array, derSignature: Uint8Array): boolean {
    const id = `${key.curve}:${bytesToHex(key.point)}`;
    const entry = this.#keys.get(id);
    if (entry === undefined) {
      this.#remember(id, { point: undefined });
      return nobleSignatures.ecdsaVerify(key, hash, data, derSignature);
    }
    const curve = curveImpl(key.curve);
    if (entry.point === undefined) {
      // fromBytes validates the point (on curve, not infinity); the table is built once.
      const p = curve.Point.fromBytes(key.point);
      p.precompute(this.#window, false);
      entry.point = p;
    }
    return verifyWithTable(curve, entry.point, hashByName(hash)(data), derSignature);
  }

  #remember(id: string, entry: Entry): void {
    if (this.#keys.size >= this.#max) {
      const oldest = this.#keys.keys().next();
      if (oldest.done !== true) this.#keys.delete(oldest.value);
    }
    this.#keys.set(id, entry);
  }
}

/** SEC 1 §4.1.4 with Q's precomputed table: R = u1·G + u2·Q, accept iff R ≠ O and x(R) mod n = r. */
function verifyWithTable(curve: Curve, q: Point, digest: Uint8Array, derSignature: Uint8Array): boolean {
  let r: bigint;
  let s: bigint;
  try {
    // Strict DER; r and s must lie in [1, n-1].
    ({ r, s } = curve.Signature.fromBytes(derSignature, 'der'));
  } catch {
    return false;
  }
  const Fn = curve.Point.Fn;
  const w = Fn.inv(s);
  const u1 = Fn.create(bits2int(digest, Fn.BITS) * w);
  const u2 = Fn.create(r * w);
  const R = curve.Point.BASE.multiplyUnsafe(u1).add(q.multiplyUnsafe(u2));
  if (R.is0()) return false;
  return Fn.create(R.toAffine().x) === r;
}

/** SEC 1 §4.1.3 step 5 / RFC 6979 §2.3.2: the leftmost `bits` bits of the digest as an integer. */
function bits2int(digest: Uint8Array, bits: number): bigint {
  let x = 0n;
  for (const b of digest) x = (x << 8n) | BigInt(b);
  const excess = digest.length * 8 - bits;
  return excess > 0 ? x >> BigInt(excess) : x;
}

export function createNobleSignatures(opts: NobleSignatureOptions = {}): SignatureBackend {
  return new NobleSignatureBackend(opts);
}
