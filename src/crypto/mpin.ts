/**
 * M-Pin (spec §5) on BNCX, bit-exact with AMCL c8ca57b as used by milagro-tls (anonymous server
 * mode, milagro-tls transcript order). Pure functions of bytes: usable from worker threads.
 *
 * Roles: trust authorities issue shares (`masterSecretShare`, `serverSecretShare`,
 * `clientSecretShare`, `timePermitShare`, recombined with `recombineG1/G2`); the client turns its
 * secret into a PIN-protected token (`extractPin`) and authenticates with `clientPass`; the server
 * checks with `serverVerify`; both sides then derive a 16-byte key (`clientKey`, `serverKey`).
 * Randomness comes only from an injected RandomSource (or explicit scalars, for vectors).
 * @module
 */
import type { RandomSource } from '../providers.ts';
import { amclRandomBelow } from './amcl-rng.ts';
import {
  bncx,
  P,
  R,
  G2Prepared,
  Q_PREPARED,
  PointError,
  decodeG1,
  decodeG2,
  decodeGT,
  decodeScalar,
  encodeG1,
  encodeG2,
  encodeGT,
  encodeScalar,
  hashId as sha256Id,
  hashN,
  challengeY,
  map1,
  mapXToG1,
  mpinKdf,
  mulG1Once,
  mulG1Public,
  mulG2,
  multiPairing,
  pairing,
  gtPow,
  gtIsOne,
  os2i,
  i2os,
  sha,
  traceBytes,
  randomScalar,
  type Fp12,
  type G1Point,
} from './bncx/index.ts';

/** Largest valid PIN (§5.4: 0 ≤ PIN < 10000, enforced; §10 item 17). */
export const MAX_PIN = 9999;
/** Session-key length (AMCL PAS). */
export const KEY_BYTES = 16;

export { randomScalar };
export { sha256Id as hashId };

function checkPin(pin: number): number {
  if (!Number.isInteger(pin) || pin < 0 || pin > MAX_PIN) throw new RangeError(`PIN must be an integer in 0..${MAX_PIN}`);
  return pin;
}
function checkDate(date: number): number {
  if (!Number.isInteger(date) || date < 0 || date > 0x7fffffff) throw new RangeError('date must be a day number ≥ 0 (0 = no time permit)');
  return date;
}
function checkHid(hid: Uint8Array): Uint8Array {
  if (hid.length !== 32) throw new PointError('length', `hashed identity must be 32 bytes, got ${hid.length}`);
  return hid;
}
const scalarOf = (b: Uint8Array): bigint => decodeScalar(b);

/** Day number for a Unix time in ms (§3.5: days since 1970-01-01 UTC). */
export const dayOf = (unixMs: number): number => Math.floor(unixMs / 86_400_000);

// ---------------------------------------------------------------------------------------------
// Identity points (§3.5)

/** A = map1(HID): the identity point from the hashed identity (anonymous mode, §5.6). */
export const identityPoint = (hid: Uint8Array): G1Point => map1(checkHid(hid));
/** T_d = map1(SHA(BE32(d) ‖ HID)) (§3.5). */
export const permitPoint = (hid: Uint8Array, date: number): G1Point => map1(hashN(checkDate(date), checkHid(hid)));

// ---------------------------------------------------------------------------------------------
// Trust authority (§5.1, §5.2)

/** A master-secret share: uniform in [1, r−1] (rejection sampling, §10 item 12). */
export const masterSecretShare = (rng: RandomSource): Uint8Array => encodeScalar(randomScalar(rng));

/** AMCL's MPIN_RANDOM_GENERATE recipe (508 bits mod r, Appendix A.3) — only to reproduce AMCL. */
export const amclRandomScalar = (rng: RandomSource): Uint8Array => encodeScalar(amclRandomBelow(rng, R));

/** Server secret share [s]Q (128 bytes). */
export const serverSecretShare = (ms: Uint8Array): Uint8Array => encodeG2(mulG2(bncx.G2.BASE, scalarOf(ms)));

/** Client secret share [s]·map1(HID) (65 bytes). Takes the *hashed* identity (§5.1). */
export const clientSecretShare = (ms: Uint8Array, hid: Uint8Array): Uint8Array =>
  encodeG1(mulG1Once(identityPoint(hid), scalarOf(ms)));

/** Time permit share [s]·map1(hashN(d, HID)) for day d > 0 (65 bytes). */
export function timePermitShare(ms: Uint8Array, hid: Uint8Array, date: number): Uint8Array {
  if (checkDate(date) === 0) throw new RangeError('time permit needs a date > 0');
  return encodeG1(mulG1Once(permitPoint(hid, date), scalarOf(ms)));
}

