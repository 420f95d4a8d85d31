// lockAll / lockAllSync: several locks in one canonical order, all or nothing.
import { performance } from 'node:perf_hooks';
import { acquireAsync, acquireSync, HeldFileLock, openAttempt, type Attempt } from './acquire.js';
import { LockTimeoutError } from './errors.js';
import { lockChannels, outcomeOf, publishAcquire, type LockApi } from './metrics.js';
import { checkBlockingAcquisition } from './registry.js';
import type { FileLock, LockMode, LockRequest, LockSet } from './types.js';
import { checkBoolean, checkMode, checkOptionsObject, checkPath, checkRank, checkSignal, checkTimeout, DEFAULT_TIMEOUT_MS } from './validate.js';

class HeldLockSet implements LockSet {
  #released = false;

  constructor(readonly locks: readonly FileLock[]) {}

  get held(): boolean {
    return !this.#released && this.locks.every((l) => l.held);
  }

  release(): void {
    this.#released = true;
    for (let i = this.locks.length - 1; i >= 0; i--) this.locks[i]!.release();
  }

  [Symbol.dispose](): void {
    this.release();
  }
}

/**
 * Canonical order: rank ascending, unranked after every ranked lock, then
 * file identity (device:inode). Every process sorts the same files the same
 * way whatever the path spelling, so two lockAll calls cannot deadlock.
 */
function compareAttempts(a: Attempt, b: Attempt): number {
  if (a.rank !== b.rank) {
    if (a.rank === undefined) return 1;
    if (b.rank === undefined) return -1;
    return a.rank - b.rank;
  }
  return a.identity < b.identity ? -1 : a.identity > b.identity ? 1 : 0;
}

/**
 * Opens every file, merges requests for one file (the strongest mode and the
 * lowest rank win), sorts, and refuses re-entry or out-of-order ranks
 * against what this realm already holds, before anything waits.
 */
function plan(requests: readonly LockRequest[], followSymlinks: boolean, api: LockApi): Attempt[] {
  if (!Array.isArray(requests)) {
    throw Object.assign(new TypeError('The "requests" argument must be an array of { path, mode?, rank? }'), {
      code: 'ERR_INVALID_ARG_TYPE',
    });
  }
  const checked = requests.map((r: LockRequest, i) => {
    if (typeof r !== 'object' || r === null) {
      throw Object.assign(new TypeError(`requests[${i}] must be an object { path, mode?, rank? }`), {
        code: 'ERR_INVALID_ARG_TYPE',
      });
    }
    return { path: checkPath(r.path, `requests[${i}].path`), mode: checkMode(r.mode, `requests[${i}].mode`), rank: checkRank(r.rank, `requests[${i}].rank`) };
  });
  const byFile = new Map<string, Attempt>();
  let current: { path: string; mode: LockMode } | undefined; // the request or attempt being worked on, for a failure's metrics
  try {
    for (const request of checked) {
      current = request;
      const attempt = openAttempt(request.path, request.mode, request.rank, followSymlinks);
      const same = byFile.get(attempt.identity);
      if (!same) {
        byFile.set(attempt.identity, attempt);
        continue;
      }
      attempt.close();
      if (attempt.mode === 'exclusive') same.mode = 'exclusive';
      if (attempt.rank !== undefined && (same.rank === undefined || attempt.rank < same.rank)) same.rank = attempt.rank;
    }
    const attempts = [...byFile.values()].sort(compareAttempts);
    for (const attempt of attempts) {
      current = attempt;
      checkBlockingAcquisition(attempt);
    }
    return attempts;
  } catch (error) {
    closeAll([...byFile.values()]);
    if (current && lockChannels().acquire.hasSubscribers) publishAcquire({ ...current, waitStartedAt: NaN }, api, outcomeOf(error), error);
    throw error;
  }
}

/** Announces the failure of the attempt that was being taken when a lockAll failed. */
function publishFailure(attempt: Attempt | undefined, api: LockApi, error: unknown): void {
  if (attempt && lockChannels().acquire.hasSubscribers) publishAcquire(attempt, api, outcomeOf(error), error);
}

function closeAll(attempts: readonly Attempt[]): void {
  for (const attempt of attempts) attempt.close();
}

/** Releases what was taken, in reverse, and closes every file of the plan. */
function rollBack(taken: readonly HeldFileLock[], attempts: readonly Attempt[]): void {
  for (let i = taken.length - 1; i >= 0; i--) taken[i]!.release();
  closeAll(attempts);
}

type SetOptions = { timeoutMs: unknown; followSymlinks: unknown; signal: unknown };

function checkSetOptions(
  options: unknown,
  fn: string,
  allowed: readonly (keyof SetOptions)[],
): { timeoutMs: number; followSymlinks: boolean; signal: AbortSignal | undefined } {
  const o = checkOptionsObject<SetOptions>(options, fn, allowed);
  return {
    timeoutMs: checkTimeout(o.timeoutMs) ?? DEFAULT_TIMEOUT_MS,
    followSymlinks: checkBoolean(o.followSymlinks, 'followSymlinks'),
    signal: checkSignal(o.signal),
  };
}

/** Takes every lock within one overall timeout, or none (rolling back in reverse). */
export async function lockAll(
  requests: readonly LockRequest[],
  options: { timeoutMs?: number; signal?: AbortSignal; followSymlinks?: boolean } = {},
): Promise<LockSet> {
  const { timeoutMs, followSymlinks, signal } = checkSetOptions(options, 'lockAll', ['timeoutMs', 'signal', 'followSymlinks']);
  const started = performance.now();
  const deadline = started + timeoutMs;
  const attempts = plan(requests, followSymlinks, 'lockAll');
  const taken: HeldFileLock[] = [];
  let current: Attempt | undefined;
  try {
    for (const attempt of attempts) {
      current = attempt;
      const remaining = Math.max(0, deadline - performance.now());
      const onTimeout = (): Error => new LockTimeoutError(attempt.path, attempt.mode, timeoutMs, performance.now() - started);
      await acquireAsync(attempt, remaining, signal, onTimeout, 'lockAll', started);
      taken.push(new HeldFileLock(attempt, 'lockAll'));
    }
  } catch (error) {
    rollBack(taken, attempts);
    publishFailure(current, 'lockAll', error);
    throw error;
  }
  return new HeldLockSet(taken);
}

/** lockAll that blocks this thread. */
export function lockAllSync(
  requests: readonly LockRequest[],
  options: { timeoutMs?: number; followSymlinks?: boolean } = {},
): LockSet {
  const { timeoutMs, followSymlinks } = checkSetOptions(options, 'lockAllSync', ['timeoutMs', 'followSymlinks']);
  const started = performance.now();
  const deadline = started + timeoutMs;
  const attempts = plan(requests, followSymlinks, 'lockAllSync');
  const taken: HeldFileLock[] = [];
  let current: Attempt | undefined;
  try {
    for (const attempt of attempts) {
      current = attempt;
      const remaining = Math.max(0, deadline - performance.now());
      if (!acquireSync(attempt, remaining, 'lockAllSync')) {
        throw new LockTimeoutError(attempt.path, attempt.mode, timeoutMs, performance.now() - started);
      }
      taken.push(new HeldFileLock(attempt, 'lockAllSync'));
    }
  } catch (error) {
    rollBack(taken, attempts);
    publishFailure(current, 'lockAllSync', error);
    throw error;
  }
  return new HeldLockSet(taken);
}
