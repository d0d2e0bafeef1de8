import { describe, expect, it } from 'vitest';
import { MemoryStore, StoreError, openStore } from '../../src/store/index.ts';

describe('openStore', () => {
  it('opens a memory store and applies a deployment prefix', async () => {
    const s = await openStore('memory:', { prefix: 'dep1:' });
    await s.set('k', 'v');
    expect(await s.get('k')).toBe('v');
    await s.close();
    await expect(s.get('k')).rejects.toBeInstanceOf(StoreError);
  });

  it('refuses an unknown spec, naming what it accepts', async () => {
    await expect(openStore('postgres://x')).rejects.toThrow(/memory:.*sqlite:PATH.*redis:\/\//);
  });

  it('memory TTLs follow the injected clock; the sweep drops expired entries', async () => {
    let now = 1_000;
    const s = new MemoryStore({ clock: () => now, sweepIntervalMs: 0 });
    await s.set('a', '1', 100);
    await s.set('b', '2');
    expect(await s.increment('c', 50)).toBe(1);
    now += 60;
    expect(s.purgeExpired()).toBe(1);
    expect(await s.get('a')).toBe('1');
    now += 40;
    expect(await s.get('a')).toBeUndefined();
    expect(s.size).toBe(1);
    await s.close();
  });
});