/** Sum of two G1 shares (MPIN_RECOMBINE_G1). */
export const recombineG1 = (a: Uint8Array, b: Uint8Array): Uint8Array => encodeG1(decodeG1(a).add(decodeG1(b)));
/** Sum of two G2 shares (MPIN_RECOMBINE_G2). */
export const recombineG2 = (a: Uint8Array, b: Uint8Array): Uint8Array => encodeG2(decodeG2(a).add(decodeG2(b)));

/** §5.4 token = CS − [PIN]·map1(SHA(ID)), with the *raw* identity (not the demo TA's bug). */
export function extractPin(identity: Uint8Array, pin: number, clientSecret: Uint8Array): Uint8Array {
  const a = map1(sha256Id(identity));
  return encodeG1(decodeG1(clientSecret).subtract(mulG1Once(a, BigInt(checkPin(pin)))));
}

// ---------------------------------------------------------------------------------------------
// §5.3 Time-permit obfuscation (MPIN_ENCODING / MPIN_DECODING)

/**
 * Obfuscate a G1 point (Elligator-squared style). Draw order matches AMCL: u (64 bytes, A.3 mod
 * p), one byte for s_u, one byte for m — so an {@link AmclRng}-backed source reproduces AMCL.
 */
export function encodePermit(point: Uint8Array, rng: RandomSource): Uint8Array {
  const { Fp } = bncx;
  const pt = decodeG1(point);
  const u = amclRandomBelow(rng, P);
  const su = ((rng(1)[0] ?? 0) & 1) as 0 | 1;
  const w = mapXToG1(u, su);
  const d = pt.subtract(w);
  if (d.is0()) throw new PointError('infinity', 'encoding hit the point at infinity; retry');
  const { x: xd, y: yd } = d.toAffine();
  const sv = Number(yd & 1n);
  // Largest x' < x_D that the map would accept.
  let xp = Fp.sub(xd, 1n);
  while (!bncx.isSquare(Fp.add(Fp.mul(Fp.sqr(xp), xp), 2n))) xp = Fp.sub(xp, 1n);
  const n = Fp.sub(xd, xp);
  const m = BigInt(rng(1)[0] ?? 0);
  const v = Fp.add(xp, (m % n) + 1n);
  const out = new Uint8Array(65);
  out[0] = su + 2 * sv;
  out.set(i2os(u), 1);
  out.set(i2os(v), 33);
  return out;
}

/** Inverse of {@link encodePermit}: mapS(u, s_u) + mapS(v, s_v). Rejects ordinary (0x04) points. */
export function decodePermit(encoded: Uint8Array): Uint8Array {
  if (encoded.length !== 65) throw new PointError('length', 'encoded permit must be 65 bytes');
  const flag = encoded[0] ?? 0;
  if ((flag & 0x04) !== 0 || flag > 3) throw new PointError('prefix', 'not an obfuscated point');
  const u = os2i(encoded.subarray(1, 33));
  const v = os2i(encoded.subarray(33, 65));
  if (u >= P || v >= P) throw new PointError('range', 'coordinate is not below p');
  const sum = mapXToG1(u, (flag & 1) as 0 | 1).add(mapXToG1(v, ((flag >> 1) & 1) as 0 | 1));
  return encodeG1(sum);
}

// ---------------------------------------------------------------------------------------------
// Client (§5.5, §5.9)

/** Time permit held by the client: the permit for `date` (day number > 0). */
export type ClientPermit = { readonly permit: Uint8Array; readonly date: number };

export type Client1Input = {
  /** Raw identity bytes (the client hashes it). */
  readonly identity: Uint8Array;
  readonly pin: number;
  readonly token: Uint8Array;
  readonly timePermit?: ClientPermit | undefined;
  /** Fixed x (32 bytes) for vectors; otherwise drawn from rng. */
  readonly x?: Uint8Array | undefined;
  readonly rng?: RandomSource | undefined;
};

export type Client1Output = {
  readonly hashId: Uint8Array;
  readonly x: Uint8Array;
  /** [x]A */
  readonly U: Uint8Array;
  /** [x](A + T_d), only with a time permit. */
  readonly UT: Uint8Array | undefined;
  /** The point sent on the wire: UT with a permit, else U. */
  readonly point: Uint8Array;
  /** SEC = token + [PIN]A (+ permit). Secret. */
  readonly sec: Uint8Array;
};

