/**
 * A small node:worker_threads pool for the Milagro pairings (issue 6 item 3): one handshake's
 * double pairing must not stall every other connection on the event loop.
 *
 * - size: min(2, cores) by default; workers start lazily on the first job;
 * - one job per worker at a time (the work is CPU-bound), FIFO queue bounded by `maxQueue`
 *   (a full queue rejects the job: the handshake fails with internal_error instead of the server
 *   buffering unbounded work — spec §10 item 13's CPU-exhaustion lever);
 * - a worker is ref'd only while it runs a job, so an idle pool never keeps the process alive;
 * - a crashed worker fails its job and is replaced on demand; `close()` terminates everything.
 *
 * `PooledCsCompute` adapts the pool to the MILAGRO_CS compute interface.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type {
  CsClientHelloInput,
  CsClientHelloOutput,
  CsClientKeyInput,
  CsServerKeyInput,
  CsServerVerifyInput,
  CsServerVerifyOutput,
  MilagroCsCompute,
} from './cs-compute.ts';
import { CsOp } from './worker-ops.ts';
import type { WorkerRequest, WorkerResponse } from './worker-main.ts';

export interface WorkerPoolOptions {
  /** Worker threads; default min(2, available cores). */
  readonly size?: number | undefined;
  /** Jobs waiting for a worker before new ones are refused; default 256. */
  readonly maxQueue?: number | undefined;
  /**
   * Scheduling niceness of the worker threads (Linux: per-thread `setpriority`; ignored where
   * unsupported), default 10. The pool usually has as many busy workers as there are cores; at
   * the same priority the OS then time-slices the event-loop thread with them and every
   * connection waits tens of ms. Lower-priority workers yield to it whenever it has work (it
   * only needs a few ms per handshake), while still getting all idle CPU. Trade-off: on a host
   * where *other processes* keep the cores busy, niced workers also yield to those, and pooled
   * handshakes slow down; there, 0 (no change) favours pairing latency over event-loop latency.
   */
  readonly niceness?: number | undefined;
}

/** The queue is full: the job was not accepted. */
export class WorkerPoolBusyError extends Error {
  override readonly name = 'WorkerPoolBusyError';
}

/** The pool was closed before the job ran or finished. */
export class WorkerPoolClosedError extends Error {
  override readonly name = 'WorkerPoolClosedError';
}

interface Job {
  readonly op: string;
  readonly input: unknown;
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: Error) => void;
}

interface Slot {
  readonly worker: Worker;
  job: (Job & { readonly id: number }) | undefined;
}

/** The worker entry: compiled output loads worker-main.js; TypeScript sources go through the bootstrap. */
function workerEntry(): URL {
  return import.meta.url.endsWith('.ts') ? new URL('./worker.js', import.meta.url) : new URL('./worker-main.js', import.meta.url);
}

/**
 * Structured clone copies a Uint8Array's *whole* ArrayBuffer: a 65-byte point that is a view into
 * a received record (or a pooled Buffer slab) would ship kilobytes to the worker on every job,
 * on the event-loop thread. Copy such views into compact arrays first (plain objects, two levels).
 */
