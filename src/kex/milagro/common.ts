/**
 * Small pieces shared by the MILAGRO_CS and MILAGRO_P2P key exchanges and their compute layers.
 */
import { AlertDescription, IllegalParameterError, TlsError } from '../../alerts.ts';
import { concatBytes } from '../../codec/bytes.ts';
import { PointError } from '../../crypto/bncx/index.ts';
import type { KexFlow, MaybePromise } from '../key-exchange.ts';

/**
 * Run `f`, turning point-decoding failures (sync or async, in-process or from a worker, where the
 * error arrives as a plain Error named 'PointError') into illegal_parameter. `onInvalid` sees the
 * original error first (for logging).
 */
export function guardPoints<T>(
  kex: 'milagro_cs' | 'milagro_p2p',
  what: string,
  f: () => MaybePromise<T>,
  onInvalid?: (e: Error) => void,
): MaybePromise<T> {
  const wrap = (e: unknown): never => {
    if (e instanceof PointError || (e instanceof Error && e.name === 'PointError')) {
      onInvalid?.(e);
      throw new IllegalParameterError(`${kex}: invalid ${what}: ${e.message}`, { cause: e });
    }
    throw e;
  };
  try {
    const v = f();
    return v instanceof Promise ? v.catch(wrap) : v;
  } catch (e) {
    return wrap(e);
  }
}

/**
 * The worker pool refused the job (WorkerPoolBusyError: its global queue or this source's share
 * is full). Matched by name so any compute backend can signal it.
 */
export function isOverloaded(e: unknown): e is Error {
  return e instanceof Error && e.name === 'WorkerPoolBusyError';
}

/** The fatal alert for an overloaded server: internal_error (RFC 5246 §7.2.2), the client may retry later. */
export function overloadedError(kex: 'milagro_cs' | 'milagro_p2p', e: Error): TlsError {
  return new TlsError(AlertDescription.internal_error, `${kex}: server overloaded, try again later (${e.message})`, { cause: e });
}

/** Continue synchronously when the value is already there, asynchronously otherwise. (Not named
 * `then`: a module exporting `then` is a thenable, and `import()` of it would call it.) */
export function andThen<T, U>(v: MaybePromise<T>, f: (t: T) => MaybePromise<U>): MaybePromise<U> {
  return v instanceof Promise ? v.then(f) : f(v);
}

/** milagro.md §7.6: premaster = BE16(16) ‖ K. */
export function premasterOf(key: Uint8Array): Uint8Array {
  return concatBytes(new Uint8Array([0, key.length]), key);
}

/** A tiny insertion-ordered LRU (per instance; no module state). */
export class Lru<V> {
  readonly #max: number;
  readonly #map = new Map<string, V>();
  constructor(max: number) {
    this.#max = max;
  }
  get size(): number {
    return this.#map.size;
  }
  /** The cached value without creating one (and without refreshing its age). */
  peek(key: string): V | undefined {
    return this.#map.get(key);
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

/** milagro.md §7.2, both Milagro suites: no Certificate, unsigned ServerKeyExchange, no CertificateRequest. */
export const milagroFlow: KexFlow = Object.freeze({
  serverCertificate: false,
  serverKeyExchange: true,
  signedServerKeyExchange: false,
  certificateRequestAllowed: false,
});
