import { defineConfig } from 'vitest/config';

/**
 * Folders whose test files share a worker's module cache (isolate: false) instead of re-importing
 * the TLS and pairing code per file, ~0.8 s of CPU saved per file. Sound because src/ keeps no
 * module-level mutable state and these tests stub nothing global; each folder here was run
 * together with --no-isolate and passed. The other folders (servers, CLI, stores, browsers) stay
 * isolated.
 */
const SHARED = ['crypto', 'handshake', 'kex', 'milagro', 'record', 'x509', 'perf', 'replay', 'codec'].map((d) => `test/${d}/**/*.test.ts`);

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    projects: [
      { extends: true, test: { name: 'shared', include: SHARED, isolate: false } },
      // Its global setup builds dist/ in the background for the tests that spawn the CLI (test/helpers/cli.ts).
      { extends: true, test: { name: 'isolated', include: ['test/**/*.test.ts'], exclude: SHARED, globalSetup: ['test/global-setup.ts'] } },
    ],
  },
});
