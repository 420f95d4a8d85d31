// lock, lockSync, tryLock, withLock, probeLock: one file at a time.
import * as fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { acquireAsync, acquireSync, HeldFileLock, openAttempt, openLockedAttempt, type Attempt } from './acquire.js';
import { LockTimeoutError } from './errors.js';
import { lockChannels, outcomeOf, publishAcquire, type LockApi } from './metrics.js';
import { checkBlockingAcquisition } from './registry.js';
import type { FileLock, LockMode, LockOptions } from './types.js';
import { checkBoolean, checkMode, checkOptionsObject, checkPath, checkRank, checkSignal, checkTimeout, DEFAULT_TIMEOUT_MS } from './validate.js';

interface Checked {
  path: string;
  mode: LockMode;
  rank: number | undefined;
  followSymlinks: boolean;
}

const WAIT_OPTIONS = ['mode', 'timeoutMs', 'signal', 'rank', 'followSymlinks'] as const;
const SYNC_OPTIONS = ['mode', 'timeoutMs', 'rank', 'followSymlinks'] as const; // nothing can abort a blocked thread
const TRY_OPTIONS = ['mode', 'rank', 'followSymlinks'] as const; // it never waits

function checkOptions(path: unknown, options: unknown, fn: string, allowed: readonly (keyof LockOptions)[]): Checked {
  if (options === undefined) return { path: checkPath(path), mode: 'exclusive', rank: undefined, followSymlinks: false };
  const o = checkOptionsObject<LockOptions>(options, fn, allowed);
  return {
    path: checkPath(path),
    mode: checkMode(o.mode),
    rank: checkRank(o.rank),
    followSymlinks: checkBoolean(o.followSymlinks, 'followSymlinks'),
  };
}

/** Opens the file and refuses re-entry and out-of-order ranks before any wait. */
function openForBlocking(checked: Checked): Attempt {
  const attempt = openAttempt(checked.path, checked.mode, checked.rank, checked.followSymlinks);
  try {
    checkBlockingAcquisition(attempt);
  } catch (error) {
    attempt.close();
    throw error;
  }
  return attempt;
}

/**
 * A failed acquisition (its arguments were valid): closes what it opened,
 * announces it on jit-lock:acquire and returns the error to throw.
 */
function failed(api: LockApi, checked: Checked, attempt: Attempt | undefined, error: unknown): unknown {
  attempt?.close();
  if (lockChannels().acquire.hasSubscribers) {
    publishAcquire(attempt ?? { path: checked.path, mode: checked.mode, waitStartedAt: NaN }, api, outcomeOf(error), error);
  }
  return error;
}

/** Waits (without blocking the event loop) until the lock is held. */
export async function lock(path: string, options?: LockOptions): Promise<FileLock> {
  const checked = checkOptions(path, options, 'lock', WAIT_OPTIONS);
  const signal = checkSignal(options?.signal);
  const timeoutMs = checkTimeout(options?.timeoutMs) ?? DEFAULT_TIMEOUT_MS;
  let attempt: Attempt | undefined;
  try {
    attempt = openForBlocking(checked);
    const started = performance.now();
    const onTimeout = (): Error => new LockTimeoutError(checked.path, checked.mode, timeoutMs, performance.now() - started);
    await acquireAsync(attempt, timeoutMs, signal, onTimeout, 'lock', started);
  } catch (error) {
    throw failed('lock', checked, attempt, error);
  }
  return new HeldFileLock(attempt, 'lock');
}

/** Blocks this thread until the lock is held (kernel wake-up, no polling) or the timeout passes. */
export function lockSync(path: string, options?: Omit<LockOptions, 'signal'>): FileLock {
  const checked = checkOptions(path, options, 'lockSync', SYNC_OPTIONS);
  const timeoutMs = checkTimeout(options?.timeoutMs) ?? DEFAULT_TIMEOUT_MS;
  let attempt: Attempt | undefined;
  try {
    attempt = openForBlocking(checked);
    const started = performance.now();
    if (!acquireSync(attempt, timeoutMs, 'lockSync')) {
      throw new LockTimeoutError(checked.path, checked.mode, timeoutMs, performance.now() - started);
    }
  } catch (error) {
    throw failed('lockSync', checked, attempt, error);
  }
  return new HeldFileLock(attempt, 'lockSync');
}

/**
 * Takes the lock only if it is free right now; never waits. A file this
 * realm already holds conflicts like any other holder (null), except that
 * shared + shared succeeds.
 */
export function tryLock(path: string, options?: Pick<LockOptions, 'mode' | 'rank' | 'followSymlinks'>): FileLock | null {
  const checked = checkOptions(path, options, 'tryLock', TRY_OPTIONS);
  let attempt: Attempt | null;
  try {
    attempt = openLockedAttempt(checked.path, checked.mode, checked.rank, checked.followSymlinks);
  } catch (error) {
    throw failed('tryLock', checked, undefined, error);
  }
  if (attempt !== null) return new HeldFileLock(attempt, 'tryLock');
  if (lockChannels().acquire.hasSubscribers) publishAcquire({ path: checked.path, mode: checked.mode, waitStartedAt: NaN }, 'tryLock', 'busy');
  return null;
}

/** Acquires, runs fn, and releases in `finally`; returns fn's result. */
export async function withLock<T>(path: string, options: LockOptions, fn: (lock: FileLock) => T | Promise<T>): Promise<T> {
  const held = await lock(path, options);
  try {
    return await fn(held);
  } finally {
    held.release();
  }
}

/**
 * Who holds an existing lock file right now, for diagnostics. Never
 * creates the file (a missing file is 'unlocked') and never waits; it
 * briefly takes and drops the lock itself, so a concurrent tryLock
 * elsewhere may see it busy for a few microseconds.
 */
export function probeLock(path: string): 'unlocked' | 'shared' | 'exclusive' {
  checkPath(path);
  if (!fs.lstatSync(path, { throwIfNoEntry: false })) return 'unlocked';
  const handle = openAttempt(path, 'exclusive', undefined, false, true);
  try {
    if (handle.tryLock(true)) return 'unlocked';
    if (handle.tryLock(false)) return 'shared';
    return 'exclusive';
  } finally {
    handle.close();
  }
}
