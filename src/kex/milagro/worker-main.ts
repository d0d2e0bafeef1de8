/**
 * Body of a Milagro pool worker: receives `{ id, op, input }`, runs the named operation and
 * answers `{ id, result }` or `{ id, error: { name, message, code? } }` (errors cross the thread
 * boundary as plain data; the pool rebuilds them so `PointError` still maps to an alert).
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { allWorkerOps, type WorkerOps } from './worker-ops.ts';

export interface WorkerRequest {
  readonly id: number;
  readonly op: string;
  readonly input: unknown;
}
export type WorkerResponse =
  | { readonly id: number; readonly result: unknown }
  | { readonly id: number; readonly error: { readonly name: string; readonly message: string; readonly code?: string } };

function serve(port: MessagePort, ops: WorkerOps): void {
  const reply = (r: WorkerResponse): void => port.postMessage(r);
  const fail = (id: number, e: unknown): void => {
    const err = e instanceof Error ? e : new Error(String(e));
    const code = (err as Error & { code?: unknown }).code;
    reply({ id, error: { name: err.name, message: err.message, ...(typeof code === 'string' ? { code } : {}) } });
  };
  port.on('message', (req: WorkerRequest) => {
    const op = Object.hasOwn(ops, req.op) ? ops[req.op] : undefined;
    if (op === undefined) {
      fail(req.id, new TypeError(`unknown worker operation ${req.op}`));
      return;
    }
    try {
      const result = op(req.input as never);
      if (result instanceof Promise) result.then((r) => reply({ id: req.id, result: r }), (e: unknown) => fail(req.id, e));
      else reply({ id: req.id, result });
    } catch (e) {
      fail(req.id, e);
    }
  });
}

/**
 * Lower this thread's priority (pool.ts `niceness`). Linux applies setpriority(PRIO_PROCESS, tid)
 * to one thread; the thread id comes from /proc/thread-self. Elsewhere this is a no-op.
 */
function lowerPriority(data: unknown): void {
  const n = typeof data === 'object' && data !== null && 'niceness' in data ? data.niceness : undefined;
  if (typeof n !== 'number' || n <= 0 || process.platform !== 'linux') return;
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0 && tid !== process.pid) setPriority(tid, n);
  } catch {
    // No /proc or no permission: run at normal priority.
  }
}

if (parentPort !== null) {
  lowerPriority(workerData);
  serve(parentPort, allWorkerOps());
}
