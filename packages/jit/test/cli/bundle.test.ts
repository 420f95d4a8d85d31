// The bundled CLI (bin/cli-bundle.js, made by scripts/build-cli-bundle.js):
// a plain run of `jit` is the bundle, compiled with the build's code cache;
// without a cache that belongs to the bundle and this Node, the separate
// modules run instead; a cache V8 refuses is not used, and the bundle still
// runs. The copies live in a temporary folder
// shaped like the package (bin/, dist/cli/), never in dist/ itself, which
// other test files run at the same time.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initializedProject, REPO, runJit, type TempProject } from './helpers.js';

const LIST_MODULES = path.join(__dirname, 'fixtures', 'list-modules.js');
const LOADER = path.join(REPO, 'bin', 'cli-bundle.js');
const BUNDLE = path.join(REPO, 'dist', 'cli', 'main.bundle.js');
const CACHE = path.join(REPO, 'dist', 'cli', 'main.bundle.cache');

interface Loaded {
  exports: { main: unknown };
  buildId: string | undefined;
  cacheUsed: boolean;
}
type Loader = { loadBundle: (options?: { useCache?: boolean }) => Loaded | undefined; checksumOf: (data: Buffer) => string };

let project: TempProject;
let scratch: string;
beforeAll(async () => {
  project = await initializedProject();
  scratch = mkdtempSync(path.join(tmpdir(), 'jit-cli-bundle-'));
});
afterAll(() => {
  project.remove();
  rmSync(scratch, { recursive: true, force: true });
});

/** A package-shaped copy of the loader and the bundle, with `cache` as its cache file (none when undefined). */
function copyWithCache(name: string, cache: Buffer | undefined): Loader {
  const root = path.join(scratch, name);
  mkdirSync(path.join(root, 'bin'), { recursive: true });
  mkdirSync(path.join(root, 'dist', 'cli'), { recursive: true });
  copyFileSync(LOADER, path.join(root, 'bin', 'cli-bundle.js'));
  copyFileSync(BUNDLE, path.join(root, 'dist', 'cli', 'main.bundle.js'));
  if (cache) writeFileSync(path.join(root, 'dist', 'cli', 'main.bundle.cache'), cache);
  return require(path.join(root, 'bin', 'cli-bundle.js')) as Loader;
}

