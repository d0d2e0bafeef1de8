/**
 * Runs a block of tests once per store backend: memory (one instance shared in-process), SQLite
 * (a temp file; every open() is a new connection, as another process would have) and Redis (a
 * throw-away redis-server; skipped loudly when none is installed). Used by the tests of every
 * feature that keeps state in the store.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe } from 'vitest';
import { type KeyValueStore, MemoryStore, RedisStore, SqliteStore, namespaced } from '../../src/store/index.ts';
import { type RedisServer, hasRedisServer, startRedis } from '../helpers/redis-server.ts';

export interface Backend {
  readonly name: 'memory' | 'sqlite' | 'redis';
  /** A new client of this test's store (same data as every other client from open()). */
  open(): Promise<KeyValueStore>;
}

export function describeEachBackend(title: string, body: (backend: () => Backend) => void): void {
  describe(`${title} [memory]`, () => {
    const shared = new MemoryStore();
    afterAll(() => shared.close());
    // Views of one instance: closing one (as a consumer would) leaves the data for the others.
    body(() => ({ name: 'memory', open: async () => namespaced(shared, 'm:') }));
  });

  describe(`${title} [sqlite]`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'milagro-each-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    body(() => ({ name: 'sqlite', open: () => SqliteStore.open(join(dir, 'state.db')) }));
  });

  describe.skipIf(!hasRedisServer())(`${title} [redis]`, () => {
    let redis: RedisServer | undefined;
    beforeAll(async () => {
      redis = await startRedis();
    });
    afterAll(async () => {
      await redis?.stop();
    });
    body(() => ({
      name: 'redis',
      open: () => {
        if (redis === undefined) throw new Error('redis-server did not start');
        return RedisStore.open(redis.url);
      },
    }));
  });
}
