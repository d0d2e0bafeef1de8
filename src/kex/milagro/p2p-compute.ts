/**
 * The expensive WCC steps of MILAGRO_P2P (milagro.md §6.2–§6.4, §7.5) as byte-in/byte-out
 * operations, so the same code runs in-process (sans-I/O replay tests, clients) or inside the
 * Milagro worker pool (servers: a pairing per handshake must not stall the event loop).
 * Inputs and outputs are plain Uint8Arrays and numbers (structured-clone friendly).
 *
 * Randomness never crosses into this module: the caller draws x (server) or w then y (client)
 * from its injected RandomSource and passes the scalars, so replays stay deterministic wherever
 * the work runs. Every received point is validated here before use (G2 with the subgroup check,
 * §10 item 9); failures surface as `PointError`, which the key exchange turns into an alert.
 */
import { bytesToHex } from '../../codec/bytes.ts';
import {
  G2Prepared,
  PointError,
  decodeG1,
  decodeG2,
  decodeScalar,
  encodeG1,
  gtPow,
  encodeG2,
  mulG1,
  mulG1Once,
  mulG1Public,
  mulG2,
  multiPairing,
  pairing,
  traceBytes,
  wccKdf,
  type G1Point,
  type G2Point,
} from '../../crypto/bncx/index.ts';
import { pia as piaOf, pib as pibOf, hashId, receiverPoint, senderPoint } from '../../crypto/wcc.ts';
import type { MaybePromise } from '../key-exchange.ts';
import { Lru } from './common.ts';
import type { JobOptions, JobRunner } from './fair-queue.ts';

export type { JobRunner };

export interface P2pSenderEphemeralInput {
  /** SHA-256(IdA). */
  readonly hashIdA: Uint8Array;
  /** Day number of the time permit, 0 = permits off (§6.4). */
  readonly date: number;
  /** Scalar x, drawn by the caller. */
  readonly x: Uint8Array;
}

export interface P2pSenderKeyInput {
  readonly date: number;
  readonly x: Uint8Array;
  readonly PaG1: Uint8Array;
  /** As received (validated here). */
  readonly PgG1: Uint8Array;
  /** As received (validated here, including the G2 subgroup check). */
  readonly PbG2: Uint8Array;
  /** [s]H1(IdA), 65 bytes. */
  readonly senderKey: Uint8Array;
  /** Sender time permit for `date` (required when date > 0). */
  readonly senderPermit?: Uint8Array | undefined;
  /** Raw identities. */
  readonly idA: Uint8Array;
  readonly idB: Uint8Array;
}

export interface P2pReceiverInput {
  readonly date: number;
  readonly idA: Uint8Array;
  readonly idB: Uint8Array;
  /** Scalars drawn by the caller, w first then y (§7.5). */
  readonly w: Uint8Array;
  readonly y: Uint8Array;
  /** As received (validated here). */
  readonly PaG1: Uint8Array;
  /** [s]H2(IdB), 128 bytes. */
  readonly receiverKey: Uint8Array;
  readonly receiverPermit?: Uint8Array | undefined;
}

export interface P2pReceiverOutput {
  readonly PgG1: Uint8Array;
  readonly PbG2: Uint8Array;
  /** The 16-byte session key K (§6.3). */
  readonly key: Uint8Array;
}

/**
 * Where the MILAGRO_P2P arithmetic runs: in-process (synchronous) or a worker pool (async).
 * `job` carries scheduling data for pools (the connection's source address).
 */
export interface MilagroP2pCompute {
  /** PaG1 = [x]·A′ (§6.2, §6.4). */
  senderEphemeral(input: P2pSenderEphemeralInput, job?: JobOptions): MaybePromise<Uint8Array>;
  /** pia, pib and the sender key (§6.3). */
  senderKey(input: P2pSenderKeyInput, job?: JobOptions): MaybePromise<Uint8Array>;
  /** PgG1, PbG2, pia, pib and the receiver key (§6.2, §6.3). */
  receiverKeyExchange(input: P2pReceiverInput, job?: JobOptions): MaybePromise<P2pReceiverOutput>;
}

/**
 * A cached point that gets noble's multiplication tables on its second use: building them costs
 * several multiplications, which only pays off when the point is reused (a compute object made
 * for a single connection never builds them).
 */
