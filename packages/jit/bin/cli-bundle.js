// The CLI as one script, compiled with a V8 code cache made at build time
// (scripts/build-cli-bundle.js): start-up is most of a CLI run, and compiling
// some sixty modules was the largest part of it. dist/cli/main.bundle.js is
// dist/cli/main.js and everything of this package it reaches, bundled by
// esbuild (npm packages and jit-lock stay outside, loaded by require());
// main.bundle.cache holds V8's compiled code of the functions a few commands
// ran when it was made. Nothing is written at run time. The bundle runs only
// with its cache: when the cache's first line names this very bundle (the
// build id the bundle ends with) and the Node running now, and repeats the
// checksum of the data that follows it. Without a usable
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

/**
 * The checksum of a cache's data that its header repeats (release builds of
 * V8 check no checksum of their own, and a changed byte can crash them): two
 * sums over the data's 32-bit little-endian words (the last one padded with
 * zeros) modulo 2^64, of the words and of the running sum (Fletcher's
 * checksum), and the data's length. It guards against damaged bytes, as a
 * file system's checksum does, not against a forger, who could as well edit
 * the bundle. Computed by the small WebAssembly function below rather than
 * node:crypto, whose loading alone cost ~3 ms of every start:
 *   (module (memory (export "memory") 1)
 *     (func (export "checksum") (param $end i32) (local $at i32) (local $sum i64) (local $sumOfSums i64)
 *       (block $done (loop $next
 *         (br_if $done (i32.ge_u (local.get $at) (local.get $end)))
 *         (local.set $sumOfSums (i64.add (local.get $sumOfSums)
 *           (local.tee $sum (i64.add (local.get $sum) (i64.load32_u (local.get $at))))))
 *         (local.set $at (i32.add (local.get $at) (i32.const 4)))
 *         (br $next)))
 *       (i64.store (local.get $end) (local.get $sum))
 *       (i64.store offset=8 (local.get $end) (local.get $sumOfSums))))
 */
const CHECKSUM_WASM =
  '0061736d0100000001050160017f00030201000503010001071502066d656d6f7279020008636865636b73756d00000a3b013902017f027e0240034020012000' +
  '4f0d01200220013502007c220220037c2103200141046a21010c000b0b20002002370300200020033703080b';
const WASM_PAGE = 65536;

function checksumOf(data) {
  const { memory, checksum } = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(CHECKSUM_WASM, 'hex'))).exports;
  const end = Math.ceil(data.length / 4) * 4; // the data from 0, zero-padded to whole words; the two sums after it
  const pages = Math.ceil((end + 16) / WASM_PAGE) - memory.buffer.byteLength / WASM_PAGE;
  if (pages > 0) memory.grow(pages);
  new Uint8Array(memory.buffer).set(data);
  checksum(end);
  return `${Buffer.from(memory.buffer, end, 16).toString('hex')}-${data.length}`;
}

/**
 * The cache's data when its header names this bundle's build id and this
 * Node and its checksum matches; undefined when there is none, it is another
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
  // Without WebAssembly (node --jitless) the checksum cannot be computed: an unchecked cache is never used.
  if (newline < 0 || buildId === undefined || typeof WebAssembly === 'undefined') return undefined;
  const [id, node, checksum] = data.subarray(0, newline).toString('latin1').split(' ');
  if (id !== buildId || node !== process.version) return undefined;
  const body = data.subarray(newline + 1);
  return checksum === checksumOf(body) ? body : undefined;
}

/**
 * Runs the bundle and returns its exports (main()), the compiled script and
 * whether V8 took the cache; undefined when there is no readable bundle or no usable
 * cache (dist/ built by tsc alone, another Node), or JIT_CLI_BUNDLE=0: the
 * caller then loads the separate modules. `useCache: false` runs the bundle
 * without a cache (the build, making it).
 */
function loadBundle({ useCache = true } = {}) {
  if (process.env.JIT_CLI_BUNDLE === '0') return undefined;
  let source;
  try {
    source = fs.readFileSync(BUNDLE, 'latin1'); // ASCII only (the build escapes the rest): latin1 decodes faster than UTF-8
  } catch {
    // Missing (tsc alone built dist/), unreadable (EACCES, EISDIR): the separate modules hold the same code.
    return undefined;
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

module.exports = { loadBundle, checksumOf, BUNDLE, CACHE, BUILD_MARK, TS_BUILD_INFO };
