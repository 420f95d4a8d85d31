#!/usr/bin/env node
// Builds the bundled CLI and its V8 code cache (bin/cli-bundle.js loads them):
//   1. esbuild bundles dist/cli/main.js (tsc's output) and every module of
//      this package it reaches into dist/cli/main.bundle.js, with jit-lock's
//      and libsql's JavaScript (BUNDLED_PACKAGES); other npm packages and the
//      native addons stay outside (require() at run time, resolved from
//      dist/cli/, as from any module of dist/). Its last line is its
//      build id (a hash of its text), which the cache's header must repeat
//      to be used.
//   2. A child process runs the bundle through the commands agents run most
//      (status, query ready, issue show/create/update/claim) on a throw-away
//      store, then writes V8's compiled code (script.createCachedData()) to
//      dist/cli/main.bundle.cache. It also proves the bundle runs.
// scripts/build.js runs it after tsc with --if-changed: nothing is done when
// the bundle and its cache are newer than every module of dist/ and the cache
// was made by this Node.
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { loadBundle, checksumOf, BUNDLE, CACHE, BUILD_MARK, TS_BUILD_INFO } = require('../bin/cli-bundle.js');

const pkg = path.join(__dirname, '..');
const dist = path.join(pkg, 'dist');
/** The folders of dist/ the bundle is made of (webapp/ is the page, served as files). */
const SOURCES = ['cli', 'store', 'mcp', 'web', 'lock'];

function newestInput() {
  // tsc's build info too: the loader refuses a bundle older than it (bin/cli-bundle.js).
  const compiledAt = fs.statSync(TS_BUILD_INFO, { throwIfNoEntry: false })?.mtimeMs ?? 0;
  const scripts = [__filename, path.join(pkg, 'bin', 'cli-bundle.js'), ...new Set(REPLACED_PACKAGES.values())];
  let newest = Math.max(...scripts.map((file) => fs.statSync(file).mtimeMs), compiledAt);
  const visit = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) entry.name !== 'node_modules' && visit(file);
      else if (entry.name.endsWith('.js') && file !== BUNDLE) newest = Math.max(newest, fs.statSync(file).mtimeMs);
    }
  };
  for (const dir of SOURCES) if (fs.existsSync(path.join(dist, dir))) visit(path.join(dist, dir));
  // The bundled packages' code (jit-lock's dist/, which tsc -b may rebuild without touching this package's build info).
  for (const name of BUNDLED_PACKAGES) visit(path.dirname(require.resolve(name, { paths: [pkg] })));
  return newest;
}

function upToDate() {
  try {
    const header = fs.readFileSync(CACHE).subarray(0, 200).toString('latin1').split('\n')[0].split(' ');
    return header[1] === process.version && Math.min(fs.statSync(BUNDLE).mtimeMs, fs.statSync(CACHE).mtimeMs) > newestInput();
  } catch {
    return false;
  }
}

/** Writes `file` whole (a temp file renamed over it): a reader never sees half of it. */
function writeWhole(file, data) {
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, data);
  fs.renameSync(temp, file);
}

/**
 * npm packages bundled with our code (their modules compile from the code
 * cache instead of one file at a time), and what stands in for some of
 * their dependencies there.
 * - jit-lock: its addon is still loaded from its package folder (src/native.ts
 *   finds the folder on the module lookup path when bundled).
 *   The CLI's one copy of its lock registry is the bundled one: every module
 *   that takes locks in a CLI process (store, CLI, MCP, web server) is in
 *   the bundle, and no package left outside requires jit-lock
 *   (test/cli/bundle.test.ts checks that a run loads none of its modules).
 * - libsql: its index.js would load @neon-rs/load and detect-libc, which
 *   spend 5 to 10 ms of every start finding the C library (process.report,
 *   child_process); libsql-native.js names its native package by loading
 *   it. The native package (@libsql/<target>, a .node binary) stays in
 *   node_modules.
 * - commander: every command line the fast path (src/cli/main.ts) does not
 *   take, all writes among them, loads it; from node_modules that cost
 *   ~14 ms of CPU a start, compiled file by file. Its lib/command.js loads
 *   node:child_process (~5 ms) for executable subcommands, which jit never
 *   defines: in the bundle it is loaded on first use (SOURCE_PATCHES).
 */
