// The CLI as one script, compiled with a V8 code cache made at build time
// (scripts/build-cli-bundle.js): start-up is most of a CLI run, and compiling
// some sixty modules was the largest part of it. dist/cli/main.bundle.js is
// dist/cli/main.js and everything of this package it reaches, bundled by
// esbuild (npm packages and jit-lock stay outside, loaded by require());
// main.bundle.cache holds V8's compiled code of the functions a few commands
// ran when it was made. Nothing is written at run time. The bundle runs only
// with its cache: when the cache's first line names this very bundle (the
// build id the bundle ends with) and the Node running now, and repeats the
// digest of the data that follows it. Without a usable
// cache, compiling the whole bundle costs more than the separate modules a
// command needs, so bin/jit.js runs dist/cli/main.js instead, as before. If V8
// still refuses the cache (other flags), the bundle compiles as any script
// does: the same code, only slower. A bundle older than tsc's last build of
// dist/ is not run either (TS_BUILD_INFO).
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const BUNDLE = path.join(__dirname, '..', 'dist', 'cli', 'main.bundle.js');
const CACHE = path.join(__dirname, '..', 'dist', 'cli', 'main.bundle.cache');
/**
 * tsc -b rewrites it whenever it compiles anything: newer than the bundle, it
 * says dist/ changed without the bundle (tsc alone, e.g. npm install's
 * prepare after an edit), and the bundle would run old code. Not in the
 * published package (nothing rebuilds there).
 */
const TS_BUILD_INFO = path.join(__dirname, '..', 'dist', 'tsconfig.build.tsbuildinfo');
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

/** The digest of a cache's data that its header repeats (release builds of V8 check no checksum, and a changed byte can crash them). */
function digestOf(data) {
  return require('node:crypto').createHash('sha256').update(data).digest('hex');
}

/**
 * The cache's data when its header names this bundle's build id and this
 * Node and its digest matches; undefined when there is none, it is another
 * build's or Node's, or its bytes changed after the build.
 */
function readCache(buildId) {
  let data;
  try {
    data = fs.readFileSync(CACHE);
  } catch {
    return undefined; // no cache: compile
  }
  const newline = data.indexOf(10);
  if (newline < 0 || buildId === undefined) return undefined;
  const [id, node, digest] = data.subarray(0, newline).toString('latin1').split(' ');
  if (id !== buildId || node !== process.version) return undefined;
  const body = data.subarray(newline + 1);
  return digest === digestOf(body) ? body : undefined;
}

/**
 * Runs the bundle and returns its exports (main()), the compiled script and
 * whether V8 took the cache; undefined when there is no bundle or no usable
 * cache (dist/ built by tsc alone, another Node), or JIT_CLI_BUNDLE=0: the
 * caller then loads the separate modules. `useCache: false` runs the bundle
 * without a cache (the build, making it).
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
  const compiledAt = fs.statSync(TS_BUILD_INFO, { throwIfNoEntry: false })?.mtimeMs;
  if (compiledAt !== undefined && compiledAt > fs.statSync(BUNDLE).mtimeMs) return undefined;
  const buildId = buildIdOf(source);
  const cachedData = useCache ? readCache(buildId) : undefined;
  if (useCache && cachedData === undefined) return undefined;
  const vm = require('node:vm');
  const script = new vm.Script(wrap(source), { filename: BUNDLE, cachedData });
  const module = { exports: {} };
  const { createRequire } = require('node:module');
  script.runInThisContext()(module.exports, createRequire(BUNDLE), module, BUNDLE, path.dirname(BUNDLE));
  return { exports: module.exports, script, buildId, cacheUsed: cachedData !== undefined && !script.cachedDataRejected };
}

module.exports = { loadBundle, digestOf, BUNDLE, CACHE, BUILD_MARK, TS_BUILD_INFO };
