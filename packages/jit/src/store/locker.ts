/**
 * The store's view of the lock toolkit, injectable so the benchmark can
 * measure the same work without locks. Lock errors become JitErrors here,
 * with jit's own advice: the toolkit's errors carry only the facts.
 */
import { lockAll, tryLock, LockConfigError, LockError, LockTimeoutError } from 'jit-lock';
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

/** Lock ranks: the global order index -> issues -> gates -> events. */
export const RANK = { index: 10, issue: 20, gates: 30, events: 40 } as const;

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))}s`;
}

export function lockError(error: unknown): JitError {
  if (error instanceof JitError) return error;
  if (error instanceof LockTimeoutError) {
    return new JitError('LOCK_TIMEOUT', `Lock timeout: could not acquire lock on ${error.path} after ${seconds(error.timeoutMs)}`, {
      suggestions: [
        'Wait a moment and retry: another process is probably still working with these files.',
        'Look for a stuck process that holds the lock, e.g. with `jit debug locks`, and end it.',
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

export const fileLocker: Locker = {
  async lockAll(requests) {
    try {
      return await lockAll(requests, { timeoutMs: lockTimeoutMs(), followSymlinks: false });
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