const BUNDLED_PACKAGES = new Set(require('./bundled-packages.js').BUNDLED_PACKAGES);
const REPLACED_PACKAGES = new Map([
  ['@neon-rs/load', path.join(__dirname, 'libsql-native.js')],
  ['detect-libc', path.join(__dirname, 'libsql-native.js')],
]);

/** The package.json of npm package `name` as this package resolves it (not every package exports its package.json). */
function manifestOf(name) {
  for (let dir = path.dirname(require.resolve(name, { paths: [pkg] })); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file) && JSON.parse(fs.readFileSync(file, 'utf8')).name === name) return file;
  }
  throw new Error(`no package.json of ${name} above ${require.resolve(name, { paths: [pkg] })}`);
}

/** The npm packages that stay a require() at run time: this package's dependencies and the bundled ones', but those bundled or replaced, and the native packages libsql loads. */
function externalPackages() {
  const dependenciesOf = (file) => Object.keys(JSON.parse(fs.readFileSync(file, 'utf8')).dependencies ?? {});
  const names = [path.join(pkg, 'package.json'), ...[...BUNDLED_PACKAGES].map(manifestOf)].flatMap(dependenciesOf);
  return [...new Set(names)].filter((name) => !BUNDLED_PACKAGES.has(name) && !REPLACED_PACKAGES.has(name)).concat('@libsql/*');
}

/**
 * Changes made to bundled packages' sources as esbuild reads them, each with
 * why. The build fails when a text is no longer there (a new version of the
 * package): see the reason before adapting it.
 */
const SOURCE_PATCHES = [
  {
    // A require() from the bundle would search from this package's dist/cli/, where an
    // isolated layout (pnpm, npm's linked strategy) has no @libsql/<target>: libsql-native.js.
    file: /[\\/]node_modules[\\/]libsql[\\/]index\.js$/,
    find: 'require(`@libsql/${target}`)',
    replace: `require(${JSON.stringify(path.join(__dirname, 'libsql-native.js'))}).requireTarget(target)`,
  },
  {
    // Only executable subcommands (which jit never defines) spawn: node:child_process on first use.
    file: /[\\/]node_modules[\\/]commander[\\/]lib[\\/]command\.js$/,
    find: "const childProcess = require('node:child_process');",
    replace: "const childProcess = { spawn: (...args) => require('node:child_process').spawn(...args) };",
  },
];

const sourcePatchPlugin = {
  name: 'source-patches',
  setup(build) {
    for (const patch of SOURCE_PATCHES) {
      build.onLoad({ filter: patch.file }, (args) => {
        const text = fs.readFileSync(args.path, 'utf8');
        if (!text.includes(patch.find)) throw new Error(`${args.path} no longer contains ${patch.find}: see SOURCE_PATCHES in ${__filename}`);
        // A function, so that `$&` or `$'` in the replacement (a build folder's name) stays literal text.
        return { contents: text.replace(patch.find, () => patch.replace), loader: 'js', resolveDir: path.dirname(args.path) };
      });
    }
  },
};

/**
 * The bundle with every character outside ASCII written as a \\u escape
 * (esbuild's charset 'ascii' does so in code; this catches the comments it
 * keeps), so that bin/cli-bundle.js can read it as latin1: ~1.8 ms less per
 * start than decoding 700 KB of UTF-8. The escape means the same character
 * in a string, template, regular expression or identifier, and is only text
 * in a comment.
 */
