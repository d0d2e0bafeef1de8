/**
 * The shared store contract (contract.ts) against every backend: memory, SQLite (a temp file) and
 * Redis (a throw-away redis-server on a free loopback port; skipped loudly when none is installed).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe } from 'vitest';
import { MemoryStore, RedisStore, SqliteStore } from '../../src/store/index.ts';
import { type RedisServer, hasRedisServer, startRedis } from '../helpers/redis-server.ts';
import { defineStoreContract } from './contract.ts';

defineStoreContract('memory', () => ({ open: async () => new MemoryStore(), durable: false, shared: false }));

const dir = mkdtempSync(join(tmpdir(), 'milagro-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
defineStoreContract('sqlite', () => ({ open: () => SqliteStore.open(join(dir, 'contract.db')), durable: true, shared: true }));

describe.skipIf(!hasRedisServer())('redis', () => {
  let redis: RedisServer | undefined;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });
  defineStoreContract('redis', () =>
    redis === undefined ? undefined : { open: () => RedisStore.open(redis!.url), durable: true, shared: true },
  );
});
