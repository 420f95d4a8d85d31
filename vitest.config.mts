import { defineConfig } from 'vitest/config';

// `npm test` / `npx vitest`: the lock toolkit's tests (this package) and the
// tracker's (packages/jit), after an incremental build of both.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'jit-lock',
          include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'scripts/**/*.test.mjs'],
          exclude: ['test/windows/**', 'node_modules/**'],
          globalSetup: ['./scripts/build-for-tests.mts'],
          // A bound for a hung test, not a speed goal (a loaded 2-core machine is slow).
          testTimeout: 300_000,
          hookTimeout: 300_000,
          pool: 'forks',
        },
      },
      './packages/jit/vitest.config.mts',
    ],
  },
});
