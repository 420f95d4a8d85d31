#!/usr/bin/env node
// Builds everything `npm test` and the benchmarks need: the native addon
// (incrementally when node-gyp has configured build/ before) and the
// TypeScript of both packages, src/ to dist/ (jit-lock) and packages/jit/src/
// to packages/jit/dist/ (jit-tracker), with tsc -b: it rebuilds what changed
// and costs about a second when nothing did; then the web page and the
// bundled CLI with its code cache (packages/jit/scripts/build-cli-bundle.js).
// Plain Node so it works the same on every OS; vitest runs it before every
// test run (scripts/build-for-tests.mts).
'use strict';
const { spawnSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const nodeGyp = require.resolve('node-gyp/bin/node-gyp.js');
const tsc = require.resolve('typescript/bin/tsc');

function run(args) {
  const result = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

// Build against the headers of the running Node when it ships them (it does
// on most installs), so a first build outside npm needs no download.
const localHeaders = path.resolve(path.dirname(process.execPath), '..');
const nodedir =
  !process.env.npm_config_nodedir && existsSync(path.join(localHeaders, 'include', 'node', 'node_api.h'))
    ? [`--nodedir=${localHeaders}`]
    : [];

const configured = existsSync(path.join(root, 'build', 'config.gypi'));
run([nodeGyp, configured ? 'build' : 'rebuild', ...nodedir]);
run([tsc, '-b', path.join('packages', 'jit', 'tsconfig.build.json')]);
// The web view's page (jit serve): bundled by esbuild into packages/jit/dist/webapp/, skipped when nothing changed.
run([path.join('packages', 'jit', 'web', 'build.js'), '--if-changed']);
// The bundled CLI and its V8 code cache (bin/jit.js starts with them): packages/jit/dist/cli/main.bundle.*, skipped when nothing changed.
run([path.join('packages', 'jit', 'scripts', 'build-cli-bundle.js'), '--if-changed']);
