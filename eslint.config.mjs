// `npm run lint` (part of `npm test` and .ci/run): ESLint's and
// typescript-eslint's recommended rules, and jit/layers (scripts/eslint-layers.mjs),
// which keeps the imports pointing one way.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import layers from './scripts/eslint-layers.mjs';

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/',
      '**/dist/',
      '**/dist-typecheck/',
      'build/',
      'build-cmake/',
      'prebuilds/',
      '.cache/',
      '.wine-prefix/',
    ],
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: { globals: globals.node },
    plugins: { jit: layers },
    rules: {
      'jit/layers': 'error',
      // `_`-prefixed names are deliberately unused (a parameter kept for its position).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // The output is CommonJS, and the CLI loads each command group with a lazy require() to start fast.
      '@typescript-eslint/no-require-imports': 'off',
      // The store's input rules match control characters on purpose, to refuse them.
      'no-control-regex': 'off',
      // Comma sequences as two-step statements, `if (x) (a(), b())`, are house style.
      '@typescript-eslint/no-unused-expressions': 'off',
    },
  },
  {
    // The web view's page runs in the browser.
    files: ['packages/jit/web/src/**'],
    languageOptions: { globals: globals.browser },
  },
  {
    // Tests reach into loosely typed JSON output and fake inputs.
    files: ['**/*.test.ts', '**/test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // Plain Node scripts, fixtures and benchmarks: CommonJS, where require() is the way to import.
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    // `const { performance } = require('node:perf_hooks')` names a global on purpose (older habits, same object).
    rules: { 'no-redeclare': ['error', { builtinGlobals: false }] },
  },
);
