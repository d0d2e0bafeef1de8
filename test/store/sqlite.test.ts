/** SQLite-specific behaviour: file permissions, schema version, purging, processes sharing a file. */
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SQLITE_SCHEMA_VERSION, SqliteStore, StoreDependencyError, StoreError, openStore } from '../../src/store/index.ts';
import { importOptional } from '../../src/store/optional.ts';
import { raceProcesses } from './race.ts';

const dir = mkdtempSync(join(tmpdir(), 'milagro-sqlite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('sqlite store', () => {
  it('creates the file and its WAL 0600, whatever the umask', async () => {
    const path = join(dir, 'perm.db');
    const old = process.umask(0o022);
    try {
      const s = await openStore(`sqlite:${path}`);
      await s.set('k', 'v');
      expect(statSync(path).mode & 0o777).toBe(0o600);
      expect(statSync(`${path}-wal`).mode & 0o777).toBe(0o600);
      await s.close();
    } finally {
      process.umask(old);
    }
  });

  it('refuses an existing file that group or others can read', async () => {
    const path = join(dir, 'open.db');
    writeFileSync(path, '');
    chmodSync(path, 0o644);
    await expect(SqliteStore.open(path)).rejects.toThrow(/accessible to group\/others.*chmod 600/);
  });

  it('refuses a file written by a newer schema, and one that is not SQLite', async () => {
    const path = join(dir, 'newer.db');
    const s = await SqliteStore.open(path);
    await s.close();
    const mod = (await importOptional('better-sqlite3')) as { default: new (p: string) => { exec(sql: string): void; close(): void } };
    const raw = new mod.default(path);
    raw.exec(`PRAGMA user_version = ${SQLITE_SCHEMA_VERSION + 1}`);
    raw.close();
    await expect(SqliteStore.open(path)).rejects.toThrow(/newer than this milagro-ts understands/);
    const junk = join(dir, 'junk.db');
    writeFileSync(junk, 'this is not a database, just text that is long enough to have a header..........', { mode: 0o600 });
    await expect(SqliteStore.open(junk)).rejects.toBeInstanceOf(StoreError);
  });

  it('purges expired rows lazily and on demand, never live or durable ones', async () => {
    let now = 1_000_000;
    const s = await SqliteStore.open(join(dir, 'purge.db'), { clock: () => now, purgeIntervalMs: 0 });
    for (let i = 0; i < 300; i++) await s.setIfAbsent(`n${i}`, 'x', 100);
    await s.set('durable', 'd');
    await s.set('long', 'l', 10_000);
    now += 200;
    // The 256th write triggered a lazy batch: some of the expired rows are already gone.
    expect(s.purgeExpired()).toBeGreaterThan(0);
    expect(s.purgeExpired()).toBe(0);
    expect(await s.get('durable')).toBe('d');
    expect(await s.get('long')).toBe('l');
    await s.close();
  });

  it('several processes sharing one file: one winner per nonce, no lost increments', async () => {
    const path = join(dir, 'race.db');
    const rounds = 100;
    const results = await raceProcesses(`sqlite:${path}`, 'race:', 3, rounds);
    expect(results.reduce((a, r) => a + r.won, 0)).toBe(rounds);
    const all = results.flatMap((r) => r.counts).sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 3 * rounds }, (_, i) => i + 1));
  });

  it('names the missing driver and what to install', async () => {
    expect(await importOptional('milagro-ts-no-such-package')).toBeUndefined();
    if (!process.versions.node.startsWith('20.')) return;
    await expect(SqliteStore.open(join(dir, 'drv.db'), { driver: 'node:sqlite' })).rejects.toBeInstanceOf(StoreDependencyError);
  });
});
