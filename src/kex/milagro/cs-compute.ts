/**
 * The expensive M-Pin steps of MILAGRO_CS (milagro.md §5.5–§5.8) as byte-in/byte-out operations,
 * so the same code runs in-process (sans-I/O replay tests, small clients) or inside a
 * node:worker_threads pool (servers: a double pairing per ClientHello must not stall the event
 * loop). Inputs and outputs are plain Uint8Arrays and numbers (structured-clone friendly).
 *
 * Randomness never crosses into this module: the caller draws x, r and w from its injected
 * RandomSource and passes the scalars, so replays stay deterministic wherever the work runs.
 *
 * Point decoding errors surface as `PointError` (crypto layer); the key exchange turns them into
 * TLS alerts at its boundary.
 */
import { ClientPrecompute, MAX_PIN, ServerSecret, permitPoint, pinError, transcriptHash } from '../../crypto/mpin.ts';
import {
  PointError,
  Q_PREPARED,
  R,
  bncx,
  challengeY,
  decodeG1,
  decodeScalar,
  encodeG1,
  encodeGT,
  gtIsOne,
  gtPow,
  hashId as sha256Id,
  map1,
  mpinKdf,
  mulG1,
  mulG1Once,
  multiPairing,
  os2i,
  pairing,
  traceBytes,
  type Fp12,
  type G1Point,
} from '../../crypto/bncx/index.ts';
import { mulG1Public } from '../../crypto/bncx/pairing.ts';
import { bytesToHex } from '../../codec/bytes.ts';
import type { MaybePromise } from '../key-exchange.ts';
import { Lru } from './common.ts';
import type { JobOptions } from './fair-queue.ts';

export interface CsClientHelloInput {
  /** Raw identity bytes (hashed by the client pass). */
  readonly identity: Uint8Array;
  readonly pin: number;
  readonly token: Uint8Array;
  /** Today's time permit and its day number; absent when time permits are off. */
  readonly timePermit?: { readonly permit: Uint8Array; readonly date: number } | undefined;
  /** Scalar x, drawn by the caller. */
  readonly x: Uint8Array;
  readonly timeValue: number;
}

export interface CsClientHelloOutput {
  readonly hashId: Uint8Array;
  /** UT (permits) or U: the octet sent in the extension. */
  readonly point: Uint8Array;
  readonly V: Uint8Array;
  readonly y: Uint8Array;
}

export interface CsClientKeyInput {
  readonly token: Uint8Array;
  readonly hashId: Uint8Array;
  readonly pin: number;
  readonly x: Uint8Array;
  readonly y: Uint8Array;
  readonly V: Uint8Array;
  /** UT when time permits are on (it is part of h, §3.7); undefined otherwise. */
  readonly UT: Uint8Array | undefined;
  /** W as received (validated here). */
  readonly W: Uint8Array;
  /** Scalar r, drawn by the caller. */
  readonly r: Uint8Array;
}

export interface CsServerVerifyInput {
  readonly serverSecret: Uint8Array;
  readonly hashId: Uint8Array;
  readonly point: Uint8Array;
  readonly V: Uint8Array;
  readonly timeValue: number;
  /** Server day number; 0 = time permits off. */
  readonly date: number;
  /** On failure, search the PIN error (§5.7; only possible without time permits). */
  readonly detectPinError: boolean;
}

export interface CsServerVerifyOutput {
  readonly ok: boolean;
  readonly y: Uint8Array;
  /** entered − registered PIN when found (§5.7). */
  readonly pinError?: number | undefined;
}

export interface CsServerKeyInput {
  readonly serverSecret: Uint8Array;
  readonly hashId: Uint8Array;
  readonly point: Uint8Array;
  readonly UT: Uint8Array | undefined;
  readonly y: Uint8Array;
  readonly V: Uint8Array;
  readonly W: Uint8Array;
  readonly w: Uint8Array;
  /** R as received (validated here). */
  readonly R: Uint8Array;
  /** [w]·point when it was computed ahead (`serverKeyPoint`); otherwise computed here. */
  readonly keyPoint?: Uint8Array | undefined;
}

