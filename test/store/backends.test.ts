/**
 * The shared store contract (contract.ts) against every backend: memory, SQLite (a temp file) and
 * Redis (a throw-away redis-server on a free loopback port; skipped loudly when none is installed).
 */
import { MemoryStore } from '../../src/store/index.ts';
import { defineStoreContract } from './contract.ts';

defineStoreContract('memory', () => ({ open: async () => new MemoryStore(), durable: false, shared: false }));