class Reused<P extends { precompute(windowSize?: number, isLazy?: boolean): P }> {
  readonly #point: P;
  readonly #window: number;
  #uses = 0;
  constructor(point: P, window: number) {
    this.#point = point;
    this.#window = window;
  }
  use(): P {
    if (++this.#uses === 2) this.#point.precompute(this.#window); // tables built on the next multiply
    return this.#point;
  }
}

function infinityCheck(pt: G1Point): G1Point {
  if (pt.is0()) throw new PointError('infinity', 'key point is the point at infinity');
  return pt;
}

/** Window sizes of noble's cached multiplication tables (memory ≈ 2^(W−1)·⌈382/W⌉ points each). */
const OWN_WINDOW = 8;
const PEER_WINDOW = 6;

/**
 * Synchronous implementation, the same formulas as src/crypto/wcc.ts (WCC_SENDER_KEY /
 * WCC_RECEIVER_KEY, §6.3–§6.4), arranged for speed with per-instance caches of what repeats
 * across handshakes:
 *  - our own key (+ permit) and our own identity point, with noble's cached multiplication
 *    tables from their second use on (a secret-scalar multiplication of a fixed point then costs
 *    a fraction of a plain one);
 *  - the peer's identity point: the server's A′ on the client (a client talks to few servers:
 *    small cache, smaller tables), the client's B′ on the server (map2 clears a large cofactor)
 *    with only its Miller-loop lines, so a stream of new client identities cannot make the
 *    server build large tables.
 * The receiver pairs with its fixed key's cached lines: g = e(key, P′)^(y + pib) (bilinearity).
 * Tests check the bytes against wcc.ts and the spec vectors. Also the body of the worker
 * operations (one instance, so one set of caches, per thread).
 */
export class InProcessP2pCompute implements MilagroP2pCompute {
  readonly #senderPoints = new Lru<Reused<G1Point>>(8);
  readonly #ownReceiverPoints = new Lru<Reused<G2Point>>(4);
  readonly #peerReceiverPoints = new Lru<G2Prepared>(64);
  readonly #senderKeys = new Lru<Reused<G1Point>>(4);
  readonly #receiverKeys = new Lru<G2Prepared>(4);

  /** A′ (§6.4): the server's own point on the server, the peer's on the client. */
  #A(hidA: Uint8Array, date: number): G1Point {
    return this.#senderPoints.get(`${bytesToHex(hidA)}:${date}`, () => new Reused(senderPoint(hidA, date), PEER_WINDOW)).use();
  }

