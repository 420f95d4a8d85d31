// Loads the compiled addon (native/binding.cc) and describes its surface.
import { existsSync } from 'node:fs';
import { arch, platform } from 'node:os';
import path from 'node:path';

/** One open lock file. Every method but close() throws once closed. */
export interface NativeLockHandle {
  /** Never waits: true when the lock was taken, false when held elsewhere. */
  tryLock(exclusive: boolean): boolean;
  unlock(): void;
  /** "device:inode" (POSIX) or "volume:index" (Windows). */
  identity(): string;
  /** Waits on a dedicated native thread; callback runs once on this thread.
   *  `acquired` is false (and error null) when close() ended the wait. */
  waitAsync(exclusive: boolean, callback: (error: Error | null, acquired: boolean) => void): void;
  /** Blocks this thread up to timeoutMs (Infinity: no limit); false on timeout. */
  waitSync(exclusive: boolean, timeoutMs: number): boolean;
  /** Cancels a pending wait and closes the file, releasing the lock. Safe twice. */
  close(): void;
}

interface NativeAddon {
  LockHandle: new (path: string, followSymlinks: boolean, readOnlyFallback?: boolean) => NativeLockHandle;
}

// Both src/ and dist/ sit one level below the package root.
const packageRoot = path.resolve(__dirname, '..');

/**
 * The addon compiled on install, where node-gyp-build looks first; loading it
 * directly spares every process start node-gyp-build's package.json parse and
 * folder scans. Undefined when it is missing or node-gyp-build's environment
 * overrides (prebuilds only, another prebuild folder) are set: then
 * node-gyp-build decides.
 */
function loadLocalBuild(): NativeAddon | undefined {
  if (process.env['PREBUILDS_ONLY'] || process.env['JIT_LOCK_PREBUILD']) return undefined;
  const file = path.join(packageRoot, 'build', 'Release', 'jit_lock.node');
  return existsSync(file) ? (require(file) as NativeAddon) : undefined;
}

function loadAddon(): NativeAddon {
  try {
    return loadLocalBuild() ?? (require('node-gyp-build') as (dir: string) => NativeAddon)(packageRoot);
  } catch (cause) {
    const target = `${platform()}-${arch()}`;
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
 * Opens (creating if missing) a lock file. With `readOnlyFallback`, an
 * existing file that may not be opened for writing (read-only file system,
 * mode) is opened read-only, which a shared lock needs no more than. Throws
 * Node-style errors (code, errno, syscall, path).
 */
export function openLockHandle(filePath: string, followSymlinks: boolean, readOnlyFallback = false): NativeLockHandle {
  addon ??= loadAddon();
  return new addon.LockHandle(filePath, followSymlinks, readOnlyFallback);
}
