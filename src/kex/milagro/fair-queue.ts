/**
 * The waiting room of the Milagro worker pool (issue 11 §3): jobs queue per source (the remote
 * address of the connection that asked) and sources are served round-robin, so one address
 * flooding junk handshakes delays every other address by at most one of its jobs per round
 * instead of by its whole backlog. Bounds: `maxQueue` jobs waiting in total, and `maxPerSource`
 * jobs per source counting both waiting and running ones. Pure data structure (no timers, no
 * threads) so its fairness is tested deterministically.
 */

/** Per-job scheduling data, passed by the key exchanges to their compute objects. */
export interface JobOptions {
  /** Who asked (the remote address of the connection); jobs without one share a queue. */
  readonly source?: string | undefined;
}

/** What the pooled compute objects need from a pool (MilagroWorkerPool satisfies it). */
export interface JobRunner {
  run<T>(op: string, input: unknown, options?: JobOptions): Promise<T>;
}

/** Why a job was not admitted. */
export type AdmitRefusal = 'queue-full' | 'source-limit';

/** Jobs that name no source (clients, sans-I/O use, callers without an address) share this one; no per-source limit. */
export const ANONYMOUS_SOURCE = '';

export class FairQueue<J> {
  readonly #maxQueue: number;
  readonly #maxPerSource: number;
  /** Waiting jobs per source; a source is present only while it has waiting jobs. */
  readonly #waiting = new Map<string, J[]>();
  /** Sources with waiting jobs, in service order (the head is served next). */
  #ring: string[] = [];
  #ringHead = 0;
  /** Waiting + running jobs per source. */
  readonly #inFlight = new Map<string, number>();
  #size = 0;

  constructor(maxQueue: number, maxPerSource: number) {
    this.#maxQueue = maxQueue;
    this.#maxPerSource = maxPerSource;
  }

  /** Jobs waiting (not running). */
  get size(): number {
    return this.#size;
  }

  /** Waiting + running jobs of `source`. */
  inFlight(source: string): number {
    return this.#inFlight.get(source) ?? 0;
  }

  /**
   * Account for a job of `source` and either let it run now (`runNow`: a worker is free and
   * nothing waits) or queue it. Returns the refusal instead when a bound is hit.
   */
  admit(source: string, job: J, runNow: boolean): AdmitRefusal | 'run' | 'queued' {
    const mine = this.inFlight(source);
    // Jobs that name no source cannot be attributed: only the global bound applies to them.
    if (mine >= this.#maxPerSource && source !== ANONYMOUS_SOURCE) return 'source-limit';
    if (!runNow && this.#size >= this.#maxQueue) return 'queue-full';
    this.#inFlight.set(source, mine + 1);
    if (runNow) return 'run';
    const q = this.#waiting.get(source);
    if (q === undefined) {
      this.#waiting.set(source, [job]);
      this.#ring.push(source);
    } else {
      q.push(job);
    }
    this.#size++;
    return 'queued';
  }

  /** The next job to run, round-robin over sources; it stays in flight until `done`. */
  take(): { readonly source: string; readonly job: J } | undefined {
    while (this.#ringHead < this.#ring.length) {
      const source = this.#ring[this.#ringHead++] as string;
      const q = this.#waiting.get(source);
      const job = q?.shift();
      if (q === undefined || job === undefined) continue;
      this.#size--;
      if (q.length > 0) this.#ring.push(source);
      else this.#waiting.delete(source);
      this.#compact();
      return { source, job };
    }
    this.#compact();
    return undefined;
  }

  /** A job of `source` that was running (or admitted to run) has finished. */
  done(source: string): void {
    const n = this.inFlight(source) - 1;
    if (n > 0) this.#inFlight.set(source, n);
    else this.#inFlight.delete(source);
  }

  /** Remove every waiting job (pool closing); their in-flight counts are released. */
  drain(): J[] {
    const out: J[] = [];
    for (const [source, q] of this.#waiting) {
      for (const j of q) {
        out.push(j);
        this.done(source);
      }
    }
    this.#waiting.clear();
    this.#ring = [];
    this.#ringHead = 0;
    this.#size = 0;
    return out;
  }

  /** Drop the consumed prefix of the ring now and then (amortised O(1) per take). */
  #compact(): void {
    if (this.#ringHead > 64 && this.#ringHead * 2 > this.#ring.length) {
      this.#ring = this.#ring.slice(this.#ringHead);
      this.#ringHead = 0;
    }
  }
}
