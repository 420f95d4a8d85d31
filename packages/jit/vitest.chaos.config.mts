import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const toolkit = (file: string): string => fileURLToPath(new URL(`../../${file}`, import.meta.url));

// `npm run test:chaos`: kill storms, load, hostile and torn files (one file at a time).
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)), // also when run with --config from the repository root
  resolve: { alias: [{ find: /^jit-lock$/, replacement: toolkit('src/index.ts') }] },
  test: {
    include: ['test/chaos/**/*.test.ts'],
    globalSetup: [toolkit('scripts/build-for-tests.mts')],
    testTimeout: 300_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