function asciiOnly(text) {
  return text.replace(/[^\x00-\x7f]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

async function bundle() {
  const esbuild = require('esbuild');
  const result = await esbuild.build({
    entryPoints: [path.join(dist, 'cli', 'main.js')],
    bundle: true,
    write: false,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: externalPackages(), // the MCP SDK, zod, pg, node-gyp-build: loaded from node_modules as before
    alias: Object.fromEntries(REPLACED_PACKAGES),
    metafile: true,
    tsconfigRaw: '{}', // not the tsconfig's paths, which point jit-lock at its sources
    outfile: BUNDLE,
    logLevel: 'warning',
    charset: 'ascii',
    plugins: [sourcePatchPlugin],
  });
  const bundledPackage = (file) => [...BUNDLED_PACKAGES].some((name) => file.includes(`node_modules/${name}/`));
  const strays = Object.keys(result.metafile.inputs).filter((file) => file.includes('node_modules/') && !bundledPackage(file));
  if (strays.length > 0) throw new Error(`the bundle would contain npm packages that should stay outside: ${strays.join(', ')}`);
  const text = asciiOnly(result.outputFiles[0].text);
  const buildId = crypto.createHash('sha256').update(text).digest('hex').slice(0, 32);
  // The cache of another build must never meet this bundle: remove it before the bundle changes.
  fs.rmSync(CACHE, { force: true });
  writeWhole(BUNDLE, `${text}${BUILD_MARK}${buildId}\n`);
}

/** Runs the bundle through the hot commands (in this process, output discarded by the parent) and writes the cache. */
async function train() {
  const loaded = loadBundle({ useCache: false });
  if (!loaded) throw new Error(`no bundle at ${BUNDLE}`);
  const project = fs.mkdtempSync(path.join(os.tmpdir(), 'jit-cli-bundle-'));
  try {
    process.chdir(project);
    const jit = async (...args) => {
      await loaded.exports.main(['node', 'jit', ...args]);
      if (process.exitCode) throw new Error(`jit ${args.join(' ')} failed (exit ${process.exitCode}) while making the code cache`);
    };
    await jit('init');
    for (let i = 0; i < 3; i++) await jit('--json', 'issue', 'create', '--title', `issue ${i}`, '--label', 'type:task');
    await jit('status');
    await jit('--json', 'status');
    await jit('query', 'ready');
    await jit('--json', 'query', 'ready', '--limit', '20');
    await jit('--version');
    const ids = fs.readdirSync(path.join(project, '.jit', 'issues')).filter((name) => name.endsWith('.json')).map((name) => name.slice(0, -'.json'.length));
    await jit('issue', 'show', ids[0]);
    await jit('--json', 'issue', 'update', ids[0], '--title', 'renamed');
    await jit('issue', 'update', ids[1], '--priority', 'high');
    await jit('--json', 'issue', 'claim', ids[2], 'agent:cache');
    await jit('query', 'ready');
    const data = loaded.script.createCachedData();
    writeWhole(CACHE, Buffer.concat([Buffer.from(`${loaded.buildId} ${process.version} ${checksumOf(data)}\n`, 'latin1'), data]));
  } finally {
    process.chdir(os.tmpdir());
    fs.rmSync(project, { recursive: true, force: true });
  }
}

/** This environment without what would point the commands at another store or agent. */
function trainingEnv() {
  const env = { ...process.env, JIT_LOCK_TIMEOUT: '120' };
  for (const name of ['JIT_CLI_BUNDLE', 'JIT_DIR', 'JIT_DATABASE_URL', 'JIT_AGENT_ID', 'JIT_LOCK_STATS', 'NODE_OPTIONS']) delete env[name];
  return env;
}

async function main() {
  if (process.argv.includes('--train')) {
    train().catch((error) => {
      process.stderr.write(`build-cli-bundle: ${error && error.stack ? error.stack : error}\n`);
      process.exit(1);
    });
    return;
  }
  if (!fs.existsSync(path.join(dist, 'cli', 'main.js'))) throw new Error('dist/cli/main.js is missing: run tsc first (node scripts/build.js)');
  if (process.argv.includes('--if-changed') && upToDate()) return;
  await bundle();
  // A separate process: the commands set process.exitCode and hold the store's modules, none of which the build should keep.
  const run = spawnSync(process.execPath, [__filename, '--train'], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: trainingEnv(),
  });
  if (run.status !== 0) process.exit(run.status ?? 1);
}

main().catch((error) => {
  process.stderr.write(`build-cli-bundle: ${error && error.stack ? error.stack : error}\n`);
  process.exit(1);
});
