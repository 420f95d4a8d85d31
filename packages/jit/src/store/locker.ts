/**
 * The store's view of the lock toolkit, injectable so the benchmark can
 * measure the same work without locks. Lock errors become JitErrors here,
 * with jit's own advice: the toolkit's errors carry only the facts.
 */
import { command, hint } from './suggestions.js';
import { existsSync } from 'node:fs';
import { lockAll, lockSync, tryLock, LockConfigError, LockError, LockTimeoutError } from 'jit-lock';
import type { LockMode, LockRequest } from 'jit-lock';
import { JitError } from './errors.js';
import { fsError } from './files.js';
import { LOCK_TIMEOUT_VARIABLE, lockTimeoutMs } from './lock-timeout.js';

export interface HeldLocks {
  release(): void;
}

export interface Locker {
  /** All or nothing, in canonical order (rank, then file identity). */
  lockAll(requests: readonly LockRequest[]): Promise<HeldLocks>;
  /** Never waits: null when the lock is busy. */
  tryLock(path: string, mode: LockMode, rank: number): HeldLocks | null;
}

/** Lock ranks: the global order index -> issues -> gates -> events (-> trust, only ever taken alone). */
export const RANK = { index: 10, issue: 20, gates: 30, events: 40, trust: 50 } as const;

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))}s`;
}

export function lockError(error: unknown): JitError {
  if (error instanceof JitError) return error;
  if (error instanceof LockTimeoutError) {
    return new JitError('LOCK_TIMEOUT', `Lock timeout: could not acquire lock on ${error.path} after ${seconds(error.timeoutMs)}`, {
      suggestions: [
        'Wait a moment and retry: another process is probably still working with these files.',
        hint`Look for a stuck process that holds the lock, e.g. with ${command('debug.locks')}, and end it.`,
        `Raise the timeout: ${LOCK_TIMEOUT_VARIABLE}=<seconds> (this attempt waited ${seconds(error.timeoutMs)}).`,
      ],
      details: { path: error.path, mode: error.mode, timeout_ms: error.timeoutMs, waited_ms: error.waitedMs },
      cause: error,
    });
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

const NOTHING_HELD: HeldLocks = { release() {} };

/**
 * Whether `error` says that the shared lock `request` is on a file that does
 * not exist and may not be created (a read-only file system, a folder we may
 * only read): a reader may then go without it. Every writer creates its lock
 * file before it writes, so where none can be created (EROFS) nobody writes;
 * where only we may not (EACCES), a writer starting now still replaces whole
 * files by rename, and readers overlay marked issues from their files.
 */
function isUncreatableReadLock(error: unknown, request: LockRequest): boolean {
  const { code, path } = error as { code?: unknown; path?: unknown };
  if ((request.mode ?? 'exclusive') !== 'shared' || path !== request.path) return false;
  if (code !== 'EROFS' && code !== 'EACCES' && code !== 'EPERM') return false;
  return !existsSync(request.path);
}

export const fileLocker: Locker = {
  async lockAll(requests) {
    let wanted = requests;
    for (;;) {
      try {
        return await lockAll(wanted, { timeoutMs: lockTimeoutMs(), followSymlinks: false });
      } catch (error) {
        const lockless = wanted.find((request) => isUncreatableReadLock(error, request));
        if (!lockless) throw lockError(error);
        wanted = wanted.filter((request) => request !== lockless);
      }
    }
  },
  tryLock(path, mode, rank) {
    try {
      return tryLock(path, { mode, rank, followSymlinks: false });
    } catch (error) {
      if (isUncreatableReadLock(error, { path, mode })) return NOTHING_HELD;
      throw lockError(error);
    }
  },
};

/** One real file lock, blocking this thread while it waits (JIT_LOCK_TIMEOUT): for initJit, which is synchronous. */
export function lockFileSync(request: LockRequest): HeldLocks {
  try {
    return lockSync(request.path, { mode: request.mode ?? 'exclusive', rank: request.rank, timeoutMs: lockTimeoutMs(), followSymlinks: false });
  } catch (error) {
    throw lockError(error);
  }
}
