/**
 * Wang / Chow–Choo identity-based key agreement (spec §6) on BNCX, bit-exact with AMCL's WCC.
 * Sender A holds [s]H1(IdA) in G1 (the TLS server in MILAGRO_P2P); receiver B holds [s]H2(IdB)
 * in G2 (the TLS client). Identities are raw bytes; points and scalars are AMCL octets.
 * Pure functions of bytes: usable from worker threads. Randomness only via RandomSource.
 * @module
 */
import type { RandomSource } from '../providers.ts';
import {
  PointError,
  decodeG1,
  decodeG2,
  decodeScalar,
  encodeG1,
  encodeG2,
  encodeScalar,
  hashId,
  hashN,
  hq,
  map1,
  map2,
  mulG1Once,
  mulG1Public,
  mulG2Once,
  mulG2Public,
  pairing,
  randomScalar,
  traceBytes,
  wccKdf,
  type G1Point,
  type G2Point,
} from './bncx/index.ts';

export { hashId, randomScalar };
export const KEY_BYTES = 16;

function checkDate(date: number): number {
  if (!Number.isInteger(date) || date < 0 || date > 0x7fffffff) throw new RangeError('date must be a day number ≥ 0 (0 = no time permit)');
  return date;
}
function checkHid(hid: Uint8Array): Uint8Array {
  if (hid.length !== 32) throw new PointError('length', `hashed identity must be 32 bytes, got ${hid.length}`);
  return hid;
}
const scalarOf = (b: Uint8Array): bigint => decodeScalar(b);
function draw(fixed: Uint8Array | undefined, rng: RandomSource | undefined): bigint {
  if (fixed !== undefined) return scalarOf(fixed);
  if (rng === undefined) throw new TypeError('either a fixed scalar or rng is required');
  return randomScalar(rng);
}

/** H1(ID) = map1(HID), or with a date > 0: A′ = H1(ID) + map1(hashN(d, HID)) (§6.4). */
export function senderPoint(hid: Uint8Array, date = 0): G1Point {
  const h = map1(checkHid(hid));
  return checkDate(date) > 0 ? h.add(map1(hashN(date, hid))) : h;
}
/** H2(ID) = map2(HID), or with a date > 0: B′ = H2(ID) + map2(hashN(d, HID)) (§6.4). */
export function receiverPoint(hid: Uint8Array, date = 0): G2Point {
  const h = map2(checkHid(hid));
  return checkDate(date) > 0 ? h.add(map2(hashN(date, hid))) : h;
}

// ---------------------------------------------------------------------------------------------
// Trust authority (§6.1)

/** Sender (G1) key share [s]·H1(IdA), from the hashed identity. 65 bytes. */
export const senderKeyShare = (ms: Uint8Array, hidA: Uint8Array): Uint8Array => encodeG1(mulG1Once(senderPoint(hidA), scalarOf(ms)));
/** Receiver (G2) key share [s]·H2(IdB), from the hashed identity. 128 bytes. */
export const receiverKeyShare = (ms: Uint8Array, hidB: Uint8Array): Uint8Array => encodeG2(mulG2Once(receiverPoint(hidB), scalarOf(ms)));

function permitDate(date: number): number {
  if (checkDate(date) === 0) throw new RangeError('time permit needs a date > 0');
  return date;
}
/** Sender time permit share [s]·map1(hashN(d, HID)). */
export const senderPermitShare = (ms: Uint8Array, hidA: Uint8Array, date: number): Uint8Array =>
  encodeG1(mulG1Once(map1(hashN(permitDate(date), checkHid(hidA))), scalarOf(ms)));
/** Receiver time permit share [s]·map2(hashN(d, HID)). */
export const receiverPermitShare = (ms: Uint8Array, hidB: Uint8Array, date: number): Uint8Array =>
  encodeG2(mulG2Once(map2(hashN(permitDate(date), checkHid(hidB))), scalarOf(ms)));

export const recombineG1 = (a: Uint8Array, b: Uint8Array): Uint8Array => encodeG1(decodeG1(a).add(decodeG1(b)));
export const recombineG2 = (a: Uint8Array, b: Uint8Array): Uint8Array => encodeG2(decodeG2(a).add(decodeG2(b)));

// ---------------------------------------------------------------------------------------------
// Ephemeral values (§6.2)

/** Sender: x and PaG1 = [x]·A′ (A′ = H1(IdA) without a date). */
export function senderEphemeral(input: {
  readonly hashIdA: Uint8Array;
  readonly date?: number;
  readonly x?: Uint8Array | undefined;
  readonly rng?: RandomSource | undefined;
}): { readonly x: Uint8Array; readonly PaG1: Uint8Array } {
  const x = draw(input.x, input.rng);
  return { x: encodeScalar(x), PaG1: encodeG1(mulG1Once(senderPoint(input.hashIdA, input.date ?? 0), x)) };
}

