// The bundled CLI installed in an isolated node_modules layout, as
// `npm install --install-strategy=linked` and pnpm make it: every package in
// its own folder of node_modules/.store/, its dependencies symlinks beside it,
// nothing hoisted. The bundle sits in jit-tracker's real folder, so what it
// (and the jit-lock and libsql code inside it) resolves at run time must be
// found from there or from the real folder of the package that depends on it.
// jit-lock is installed as published without a compiler: its addon comes from
// prebuilds/ through node-gyp-build, a dependency of jit-lock only.
import { cpSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, TEST_LOCK_TIMEOUT_SECONDS } from './helpers.js';

const ROOT = path.resolve(REPO, '..', '..');
const NODE_MODULES = path.join(ROOT, 'node_modules');
const LIBSQL_NATIVE = `@libsql/${process.platform}-${process.arch}-gnu`;

let scratch: string;
beforeAll(() => {
  scratch = realpathSync(mkdtempSync(path.join(tmpdir(), 'jit-linked-')));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A symlink at `link` to the repository's installed package `name`. */
function linkInstalled(name: string, link: string): void {
  mkdirSync(path.dirname(link), { recursive: true });
  symlinkSync(realpathSync(path.join(NODE_MODULES, name)), link, 'dir');
}

/**
 * An isolated install of jit-tracker and jit-lock under `name`; with
 * `libsqlBeside`, libsql's native package is also a dependency of
 * jit-tracker (a symlink beside it). Returns jit-tracker's bin/jit.js.
 */
function linkedInstall(name: string, { libsqlBeside }: { libsqlBeside: boolean }): string {
  const store = path.join(scratch, name, 'node_modules', '.store');
  const lock = path.join(store, 'jit-lock', 'node_modules', 'jit-lock');
  mkdirSync(path.join(lock, 'prebuilds', `${process.platform}-${process.arch}`), { recursive: true });
  cpSync(path.join(ROOT, 'package.json'), path.join(lock, 'package.json'));
  cpSync(path.join(ROOT, 'binding.gyp'), path.join(lock, 'binding.gyp'));
  cpSync(path.join(ROOT, 'dist'), path.join(lock, 'dist'), { recursive: true, filter: (file) => !file.endsWith('.tsbuildinfo') });
  // Published prebuilt, not compiled on install: no build/ folder.
  cpSync(path.join(ROOT, 'build', 'Release', 'jit_lock.node'), path.join(lock, 'prebuilds', `${process.platform}-${process.arch}`, 'jit-lock.napi.node'));
  linkInstalled('node-gyp-build', path.join(store, 'jit-lock', 'node_modules', 'node-gyp-build'));

  const trackerModules = path.join(store, 'jit-tracker', 'node_modules');
  const tracker = path.join(trackerModules, 'jit-tracker');
  mkdirSync(tracker, { recursive: true });
  cpSync(path.join(REPO, 'package.json'), path.join(tracker, 'package.json'));
  cpSync(path.join(REPO, 'bin'), path.join(tracker, 'bin'), { recursive: true });
  // Without tsc's build info, as published (nothing rebuilds there).
  cpSync(path.join(REPO, 'dist'), path.join(tracker, 'dist'), { recursive: true, filter: (file) => !file.endsWith('.tsbuildinfo') });
  for (const dependency of ['@modelcontextprotocol/sdk', 'commander', 'libsql', 'pg', 'smol-toml', 'zod']) {
    linkInstalled(dependency, path.join(trackerModules, dependency));
  }
  mkdirSync(path.join(trackerModules), { recursive: true });
  symlinkSync(lock, path.join(trackerModules, 'jit-lock'), 'dir');
  if (libsqlBeside) linkInstalled(LIBSQL_NATIVE, path.join(trackerModules, LIBSQL_NATIVE));
  return path.join(tracker, 'bin', 'jit.js');
}

function jit(bin: string, cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, [bin, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, JIT_LOCK_TIMEOUT: TEST_LOCK_TIMEOUT_SECONDS, JIT_DIR: undefined, JIT_DATABASE_URL: undefined, JIT_CLI_BUNDLE: undefined, ...env },
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

function project(name: string): string {
  const dir = path.join(scratch, name, 'project');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, '.keep'), '');
  return dir;
}

describe.skipIf(process.platform !== 'linux')('the bundled CLI in an isolated (linked, pnpm-like) node_modules layout', () => {
  it("finds jit-lock's prebuilt addon through node-gyp-build, which only jit-lock depends on (as the separate modules do)", () => {
    const bin = linkedInstall('lock', { libsqlBeside: true });
    const dir = project('lock');
    for (const env of [{ JIT_CLI_BUNDLE: '0' }, {}]) {
      expect(jit(bin, dir, ['init'], env).status).toBe(0);
      const created = jit(bin, dir, ['issue', 'create', '--title', 'linked'], env);
      expect(created.stderr).toBe('');
      expect(created.status).toBe(0);
      rmSync(path.join(dir, '.jit'), { recursive: true, force: true });
    }
  });

  // libsql's native package (@libsql/<target>) is a dependency of libsql, not of jit-tracker: a require() from
  // jit-tracker's dist/cli/ (the bundle) would not find it in an isolated layout.
  it("loads libsql's native package, a dependency of libsql only (as the separate modules do)", () => {
    const bin = linkedInstall('libsql', { libsqlBeside: false });
    const dir = project('libsql');
    expect(jit(bin, dir, ['init'], { JIT_CLI_BUNDLE: '0' }).status).toBe(0);
    expect(jit(bin, dir, ['issue', 'create', '--title', 'separate modules'], { JIT_CLI_BUNDLE: '0' }).status).toBe(0);
    const created = jit(bin, dir, ['issue', 'create', '--title', 'bundle']);
    expect(created.stderr).toBe('');
    expect(created.status).toBe(0);
  });
});
