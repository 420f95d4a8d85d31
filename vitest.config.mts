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
          testTimeout: 60_000,
          hookTimeout: 60_000,
          pool: 'forks',
        },
      },
      './packages/jit/vitest.config.mts',
    ],
  },
});