/** Receiver: w then y drawn; PgG1 = [w]·A′ (the *sender's* identity), PbG2 = [y]·B′. */
export function receiverEphemeral(input: {
  readonly hashIdA: Uint8Array;
  readonly hashIdB: Uint8Array;
  readonly date?: number;
  readonly w?: Uint8Array | undefined;
  readonly y?: Uint8Array | undefined;
  readonly rng?: RandomSource | undefined;
}): { readonly w: Uint8Array; readonly y: Uint8Array; readonly PgG1: Uint8Array; readonly PbG2: Uint8Array } {
  const date = input.date ?? 0;
  const w = draw(input.w, input.rng);
  const y = draw(input.y, input.rng);
  return {
    w: encodeScalar(w),
    y: encodeScalar(y),
    PgG1: encodeG1(mulG1Once(senderPoint(input.hashIdA, date), w)),
    PbG2: encodeG2(mulG2Once(receiverPoint(input.hashIdB, date), y)),
  };
}

/** pia = Hq(PaG1, PbG2, PgG1, IdB) (§6.2, §3.8). IdB raw. */
export const pia = (PaG1: Uint8Array, PbG2: Uint8Array, PgG1: Uint8Array, idB: Uint8Array): Uint8Array => hq(PaG1, PbG2, PgG1, idB);
/** pib = Hq(PbG2, PaG1, PgG1, IdA) (§6.2, §3.8). IdA raw. */
export const pib = (PbG2: Uint8Array, PaG1: Uint8Array, PgG1: Uint8Array, idA: Uint8Array): Uint8Array => hq(PbG2, PaG1, PgG1, idA);

// ---------------------------------------------------------------------------------------------
// Session keys (§6.3, §6.4)

/**
 * WCC_SENDER_KEY: g = e([pib]·B′ + PbG2, [x + pia]·(key + permit));
 * K = first16(SHA(Tr(g) ‖ 04‖[x]PgG1)).
 */
export function senderKey(input: {
  readonly date?: number;
  readonly x: Uint8Array;
  readonly pia: Uint8Array;
  readonly pib: Uint8Array;
  readonly PbG2: Uint8Array;
  readonly PgG1: Uint8Array;
  /** [s]H1(IdA), 65 bytes. */
  readonly senderKey: Uint8Array;
  /** Required when date > 0 (§10 item 10: a bad permit is always an error). */
  readonly senderPermit?: Uint8Array | undefined;
  /** Raw receiver identity. */
  readonly idB: Uint8Array;
}): Uint8Array {
  const date = checkDate(input.date ?? 0);
  let key = decodeG1(input.senderKey);
  if (date > 0) {
    if (input.senderPermit === undefined) throw new TypeError('date > 0 requires senderPermit');
    key = key.add(decodeG1(input.senderPermit));
  }
  const x = scalarOf(input.x);
  const q = mulG2Public(receiverPoint(hashId(input.idB), date), scalarOf(input.pib)).add(decodeG2(input.PbG2));
  const p = mulG1Once(key, x + scalarOf(input.pia));
  const g = pairing(p, q);
  const pt = mulG1Once(decodeG1(input.PgG1), x);
  if (pt.is0()) throw new PointError('infinity', 'key point is the point at infinity');
  return wccKdf(traceBytes(g), pt);
}

/**
 * WCC_RECEIVER_KEY: g = e([y + pib]·(key + permit), [pia]·A′ + PaG1);
 * K = first16(SHA(Tr(g) ‖ 04‖[w]PaG1)).
 */
export function receiverKey(input: {
  readonly date?: number;
  readonly y: Uint8Array;
  readonly w: Uint8Array;
  readonly pia: Uint8Array;
  readonly pib: Uint8Array;
  readonly PaG1: Uint8Array;
  readonly PgG1?: Uint8Array | undefined;
  /** [s]H2(IdB), 128 bytes. */
  readonly receiverKey: Uint8Array;
  readonly receiverPermit?: Uint8Array | undefined;
  /** Raw sender identity. */
  readonly idA: Uint8Array;
}): Uint8Array {
  const date = checkDate(input.date ?? 0);
  let key = decodeG2(input.receiverKey);
  if (date > 0) {
    if (input.receiverPermit === undefined) throw new TypeError('date > 0 requires receiverPermit');
    key = key.add(decodeG2(input.receiverPermit));
  }
  const paG1 = decodeG1(input.PaG1);
  const q = mulG2Once(key, scalarOf(input.y) + scalarOf(input.pib));
  const p = mulG1Public(senderPoint(hashId(input.idA), date), scalarOf(input.pia)).add(paG1);
  const g = pairing(p, q);
  const pt = mulG1Once(paG1, scalarOf(input.w));
  if (pt.is0()) throw new PointError('infinity', 'key point is the point at infinity');
  return wccKdf(traceBytes(g), pt);
}
