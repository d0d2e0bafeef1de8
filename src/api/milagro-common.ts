/**
 * What the `milagro` (MILAGRO_CS) and `milagroP2p` options resolve alike: key bytes from bytes or
 * key-file hex, the suite with a configured number, the worker pool, credential errors as
 * TlsOptionError, and the registry/suite-list adjustment. `option` names the option in messages.
 */
import { hexToBytes } from '../codec/bytes.ts';
import type { KeyExchangeProvider } from '../kex/key-exchange.ts';
import type { KexRegistry } from '../kex/registry.ts';
import { MilagroWorkerPool } from '../kex/milagro/pool.ts';
import { withSuiteId, type CipherSuite } from '../suites.ts';
import { TlsOptionError } from './config.ts';

/** Bytes or lowercase/uppercase hex (the format of the original key files). */
export type KeyBytes = Uint8Array | string;

export type MilagroOptionName = 'milagro' | 'milagroP2p';

/** A resolved `milagro` option: how to extend the registry and the suite list, and what to dispose. */
export interface ResolvedMilagro {
  extendKex(kex: KexRegistry): KexRegistry;
  /** Replace the table's entry for our key exchange by ours (suite id) and move it first when `preferred`. */
  adjustSuites(suites: readonly CipherSuite[], preferred: boolean): CipherSuite[];
  /** The suite table names are looked up in (so `ciphers` can name MILAGRO-CS-AES128-GCM-SHA256). */
  readonly suite: CipherSuite;
  /** Close what we own (the worker pool). */
  dispose(): Promise<void>;
}

/**
 * Key bytes of an exact length. With `firstLineOnly`, hex text stops at the first newline, as the
 * original key-file readers do (milagro.md §8.2).
 */
export function keyBytes(option: MilagroOptionName, what: string, v: KeyBytes, len: number, firstLineOnly = false): Uint8Array {
  let b: Uint8Array;
  if (typeof v === 'string') {
    const s = (firstLineOnly ? (v.split('\n', 1)[0] ?? '') : v).trim();
    if (!/^(?:[0-9a-fA-F]{2})*$/.test(s)) throw new TlsOptionError('ERR_INVALID_ARG_VALUE', `${option}.${what} is not a hex string`);
    b = hexToBytes(s.toLowerCase());
  } else {
    b = v;
  }
  if (b.length !== len) throw new TlsOptionError('ERR_INVALID_ARG_VALUE', `${option}.${what} must be ${len} bytes, got ${b.length}`);
  return b;
}

/** `base` renumbered to the configured suite id (both peers must agree on it). */
export function suiteWithId(option: MilagroOptionName, base: CipherSuite, id: number): CipherSuite {
  try {
    return withSuiteId(base, id);
  } catch (e) {
    throw new TlsOptionError('ERR_INVALID_ARG_VALUE', `${option}.suiteId: ${(e as Error).message}`);
  }
}

export interface PoolChoice {
  /** undefined: run in-process. */
  readonly pool: MilagroWorkerPool | undefined;
  /** True when we created the pool and `dispose` closes it. */
  readonly owned: boolean;
  readonly dispose: () => Promise<void>;
}

const nothingToDispose = async (): Promise<void> => undefined;

/**
 * The pool the `workers` option asks for. A shared `MilagroWorkerPool` is never closed by us; a
 * number sizes an owned pool, `true` an owned default-size pool, `false` means in-process.
 * Unset: an owned default pool on a server (`serverDefault`), in-process on a client.
 */
export function workerPool(option: MilagroOptionName, workers: number | boolean | MilagroWorkerPool | undefined, serverDefault: boolean): PoolChoice {
  if (workers instanceof MilagroWorkerPool) return { pool: workers, owned: false, dispose: nothingToDispose };
  if (!serverDefault && workers !== undefined && workers !== false) {
    // A client connection has no close hook for a pool of its own: share one explicitly.
    throw new TlsOptionError('ERR_INVALID_ARG_VALUE', `${option}.workers on a client must be a MilagroWorkerPool (shared, closed by you) or false`);
  }
  const size = workers === undefined ? (serverDefault ? undefined : 0) : workers === true ? undefined : workers === false ? 0 : workers;
  if (size === 0) return { pool: undefined, owned: false, dispose: nothingToDispose };
  let pool: MilagroWorkerPool;
  try {
    pool = new MilagroWorkerPool(size === undefined ? {} : { size });
  } catch (e) {
    throw new TlsOptionError('ERR_INVALID_ARG_VALUE', `${option}.workers: ${(e as Error).message}`);
  }
  return { pool, owned: true, dispose: () => pool.close() };
}

/** Registry and suite-list adjustment for `provider`, whose suite is `suite`. */
export function resolvedMilagro(suite: CipherSuite, provider: KeyExchangeProvider, dispose: () => Promise<void>): ResolvedMilagro {
  const ours = (s: CipherSuite): boolean => s.kex === suite.kex;
  return {
    suite,
    extendKex: (kex) => kex.withProvider(provider),
    adjustSuites(suites, preferred) {
      const list = suites.map((s) => (ours(s) ? suite : s));
      if (!preferred) return list;
      return [...list.filter(ours), ...list.filter((s) => !ours(s))];
    },
    dispose,
  };
}

/** Run `f`, reporting a credential error that is not already a TlsOptionError as one. */
export function wrapCredentialError<T>(option: MilagroOptionName, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof TlsOptionError) throw e;
    throw new TlsOptionError('ERR_INVALID_ARG_VALUE', `${option}: ${(e as Error).message}`);
  }
}
