// Loads the compiled addon (native/binding.cc) and describes its surface.
import { existsSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/** The addon's functions (native/binding.cc). A handle is the number open() returned. */
interface NativeAddon {
  /** With lockNow (true: exclusive), also tryLock: -1 when busy (and closed again). */
  open(path: string, followSymlinks: boolean, readOnlyFallback: boolean, lockNow?: boolean): number;
  // `path` only words an error: the addon keeps no copy per open file.
  tryLock(handle: number, exclusive: boolean, path: string): boolean;
  unlock(handle: number, path: string): void;
  identity(handle: number, path: string): string;
  waitAsync(handle: number, exclusive: boolean, callback: (error: Error | null, acquired: boolean) => void, path: string): void;
  waitSync(handle: number, exclusive: boolean, timeoutMs: number, path: string): boolean;
  close(handle: number): void;
}

/**
 * The package root, where build/ and prebuilds/ are: one level above this
 * module (src/ and dist/ both sit there), or, when this module was bundled
 * into another program's file (the jit CLI's bundle), the folder of the
 * package as that program resolves it. binding.gyp is published with the
 * package and marks its root.
 */
function findPackageRoot(): string {
  const parent = path.resolve(__dirname, '..');
  if (existsSync(path.join(parent, 'binding.gyp'))) return parent;
  // The node_modules folders require('jit-lock') would search, in its order, without resolving the
  // package's exports (which loads Node's ESM resolver, milliseconds of a CLI's start).
  // Its real folder, as require() would give: in an isolated layout (pnpm, npm's linked strategy) the folder
  // found is a symlink, and jit-lock's own dependencies (node-gyp-build) sit beside its real folder only.
  for (const dir of require.resolve.paths('jit-lock') ?? []) {
    if (existsSync(path.join(dir, 'jit-lock', 'binding.gyp'))) return realpathSync(path.join(dir, 'jit-lock'));
  }
  throw new Error(`the jit-lock package folder (with its binding.gyp) is neither above ${__dirname} nor in a node_modules folder that require() searches from there`);
}

/**
 * The addon compiled on install, where node-gyp-build looks first; loading it
 * directly spares every process start node-gyp-build's package.json parse and
 * folder scans. Undefined when it is missing or node-gyp-build's environment
 * overrides (prebuilds only, another prebuild folder) are set: then
 * node-gyp-build decides.
 */
function loadLocalBuild(packageRoot: string): NativeAddon | undefined {
  if (process.env['PREBUILDS_ONLY'] || process.env['JIT_LOCK_PREBUILD']) return undefined;
  const file = path.join(packageRoot, 'build', 'Release', 'jit_lock.node');
  return existsSync(file) ? (require(file) as NativeAddon) : undefined;
}

/** node-gyp-build as this package resolves it (a bundle holding this module may sit where it does not resolve). */
function nodeGypBuild(packageRoot: string): (dir: string) => NativeAddon {
  return createRequire(path.join(packageRoot, 'package.json'))('node-gyp-build') as (dir: string) => NativeAddon;
}

function loadAddon(): NativeAddon {
  let packageRoot = path.resolve(__dirname, '..');
  try {
    packageRoot = findPackageRoot();
    return loadLocalBuild(packageRoot) ?? nodeGypBuild(packageRoot)(packageRoot);
  } catch (cause) {
    const target = `${process.platform}-${process.arch}`;
    throw new Error(
      [
        `jit-lock: could not load its native lock addon (jit_lock.node) for ${target}, Node ${process.versions.node}.`,
        'Tried:',
        `  - ${path.join(packageRoot, 'build', 'Release', 'jit_lock.node')} (built on install)`,
        `  - ${path.join(packageRoot, 'prebuilds', target)}/ (prebuilt binaries)`,
        `Reason: ${cause instanceof Error ? cause.message.trim() : String(cause)}`,
        'What to do:',
        '  - run `npm rebuild jit-lock` to build it (needs python3, make and a C++ compiler: g++/clang, or Visual Studio Build Tools on Windows);',
        `  - if your platform (${target}) has no prebuilt binary and cannot compile, please report it.`,
      ].join('\n'),
      { cause },
    );
  }
}

let addon: NativeAddon | undefined;

/**
 * One open lock file. Every method but close() throws once closed. Nothing
 * closes a handle that is dropped while open, but the end of its thread or
 * process: HeldFileLock registers one for that (src/acquire.ts).
 */
export class NativeLockHandle {
  constructor(
    /** The addon's number for it: a file descriptor on POSIX, a HANDLE value on Windows. */
    readonly handle: number,
    /** The path as opened. */
    readonly path: string,
  ) {}

  /** Never waits: true when the lock was taken, false when held elsewhere. */
  tryLock(exclusive: boolean): boolean {
    return addon!.tryLock(this.handle, exclusive, this.path);
  }

  unlock(): void {
    addon!.unlock(this.handle, this.path);
  }

  /** "device:inode" (POSIX) or "volume:index" (Windows). */
  fileIdentity(): string {
    return addon!.identity(this.handle, this.path);
  }

  /** Waits on a dedicated native thread; callback runs once on this thread.
   *  `acquired` is false (and error null) when close() ended the wait. */
  waitAsync(exclusive: boolean, callback: (error: Error | null, acquired: boolean) => void): void {
    addon!.waitAsync(this.handle, exclusive, callback, this.path);
  }

  /** Blocks this thread up to timeoutMs (Infinity: no limit); false on timeout. */
  waitSync(exclusive: boolean, timeoutMs: number): boolean {
    return addon!.waitSync(this.handle, exclusive, timeoutMs, this.path);
  }

  /** Cancels a pending wait and closes the file, releasing the lock. Safe twice. */
  close(): void {
    addon!.close(this.handle);
  }
}

/**
 * Opens (creating if missing) a lock file. With `readOnlyFallback`, an
 * existing file that may not be opened for writing (read-only file system,
 * mode) is opened read-only, which a shared lock needs no more than. Throws
 * Node-style errors (code, errno, syscall, path).
 */
export function openLockHandle(filePath: string, followSymlinks: boolean, readOnlyFallback = false): NativeLockHandle {
  return new NativeLockHandle(openHandle(filePath, followSymlinks, readOnlyFallback), filePath);
}

/** openLockHandle's handle number, for a subclass of NativeLockHandle to wrap. */
export function openHandle(filePath: string, followSymlinks: boolean, readOnlyFallback: boolean): number {
  addon ??= loadAddon();
  return addon.open(filePath, followSymlinks, readOnlyFallback);
}

/** openHandle + tryLock in one call into the addon: -1 (the file closed again) when the lock is busy. */
export function openLockedHandle(filePath: string, followSymlinks: boolean, readOnlyFallback: boolean, exclusive: boolean): number {
  addon ??= loadAddon();
  return addon.open(filePath, followSymlinks, readOnlyFallback, exclusive);
}
