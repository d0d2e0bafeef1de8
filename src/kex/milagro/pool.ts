/**
 * A small node:worker_threads pool for the Milagro pairings (issue 6 item 3): one handshake's
 * double pairing must not stall every other connection on the event loop.
 *
 * - size: min(2, cores) by default; workers start lazily on the first job;
 * - one job per worker at a time (the work is CPU-bound); waiting jobs queue per source (the
 *   connection's remote address) and sources are served round-robin (fair-queue.ts, issue 11
 *   §3), so a flood from one address cannot starve the others. Bounds: `maxQueue` waiting jobs
 *   in total and `maxPerSource` waiting + running jobs per source; a job over either bound is
 *   refused at once with WorkerPoolBusyError (the handshake fails with internal_error and the
 *   key exchange logs `overloaded`) instead of the server buffering unbounded work — spec §10
 *   item 13's CPU-exhaustion lever;
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
  CsServerHelloInput,
  CsServerHelloOutput,
  CsServerKeyInput,
  CsServerVerifyInput,
  CsServerVerifyOutput,
  MilagroCsCompute,
} from './cs-compute.ts';
import { sourceKey } from '../../source-key.ts';
import { ANONYMOUS_SOURCE, FairQueue, type AdmitRefusal, type JobOptions, type JobRunner } from './fair-queue.ts';

export type { JobOptions, JobRunner };
import { CsOp } from './worker-ops.ts';
import type { WorkerRequest, WorkerResponse } from './worker-main.ts';

export interface WorkerPoolOptions {
  /** Worker threads; default min(2, available cores). */
  readonly size?: number | undefined;
  /** Jobs waiting for a worker (all sources) before new ones are refused; default 256. */
  readonly maxQueue?: number | undefined;
  /**
   * Jobs one source (remote address; IPv6 by its /64) may have waiting or running at once; default 32. A
   * handshake has at most one job in flight, so this is also the number of concurrent Milagro
   * handshakes one address can have computing.
   */
  readonly maxPerSource?: number | undefined;
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

/** The pool is overloaded: the job was not accepted (`reason` says which bound was hit). */
export class WorkerPoolBusyError extends Error {
  override readonly name = 'WorkerPoolBusyError';
  readonly reason: AdmitRefusal;
  constructor(message: string, reason: AdmitRefusal = 'queue-full') {
    super(message);
    this.reason = reason;
  }
}


/** The pool was closed before the job ran or finished. */
export class WorkerPoolClosedError extends Error {
  override readonly name = 'WorkerPoolClosedError';
}

interface Job {
  readonly source: string;
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

/** Source of the warm-up pings: never a remote address, never counted. */
const WARMUP_SOURCE = '\u0000warmup';

function rebuild(e: { readonly name: string; readonly message: string; readonly code?: string }): Error {
  const err = new Error(e.message);
  err.name = e.name; // PointError keeps its name so the key exchange maps it to illegal_parameter
  if (e.code !== undefined) Object.assign(err, { code: e.code });
  return err;
}

export class MilagroWorkerPool implements JobRunner {
  readonly size: number;
  readonly #maxQueue: number;
  readonly #niceness: number;
  readonly #slots: Slot[] = [];
  readonly #queue: FairQueue<Job>;
  #nextId = 1;
  #closed = false;