  /** Our own B′ (client), with multiplication tables. */
  #ownB(hidB: Uint8Array, date: number): G2Point {
    return this.#ownReceiverPoints.get(`${bytesToHex(hidB)}:${date}`, () => new Reused(receiverPoint(hidB, date), OWN_WINDOW)).use();
  }

  /** The client's B′ on the server, with its Miller-loop lines (cheap to build, no tables). */
  #peerB(hidB: Uint8Array, date: number): G2Prepared {
    return this.#peerReceiverPoints.get(`${bytesToHex(hidB)}:${date}`, () => new G2Prepared(receiverPoint(hidB, date)));
  }

  /** [s]H1(IdA) (+ the G1 time permit when date > 0; a bad permit is always an error, §10 item 10). */
  #senderKey(key: Uint8Array, date: number, permit: Uint8Array | undefined): G1Point {
    if (date > 0 && permit === undefined) throw new TypeError('date > 0 requires senderPermit');
    const p = date > 0 ? permit : undefined;
    return this.#senderKeys
      .get(`${bytesToHex(key)}:${p === undefined ? '' : bytesToHex(p)}`, () => {
        const k = decodeG1(key);
        const sum = p === undefined ? k : k.add(decodeG1(p));
        if (sum.is0()) throw new PointError('infinity', 'sender key plus permit is the point at infinity');
        return new Reused(sum, OWN_WINDOW);
      })
      .use();
  }

  /** Our receiver key (+ permit), decoded and validated once, with its Miller-loop lines. */
  #receiverKey(key: Uint8Array, date: number, permit: Uint8Array | undefined): G2Prepared {
    if (date > 0 && permit === undefined) throw new TypeError('date > 0 requires receiverPermit');
    const p = date > 0 ? permit : undefined;
    return this.#receiverKeys.get(`${bytesToHex(key)}:${p === undefined ? '' : bytesToHex(p)}`, () => {
      const k = decodeG2(key);
      const sum = p === undefined ? k : k.add(decodeG2(p));
      if (sum.is0()) throw new PointError('infinity', 'receiver key plus permit is the point at infinity');
      return new G2Prepared(sum);
    });
  }

  senderEphemeral(input: P2pSenderEphemeralInput): Uint8Array {
    return encodeG1(mulG1(this.#A(input.hashIdA, input.date), decodeScalar(input.x)));
  }

  senderKey(input: P2pSenderKeyInput): Uint8Array {
    // Received points first, with the strict decoders (§10 items 8, 9: PbG2 must be in G2).
    const PgG1 = decodeG1(input.PgG1);
    const PbG2 = decodeG2(input.PbG2);
    return wccKdf(this.#senderTrace(input, PbG2), infinityCheck(mulG1Once(PgG1, decodeScalar(input.x))));
  }

  #senderTrace(input: P2pSenderKeyInput, PbG2: G2Point): Uint8Array {
    const key = this.#senderKey(input.senderKey, input.date, input.senderPermit);
    const x = decodeScalar(input.x);
    const pia = decodeScalar(piaOf(input.PaG1, input.PbG2, input.PgG1, input.idB));
    const pib = decodeScalar(pibOf(input.PbG2, input.PaG1, input.PgG1, input.idA));
    // g = e([pib]·B′ + PbG2, S) with S = [x + pia]·key, computed as e(B′, [pib]·S)·e(PbG2, S):
    // a public G1 multiplication and a Miller loop on B′'s cached lines instead of a G2
    // multiplication; one final exponentiation. K = first16(SHA(Tr(g) ‖ [x]PgG1)).
    const S = mulG1(key, x + pia);
    const g = multiPairing([
      [mulG1Public(S, pib), this.#peerB(hashId(input.idB), input.date)],
      [S, PbG2],
    ]);
    return traceBytes(g);
  }

  receiverKeyExchange(input: P2pReceiverInput): P2pReceiverOutput {
    const PaG1 = decodeG1(input.PaG1);
    const key = this.#receiverKey(input.receiverKey, input.date, input.receiverPermit);
    const A = this.#A(hashId(input.idA), input.date);
    const B = this.#ownB(hashId(input.idB), input.date);
    const w = decodeScalar(input.w);
    const y = decodeScalar(input.y);
    const PgG1 = encodeG1(mulG1(A, w));
    const PbG2 = encodeG2(mulG2(B, y));
    const pia = decodeScalar(piaOf(input.PaG1, PbG2, PgG1, input.idB));
    const pib = decodeScalar(pibOf(PbG2, input.PaG1, PgG1, input.idA));
    // g = e([y + pib]·key, [pia]·A′ + PaG1) = e(key, [pia]·A′ + PaG1)^(y + pib): a pairing on
    // the key's cached lines and a GT power (4-dim GLS) instead of a G2 multiplication and a
    // fresh line precomputation.
    const p = mulG1Public(A, pia).add(PaG1);
    const g = gtPow(pairing(p, key), y + pib);
    return { PgG1, PbG2, key: wccKdf(traceBytes(g), infinityCheck(mulG1Once(PaG1, w))) };
  }
}

/** Names of the MILAGRO_P2P worker operations, shared by the worker table and the pooled compute. */
export const P2pOp = {
  senderEphemeral: 'p2p.senderEphemeral',
  senderKey: 'p2p.senderKey',
  receiverKeyExchange: 'p2p.receiverKeyExchange',
} as const satisfies Record<keyof MilagroP2pCompute, string>;

/** The worker-side table (spread into the pool's operation table, worker-ops.ts). */
export function p2pWorkerOps(compute: InProcessP2pCompute = new InProcessP2pCompute()): Readonly<Record<string, (input: never) => unknown>> {
  return {
    [P2pOp.senderEphemeral]: (i: P2pSenderEphemeralInput) => compute.senderEphemeral(i),
    [P2pOp.senderKey]: (i: P2pSenderKeyInput) => compute.senderKey(i),
    [P2pOp.receiverKeyExchange]: (i: P2pReceiverInput) => compute.receiverKeyExchange(i),
  };
}

/**
 * MILAGRO_P2P arithmetic in the worker pool (all methods asynchronous): one job per server step
 * (ServerKeyExchange: PaG1; ClientKeyExchange: the key), queued under the connection's source.
 */
export class PooledP2pCompute implements MilagroP2pCompute {
  readonly pool: JobRunner;
  constructor(pool: JobRunner) {
    this.pool = pool;
  }
  senderEphemeral(input: P2pSenderEphemeralInput, job?: JobOptions): Promise<Uint8Array> {
    return this.pool.run(P2pOp.senderEphemeral, input, job);
  }
  senderKey(input: P2pSenderKeyInput, job?: JobOptions): Promise<Uint8Array> {
    return this.pool.run(P2pOp.senderKey, input, job);
  }
  receiverKeyExchange(input: P2pReceiverInput, job?: JobOptions): Promise<P2pReceiverOutput> {
    return this.pool.run(P2pOp.receiverKeyExchange, input, job);
  }
}
