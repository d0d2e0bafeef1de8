/**
 * The relying party's M-Pin check as a worker-pool operation (issue 11 §6): the double pairing of
 * the verification and, on failure, the PIN-error search (spec §5.7, ~280 Fp12 products) used to
 * run on the event loop, so an attacker sending junk passes stalled every page of the site. The
 * pool (src/kex/milagro/pool.ts) runs them in worker threads; `inProcessCheck` is the same
 * function for callers without a pool.
 */
import { pinError, server2, serverVerify, ServerSecret } from '../../crypto/mpin.ts';
import { Lru } from '../../kex/milagro/common.ts';

export const MPIN_CHECK_OP = 'mpin.check';

export interface MpinCheckInput {
  /** The assembled server secret [s]Q (128 bytes). */
  readonly serverSecret: Uint8Array;
  readonly hashId: Uint8Array;
  /** UT with time permits, U without. */
  readonly point: Uint8Array;
  readonly V: Uint8Array;
  readonly date: number;
  /** Two-pass: the server's y. One-pass: undefined, y comes from `timeValue`. */
  readonly y?: Uint8Array | undefined;
  readonly timeValue?: number | undefined;
  /** The client's U, for the PIN-error search on failure. */
  readonly U?: Uint8Array | undefined;
}

export interface MpinCheckOutput {
  readonly ok: boolean;
  /** PIN error δ when the check failed and δ was found (|δ| ≤ 9999). */
  readonly pinError: number | undefined;
}

export type MpinCheck = (input: MpinCheckInput) => Promise<MpinCheckOutput>;

/** Prepared server secrets by value; a worker serves one or a few relying parties. */
function checker(): (input: MpinCheckInput) => MpinCheckOutput {
  const prepared = new Lru<ServerSecret>(4);
  return (input) => {
    const sst = prepared.get(Buffer.from(input.serverSecret).toString('hex'), () => ServerSecret.fromBytes(input.serverSecret));
    const common = { serverSecret: sst, hashId: input.hashId, point: input.point, V: input.V, date: input.date, U: input.U };
    const r =
      input.y !== undefined ? server2({ ...common, y: input.y }) : serverVerify({ ...common, timeValue: input.timeValue ?? Number.NaN });
    if (r.ok) return { ok: true, pinError: undefined };
    return { ok: false, pinError: r.E !== undefined && r.F !== undefined ? pinError(r.E, r.F) : undefined };
  };
}

/** Operations a pool worker serves for the relying party (spread into allWorkerOps). */
export function mpinWorkerOps(): Readonly<Record<string, (input: never) => unknown>> {
  const check = checker();
  return { [MPIN_CHECK_OP]: (i: MpinCheckInput) => check(i) };
}

/** The check on the calling thread (tests, tools); servers use the pool. */
export function inProcessCheck(): MpinCheck {
  const check = checker();
  return async (input) => check(input);
}
