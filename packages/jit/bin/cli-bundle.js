// The CLI as one script, compiled with a V8 code cache made at build time
// (scripts/build-cli-bundle.js): start-up is most of a CLI run, and compiling
// some sixty modules was the largest part of it. dist/cli/main.bundle.js is
// dist/cli/main.js and everything of this package it reaches, bundled by
// esbuild (npm packages and jit-lock stay outside, loaded by require());
// main.bundle.cache holds V8's compiled code of the functions a few commands
// ran when it was made. Nothing is written at run time. The cache is used only
// when its first line names this very bundle (the build id esbuild's output
// ends with) and V8 accepts it (same V8 version and flags); otherwise the
// bundle compiles as any script does, the same code, only slower.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const BUNDLE = path.join(__dirname, '..', 'dist', 'cli', 'main.bundle.js');
const CACHE = path.join(__dirname, '..', 'dist', 'cli', 'main.bundle.cache');
/** The bundle's last line: `//# jit-bundle <build id>`. */
const BUILD_MARK = '\n//# jit-bundle ';

/** The bundle's source as a CommonJS function, the same text at build time and at run time (the cache is for this text). */
function wrap(source) {
  return `(function (exports, require, module, __filename, __dirname) {${source}\n})`;
}

function buildIdOf(source) {
  const at = source.lastIndexOf(BUILD_MARK);
  return at < 0 ? undefined : source.slice(at + BUILD_MARK.length).trim();
}

/** The cache's data when its header names this bundle's build id; undefined when there is none or it belongs to another build. */
function readCache(buildId) {
  let data;
  try {
    data = fs.readFileSync(CACHE);
  } catch {
    return undefined; // no cache: compile
  }
  const newline = data.indexOf(10);
  if (newline < 0 || buildId === undefined) return undefined;
  const [id] = data.subarray(0, newline).toString('latin1').split(' ');
  return id === buildId ? data.subarray(newline + 1) : undefined;
}

/**
 * Runs the bundle and returns its exports (main()), the compiled script and
 * whether V8 took the cache; undefined when there is no bundle (dist/ built by
 * tsc alone, or JIT_CLI_BUNDLE=0 to run the separate modules).
 * `useCache: false` compiles without it (the build, making the cache).
 */
function loadBundle({ useCache = true } = {}) {
  if (process.env.JIT_CLI_BUNDLE === '0') return undefined;
  let source;
  try {
    source = fs.readFileSync(BUNDLE, 'utf8');
  } catch (error) {
    if (error && error.code === 'ENOENT') return undefined;
    throw error;
  }
  const buildId = buildIdOf(source);
  const cachedData = useCache ? readCache(buildId) : undefined;
  const vm = require('node:vm');
  const script = new vm.Script(wrap(source), { filename: BUNDLE, cachedData });
  const module = { exports: {} };
  const { createRequire } = require('node:module');
  script.runInThisContext()(module.exports, createRequire(BUNDLE), module, BUNDLE, path.dirname(BUNDLE));
  return { exports: module.exports, script, buildId, cacheUsed: cachedData !== undefined && !script.cachedDataRejected };
}

module.exports = { loadBundle, BUNDLE, CACHE, BUILD_MARK };
