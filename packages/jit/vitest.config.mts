import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const toolkit = (file: string): string => fileURLToPath(new URL(`../../${file}`, import.meta.url));

// The tracker's tests (`npm test` at the root runs them too). In-process,
// `jit-lock` is the toolkit's source, like every other module under test.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)), // also when run with --config from the repository root
  resolve: { alias: [{ find: /^jit-lock$/, replacement: toolkit('src/index.ts') }] },
  test: {
    name: 'jit-tracker',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['test/chaos/**', 'node_modules/**'],
    // The build, then one PostgreSQL server for the PostgreSQL backend's tests (issue 17).
    globalSetup: [toolkit('scripts/build-for-tests.mts'), './test/support/postgres-server.mts'],
    // A bound for a hung test, not a speed goal: at load 30 on 2 cores a test of
    // many CLI calls took over 60 s (each jit start costs seconds there).
    testTimeout: 300_000,
    hookTimeout: 300_000,
    pool: 'forks',
  },
});
