/**
 * The durable embedded default: one SQLite file, shared by every process on the machine that opens
 * it (WAL mode, so readers never block the writer; busy_timeout, so concurrent writers wait
 * instead of failing). Uses `node:sqlite` where Node has it (22.5+), else the `better-sqlite3`
 * package (an optional dependency: a native module built at install time).
 *
 * The file holds secrets (ticket keys, sessions), so it is created 0600 and an existing file that
 * group or others can read is refused. Durable writes (no TTL: registrations, revocations) are
 * synced to disk before they resolve; TTL'd writes (replay caches, counters) rely on WAL + the OS
 * (they survive a process crash, a power cut may lose the last few — which only re-opens a
 * replay window the TTL bounds anyway).
 *
 * The driver API is synchronous; each operation is one short statement or an IMMEDIATE
 * transaction, so the event loop is held only for microseconds (longer only while another
 * process holds the write lock, at most busy_timeout).
 */
import { closeSync, constants, fstatSync, openSync } from 'node:fs';
import { type Clock, systemClock } from '../providers.ts';
import { importOptional } from './optional.ts';
import { type KeyValueStore, StoreDependencyError, StoreError, checkKey, checkTtl, checkValue } from './types.ts';

/** The schema this code reads and writes (PRAGMA user_version). */
export const SQLITE_SCHEMA_VERSION = 1;

export interface SqliteStoreOptions {
  readonly clock?: Clock;
  /** How often expired rows are purged (default 60 s; 0 disables the timer, lazy purging stays). */
  readonly purgeIntervalMs?: number;
  /** How long a write waits for another process's lock before failing (default 5000 ms). */
  readonly busyTimeoutMs?: number;
  /** Force a driver (tests); default: node:sqlite when available, else better-sqlite3. */
  readonly driver?: 'node:sqlite' | 'better-sqlite3';
}

/** The small part of node:sqlite's DatabaseSync / better-sqlite3's Database that we use. */
interface SqlStatement {
  run(...params: unknown[]): { changes: number | bigint };
  get(...params: unknown[]): unknown;
}
interface SqlDatabase {
  exec(sql: string): void;
  prepare(sql: string): SqlStatement;
  close(): void;
}

/** Rows purged per batch, so a purge never holds the write lock for long. */
const PURGE_BATCH = 500;
/** A lazy purge batch runs after this many writes. */
const LAZY_PURGE_EVERY = 256;

export class SqliteStore implements KeyValueStore {
  readonly #db: SqlDatabase;
  readonly #path: string;
  readonly #clock: Clock;
  readonly #timer: NodeJS.Timeout | undefined;
  readonly #q: ReturnType<typeof prepareAll>;
  #writes = 0;
  #closed = false;

