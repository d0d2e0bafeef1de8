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
import {
  ClientPrecompute,
  ServerSecret,
  clientKey,
  clientPass,
  identityPoint,
  pinError,
  serverEphemeral,
  serverKey,
  serverVerify,
  transcriptHash,
} from '../../crypto/mpin.ts';
import { decodeG1, encodeG1, mulG1, decodeScalar } from '../../crypto/bncx/index.ts';
import { bytesToHex } from '../../codec/bytes.ts';
import type { MaybePromise } from '../key-exchange.ts';

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
}

/** Where the MILAGRO_CS arithmetic runs: in-process (synchronous) or a worker pool (async). */
export interface MilagroCsCompute {
  clientHello(input: CsClientHelloInput): MaybePromise<CsClientHelloOutput>;
  /** R = [r]A and the client key (§5.8); returns R and the 16-byte key. */
  clientKeyExchange(input: CsClientKeyInput): MaybePromise<{ readonly R: Uint8Array; readonly key: Uint8Array }>;
  serverVerify(input: CsServerVerifyInput): MaybePromise<CsServerVerifyOutput>;
  /** W = [w]·HTID (date > 0) or [w]·A. */
  serverEphemeral(input: { readonly hashId: Uint8Array; readonly date: number; readonly w: Uint8Array }): MaybePromise<Uint8Array>;
  serverKey(input: CsServerKeyInput): MaybePromise<Uint8Array>;
}

/** A tiny insertion-ordered LRU (per instance; no module state). */
class Lru<V> {
  readonly #max: number;
  readonly #map = new Map<string, V>();
  constructor(max: number) {
    this.#max = max;
  }
  get(key: string, make: () => V): V {
    const hit = this.#map.get(key);
    if (hit !== undefined) {
      this.#map.delete(key);
      this.#map.set(key, hit);
      return hit;
    }
    const v = make();
    this.#map.set(key, v);
    if (this.#map.size > this.#max) {
      const oldest = this.#map.keys().next();
      if (oldest.done !== true) this.#map.delete(oldest.value);
    }
    return v;
  }
}

/**
 * Synchronous implementation. Keeps two small caches: decoded server secrets with their
 * precomputed Miller lines (§4.3), and the client's pairing precomputation g₁, g₂ per token (§4.4).
 * Used directly by the key exchange by default and, one instance per thread, inside workers.
 */
export class InProcessCsCompute implements MilagroCsCompute {
  readonly #secrets = new Lru<ServerSecret>(8);
  readonly #precomputes = new Lru<ClientPrecompute>(64);

  #secret(b: Uint8Array): ServerSecret {
    return this.#secrets.get(bytesToHex(b), () => ServerSecret.fromBytes(b));
  }

  clientHello(input: CsClientHelloInput): CsClientHelloOutput {
    const out = clientPass({
      identity: input.identity,
      pin: input.pin,
      token: input.token,
      timePermit: input.timePermit,
      x: input.x,
      timeValue: input.timeValue,
    });
    return { hashId: out.hashId, point: out.point, V: out.V, y: out.y };
  }

  clientKeyExchange(input: CsClientKeyInput): { readonly R: Uint8Array; readonly key: Uint8Array } {
    decodeG1(input.W); // validate before any work (§10 item 8)
    const R = encodeG1(mulG1(identityPoint(input.hashId), decodeScalar(input.r)));
    const h = transcriptHash({ hashId: input.hashId, UT: input.UT, y: input.y, V: input.V, R, W: input.W });
    const precompute = this.#precomputes.get(`${bytesToHex(input.token)}:${bytesToHex(input.hashId)}`, () =>
      ClientPrecompute.compute(input.token, input.hashId),
    );
    const key = clientKey({ precompute, pin: input.pin, r: input.r, x: input.x, h, W: input.W });
    return { R, key };
  }

  serverVerify(input: CsServerVerifyInput): CsServerVerifyOutput {
    const U = input.detectPinError && input.date === 0 ? input.point : undefined;
    const res = serverVerify({
      serverSecret: this.#secret(input.serverSecret),
      hashId: input.hashId,
      point: input.point,
      V: input.V,
      date: input.date,
      timeValue: input.timeValue,
      U,
    });
    if (res.ok || res.E === undefined || res.F === undefined) return { ok: res.ok, y: res.y };
    return { ok: false, y: res.y, pinError: pinError(res.E, res.F) };
  }

  serverEphemeral(input: { readonly hashId: Uint8Array; readonly date: number; readonly w: Uint8Array }): Uint8Array {
    return serverEphemeral({ hashId: input.hashId, date: input.date, w: input.w }).W;
  }

  serverKey(input: CsServerKeyInput): Uint8Array {
    decodeG1(input.R); // validate before any work (§10 item 8)
    const h = transcriptHash({ hashId: input.hashId, UT: input.UT, y: input.y, V: input.V, R: input.R, W: input.W });
    return serverKey({ serverSecret: this.#secret(input.serverSecret), hashId: input.hashId, R: input.R, h, w: input.w, point: input.point });
  }
}
