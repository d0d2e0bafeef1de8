/**
 * The operations a Milagro worker thread can run, by name. Each key exchange contributes its own
 * table (MILAGRO_CS here; MILAGRO_P2P adds `p2p.*`), built around a per-thread compute object so
 * caches (prepared server secrets, client precomputations) live as long as the worker.
 */
import { InProcessCsCompute, type MilagroCsCompute } from './cs-compute.ts';
import { p2pWorkerOps } from './p2p-compute.ts';
import { mpinWorkerOps } from '../../web/server/verify-ops.ts';

/** An operation: structured-clone-able input → output (or a Promise of it). */
export type WorkerOp = (input: never) => unknown;
export type WorkerOps = Readonly<Record<string, WorkerOp>>;

/** Names of the MILAGRO_CS operations, shared by the worker table and the pooled compute. */
export const CsOp = {
  clientHello: 'cs.clientHello',
  clientKeyExchange: 'cs.clientKeyExchange',
  serverVerify: 'cs.serverVerify',
  serverHello: 'cs.serverHello',
  serverEphemeral: 'cs.serverEphemeral',
  serverKey: 'cs.serverKey',
  serverKeyPoint: 'cs.serverKeyPoint',
} as const satisfies Record<keyof MilagroCsCompute, string>;

export function csWorkerOps(compute: InProcessCsCompute = new InProcessCsCompute()): WorkerOps {
  return {
    [CsOp.clientHello]: (i: Parameters<MilagroCsCompute['clientHello']>[0]) => compute.clientHello(i),
    [CsOp.clientKeyExchange]: (i: Parameters<MilagroCsCompute['clientKeyExchange']>[0]) => compute.clientKeyExchange(i),
    [CsOp.serverVerify]: (i: Parameters<MilagroCsCompute['serverVerify']>[0]) => compute.serverVerify(i),
    [CsOp.serverHello]: (i: Parameters<InProcessCsCompute['serverHelloStep']>[0]) => compute.serverHelloStep(i),
    [CsOp.serverEphemeral]: (i: Parameters<MilagroCsCompute['serverEphemeral']>[0]) => compute.serverEphemeral(i),
    [CsOp.serverKey]: (i: Parameters<MilagroCsCompute['serverKey']>[0]) => compute.serverKey(i),
    [CsOp.serverKeyPoint]: (i: Parameters<InProcessCsCompute['keyPoint']>[0]) => compute.keyPoint(i),
  };
}

/** Every operation a pool worker serves. MILAGRO_P2P: spread its table here. */
export function allWorkerOps(): WorkerOps {
  // `ping` lets the pool start and warm its workers (module loading) before the first handshake.
  // mpin.*: the web relying party's M-Pin check and PIN-error search (issue 11 §6).
  return { ping: () => 'pong', ...csWorkerOps(), ...p2pWorkerOps(), ...mpinWorkerOps() };
}