function compact(v: unknown, depth = 0): unknown {
  if (v instanceof Uint8Array) return v.byteOffset === 0 && v.byteLength === v.buffer.byteLength ? v : v.slice();
  if (depth >= 2 || typeof v !== 'object' || v === null || Array.isArray(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = compact(x, depth + 1);
  return out;
}

function rebuild(e: { readonly name: string; readonly message: string; readonly code?: string }): Error {
  const err = new Error(e.message);
  err.name = e.name; // PointError keeps its name so the key exchange maps it to illegal_parameter
  if (e.code !== undefined) Object.assign(err, { code: e.code });
  return err;
}

export class MilagroWorkerPool {
  readonly size: number;
  readonly #maxQueue: number;
  readonly #niceness: number;
  readonly #slots: Slot[] = [];
  readonly #queue: Job[] = [];
  #nextId = 1;
  #closed = false;

  constructor(options: WorkerPoolOptions = {}) {
    const size = options.size ?? Math.min(2, availableParallelism());
    if (!Number.isInteger(size) || size < 1 || size > 64) throw new RangeError('worker pool size must be an integer in 1..64');
    const maxQueue = options.maxQueue ?? 256;
    if (!Number.isInteger(maxQueue) || maxQueue < 0) throw new RangeError('maxQueue must be an integer ≥ 0');
    const niceness = options.niceness ?? 10;
    if (!Number.isInteger(niceness) || niceness < 0 || niceness > 19) throw new RangeError('niceness must be an integer in 0..19');
    this.size = size;
    this.#maxQueue = maxQueue;
    this.#niceness = niceness;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Jobs waiting for a free worker. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Run a named operation (worker-ops.ts) in a worker thread. */
  run<T>(op: string, input: unknown): Promise<T> {
    if (this.#closed) return Promise.reject(new WorkerPoolClosedError('worker pool is closed'));
    return new Promise<T>((resolve, reject) => {
      const job: Job = { op, input, resolve: resolve as (v: unknown) => void, reject };
      const slot = this.#freeSlot();
      if (slot !== undefined) {
        this.#start(slot, job);
        return;
      }
      if (this.#queue.length >= this.#maxQueue) {
        reject(new WorkerPoolBusyError(`worker pool queue full (${this.#maxQueue} jobs waiting)`));
        return;
      }
      this.#queue.push(job);
    });
  }

  /** Start every worker and wait until each has loaded its code (optional; avoids a slow first handshake). */
  async warmup(): Promise<void> {
    const spawned: Promise<unknown>[] = [];
    while (!this.#closed && this.#slots.length < this.size) {
      const slot = this.#spawn();
      spawned.push(new Promise((resolve, reject) => this.#start(slot, { op: 'ping', input: null, resolve, reject })));
    }
    await Promise.all(spawned);
  }

  /** Terminate the workers; queued and running jobs are rejected. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const closed = new WorkerPoolClosedError('worker pool closed');
    for (const job of this.#queue.splice(0)) job.reject(closed);
    const slots = this.#slots.splice(0);
    for (const s of slots) s.job?.reject(closed);
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  #freeSlot(): Slot | undefined {
    const idle = this.#slots.find((s) => s.job === undefined);
    if (idle !== undefined) return idle;
    if (this.#slots.length < this.size) return this.#spawn();
    return undefined;
  }

  #spawn(): Slot {
    const worker = new Worker(workerEntry(), { workerData: { niceness: this.#niceness } });
    worker.unref();
    const slot: Slot = { worker, job: undefined };
    worker.on('message', (msg: WorkerResponse) => {
      const job = slot.job;
      if (job === undefined || job.id !== msg.id) return;
      slot.job = undefined;
      worker.unref();
      if ('error' in msg) job.reject(rebuild(msg.error));
      else job.resolve(msg.result);
      this.#next(slot);
    });
    const lost = (err: Error): void => {
      const i = this.#slots.indexOf(slot);
      if (i < 0) return; // already removed (close)
      this.#slots.splice(i, 1);
      slot.job?.reject(err);
      slot.job = undefined;
      // Keep the queue moving on a fresh worker.
      const next = this.#queue.shift();
      if (next !== undefined && !this.#closed) this.#start(this.#spawn(), next);
    };
    worker.on('error', (e: Error) => lost(e));
    worker.on('exit', (code) => lost(new Error(`milagro worker exited with code ${code}`)));
    this.#slots.push(slot);
    return slot;
  }

  #start(slot: Slot, job: Job): void {
    const id = this.#nextId++;
    slot.job = { ...job, id };
    slot.worker.ref();
    const req: WorkerRequest = { id, op: job.op, input: compact(job.input) };
    try {
      slot.worker.postMessage(req);
    } catch (e) {
      slot.job = undefined;
      slot.worker.unref();
      job.reject(e instanceof Error ? e : new Error(String(e)));
      this.#next(slot);
    }
  }

  #next(slot: Slot): void {
    const job = this.#queue.shift();
    if (job !== undefined) this.#start(slot, job);
  }
}

/** MILAGRO_CS arithmetic in the pool (all methods asynchronous). */
export class PooledCsCompute implements MilagroCsCompute {
  readonly pool: MilagroWorkerPool;
  constructor(pool: MilagroWorkerPool) {
    this.pool = pool;
  }
  clientHello(input: CsClientHelloInput): Promise<CsClientHelloOutput> {
    return this.pool.run(CsOp.clientHello, input);
  }
  clientKeyExchange(input: CsClientKeyInput): Promise<{ readonly R: Uint8Array; readonly key: Uint8Array }> {
    return this.pool.run(CsOp.clientKeyExchange, input);
  }
  serverVerify(input: CsServerVerifyInput): Promise<CsServerVerifyOutput> {
    return this.pool.run(CsOp.serverVerify, input);
  }
  serverEphemeral(input: { readonly hashId: Uint8Array; readonly date: number; readonly w: Uint8Array }): Promise<Uint8Array> {
    return this.pool.run(CsOp.serverEphemeral, input);
  }
  serverKey(input: CsServerKeyInput): Promise<Uint8Array> {
    return this.pool.run(CsOp.serverKey, input);
  }
  serverKeyPoint(input: { readonly point: Uint8Array; readonly w: Uint8Array }): Promise<Uint8Array> {
    return this.pool.run(CsOp.serverKeyPoint, input);
  }
}