  private constructor(db: SqlDatabase, path: string, opts: SqliteStoreOptions) {
    this.#db = db;
    this.#path = path;
    this.#clock = opts.clock ?? systemClock;
    this.#q = prepareAll(db);
    const every = opts.purgeIntervalMs ?? 60_000;
    if (every > 0) {
      this.#timer = setInterval(() => {
        try {
          this.purgeExpired();
        } catch {
          // A busy or failing purge is retried on the next tick; operations report their own errors.
        }
      }, every);
      this.#timer.unref();
    }
  }

  /** Opens (creating with mode 0600 if needed) the store file at `path`. */
  static async open(path: string, opts: SqliteStoreOptions = {}): Promise<SqliteStore> {
    if (path === '' || path === ':memory:') throw new StoreError("sqlite store needs a file path (use 'memory:' for an in-process store)");
    ensurePrivateFile(path);
    const db = await openDriver(path, opts.driver);
    try {
      db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(opts.busyTimeoutMs ?? 5000))}`);
      const mode = db.prepare('PRAGMA journal_mode = WAL').get() as { journal_mode?: string } | undefined;
      if (mode?.journal_mode !== 'wal') throw new StoreError(`cannot switch ${path} to WAL mode (got ${String(mode?.journal_mode)}); is it on a network file system?`);
      db.exec('PRAGMA synchronous = NORMAL');
      migrate(db, path);
    } catch (e) {
      db.close();
      throw wrap(e, path);
    }
    return new SqliteStore(db, path, opts);
  }

  /** Deletes up to `max` expired rows; returns how many. */
  purgeExpired(max = 50 * PURGE_BATCH): number {
    this.#check();
    let total = 0;
    while (total < max) {
      const n = Number(this.#q.purge.run(this.#clock(), PURGE_BATCH).changes);
      total += n;
      if (n < PURGE_BATCH) break;
    }
    return total;
  }

  async setIfAbsent(key: string, value: string, ttlMs?: number): Promise<boolean> {
    checkKey(key);
    checkValue(value);
    if (ttlMs !== undefined) checkTtl(ttlMs);
    return this.#write(() => {
      const now = this.#clock();
      // One statement: insert, or take over a row whose TTL has passed. Atomic across processes.
      const run = (): boolean => Number(this.#q.setIfAbsent.run(key, value, ttlMs === undefined ? null : now + ttlMs, now).changes) === 1;
      return ttlMs === undefined ? this.#durably(run) : run();
    });
  }

  async increment(key: string, ttlMs?: number): Promise<number> {
    checkKey(key);
    if (ttlMs !== undefined) checkTtl(ttlMs);
    return this.#write(() =>
      this.#transaction(() => {
        const now = this.#clock();
        const row = this.#q.getLive.get(key, now) as { v: string } | undefined;
        if (row === undefined) {
          this.#q.upsert.run(key, '1', ttlMs === undefined ? null : now + ttlMs);
          return 1;
        }
        const n = Number(row.v);
        if (!/^-?\d+$/.test(row.v) || !Number.isSafeInteger(n + 1)) throw new StoreError(`store key ${key} does not hold an integer counter`);
        this.#q.updateValue.run(String(n + 1), key);
        return n + 1;
      }),
    );
  }

  async get(key: string): Promise<string | undefined> {
    checkKey(key);
    return this.#op(() => (this.#q.getLive.get(key, this.#clock()) as { v: string } | undefined)?.v);
  }

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    checkKey(key);
    checkValue(value);
    if (ttlMs !== undefined) checkTtl(ttlMs);
    this.#write(() => {
      if (ttlMs !== undefined) {
        this.#q.upsert.run(key, value, this.#clock() + ttlMs);
        return;
      }
      this.#durably(() => this.#q.upsert.run(key, value, null));
    });
  }

  /** Durable records (registrations, revocations) are on disk before we answer. */
  #durably<T>(fn: () => T): T {
    this.#db.exec('PRAGMA synchronous = FULL');
    try {
      return fn();
    } finally {
      this.#db.exec('PRAGMA synchronous = NORMAL');
    }
  }

  async delete(key: string): Promise<boolean> {
    checkKey(key);
    return this.#write(() =>
      this.#transaction(() => {
        const live = this.#q.getLive.get(key, this.#clock()) !== undefined;
        this.#q.delete.run(key);
        return live;
      }),
    );
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#db.close();
  }

  #write<T>(fn: () => T): T {
    const r = this.#op(fn);
    if (++this.#writes % LAZY_PURGE_EVERY === 0) {
      try {
        this.#q.purge.run(this.#clock(), PURGE_BATCH);
      } catch {
        // Purging is housekeeping; the write itself succeeded.
      }
    }
    return r;
  }

  #op<T>(fn: () => T): T {
    this.#check();
    try {
      return fn();
    } catch (e) {
      throw wrap(e, this.#path);
    }
  }

  /** BEGIN IMMEDIATE takes the write lock up front, so read-then-write is atomic across processes. */
  #transaction<T>(fn: () => T): T {
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      const r = fn();
      this.#db.exec('COMMIT');
      return r;
    } catch (e) {
      rollback(this.#db);
      throw e;
    }
  }

  #check(): void {
    if (this.#closed) throw new StoreError('the store is closed');
  }
}

function prepareAll(db: SqlDatabase) {
  return {
    getLive: db.prepare('SELECT v FROM kv WHERE k = ? AND (exp IS NULL OR exp > ?)'),
    setIfAbsent: db.prepare(
      'INSERT INTO kv (k, v, exp) VALUES (?, ?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v, exp = excluded.exp WHERE kv.exp IS NOT NULL AND kv.exp <= ?',
    ),
    upsert: db.prepare('INSERT INTO kv (k, v, exp) VALUES (?, ?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v, exp = excluded.exp'),
    updateValue: db.prepare('UPDATE kv SET v = ? WHERE k = ?'),
    delete: db.prepare('DELETE FROM kv WHERE k = ?'),
    purge: db.prepare('DELETE FROM kv WHERE k IN (SELECT k FROM kv WHERE exp IS NOT NULL AND exp <= ? LIMIT ?)'),
  };
}

function migrate(db: SqlDatabase, path: string): void {
  db.exec('BEGIN IMMEDIATE');
  try {
    const row = db.prepare('PRAGMA user_version').get() as { user_version: number };
    const version = Number(row.user_version);
    if (version > SQLITE_SCHEMA_VERSION) {
      throw new StoreError(`${path} has store schema version ${version}, newer than this milagro-ts understands (${SQLITE_SCHEMA_VERSION}); upgrade milagro-ts.`);
    }
    if (version === 0) {
      db.exec('CREATE TABLE IF NOT EXISTS kv (k TEXT PRIMARY KEY NOT NULL, v TEXT NOT NULL, exp INTEGER) WITHOUT ROWID');
      db.exec('CREATE INDEX IF NOT EXISTS kv_exp ON kv (exp) WHERE exp IS NOT NULL');
      db.exec(`PRAGMA user_version = ${SQLITE_SCHEMA_VERSION}`);
    }
    db.exec('COMMIT');
  } catch (e) {
    rollback(db);
    throw e;
  }
}

/** Rolls back if a transaction is still open (a failed COMMIT may already have ended it). */
function rollback(db: SqlDatabase): void {
  try {
    db.exec('ROLLBACK');
  } catch {
    // No transaction active: nothing to undo, and the caller rethrows the original error.
  }
}

/** Creates the file 0600 if absent; refuses an existing one that group or others can access. */
function ensurePrivateFile(path: string): void {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new StoreError(`cannot open the store file ${path} (${code ?? String(e)}); check the directory exists and is writable.`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new StoreError(`the store path ${path} is not a regular file`);
    if ((st.mode & 0o077) !== 0) {
      throw new StoreError(
        `the store file ${path} is accessible to group/others (mode ${(st.mode & 0o777).toString(8)}); it holds ticket keys and sessions: chmod 600 it.`,
      );
    }
  } finally {
    closeSync(fd);
  }
}

async function openDriver(path: string, which: SqliteStoreOptions['driver']): Promise<SqlDatabase> {
  if (which !== 'better-sqlite3') {
    const mod = await importOptional('node:sqlite');
    if (mod !== undefined) {
      const DatabaseSync = (mod as { DatabaseSync: new (p: string) => SqlDatabase }).DatabaseSync;
      return new DatabaseSync(path);
    }
    if (which === 'node:sqlite') throw new StoreDependencyError(`node:sqlite is not available in Node ${process.version} (it needs 22.5 or later)`);
  }
  const mod = await importOptional('better-sqlite3');
  if (mod === undefined) {
    throw new StoreDependencyError(
      `the sqlite store needs the better-sqlite3 package on Node ${process.version} (node:sqlite needs Node 22.5+): ` +
        "run 'npm install better-sqlite3@12', or use --store redis://HOST:PORT/DB (needs 'npm install ioredis') or 'memory:'.",
    );
  }
  const Database = ((mod as { default?: unknown }).default ?? mod) as new (p: string) => SqlDatabase;
  return new Database(path);
}

function wrap(e: unknown, path: string): StoreError {
  if (e instanceof StoreError) return e;
  return new StoreError(`sqlite store ${path}: ${e instanceof Error ? e.message : String(e)}`);
}
