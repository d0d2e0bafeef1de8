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
import { decodeG1 } from '../../crypto/bncx/index.ts';
import { pia as piaOf, pib as pibOf, hashId, receiverEphemeral, receiverKey, senderEphemeral, senderKey } from '../../crypto/wcc.ts';
import type { MaybePromise } from '../key-exchange.ts';

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

/** Where the MILAGRO_P2P arithmetic runs: in-process (synchronous) or a worker pool (async). */
export interface MilagroP2pCompute {
  /** PaG1 = [x]·A′ (§6.2, §6.4). */
  senderEphemeral(input: P2pSenderEphemeralInput): MaybePromise<Uint8Array>;
  /** pia, pib and the sender key (§6.3). */
  senderKey(input: P2pSenderKeyInput): MaybePromise<Uint8Array>;
  /** PgG1, PbG2, pia, pib and the receiver key (§6.2, §6.3). */
  receiverKeyExchange(input: P2pReceiverInput): MaybePromise<P2pReceiverOutput>;
}

/** Synchronous implementation on src/crypto/wcc.ts; also the body of the worker operations. */
export class InProcessP2pCompute implements MilagroP2pCompute {
  senderEphemeral(input: P2pSenderEphemeralInput): Uint8Array {
    return senderEphemeral({ hashIdA: input.hashIdA, date: input.date, x: input.x }).PaG1;
  }

  senderKey(input: P2pSenderKeyInput): Uint8Array {
    // Validate the received points before hashing them into pia/pib (§10 items 8, 9); senderKey
    // decodes them again with the same strict decoders.
    decodeG1(input.PgG1);
    const pia = piaOf(input.PaG1, input.PbG2, input.PgG1, input.idB);
    const pib = pibOf(input.PbG2, input.PaG1, input.PgG1, input.idA);
    return senderKey({
      date: input.date,
      x: input.x,
      pia,
      pib,
      PbG2: input.PbG2,
      PgG1: input.PgG1,
      senderKey: input.senderKey,
      senderPermit: input.senderPermit,
      idB: input.idB,
    });
  }

  receiverKeyExchange(input: P2pReceiverInput): P2pReceiverOutput {
    decodeG1(input.PaG1);
    const { PgG1, PbG2 } = receiverEphemeral({
      hashIdA: hashId(input.idA),
      hashIdB: hashId(input.idB),
      date: input.date,
      w: input.w,
      y: input.y,
    });
    const pia = piaOf(input.PaG1, PbG2, PgG1, input.idB);
    const pib = pibOf(PbG2, input.PaG1, PgG1, input.idA);
    const key = receiverKey({
      date: input.date,
      y: input.y,
      w: input.w,
      pia,
      pib,
      PaG1: input.PaG1,
      receiverKey: input.receiverKey,
      receiverPermit: input.receiverPermit,
      idA: input.idA,
    });
    return { PgG1, PbG2, key };
  }
}

/** Names of the MILAGRO_P2P worker operations, shared by the worker table and the pooled compute. */
export const P2pOp = {
  senderEphemeral: 'p2p.senderEphemeral',
  senderKey: 'p2p.senderKey',
  receiverKeyExchange: 'p2p.receiverKeyExchange',
} as const satisfies Record<keyof MilagroP2pCompute, string>;

/** The worker-side table (spread into the pool's operation table, worker-ops.ts). */
export function p2pWorkerOps(compute: MilagroP2pCompute = new InProcessP2pCompute()): Readonly<Record<string, (input: never) => unknown>> {
  return {
    [P2pOp.senderEphemeral]: (i: P2pSenderEphemeralInput) => compute.senderEphemeral(i),
    [P2pOp.senderKey]: (i: P2pSenderKeyInput) => compute.senderKey(i),
    [P2pOp.receiverKeyExchange]: (i: P2pReceiverInput) => compute.receiverKeyExchange(i),
  };
}

/** What PooledP2pCompute needs from the pool (MilagroWorkerPool satisfies it). */
export interface JobRunner {
  run<T>(op: string, input: unknown): Promise<T>;
}

/** MILAGRO_P2P arithmetic in the worker pool (all methods asynchronous). */
export class PooledP2pCompute implements MilagroP2pCompute {
  readonly pool: JobRunner;
  constructor(pool: JobRunner) {
    this.pool = pool;
  }
  senderEphemeral(input: P2pSenderEphemeralInput): Promise<Uint8Array> {
    return this.pool.run(P2pOp.senderEphemeral, input);
  }
  senderKey(input: P2pSenderKeyInput): Promise<Uint8Array> {
    return this.pool.run(P2pOp.senderKey, input);
  }
  receiverKeyExchange(input: P2pReceiverInput): Promise<P2pReceiverOutput> {
    return this.pool.run(P2pOp.receiverKeyExchange, input);
  }
}