describe('the bundled CLI', () => {
  it('a bundle older than tsc\'s last build of dist/ is not run: the separate modules are, which hold the new code', () => {
    const loader = copyWithCache('stale', readFileSync(CACHE));
    const root = path.join(scratch, 'stale');
    expect(loader.loadBundle()?.cacheUsed).toBe(true);
    const buildInfo = path.join(root, 'dist', 'tsconfig.build.tsbuildinfo');
    writeFileSync(buildInfo, '{}');
    const later = new Date(statSync(path.join(root, 'dist', 'cli', 'main.bundle.js')).mtimeMs + 5_000);
    utimesSync(buildInfo, later, later);
    expect(loader.loadBundle()).toBeUndefined();
    // Built again (the bundle newer than tsc's output): it runs.
    const evenLater = new Date(later.getTime() + 5_000);
    utimesSync(path.join(root, 'dist', 'cli', 'main.bundle.js'), evenLater, evenLater);
    expect(loader.loadBundle()?.cacheUsed).toBe(true);
  });

  it('a plain run is the bundle: no separate module of the CLI, the store, jit-lock or commander is loaded (one lock registry), only the native addons', async () => {
    const jitLockRoot = realpathSync(path.dirname(require.resolve('jit-lock/package.json')));
    const jitLockModules = path.join(jitLockRoot, 'dist') + path.sep; // the repository's root is jit-lock's: packages/ is not it
    const issueId = (await project.json<{ id: string }>(['issue', 'create', '--title', 'bundled'])).id;
    for (const args of [['status'], ['issue', 'update', issueId, '--priority', 'high']]) {
      const out = path.join(scratch, `${args[0]}-modules.txt`);
      const run = await runJit(args, { cwd: project.dir, env: { NODE_OPTIONS: `--require ${JSON.stringify(LIST_MODULES)}`, JIT_TEST_MODULES_OUT: out } });
      expect(run.code, run.stderr).toBe(0);
      const modules = readFileSync(out, 'utf8').split('\n');
      expect(modules.some((file) => file.endsWith(path.join('bin', 'cli-bundle.js')))).toBe(true);
      expect(modules.filter((file) => /[\\/]dist[\\/](cli|store)[\\/]/.test(file))).toEqual([]);
      // jit-lock's JavaScript is in the bundle, so the store's locks and any other lock of the process share its one
      // registry; its addon loads from its package folder.
      expect(modules.filter((file) => file.startsWith(jitLockModules))).toEqual([]);
      expect(modules.some((file) => file.startsWith(jitLockRoot) && file.endsWith('jit_lock.node'))).toBe(true);
      // libsql's JavaScript too, without @neon-rs/load and detect-libc (scripts/libsql-native.js names its native
      // package); the native package loads from node_modules, as other npm packages do.
      expect(modules.filter((file) => /[\\/]node_modules[\\/](libsql|@neon-rs|detect-libc)[\\/]/.test(file))).toEqual([]);
      expect(modules.some((file) => /[\\/]node_modules[\\/]@libsql[\\/][^\\/]+[\\/].*\.node$/.test(file))).toBe(true);
      // commander's JavaScript too (a write goes through it), without the node:child_process it loads for executable
      // subcommands; ids come from the OS's random source, not node:crypto; output (a pipe here) is written without
      // process.stdout, whose stream modules commander's set-up used to load (~5 to 10 ms each).
      expect(modules.filter((file) => /[\\/]node_modules[\\/]commander[\\/]/.test(file))).toEqual([]);
      expect(modules.filter((file) => ['node:child_process', 'node:crypto', 'node:net', 'node:stream', 'node:tty'].includes(file))).toEqual([]);
    }
  });

  it('the bundle is ASCII only, so latin1 (what the loader reads it as) decodes it as UTF-8 would; a character beyond ASCII in its comments is escaped', () => {
    const bytes = readFileSync(BUNDLE);
    expect(bytes.findIndex((byte) => byte > 0x7f)).toBe(-1);
    // A comment of the store's (summary-index.ts) holds "µs": kept by esbuild, escaped by the build.
    expect(bytes.toString('latin1')).toContain('\\u00b5s');
  });

  it("the build's code cache is this bundle's, and this Node accepts it", () => {
    const cache = readFileSync(CACHE);
    const header = cache.subarray(0, cache.indexOf(10)).toString('latin1');
    const loaded = copyWithCache('accepted', readFileSync(CACHE));
    const result = loaded.loadBundle();
    expect(result?.buildId).toMatch(/^[0-9a-f]{32}$/);
    expect(header).toBe(`${result?.buildId} ${process.version} ${loaded.checksumOf(cache.subarray(header.length + 1))}`);
    expect(result?.cacheUsed).toBe(true);
    expect(typeof result?.exports.main).toBe('function');
  });

  it("without a cache of this build and this Node there is no bundle to run (bin/jit.js runs dist/cli/main.js); one V8 refuses is not used, and the bundle runs", () => {
    const cache = readFileSync(CACHE);
    const body = cache.subarray(cache.indexOf(10) + 1);
    const buildId = cache.subarray(0, 32).toString('latin1');
    expect(copyWithCache('other-build', Buffer.concat([Buffer.from(`${'0'.repeat(32)} ${process.version}\n`), body])).loadBundle()).toBeUndefined();
    expect(copyWithCache('other-node', Buffer.concat([Buffer.from(`${buildId} v1.0.0\n`), body])).loadBundle()).toBeUndefined();
    expect(copyWithCache('none', undefined).loadBundle()).toBeUndefined();
    expect(copyWithCache('no-cache', undefined).loadBundle({ useCache: false })).toMatchObject({ cacheUsed: false }); // how the build runs it
    // Garbage with its own checksum in the header: it reaches V8, which refuses it.
    const garbageBody = Buffer.alloc(body.length, 7);
    const checksum = (require(LOADER) as Loader).checksumOf(garbageBody);
    const garbage = copyWithCache('garbage', Buffer.concat([Buffer.from(`${buildId} ${process.version} ${checksum}\n`), garbageBody]));
    const refused = garbage.loadBundle();
    expect(refused).toMatchObject({ cacheUsed: false });
    expect(typeof refused?.exports.main).toBe('function');
  });

  it("the cache's checksum (WebAssembly in the loader) is Fletcher's sums of the data's 32-bit words modulo 2^64, and its length", () => {
    const { checksumOf } = require(LOADER) as Loader;
    const reference = (data: Buffer) => {
      const padded = Buffer.concat([data, Buffer.alloc((4 - (data.length % 4)) % 4)]);
      let sum = 0n;
      let sumOfSums = 0n;
      for (let at = 0; at < padded.length; at += 4) {
        sum = BigInt.asUintN(64, sum + BigInt(padded.readUInt32LE(at)));
        sumOfSums = BigInt.asUintN(64, sumOfSums + sum);
      }
      const hex = (value: bigint) => Buffer.from(BigInt.asUintN(64, value).toString(16).padStart(16, '0'), 'hex').reverse().toString('hex');
      return `${hex(sum)}${hex(sumOfSums)}-${data.length}`;
    };
    const random = Buffer.alloc(200_003);
    for (let at = 0; at < random.length; at++) random[at] = (at * 7919 + (at >> 5)) & 0xff;
    for (const data of [Buffer.alloc(0), Buffer.from([1]), Buffer.from('\xff\xff\xff\xff\xff', 'latin1'), random, readFileSync(CACHE)]) {
      expect(checksumOf(data)).toBe(reference(data));
    }
    // Two words swapped: the sum is the same, the sum of sums is not.
    expect(checksumOf(Buffer.from([1, 0, 0, 0, 2, 0, 0, 0]))).not.toBe(checksumOf(Buffer.from([2, 0, 0, 0, 1, 0, 0, 0])));
  });

  it('a cache whose bytes changed after the build (its V8 header intact) is not used: V8 checks no checksum and would crash on it', () => {
    const cache = readFileSync(CACHE);
    const body = Buffer.from(cache.subarray(cache.indexOf(10) + 1));
    // Past V8's header (magic number, version and flag hashes, length), every 997th byte flipped.
    for (let at = 200; at < body.length; at += 997) body[at]! ^= 0x5a;
    copyWithCache('flipped', Buffer.concat([cache.subarray(0, cache.indexOf(10) + 1), body]));
    // In a child process: the old loader handed such a cache to V8, which died of a segmentation fault.
    const run = spawnSync(process.execPath, ['-e', `process.stdout.write(String(require(${JSON.stringify(path.join(scratch, 'flipped', 'bin', 'cli-bundle.js'))}).loadBundle()))`], {
      encoding: 'utf8',
    });
    expect({ signal: run.signal, status: run.status, stdout: run.stdout }, run.stderr).toEqual({ signal: null, status: 0, stdout: 'undefined' });
  });

  it("the bundle's stand-in for @neon-rs/load and detect-libc names the first of libsql's native packages that loads (on Linux glibc's, then musl's)", () => {
    const root = path.join(scratch, 'libsql-native');
    const nativePackage = (name: string, body: string) => {
      mkdirSync(path.join(root, 'node_modules', '@libsql', name), { recursive: true });
      writeFileSync(path.join(root, 'node_modules', '@libsql', name, 'index.js'), body);
    };
    mkdirSync(root, { recursive: true });
    copyFileSync(path.join(REPO, 'scripts', 'libsql-native.js'), path.join(root, 'libsql-native.js'));
    const linux = process.platform === 'linux';
    const family = process.arch === 'arm' ? ['gnueabihf', 'musleabihf'] : ['gnu', 'musl'];
    const names = linux ? family.map((libc) => `linux-${process.arch}-${libc}`) : [process.platform === 'win32' ? `win32-${process.arch}-msvc` : `${process.platform}-${process.arch}`];
    // The first one's binary does not load (as glibc's does not on a musl system).
    nativePackage(names[0]!, "throw new Error('Error loading shared library: not this C library');");
    if (names[1]) nativePackage(names[1], 'module.exports = { found: true };');
    const native = require(path.join(root, 'libsql-native.js')) as { currentTarget(): string; familySync(): string | null };
    if (linux) {
      expect(native.currentTarget()).toBe(names[1]);
      expect(native.familySync()).toBe('musl');
    } else {
      expect(() => native.currentTarget()).toThrow(/not this C library/);
    }
  });

  it("when none of libsql's native packages loads (installed with --omit=optional), the error names each one tried and why, the first (glibc's) first", () => {
    const root = path.join(scratch, 'libsql-none');
    mkdirSync(path.join(root, 'node_modules'), { recursive: true });
    copyFileSync(path.join(REPO, 'scripts', 'libsql-native.js'), path.join(root, 'libsql-native.js'));
    const native = require(path.join(root, 'libsql-native.js')) as { currentTarget(): string };
    const first = process.platform === 'linux' ? `@libsql/linux-${process.arch}-${process.arch === 'arm' ? 'gnueabihf' : 'gnu'}` : '@libsql/';
    let message = '';
    try {
      native.currentTarget();
    } catch (error) {
      message = String((error as Error).message);
    }
    expect(message).toContain(`libsql's native package`);
    expect(message.indexOf(first)).toBeGreaterThanOrEqual(0);
    const second = process.arch === 'arm' ? '@libsql/linux-arm-musleabihf' : `@libsql/linux-${process.arch}-musl`;
    if (process.platform === 'linux') expect(message.indexOf(first)).toBeLessThan(message.indexOf(second));
  });

  it('a bundle that cannot be read (here a folder in its place: EISDIR, as EACCES for a user without the right) is not run: the separate modules are, without a stack trace', () => {
    const root = path.join(scratch, 'unreadable');
    mkdirSync(path.join(root, 'bin'), { recursive: true });
    mkdirSync(path.join(root, 'dist', 'cli', 'main.bundle.js'), { recursive: true });
    copyFileSync(LOADER, path.join(root, 'bin', 'cli-bundle.js'));
    copyFileSync(CACHE, path.join(root, 'dist', 'cli', 'main.bundle.cache'));
    const run = spawnSync(process.execPath, ['-e', `process.stdout.write(String(require(${JSON.stringify(path.join(root, 'bin', 'cli-bundle.js'))}).loadBundle()))`], {
      encoding: 'utf8',
    });
    expect({ status: run.status, stdout: run.stdout, stderr: run.stderr }).toEqual({ status: 0, stdout: 'undefined', stderr: '' });
  });

  it('without WebAssembly (node --jitless) the cache cannot be checked: the separate modules run, as bin/jit.js does', async () => {
    const loaded = spawnSync(process.execPath, ['--jitless', '-e', `process.stdout.write(String(require(${JSON.stringify(LOADER)}).loadBundle()))`], { encoding: 'utf8' });
    expect({ status: loaded.status, stdout: loaded.stdout }, loaded.stderr).toEqual({ status: 0, stdout: 'undefined' });
    const run = await runJit(['status'], { cwd: project.dir, env: { NODE_OPTIONS: '--jitless' } });
    expect(run.code, run.stderr).toBe(0);
  });

  it('JIT_CLI_BUNDLE=0 runs the separate modules (what test/cli/startup.test.ts lists)', async () => {
    const out = path.join(scratch, 'unbundled-modules.txt');
    const run = await runJit(['status'], {
      cwd: project.dir,
      env: { NODE_OPTIONS: `--require ${JSON.stringify(LIST_MODULES)}`, JIT_TEST_MODULES_OUT: out, JIT_CLI_BUNDLE: '0' },
    });
    expect(run.code, run.stderr).toBe(0);
    expect(readFileSync(out, 'utf8').split('\n').some((file) => /[\\/]dist[\\/]cli[\\/]main\.js$/.test(file))).toBe(true);
  });
});
