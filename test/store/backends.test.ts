/**
 * The shared store contract (contract.ts) against every backend: memory, SQLite (a temp file) and
 * Redis (a throw-away redis-server on a free loopback port; skipped loudly when none is installed).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { MemoryStore, SqliteStore } from '../../src/store/index.ts';
import { defineStoreContract } from './contract.ts';

defineStoreContract('memory', () => ({ open: async () => new MemoryStore(), durable: false, shared: false }));

const dir = mkdtempSync(join(tmpdir(), 'milagro-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
defineStoreContract('sqlite', () => ({ open: () => SqliteStore.open(join(dir, 'contract.db')), durable: true, shared: true }));