/** The server's whole ClientHello step in one call (asynchronous backends: one worker job). */
export interface CsServerHelloInput extends Omit<CsServerVerifyInput, 'date'> {
  /** Day numbers to try in order (today, then the neighbouring day within the grace); [0] = permits off. */
  readonly dates: readonly number[];
  /** Scalar w for W (§5.8), drawn by the caller. */
  readonly w: Uint8Array;
}

export interface CsServerHelloOutput extends CsServerVerifyOutput {
  /** The day that verified (the first of `dates` when none did). */
  readonly date: number;
  /** W = [w]·HTID of that day and [w]·(UT or U), when the proof verified. */
  readonly W?: Uint8Array | undefined;
  readonly keyPoint?: Uint8Array | undefined;
}

/**
 * Where the MILAGRO_CS arithmetic runs: in-process (synchronous) or a worker pool (async).
 * `job` carries scheduling data for pools (the connection's source address); in-process
 * compute ignores it.
 */
export interface MilagroCsCompute {
  clientHello(input: CsClientHelloInput, job?: JobOptions): MaybePromise<CsClientHelloOutput>;
  /** R = [r]A and the client key (§5.8); returns R and the 16-byte key. */
  clientKeyExchange(input: CsClientKeyInput, job?: JobOptions): MaybePromise<{ readonly R: Uint8Array; readonly key: Uint8Array }>;
  serverVerify(input: CsServerVerifyInput, job?: JobOptions): MaybePromise<CsServerVerifyOutput>;
  /**
   * Optional, for asynchronous backends: verify the proof and, when it holds, compute W and
   * [w]·(UT or U) in the same call, so the server's ClientHello step costs one worker job instead
   * of three (issue 11 §3). The key exchange then draws w before the suite is chosen.
   */
  serverHello?(input: CsServerHelloInput, job?: JobOptions): Promise<CsServerHelloOutput>;
  /** W = [w]·HTID (date > 0) or [w]·A. */
  serverEphemeral(input: { readonly hashId: Uint8Array; readonly date: number; readonly w: Uint8Array }, job?: JobOptions): MaybePromise<Uint8Array>;
  serverKey(input: CsServerKeyInput, job?: JobOptions): MaybePromise<Uint8Array>;
  /**
   * Optional, for asynchronous backends: start [w]·(UT or U) — the secret-scalar multiplication
   * of the server key (§5.8) — right after W, so it runs while the client computes its key
   * exchange instead of after ClientKeyExchange arrives. In-process compute leaves it to serverKey.
   */
  serverKeyPoint?(input: { readonly point: Uint8Array; readonly w: Uint8Array }, job?: JobOptions): Promise<Uint8Array>;
}

/** Fixed-base window for identity points reused across handshakes (noble wNAF tables, ~0.6 MB each). */
const WINDOW = 8;

function checkPin(pin: number): bigint {
  if (!Number.isInteger(pin) || pin < 0 || pin > MAX_PIN) throw new RangeError(`PIN must be an integer in 0..${MAX_PIN}`);
  return BigInt(pin);
}

/** A = map1(HID) and HTID = A + T_d (= A when d = 0), with precomputed multiplication tables. */
interface IdentityPoints {
  readonly a: G1Point;
  readonly htid: G1Point;
}

/**
 * Synchronous implementation, the same arithmetic as `crypto/mpin.ts` (spec §5.5–§5.8) arranged
 * for repeated handshakes: identity points A and A + T_d, the client's SEC and g₁·g₂^PIN are
 * cached per identity / token, and multiplications by these fixed bases use precomputed tables
 * (still the fixed-window, secret-safe ladder of `mulG1`); public scalars (y, h) use the faster
 * variable-time `mulG1Public`. Server secrets are decoded once with their Miller lines (§4.3).
 * Used directly by the key exchange by default and, one instance per thread, inside workers.
 * Tested byte for byte against `crypto/mpin.ts` and the milagro-tls recordings.
 *
 * Server side, the identity in a ClientHello is only a claim until the pairing check passes, so
 * `serverVerify` never builds tables for it (issue 11 §3: a flood of random identity hashes made
 * the server build ~0.6 MB tables, ~40 ms, per hello): an identity not yet proven is verified
 * with its plain point (a variable-time public multiplication), and only a proof that verifies
 * puts the identity into the bounded table cache used by W, the key and the next logins.
 */