  constructor(options: WorkerPoolOptions = {}) {
    const size = options.size ?? Math.min(2, availableParallelism());
    if (!Number.isInteger(size) || size < 1 || size > 64) throw new RangeError('worker pool size must be an integer in 1..64');
    const maxQueue = options.maxQueue ?? 256;
    if (!Number.isInteger(maxQueue) || maxQueue < 0) throw new RangeError('maxQueue must be an integer ≥ 0');
    const maxPerSource = options.maxPerSource ?? 32;
    if (!Number.isInteger(maxPerSource) || maxPerSource < 1) throw new RangeError('maxPerSource must be an integer ≥ 1');
    const niceness = options.niceness ?? 10;
    if (!Number.isInteger(niceness) || niceness < 0 || niceness > 19) throw new RangeError('niceness must be an integer in 0..19');
    this.size = size;
    this.#maxQueue = maxQueue;
    this.#niceness = niceness;
    this.#queue = new FairQueue(maxQueue, maxPerSource);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Jobs waiting for a free worker. */
  get queued(): number {
    return this.#queue.size;
  }

  /** Run a named operation (worker-ops.ts) in a worker thread, queued fairly by `options.source`. */
  run<T>(op: string, input: unknown, options?: JobOptions): Promise<T> {
    if (this.#closed) return Promise.reject(new WorkerPoolClosedError('worker pool is closed'));
    return new Promise<T>((resolve, reject) => {
      // IPv6 by /64 (sourceKey): one host rotating through its addresses is still one source.
      const source = options?.source === undefined ? ANONYMOUS_SOURCE : sourceKey(options.source);
      const job: Job = { source, op, input, resolve: resolve as (v: unknown) => void, reject };
      const slot = this.#freeSlot();
      const verdict = this.#queue.admit(source, job, slot !== undefined);
      if (verdict === 'run' && slot !== undefined) this.#start(slot, job);
      else if (verdict === 'queue-full') reject(new WorkerPoolBusyError(`worker pool overloaded: ${this.#maxQueue} jobs already waiting`, verdict));
      else if (verdict === 'source-limit') reject(new WorkerPoolBusyError(`worker pool overloaded: too many jobs in flight from ${source === ANONYMOUS_SOURCE ? 'this process' : source}`, verdict));
    });
  }

  /** Start every worker and wait until each has loaded its code (optional; avoids a slow first handshake). */
  async warmup(): Promise<void> {
    const spawned: Promise<unknown>[] = [];
    while (!this.#closed && this.#slots.length < this.size) {
      const slot = this.#spawn();
        // Not admitted through the fair queue (no source's quota); its `done` is a no-op.
      spawned.push(new Promise((resolve, reject) => this.#start(slot, { source: WARMUP_SOURCE, op: 'ping', input: null, resolve, reject })));
    }
    await Promise.all(spawned);
  }

  /** Terminate the workers; queued and running jobs are rejected. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const closed = new WorkerPoolClosedError('worker pool closed');
    for (const job of this.#queue.drain()) job.reject(closed);
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
      this.#queue.done(job.source);
      if ('error' in msg) job.reject(rebuild(msg.error));
      else job.resolve(msg.result);
      this.#next(slot);
    });
    const lost = (err: Error): void => {
      const i = this.#slots.indexOf(slot);
      if (i < 0) return; // already removed (close)
      this.#slots.splice(i, 1);
      if (slot.job !== undefined) {
        this.#queue.done(slot.job.source);
        slot.job.reject(err);
      }
      slot.job = undefined;
      // Keep the queue moving on a fresh worker.
      const next = this.#closed ? undefined : this.#queue.take();
      if (next !== undefined) this.#start(this.#spawn(), next.job);
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
      this.#queue.done(job.source);
      job.reject(e instanceof Error ? e : new Error(String(e)));
      this.#next(slot);
    }
  }

  #next(slot: Slot): void {
    const next = this.#queue.take();
    if (next !== undefined) this.#start(slot, next.job);
  }
}

/**
 * MILAGRO_CS arithmetic in the pool (all methods asynchronous). The server's ClientHello step is
 * one job (`serverHello`: verify, W and [w]·UT together), its ClientKeyExchange step another
 * (`serverKey`), each queued under the connection's source.
 */
export class PooledCsCompute implements MilagroCsCompute {
  readonly pool: JobRunner;
  constructor(pool: JobRunner) {
    this.pool = pool;
  }
  clientHello(input: CsClientHelloInput, job?: JobOptions): Promise<CsClientHelloOutput> {
    return this.pool.run(CsOp.clientHello, input, job);
  }
  clientKeyExchange(input: CsClientKeyInput, job?: JobOptions): Promise<{ readonly R: Uint8Array; readonly key: Uint8Array }> {
    return this.pool.run(CsOp.clientKeyExchange, input, job);
  }
  serverVerify(input: CsServerVerifyInput, job?: JobOptions): Promise<CsServerVerifyOutput> {
    return this.pool.run(CsOp.serverVerify, input, job);
  }
  serverHello(input: CsServerHelloInput, job?: JobOptions): Promise<CsServerHelloOutput> {
    return this.pool.run(CsOp.serverHello, input, job);
  }
  serverEphemeral(input: { readonly hashId: Uint8Array; readonly date: number; readonly w: Uint8Array }, job?: JobOptions): Promise<Uint8Array> {
    return this.pool.run(CsOp.serverEphemeral, input, job);
  }
  serverKey(input: CsServerKeyInput, job?: JobOptions): Promise<Uint8Array> {
    return this.pool.run(CsOp.serverKey, input, job);
  }
  serverKeyPoint(input: { readonly point: Uint8Array; readonly w: Uint8Array }, job?: JobOptions): Promise<Uint8Array> {
    return this.pool.run(CsOp.serverKeyPoint, input, job);
  }
}
