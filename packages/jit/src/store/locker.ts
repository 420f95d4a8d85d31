/**
 * The store's view of the lock toolkit, injectable so the benchmark can
 * measure the same work without locks. Lock errors become JitErrors here.
 */
import { lockAll, tryLock, LockConfigError, LockError, LockTimeoutError } from '../lock/index.js';
import type { LockMode, LockRequest } from '../lock/index.js';
import { JitError } from './errors.js';
import { fsError } from './files.js';

export interface HeldLocks {
  release(): void;
}

export interface Locker {
  /** All or nothing, in canonical order (rank, then file identity). */
  lockAll(requests: readonly LockRequest[]): Promise<HeldLocks>;
  /** Never waits: null when the lock is busy. */
  tryLock(path: string, mode: LockMode, rank: number): HeldLocks | null;
}

/** Lock ranks: the global order index -> issues -> gates -> events. */
export const RANK = { index: 10, issue: 20, gates: 30, events: 40 } as const;

export function lockError(error: unknown): JitError {
  if (error instanceof JitError) return error;
  if (error instanceof LockTimeoutError) {
    const [headline, ...rest] = error.message.split('\n');
    return new JitError('LOCK_TIMEOUT', headline!, {
      suggestions: rest.map((line) => line.replace(/^\s*(\d+\.\s*)?/, '')).filter((line) => line && line !== 'What you can do:'),
      details: { path: error.path, mode: error.mode, timeout_ms: error.timeoutMs },
      cause: error,
    });
  }
  if (error instanceof LockConfigError && error.code === 'EINVALIDTIMEOUT') {
    return new JitError('INVALID_ENV', error.message, { suggestions: ['Unset JIT_LOCK_TIMEOUT or set it to seconds, e.g. 5.'], details: { variable: 'JIT_LOCK_TIMEOUT' }, cause: error });
  }
  // Re-entry, rank order or an options key the store got wrong: a bug in jit, not the user's doing.
  if (error instanceof LockError && (error.code.startsWith('ELOCK') || error instanceof LockConfigError)) {
    return new JitError('INTERNAL', error.message, { cause: error });
  }
  const { path, code } = error as { path?: string; code?: unknown };
  if (path === undefined || typeof code !== 'string') {
    // Not a file-system error (e.g. the native addon failed to load): its own message says what to do.
    return new JitError('INTERNAL', (error as Error).message ?? String(error), { cause: error });
  }
  return fsError(error, path, 'lock');
}

export const fileLocker: Locker = {
  async lockAll(requests) {
    try {
      return await lockAll(requests, { followSymlinks: false });
    } catch (error) {
      throw lockError(error);
    }
  },
  tryLock(path, mode, rank) {
    try {
      return tryLock(path, { mode, rank, followSymlinks: false });
    } catch (error) {
      throw lockError(error);
    }
  },
};