function drawX(input: { readonly x?: Uint8Array | undefined; readonly rng?: RandomSource | undefined }): bigint {
  if (input.x !== undefined) return scalarOf(input.x);
  if (input.rng === undefined) throw new TypeError('either x or rng is required');
  return randomScalar(input.rng);
}

/** MPIN_CLIENT_1: rebuild SEC, draw x, output U (and UT). */
export function client1(input: Client1Input): Client1Output {
  const hid = sha256Id(input.identity);
  const a = map1(hid);
  let sec = decodeG1(input.token).add(mulG1Once(a, BigInt(checkPin(input.pin))));
  let base = a;
  if (input.timePermit !== undefined) {
    const date = checkDate(input.timePermit.date);
    if (date === 0) throw new RangeError('time permit needs a date > 0');
    sec = sec.add(decodeG1(input.timePermit.permit));
    base = a.add(permitPoint(hid, date));
  }
  const x = drawX(input);
  const U = encodeG1(mulG1Once(a, x));
  const UT = input.timePermit !== undefined ? encodeG1(mulG1Once(base, x)) : undefined;
  return { hashId: hid, x: encodeScalar(x), U, UT, point: UT ?? U, sec: encodeG1(sec) };
}

/** MPIN_CLIENT_2: V = [−(x + y) mod r]·SEC. */
export function client2(x: Uint8Array, y: Uint8Array, sec: Uint8Array): Uint8Array {
  const k = (R - ((scalarOf(x) + scalarOf(y)) % R)) % R;
  if (k === 0n) throw new PointError('infinity', 'x + y ≡ 0 (mod r): draw a new x');
  return encodeG1(mulG1Once(decodeG1(sec), k));
}

export type ClientPassInput = Client1Input & {
  /** Unix time in seconds (32-bit); prefixed to the y hash when > 0 as int32 (§3.1). */
  readonly timeValue: number;
};

export type ClientPassOutput = Client1Output & {
  readonly y: Uint8Array;
  readonly V: Uint8Array;
  readonly timeValue: number;
};

/**
 * One-pass client (MPIN_CLIENT, §5.5). Sends hashId, `point` (UT or U), V and timeValue.
 * If x + y ≡ 0 (mod r) a drawn x is redrawn; a fixed x then throws.
 */
export function clientPass(input: ClientPassInput): ClientPassOutput {
  for (;;) {
    const c1 = client1(input);
    const y = challengeY(input.timeValue, c1.point);
    if ((scalarOf(c1.x) + scalarOf(y)) % R === 0n && input.x === undefined) continue;
    const V = client2(c1.x, y, c1.sec);
    return { ...c1, y, V, timeValue: input.timeValue };
  }
}

/** The challenge y for the one-pass protocol (MPIN_GET_Y, §3.6). */
export const getY = (timeValue: number, point: Uint8Array): Uint8Array => challengeY(timeValue, point);

// ---------------------------------------------------------------------------------------------
// Server (§5.6, §5.7)

/** A server secret [s]Q decoded once, with its Miller-loop lines precomputed. Immutable. */
export class ServerSecret {
  readonly bytes: Uint8Array;
  readonly prepared: G2Prepared;
  private constructor(bytes: Uint8Array, prepared: G2Prepared) {
    this.bytes = bytes;
    this.prepared = prepared;
    Object.freeze(this);
  }
  /** Validates (128 bytes, on twist, in G2, not O). */
  static fromBytes(b: Uint8Array): ServerSecret {
    return new ServerSecret(b.slice(), new G2Prepared(decodeG2(b)));
  }
}
const asServerSecret = (s: ServerSecret | Uint8Array): ServerSecret => (s instanceof ServerSecret ? s : ServerSecret.fromBytes(s));

/** MPIN_SERVER_1: HID point A = map1(HID) and, for date > 0, HTID = A + T_d. */
export function server1(hid: Uint8Array, date: number): { readonly hidPoint: Uint8Array; readonly htidPoint: Uint8Array | undefined } {
  const a = identityPoint(hid);
  const htid = checkDate(date) > 0 ? a.add(permitPoint(hid, date)) : undefined;
  return { hidPoint: encodeG1(a), htidPoint: htid === undefined ? undefined : encodeG1(htid) };
}

export type ServerCheckInput = {
  readonly serverSecret: ServerSecret | Uint8Array;
  /** Received SHA(ID), exactly 32 bytes. */
  readonly hashId: Uint8Array;
  /** Received point: UT with time permits (date > 0), U without. */
  readonly point: Uint8Array;
  readonly V: Uint8Array;
  /** The server's day number; 0 = time permits off. */
  readonly date: number;
  /** Set to compute E and F for PIN-error search on failure (needs U; not possible with UT only). */
  readonly U?: Uint8Array | undefined;
};

