/** Redis-specific behaviour against a real redis-server: prefixes, processes racing, failures. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisStore, StoreError, openStore } from '../../src/store/index.ts';
import { type RedisServer, hasRedisServer, startRedis } from '../helpers/redis-server.ts';
import { raceProcesses } from './race.ts';

describe.skipIf(!hasRedisServer())('redis store', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = (await startRedis())!;
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('deployment prefixes (option or ?prefix=) keep two deployments apart on one database', async () => {
    const a = await openStore(`${redis.url}?prefix=dep-a:`);
    const b = await openStore(redis.url, { prefix: 'dep-b:' });
    const raw = await openStore(redis.url);
    expect(await a.setIfAbsent('cs-replay:x', '1', 10_000)).toBe(true);
    expect(await b.setIfAbsent('cs-replay:x', '1', 10_000)).toBe(true);
    expect(await raw.get('dep-a:cs-replay:x')).toBe('1');
    expect(await raw.get('cs-replay:x')).toBeUndefined();
    await Promise.all([a.close(), b.close(), raw.close()]);
  });

  it('several processes on one server: one winner per nonce, no lost increments', async () => {
    const rounds = 100;
    const results = await raceProcesses(redis.url, `race-${Date.now()}:`, 2, rounds);
    expect(results.reduce((n, r) => n + r.won, 0)).toBe(rounds);
    expect(results.flatMap((r) => r.counts).sort((x, y) => x - y)).toEqual(Array.from({ length: 2 * rounds }, (_, i) => i + 1));
  });

  it('an unreachable server is a clear StoreError at open, and the password is not echoed', async () => {
    const s = await startRedis();
    const url = s!.url.replace('redis://', 'redis://user:hunter2@');
    await s!.stop(); // nothing listens on that port now
    const err = await RedisStore.open(url, { connectTimeoutMs: 1000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as Error).message).toMatch(/cannot reach the redis store/);
    expect((err as Error).message).not.toContain('hunter2');
  });

  it('a server that goes away makes operations fail with StoreError (no crash, no hang)', async () => {
    const s = (await startRedis())!;
    const store = await RedisStore.open(s.url, { commandTimeoutMs: 1000 });
    expect(await store.setIfAbsent('k', 'v', 10_000)).toBe(true);
    await s.stop();
    const started = Date.now();
    await expect(store.setIfAbsent('k2', 'v', 10_000)).rejects.toBeInstanceOf(StoreError);
    expect(Date.now() - started).toBeLessThan(5000);
    await store.close();
  });
});
