/**
 * Shared state for replay caches, nonces, counters, sessions and durable records.
 *
 *   const store = await openStore('sqlite:/var/lib/milagro/state.db');   // durable default
 *   const store = await openStore('redis://127.0.0.1:6379/0', { prefix: 'prod-eu:' });
 *   const store = await openStore('memory:');                           // tests only
 *
 * Consumers take `store?: KeyValueStore` and keep their keys apart with `namespaced(store, 'x:')`.
 */
import type { Clock } from '../providers.ts';
import { MemoryStore } from './memory.ts';
import { RedisStore } from './redis.ts';
import { SqliteStore } from './sqlite.ts';
import { type KeyValueStore, StoreError, checkKey } from './types.ts';

export { type KeyValueStore, StoreError, StoreDependencyError, MAX_KEY_BYTES, MAX_VALUE_BYTES, MAX_TTL_MS } from './types.ts';
export { MemoryStore, type MemoryStoreOptions } from './memory.ts';
export { SqliteStore, SQLITE_SCHEMA_VERSION, type SqliteStoreOptions } from './sqlite.ts';
export { RedisStore, type RedisStoreOptions, type RedisClientLike } from './redis.ts';

export interface OpenStoreOptions {
  /**
   * Prefix put before every key (e.g. 'prod-eu:'), so several deployments can share one Redis
   * database or SQLite file without seeing each other's replay caches or counters.
   */
  readonly prefix?: string;
  /** Clock for the memory and SQLite backends' TTLs (tests); Redis uses the server's clock. */
  readonly clock?: Clock;
}

/** What `openStore` accepts, for CLI help texts. */
export const STORE_SPEC_HELP = "'memory:', 'sqlite:PATH' or 'redis://HOST:PORT/DB'";

/**
 * Opens a store from a spec string: 'memory:', 'sqlite:PATH' or 'redis://[user:pass@]HOST:PORT/DB'
 * (also 'rediss://' for TLS and 'valkey://' as an alias; '?prefix=NAME:' sets the deployment
 * prefix). The caller owns the store and closes it.
 */
export async function openStore(spec: string, opts: OpenStoreOptions = {}): Promise<KeyValueStore> {
  const { url, prefix: fromUrl } = splitPrefix(spec);
  const prefix = opts.prefix ?? fromUrl;
  const store = await openBackend(url, opts);
  return prefix === undefined || prefix === '' ? store : new PrefixedStore(store, prefix, true);
}

function isRedisSpec(spec: string): boolean {
  return spec.startsWith('redis://') || spec.startsWith('rediss://') || spec.startsWith('valkey://');
}

/** 'redis://h:p/0?prefix=prod:' → the URL without the prefix parameter, and the prefix. */
function splitPrefix(spec: string): { url: string; prefix: string | undefined } {
  if (!isRedisSpec(spec) || !spec.includes('?')) return { url: spec, prefix: undefined };
  let u: URL;
  try {
    u = new URL(spec);
  } catch {
    throw new StoreError(`cannot parse the store URL '${spec}': expected ${STORE_SPEC_HELP}`);
  }
  const prefix = u.searchParams.get('prefix') ?? undefined;
  u.searchParams.delete('prefix');
  return { url: u.toString(), prefix };
}

async function openBackend(spec: string, opts: OpenStoreOptions): Promise<KeyValueStore> {
  if (spec === 'memory:' || spec === 'memory') return new MemoryStore(opts.clock === undefined ? {} : { clock: opts.clock });
  if (spec.startsWith('sqlite:')) {
    return SqliteStore.open(spec.slice('sqlite:'.length), opts.clock === undefined ? {} : { clock: opts.clock });
  }
  if (isRedisSpec(spec)) return RedisStore.open(spec);
  throw new StoreError(`unknown store '${spec}': expected ${STORE_SPEC_HELP}`);
}

/**
 * A view of `store` whose keys all start with `prefix`. Closing the view does not close the
 * underlying store (the view's user does not own it).
 */
export function namespaced(store: KeyValueStore, prefix: string): KeyValueStore {
  return new PrefixedStore(store, prefix, false);
}

class PrefixedStore implements KeyValueStore {
  readonly #inner: KeyValueStore;
  readonly #prefix: string;
  readonly #owns: boolean;

  constructor(inner: KeyValueStore, prefix: string, owns: boolean) {
    checkKey(prefix);
    this.#inner = inner;
    this.#prefix = prefix;
    this.#owns = owns;
  }

  async setIfAbsent(key: string, value: string, ttlMs?: number): Promise<boolean> {
    return await this.#inner.setIfAbsent(this.#k(key), value, ttlMs);
  }
  async increment(key: string, ttlMs?: number): Promise<number> {
    return await this.#inner.increment(this.#k(key), ttlMs);
  }
  async get(key: string): Promise<string | undefined> {
    return await this.#inner.get(this.#k(key));
  }
  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    return await this.#inner.set(this.#k(key), value, ttlMs);
  }
  async delete(key: string): Promise<boolean> {
    return await this.#inner.delete(this.#k(key));
  }
  async close(): Promise<void> {
    if (this.#owns) await this.#inner.close();
  }

  #k(key: string): string {
    // An empty key would alias the prefix itself; the backends reject it, so do we.
    if (typeof key !== 'string' || key.length === 0) throw new StoreError('store key must be a non-empty string');
    return this.#prefix + key;
  }
}