export type ServerCheckResult = {
  readonly ok: boolean;
  readonly y: Uint8Array;
  readonly hidPoint: Uint8Array;
  readonly htidPoint: Uint8Array | undefined;
  /** On failure with `U` given: E = e(Q,V)·e(sQ,P′), F = e(Q,[y]A + U) (384-byte octets). */
  readonly E?: Uint8Array;
  readonly F?: Uint8Array;
};

/** MPIN_SERVER_2 with a given y (multi-pass, §5.9). */
export function server2(input: ServerCheckInput & { readonly y: Uint8Array }): ServerCheckResult {
  const sst = asServerSecret(input.serverSecret);
  const hid = checkHid(input.hashId);
  const date = checkDate(input.date);
  const a = map1(hid);
  const htid = date > 0 ? a.add(permitPoint(hid, date)) : a;
  const y = scalarOf(input.y);
  const pt = decodeG1(input.point);
  const v = decodeG1(input.V);
  const pPrime = mulG1Public(htid, y).add(pt);
  // e(Q, V)·e(sQ, P′) == 1  (§5.6)
  const e = multiPairing([
    [v, Q_PREPARED],
    [pPrime, sst.prepared],
  ]);
  const ok = gtIsOne(e);
  const base = { ok, y: input.y.slice(), hidPoint: encodeG1(a), htidPoint: date > 0 ? encodeG1(htid) : undefined };
  if (ok || input.U === undefined) return base;
  const f = pairing(mulG1Public(a, y).add(decodeG1(input.U)), Q_PREPARED);
  return { ...base, E: encodeGT(e), F: encodeGT(f) };
}

/** One-pass server check (MPIN_SERVER, §5.6): y recomputed from the time value and point. */
export function serverVerify(input: ServerCheckInput & { readonly timeValue: number }): ServerCheckResult {
  return server2({ ...input, y: challengeY(input.timeValue, input.point) });
}

/**
 * §5.7 PIN error δ = PIN_entered − PIN_registered from E = F^(−δ), |δ| ≤ 9999, by
 * baby-step/giant-step (all 12 Fp12 coefficients compared). undefined if not found.
 */
export function pinError(E: Uint8Array, F: Uint8Array): number | undefined {
  const Fq = bncx.Fp12;
  const e = decodeGT(E);
  const f = decodeGT(F);
  const key = (g: Fp12): string => bytesKey(encodeGT(g));
  const M = 142; // M² ≥ 2·9999 + 1
  const baby = new Map<string, number>();
  let cur = Fq.ONE;
  for (let j = 0; j < M; j++) {
    baby.set(key(cur), j);
    cur = Fq.mul(cur, f);
  }
  // Want F^δ = E⁻¹ with δ + 9999 = i·M + j ⇒ F^j = E⁻¹·F^9999·F^(−iM).
  const stepInv = Fq.inv(Fq.pow(f, BigInt(M)));
  let g = Fq.mul(Fq.inv(e), Fq.pow(f, BigInt(MAX_PIN)));
  for (let i = 0; i <= M; i++) {
    const j = baby.get(key(g));
    if (j !== undefined) {
      const delta = i * M + j - MAX_PIN;
      if (delta !== 0 && Math.abs(delta) <= MAX_PIN) return delta;
    }
    g = Fq.mul(g, stepInv);
  }
  return undefined;
}
function bytesKey(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += String.fromCharCode(x);
  return s;
}

// ---------------------------------------------------------------------------------------------
// Key agreement (§5.8)

/** Server ephemeral: W = [w]·HTID (date > 0) or [w]·A. */
export function serverEphemeral(input: {
  readonly hashId: Uint8Array;
  readonly date: number;
  readonly w?: Uint8Array | undefined;
  readonly rng?: RandomSource | undefined;
}): { readonly w: Uint8Array; readonly W: Uint8Array } {
  const hid = checkHid(input.hashId);
  const a = map1(hid);
  const base = checkDate(input.date) > 0 ? a.add(permitPoint(hid, input.date)) : a;
  const w = drawX({ x: input.w, rng: input.rng });
  return { w: encodeScalar(w), W: encodeG1(mulG1Once(base, w)) };
}

