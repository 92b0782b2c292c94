import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // zeromq is a native addon: keep every test file in its own process (PITFALLS §5).
    pool: 'forks',
    // Tests start real processes; a cold start on a loaded 2-core machine takes a while.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    teardownTimeout: 30_000,
  },
});
