/**
 * Redis / Valkey backend, for several processes or machines sharing one replay cache, one set of
 * ticket keys and one set of counters. Every operation is one server-side atomic command:
 * SET NX PX (setIfAbsent), a Lua script doing INCR + PEXPIRE on first increment (increment),
 * SET [PX] / GET / DEL. TTLs run on the server's clock, so clients' clocks do not matter.
 *
 * Client: ioredis (an optional peer dependency, loaded on first use): maintained, and the one Node
 * client with built-in Sentinel and Cluster support, which the deployment guide relies on. Pass
 * your own Sentinel/Cluster client to `RedisStore.fromClient`; every command here touches exactly
 * one key, so it works unchanged on a Cluster.
 */
import { type KeyValueStore, StoreDependencyError, StoreError, checkKey, checkTtl, checkValue } from './types.ts';
import { importOptional } from './optional.ts';

/** The part of an ioredis `Redis` or `Cluster` client that we use. */
export interface RedisClientLike {
  call(command: string, ...args: (string | number)[]): Promise<unknown>;
  quit(): Promise<unknown>;
}

export interface RedisStoreOptions {
  /** Per-command timeout (default 5000 ms): a stalled server fails the handshake, not the process. */
  readonly commandTimeoutMs?: number;
  /** Connect timeout (default 5000 ms). */
  readonly connectTimeoutMs?: number;
}

/**
 * INCR, and PEXPIRE only when this INCR created the counter: the window is fixed at the first
 * increment. One script, so no other client can run between the two commands.
 */
const INCREMENT_SCRIPT = `local n = redis.call('INCR', KEYS[1])
if n == 1 and ARGV[1] ~= '' then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n`;

interface IoRedisModule {
  Redis: new (url: string, options: Record<string, unknown>) => RedisClientLike & {
    connect(): Promise<void>;
    disconnect(): void;
    on(event: 'error', listener: (e: Error) => void): unknown;
  };
}

export class RedisStore implements KeyValueStore {
  readonly #client: RedisClientLike;
  readonly #where: string;
  readonly #owns: boolean;
  #closed = false;

  private constructor(client: RedisClientLike, where: string, owns: boolean) {
    this.#client = client;
    this.#where = where;
    this.#owns = owns;
  }

  /** Connects to `url` (redis://[user:pass@]host:port/db, rediss:// for TLS, valkey:// alias). */
  static async open(url: string, opts: RedisStoreOptions = {}): Promise<RedisStore> {
    const mod = (await importOptional('ioredis')) as IoRedisModule | undefined;
    if (mod === undefined) {
      throw new StoreDependencyError(
        `the redis store needs the ioredis package: run 'npm install ioredis' (or use --store sqlite:PATH, the default, which needs no server).`,
      );
    }
    const ioUrl = url.startsWith('valkey://') ? `redis://${url.slice('valkey://'.length)}` : url;
    const where = redact(ioUrl);
    const client = new mod.Redis(ioUrl, {
      lazyConnect: true,
      connectTimeout: opts.connectTimeoutMs ?? 5000,
      commandTimeout: opts.commandTimeoutMs ?? 5000,
      // Fail commands quickly while disconnected instead of queueing them without bound; the
      // client keeps reconnecting in the background.
      maxRetriesPerRequest: 1,
      enableOfflineQueue: true,
    });
    // Without a listener an 'error' event would crash the process; failures surface per command.
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.call('PING');
    } catch (e) {
      client.disconnect();
      throw new StoreError(`cannot reach the redis store at ${where}: ${message(e)}; check it is running and the URL (redis://HOST:PORT/DB).`);
    }
    return new RedisStore(client, where, true);
  }

  /** Wraps a client you configured (Sentinel, Cluster, TLS options...). close() does not quit it. */
  static fromClient(client: RedisClientLike, description = 'redis'): RedisStore {
    return new RedisStore(client, description, false);
  }

  async setIfAbsent(key: string, value: string, ttlMs?: number): Promise<boolean> {
    checkKey(key);
    checkValue(value);
    if (ttlMs === undefined) return (await this.#call('SET', key, value, 'NX')) === 'OK';
    checkTtl(ttlMs);
    return (await this.#call('SET', key, value, 'PX', ttlMs, 'NX')) === 'OK';
  }

  async increment(key: string, ttlMs?: number): Promise<number> {
    checkKey(key);
    if (ttlMs !== undefined) checkTtl(ttlMs);
    let n: unknown;
    try {
      n = await this.#call('EVAL', INCREMENT_SCRIPT, 1, key, ttlMs ?? '');
    } catch (e) {
      if (e instanceof StoreError && /not an integer|out of range/i.test(e.message)) throw new StoreError(`store key ${key} does not hold an integer counter`);
      throw e;
    }
    if (typeof n !== 'number') throw new StoreError(`redis store ${this.#where}: increment returned ${typeof n}`);
    return n;
  }

  async get(key: string): Promise<string | undefined> {
    checkKey(key);
    const v = await this.#call('GET', key);
    return v === null ? undefined : String(v);
  }

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    checkKey(key);
    checkValue(value);
    if (ttlMs === undefined) {
      // A plain SET also clears any earlier TTL: the record becomes durable.
      await this.#call('SET', key, value);
    } else {
      checkTtl(ttlMs);
      await this.#call('SET', key, value, 'PX', ttlMs);
    }
  }

  async delete(key: string): Promise<boolean> {
    checkKey(key);
    return (await this.#call('DEL', key)) === 1;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#owns) await this.#client.quit().catch(() => undefined);
  }

  async #call(command: string, ...args: (string | number)[]): Promise<unknown> {
    if (this.#closed) throw new StoreError('the store is closed');
    try {
      return await this.#client.call(command, ...args);
    } catch (e) {
      throw new StoreError(`redis store ${this.#where}: ${command} failed: ${message(e)}`);
    }
  }
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The URL without its password, for error messages. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return 'redis (unparseable URL)';
  }
}