/** Client ephemeral: R = [r]·A, A = map1(HID). */
export function clientEphemeral(input: {
  readonly hashId: Uint8Array;
  readonly r?: Uint8Array | undefined;
  readonly rng?: RandomSource | undefined;
}): { readonly r: Uint8Array; readonly R: Uint8Array } {
  const r = drawX({ x: input.r, rng: input.rng });
  return { r: encodeScalar(r), R: encodeG1(mulG1Once(identityPoint(input.hashId), r)) };
}

/**
 * §3.7 milagro-tls transcript hash:
 * permits on: SHA(HID ‖ UT ‖ y ‖ V ‖ R ‖ W); off (UT undefined): SHA(HID ‖ y ‖ V ‖ R ‖ W) — U is
 * not hashed. Octets exactly as sent/received.
 */
export function transcriptHash(input: {
  readonly hashId: Uint8Array;
  readonly UT: Uint8Array | undefined;
  readonly y: Uint8Array;
  readonly V: Uint8Array;
  readonly R: Uint8Array;
  readonly W: Uint8Array;
}): Uint8Array {
  const parts = [input.hashId, ...(input.UT !== undefined ? [input.UT] : []), input.y, input.V, input.R, input.W];
  return sha(...parts);
}

/** AMCL's own sample order SHA(HID ‖ (UT or U) ‖ V ‖ y ‖ R ‖ W) — for comparison only; milagro-tls peers use {@link transcriptHash}. */
export function transcriptHashAmclOrder(input: {
  readonly hashId: Uint8Array;
  readonly point: Uint8Array;
  readonly y: Uint8Array;
  readonly V: Uint8Array;
  readonly R: Uint8Array;
  readonly W: Uint8Array;
}): Uint8Array {
  return sha(input.hashId, input.point, input.V, input.y, input.R, input.W);
}

/** MPIN_PRECOMPUTE: g₁ = e(Q, token), g₂ = e(Q, A). Cache per (token, identity). Immutable. */
export class ClientPrecompute {
  readonly g1: Fp12;
  readonly g2: Fp12;
  private constructor(g1: Fp12, g2: Fp12) {
    this.g1 = g1;
    this.g2 = g2;
    Object.freeze(this);
  }
  static compute(token: Uint8Array, hid: Uint8Array): ClientPrecompute {
    return new ClientPrecompute(pairing(decodeG1(token), Q_PREPARED), pairing(identityPoint(hid), Q_PREPARED));
  }
  /** 384-byte octets of g₁ and g₂ (AMCL order). */
  toBytes(): { readonly g1: Uint8Array; readonly g2: Uint8Array } {
    return { g1: encodeGT(this.g1), g2: encodeGT(this.g2) };
  }
}

/**
 * MPIN_CLIENT_KEY: g = g₁·g₂^PIN; z = (r + h) mod r; K = first16(SHA(Tr(g^z) ‖ [x]W without 04)).
 */
export function clientKey(input: {
  readonly precompute: ClientPrecompute;
  readonly pin: number;
  readonly r: Uint8Array;
  readonly x: Uint8Array;
  readonly h: Uint8Array;
  readonly W: Uint8Array;
}): Uint8Array {
  const { g1, g2 } = input.precompute;
  const g = bncx.Fp12.mul(g1, gtPow(g2, BigInt(checkPin(input.pin))));
  const z = (scalarOf(input.r) + os2i(input.h)) % R;
  const c = traceBytes(gtPow(g, z));
  const pt = mulG1Once(decodeG1(input.W), scalarOf(input.x));
  if (pt.is0()) throw new PointError('infinity', 'key point is the point at infinity');
  return mpinKdf(c, pt);
}

/**
 * MPIN_SERVER_KEY: R′ = R + [h]A; K = first16(SHA(Tr(e(sQ, R′)) ‖ [w]·point without 04)),
 * point = UT with time permits, U without.
 */
export function serverKey(input: {
  readonly serverSecret: ServerSecret | Uint8Array;
  readonly hashId: Uint8Array;
  readonly R: Uint8Array;
  readonly h: Uint8Array;
  readonly w: Uint8Array;
  readonly point: Uint8Array;
}): Uint8Array {
  const sst = asServerSecret(input.serverSecret);
  const a = identityPoint(input.hashId);
  const rPrime = decodeG1(input.R).add(mulG1Public(a, os2i(input.h)));
  const c = traceBytes(pairing(rPrime, sst.prepared));
  const pt = mulG1Once(decodeG1(input.point), scalarOf(input.w));
  if (pt.is0()) throw new PointError('infinity', 'key point is the point at infinity');
  return mpinKdf(c, pt);
}
