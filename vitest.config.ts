import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Twice the cores (vitest's default is cores - 1, i.e. one file at a time on 2 cores): many files
    // mostly wait on the processes they start (CLI, OpenSSL, slapd, Chromium) or on the network, and
    // the CPU sat half idle.
    maxWorkers: Math.min(8, Math.max(2, 2 * availableParallelism())),
    // Test files share a worker's module cache instead of re-importing the TLS and pairing code
    // per file (~0.7 s of CPU saved per file). Sound because src/ keeps no module-level mutable
    // state; tests restore what they stub, and per-test clean-up lives in test/setup.ts, which
    // runs for every file.
    isolate: false,
    setupFiles: ['test/setup.ts'],
    // Builds dist/ before the tests start; new processes and the Milagro worker threads run it
    // (test/global-setup.ts says why).
    globalSetup: ['test/global-setup.ts'],
    env: { MILAGRO_TS_FROM_DIST: '1' },
  },
});
