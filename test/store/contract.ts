/**
 * The one contract every store backend must meet. backends.test.ts runs it against memory,
 * SQLite and a real redis-server; a backend that diverges fails the same assertions.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KeyValueStore, StoreError, namespaced, MAX_KEY_BYTES } from '../../src/store/index.ts';

export interface BackendUnderTest {
  /** Opens a fresh client of the backend (the same data each time, for sharing/durability checks). */
  open(): Promise<KeyValueStore>;
  /** True when data outlives close() + open() (SQLite, Redis). */
  readonly durable: boolean;
  /** True when two open() clients share data (SQLite file, Redis); false for memory. */
  readonly shared: boolean;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/**
 * Short TTLs keep the suite fast (the waits sleep, they use no CPU); long enough that a loaded
 * machine does not expire a key between two consecutive calls.
 */
const TTL = 250;
const PAST_TTL = 400;

let seq = 0;
const unique = (what: string): string => `${what}:${process.pid}:${Date.now()}:${seq++}`;

export function defineStoreContract(name: string, backend: () => BackendUnderTest | undefined): void {
  describe(`store contract: ${name}`, () => {
    let b: BackendUnderTest;
    let store: KeyValueStore;
    const others: KeyValueStore[] = [];
    beforeAll(async () => {
      const got = backend();
      if (got === undefined) throw new Error(`${name} backend was not set up`);
      b = got;
      store = await b.open();
    });
    afterAll(async () => {
      for (const s of others) await s.close();
      await store?.close();
    });
    const another = async (): Promise<KeyValueStore> => {
      const s = await b.open();
      others.push(s);
      return s;
    };

    it('setIfAbsent sets once, refuses while live, and again after the TTL', async () => {
      const k = unique('nx');
      expect(await store.setIfAbsent(k, 'a', TTL)).toBe(true);
      expect(await store.setIfAbsent(k, 'b', TTL)).toBe(false);
      expect(await store.get(k)).toBe('a');
      await sleep(PAST_TTL);
      expect(await store.get(k)).toBeUndefined();
      expect(await store.setIfAbsent(k, 'c', 10_000)).toBe(true);
      expect(await store.get(k)).toBe('c');
    });

    it('setIfAbsent refuses over a durable value', async () => {
      const k = unique('nx-durable');
      await store.set(k, 'kept');
      expect(await store.setIfAbsent(k, 'other', TTL)).toBe(false);
      expect(await store.get(k)).toBe('kept');
    });

    it('exactly one of many concurrent setIfAbsent calls wins, across clients', async () => {
      const k = unique('race');
      const clients = b.shared ? [store, await another(), await another()] : [store];
      const calls = Array.from({ length: 60 }, (_, i) => clients[i % clients.length]!.setIfAbsent(k, String(i), 10_000));
      const won = (await Promise.all(calls)).filter(Boolean);
      expect(won).toHaveLength(1);
    });

    it('increment counts from 1, atomically, within a fixed window', async () => {
      const k = unique('ctr');
      expect(await store.increment(k, 10_000)).toBe(1);
      expect(await store.increment(k, 10_000)).toBe(2);
      const clients = b.shared ? [store, await another()] : [store];
      const n = await Promise.all(Array.from({ length: 40 }, (_, i) => clients[i % clients.length]!.increment(k, 10_000)));
      expect(new Set(n).size).toBe(40);
      expect(Math.max(...n)).toBe(42);
      expect(await store.get(k)).toBe('42');
    });

    it('increment keeps the TTL of the first increment (repeats do not extend the window)', async () => {
      const k = unique('ctr-ttl');
      expect(await store.increment(k, TTL)).toBe(1);
      expect(await store.increment(k, 60_000)).toBe(2);
      await sleep(PAST_TTL);
      expect(await store.get(k)).toBeUndefined();
      expect(await store.increment(k, 10_000)).toBe(1);
    });

    it('durable setIfAbsent and increment (no TTL) never expire', async () => {
      const k = unique('durable-nx');
      expect(await store.setIfAbsent(k, 'registered')).toBe(true);
      expect(await store.setIfAbsent(k, 'again')).toBe(false);
      expect(await store.increment(`${k}:count`)).toBe(1);
      expect(await store.increment(`${k}:count`, TTL)).toBe(2); // an existing durable counter stays durable
      await sleep(PAST_TTL);
      expect(await store.get(k)).toBe('registered');
      expect(await store.get(`${k}:count`)).toBe('2');
      // A TTL'd key that expired can be claimed durably.
      const t = unique('nx-then-durable');
      expect(await store.setIfAbsent(t, 'a', TTL)).toBe(true);
      await sleep(PAST_TTL);
      expect(await store.setIfAbsent(t, 'b')).toBe(true);
      await sleep(PAST_TTL);
      expect(await store.get(t)).toBe('b');
    });

    it('increment of a non-integer value is refused', async () => {
      const k = unique('ctr-bad');
      await store.set(k, 'not a number');
      await expect(store.increment(k, 1000)).rejects.toBeInstanceOf(StoreError);
      expect(await store.get(k)).toBe('not a number');
    });

    it('get / set / delete, durable and with a TTL', async () => {
      const k = unique('kv');
      expect(await store.get(k)).toBeUndefined();
      await store.set(k, 'v1');
      expect(await store.get(k)).toBe('v1');
      await store.set(k, 'v2', TTL);
      expect(await store.get(k)).toBe('v2');
      await sleep(PAST_TTL);
      expect(await store.get(k)).toBeUndefined();
      expect(await store.delete(k)).toBe(false);
      await store.set(k, 'v3', TTL);
      await store.set(k, 'v4'); // replacing a TTL'd value with a durable one drops the TTL
      await sleep(PAST_TTL);
      expect(await store.get(k)).toBe('v4');
      expect(await store.delete(k)).toBe(true);
      expect(await store.delete(k)).toBe(false);
      expect(await store.get(k)).toBeUndefined();
    });

    it('round-trips any string (unicode, empty, separators, large)', async () => {
      const values = ['', 'ümlaut ✓ 鍵', 'a:b\nc\0d', 'x'.repeat(200_000), '{"json":[1,2]}'];
      for (const [i, v] of values.entries()) {
        const k = unique(`rt-${i}-ключ`);
        await store.set(k, v);
        expect(await store.get(k)).toBe(v);
      }
    });

    it('refuses bad keys, values and TTLs with StoreError, and keeps working', async () => {
      const k = unique('bad');
      await expect(store.get('')).rejects.toBeInstanceOf(StoreError);
      await expect(store.set('k'.repeat(MAX_KEY_BYTES + 1), 'v')).rejects.toBeInstanceOf(StoreError);
      for (const ttl of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
        await expect(store.setIfAbsent(k, 'v', ttl)).rejects.toBeInstanceOf(StoreError);
        await expect(store.increment(k, ttl)).rejects.toBeInstanceOf(StoreError);
        await expect(store.set(k, 'v', ttl)).rejects.toBeInstanceOf(StoreError);
      }
      expect(await store.get(k)).toBeUndefined();
      await store.set(k, 'ok');
      expect(await store.get(k)).toBe('ok');
    });

    it('namespaced views do not see each other, and closing a view keeps the store open', async () => {
      const k = unique('ns');
      const a = namespaced(store, 'tenant-a:');
      const c = namespaced(store, 'tenant-c:');
      expect(await a.setIfAbsent(k, '1', 10_000)).toBe(true);
      expect(await c.setIfAbsent(k, '1', 10_000)).toBe(true);
      expect(await c.get(k)).toBe('1');
      expect(await store.get(`tenant-a:${k}`)).toBe('1');
      expect(await a.delete(k)).toBe(true);
      expect(await c.get(k)).toBe('1');
      await a.close();
      expect(await store.get(`tenant-c:${k}`)).toBe('1');
    });

    it('a second client sees the first one’s writes (when shared)', async () => {
      if (!b.shared) {
        // Memory stores are per instance by design: a second one starts empty.
        const k = unique('iso');
        await store.set(k, 'here');
        expect(await (await another()).get(k)).toBeUndefined();
        return;
      }
      const k = unique('share');
      const other = await another();
      expect(await store.setIfAbsent(k, 'first', 10_000)).toBe(true);
      expect(await other.setIfAbsent(k, 'second', 10_000)).toBe(false);
      expect(await other.get(k)).toBe('first');
    });

    it('durable values survive close and reopen (when durable); a closed client refuses', async () => {
      const k = unique('dur');
      const s = await b.open();
      await s.set(k, 'kept');
      await s.set(`${k}:ttl`, 'kept-ttl', 60_000);
      await s.close();
      await expect(s.get(k)).rejects.toBeInstanceOf(StoreError);
      const again = await another();
      expect(await again.get(k)).toBe(b.durable ? 'kept' : undefined);
      expect(await again.get(`${k}:ttl`)).toBe(b.durable ? 'kept-ttl' : undefined);
    });
  });
}
