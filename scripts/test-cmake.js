#!/usr/bin/env node
// Builds the addon with cmake-js (npm run build:cmake) and runs the lock
// tests against that binary instead of node-gyp's. node-gyp-build honours
// JIT_LOCK_PREBUILD=<dir> (from the package name) and then loads
// <dir>/build/Release/*.node, which is where build:cmake writes it.
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const cmakeDir = path.join(root, 'build-cmake');
const env = { ...process.env, JIT_LOCK_PREBUILD: cmakeDir };

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', env, ...options });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
run(npm, ['run', 'build:cmake'], { shell: process.platform === 'win32' });

// Make sure the tests will really load the cmake-js binary.
const probe = spawnSync(process.execPath, ['-p', "require('node-gyp-build').path(process.argv[1])", root], {
  cwd: root,
  env,
  encoding: 'utf8',
});
const binary = probe.stdout.trim();
if (probe.status !== 0 || !binary.startsWith(cmakeDir)) {
  console.error(`expected the cmake-js binary under ${cmakeDir}, node-gyp-build picks ${binary || probe.stderr}`);
  process.exit(1);
}
console.log(`lock tests against ${path.relative(root, binary)}`);
run(process.execPath, [path.join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--project', 'jit-lock', 'src/', 'test/lock/']);
