import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Builds dist/ (incrementally) for the tests that spawn the CLI: test/helpers/cli.ts.
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Test files share a worker's module cache instead of re-importing the TLS and pairing code
    // for each of ~100 files (saves ~0.8 s of CPU per file). Sound because src/ keeps no
    // module-level mutable state and tests restore what they stub.
    isolate: false,
  },
});
