import { defineConfig } from 'vitest/config';

/**
 * Three projects (`npm test` runs them all; `npm run test:unit`, `test:integration`, `test:soak`
 * one each): `unit` starts no process (pure logic, fake timers, sockets at most in process);
 * `integration` runs the real programs: gateways, computing nodes, agents, the CLI, a browser;
 * `soak` runs steady load for a while (the bench's smoke run, a 30 s load).
 */
export default defineConfig({
  test: {
    // zeromq is a native addon: keep every test file in its own process (native addons crash or hang
    // under worker threads: vitest's "pool" docs, vitest-dev/vitest#5047, zeromq.js#411).
    pool: 'forks',
    teardownTimeout: 30_000,
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          // Tests start real processes; a cold start on a loaded 2-core machine takes a while.
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      },
      { extends: true, test: { name: 'soak', include: ['test/soak/**/*.test.ts'], testTimeout: 180_000, hookTimeout: 30_000 } },
    ],
  },
});
