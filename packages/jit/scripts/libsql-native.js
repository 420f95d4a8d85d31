// Bundled into the CLI (scripts/build-cli-bundle.js) in place of the two
// packages libsql's index.js asks which native package to load:
// `@neon-rs/load` (currentTarget, load) and `detect-libc` (familySync, GLIBC,
// MUSL). Those find the C library with process.report.getReport() or by
// loading child_process, some 5 to 10 ms of every CLI start; here the target
// is found by loading it: on Linux the glibc package first, the musl one when
// that one is missing or its binary does not load. libsql's own index.js then
// loads the same package through requireTarget() (the build puts that call in
// place of its require()), which resolves it from libsql's own folder. The
// names are libsql's published native packages (its package.json "neon"
// targets): darwin-x64, darwin-arm64, win32-x64-msvc, linux-{x64,arm64}-{gnu,musl},
// linux-arm-{gnueabihf,musleabihf}. Outside the bundle (dist/ modules,
// JIT_CLI_BUNDLE=0) libsql uses its own packages as published.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { createRequire } = require('node:module');

const GLIBC = 'glibc';
const MUSL = 'musl';

/** The package names to try, best first. */
function candidates() {
  const { platform, arch } = process;
  if (platform === 'linux') {
    return arch === 'arm' ? ['linux-arm-gnueabihf', 'linux-arm-musleabihf'] : [`linux-${arch}-gnu`, `linux-${arch}-musl`];
  }
  if (platform === 'win32') return [`win32-${arch}-msvc`];
  return [`${platform}-${arch}`];
}

let target;
let libsqlRequire;

/**
 * require() as libsql's own folder resolves: its native packages are its
 * dependencies, which an isolated layout (pnpm, npm's linked strategy) puts
 * beside libsql's real folder only, not where the bundle is. libsql's
 * folder is the first on the bundle's lookup path (as require('libsql') would
 * find it, without loading Node's ESM resolver); the bundle's own require()
 * when there is none.
 */
function requireFromLibsql(name) {
  if (libsqlRequire === undefined) {
    const dir = (require.resolve.paths('libsql') ?? []).map((d) => path.join(d, 'libsql')).find((d) => fs.existsSync(path.join(d, 'package.json')));
    libsqlRequire = createRequire(dir === undefined ? __filename : path.join(fs.realpathSync(dir), 'package.json'));
  }
  return libsqlRequire(name);
}

/** libsql's native package `target` (libsql's index.js calls this in place of its require(), build-cli-bundle.js). */
function requireTarget(name) {
  return requireFromLibsql(`@libsql/${name}`);
}

/**
 * The first of candidates() whose package loads (its module stays in
 * require's cache for libsql). When none does, an error naming each one tried
 * and why, best first (the last alone, musl's, misled on a glibc system).
 */
function currentTarget() {
  if (target !== undefined) return target;
  const failures = [];
  for (const name of candidates()) {
    try {
      requireTarget(name);
      return (target = name);
    } catch (error) {
      failures.push({ name, error });
    }
  }
  const reasons = failures.map(({ name, error }) => `@libsql/${name}: ${String(error && error.message).split('\n')[0]}`);
  throw Object.assign(new Error(`none of libsql's native packages for this platform loads (${reasons.join('; ')}); reinstall jit-tracker with its optional dependencies`), {
    code: failures[0].error && failures[0].error.code,
    cause: failures[0].error,
  });
}

/** The C library of the package found (libsql asks, to correct a musl target to glibc under Bun), null off Linux. */
function familySync() {
  if (process.platform !== 'linux') return null;
  return /-(gnu|gnueabihf)$/.test(currentTarget()) ? GLIBC : MUSL;
}

/** libsql's development mode (LIBSQL_JS_DEV: a binary built next to its sources) has no place in the bundle. */
function load() {
  throw new Error('LIBSQL_JS_DEV is not supported by the bundled jit CLI: unset it, or run with JIT_CLI_BUNDLE=0');
}

module.exports = { currentTarget, familySync, load, requireTarget, GLIBC, MUSL };