export class InProcessCsCompute implements MilagroCsCompute {
  readonly #secrets = new Lru<ServerSecret>(8);
  readonly #identityA = new Lru<G1Point>(32);
  readonly #htids = new Lru<G1Point>(32);
  readonly #precomputes = new Lru<ClientPrecompute>(16);
  readonly #secs = new Lru<G1Point>(16);
  readonly #gPins = new Lru<Fp12>(16);

  /** Identities whose points (and multiplication tables) are cached: proven or our own (diagnostics, tests). */
  get cachedIdentities(): number {
    return this.#identityA.size;
  }

  #secret(b: Uint8Array): ServerSecret {
    return this.#secrets.get(bytesToHex(b), () => ServerSecret.fromBytes(b));
  }

  /** Identity points for a claim not yet proven: cached (with tables) only if already proven. */
  #claimedPoints(hid: Uint8Array, date: number): IdentityPoints {
    if (hid.length !== 32) throw new PointError('length', `hashed identity must be 32 bytes, got ${hid.length}`);
    const hex = bytesToHex(hid);
    const a = this.#identityA.peek(hex) ?? map1(hid);
    if (date === 0) return { a, htid: a };
    return { a, htid: this.#htids.peek(`${hex}:${date}`) ?? a.add(permitPoint(hid, date)) };
  }

  #points(hid: Uint8Array, date: number): IdentityPoints {
    if (hid.length !== 32) throw new PointError('length', `hashed identity must be 32 bytes, got ${hid.length}`);
    const hex = bytesToHex(hid);
    const a = this.#identityA.get(hex, () => map1(hid).precompute(WINDOW));
    if (date === 0) return { a, htid: a };
    const htid = this.#htids.get(`${hex}:${date}`, () => a.add(permitPoint(hid, date)).precompute(WINDOW));
    return { a, htid };
  }

  clientHello(input: CsClientHelloInput): CsClientHelloOutput {
    const hid = sha256Id(input.identity);
    const permit = input.timePermit;
    if (permit !== undefined && (!Number.isInteger(permit.date) || permit.date <= 0)) throw new RangeError('time permit needs a date > 0');
    const { a, htid } = this.#points(hid, permit?.date ?? 0);
    const pin = checkPin(input.pin);
    // SEC = token + [PIN]A (+ TP_d) (§5.5 step 1), reused for every login with this token.
    const sec = this.#secs.get(`${bytesToHex(input.token)}:${bytesToHex(hid)}:${input.pin}:${permit === undefined ? '' : bytesToHex(permit.permit)}`, () => {
      let p = decodeG1(input.token).add(mulG1(a, pin));
      if (permit !== undefined) p = p.add(decodeG1(permit.permit));
      return p.precompute(WINDOW);
    });
    const x = decodeScalar(input.x);
    const U = encodeG1(mulG1(a, x));
    const point = permit === undefined ? U : encodeG1(mulG1(htid, x));
    const y = challengeY(input.timeValue, point);
    // §5.5 step 5: V = [−(x + y) mod r]·SEC; x + y ≡ 0 would give O (negligible; never emitted).
    const k = (R - ((x + decodeScalar(y)) % R)) % R;
    if (k === 0n) throw new PointError('infinity', 'x + y ≡ 0 (mod r): draw a new x');
    return { hashId: hid, point, V: encodeG1(mulG1(sec, k)), y };
  }

  clientKeyExchange(input: CsClientKeyInput): { readonly R: Uint8Array; readonly key: Uint8Array } {
    const w = decodeG1(input.W); // validate before any work (§10 item 8)
    const { a } = this.#points(input.hashId, 0);
    const Rb = encodeG1(mulG1(a, decodeScalar(input.r)));
    const h = transcriptHash({ hashId: input.hashId, UT: input.UT, y: input.y, V: input.V, R: Rb, W: input.W });
    // g = g₁·g₂^PIN = e(Q, token + [PIN]A) (§5.8), cached per token and PIN.
    const tokenKey = `${bytesToHex(input.token)}:${bytesToHex(input.hashId)}`;
    const g = this.#gPins.get(`${tokenKey}:${input.pin}`, () => {
      const pre = this.#precomputes.get(tokenKey, () => ClientPrecompute.compute(input.token, input.hashId));
      return bncx.Fp12.mul(pre.g1, gtPow(pre.g2, checkPin(input.pin)));
    });
    const z = (decodeScalar(input.r) + os2i(h)) % R;
    const c = traceBytes(gtPow(g, z));
    const pt = mulG1Once(w, decodeScalar(input.x));
    if (pt.is0()) throw new PointError('infinity', 'key point is the point at infinity');
    return { R: Rb, key: mpinKdf(c, pt) };
  }

  serverVerify(input: CsServerVerifyInput): CsServerVerifyOutput {
    const sst = this.#secret(input.serverSecret);
    const { a, htid } = this.#claimedPoints(input.hashId, input.date);
    const pt = decodeG1(input.point);
    const v = decodeG1(input.V);
    const y = challengeY(input.timeValue, input.point);
    // §5.6: e(Q, V)·e(sQ, P′) = 1 with P′ = [y]·HTID + UT (or [y]A + U); y is public.
    const pPrime = mulG1Public(htid, os2i(y)).add(pt);
    const e = multiPairing([
      [v, Q_PREPARED],
      [pPrime, sst.prepared],
    ]);
    if (gtIsOne(e)) {
      this.#points(input.hashId, input.date); // proven: cache its points (tables built on first use)
      return { ok: true, y };
    }
    if (!input.detectPinError || input.date !== 0) return { ok: false, y };
    // §5.7: E = F^(−δ), F = e(Q, [y]A + U); only possible when U itself was sent (no permits).
    const f = pairing(mulG1Public(a, os2i(y)).add(pt), Q_PREPARED);
    return { ok: false, y, pinError: pinError(encodeGT(e), encodeGT(f)) };
  }

  /** The worker side of `MilagroCsCompute.serverHello`: verify, then W and [w]·point. */
  serverHelloStep(input: CsServerHelloInput): CsServerHelloOutput {
    const first = input.dates[0];
    if (first === undefined) throw new RangeError('serverHello needs at least one date');
    let failed: CsServerVerifyOutput | undefined;
    for (const date of input.dates) {
      const v = this.serverVerify({ ...input, date });
      if (v.ok) {
        const W = this.serverEphemeral({ hashId: input.hashId, date, w: input.w });
        return { ...v, date, W, keyPoint: this.keyPoint({ point: input.point, w: input.w }) };
      }
      failed ??= v;
    }
    return { ...(failed as CsServerVerifyOutput), date: first };
  }

  serverEphemeral(input: { readonly hashId: Uint8Array; readonly date: number; readonly w: Uint8Array }): Uint8Array {
    const { htid } = this.#points(input.hashId, input.date);
    return encodeG1(mulG1(htid, decodeScalar(input.w)));
  }

  serverKey(input: CsServerKeyInput): Uint8Array {
    const r = decodeG1(input.R); // validate before any work (§10 item 8)
    const sst = this.#secret(input.serverSecret);
    const { a } = this.#points(input.hashId, 0);
    const h = transcriptHash({ hashId: input.hashId, UT: input.UT, y: input.y, V: input.V, R: input.R, W: input.W });
    // §5.8: R′ = R + [h]A (h public, used unreduced — the same point since A has order r).
    const c = traceBytes(pairing(r.add(mulG1Public(a, os2i(h))), sst.prepared));
    const pt = input.keyPoint === undefined ? this.#keyPoint(input.point, input.w) : decodeG1(input.keyPoint);
    return mpinKdf(c, pt);
  }

  /** [w]·point for the server key (the worker side of `serverKeyPoint`). */
  keyPoint(input: { readonly point: Uint8Array; readonly w: Uint8Array }): Uint8Array {
    return encodeG1(this.#keyPoint(input.point, input.w));
  }

  #keyPoint(point: Uint8Array, w: Uint8Array): G1Point {
    const pt = mulG1Once(decodeG1(point), decodeScalar(w));
    if (pt.is0()) throw new PointError('infinity', 'key point is the point at infinity');
    return pt;
  }
}
