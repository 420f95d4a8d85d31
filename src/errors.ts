// The lock toolkit's errors. Every one has a stable `code`.
import type { LockMode } from './types.js';

export class LockError extends Error {
  override name = 'LockError';
  readonly code: string;
  readonly path?: string;

  constructor(code: string, message: string, options: { path?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    if (options.path !== undefined) this.path = options.path;
  }
}

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))}s`;
}

/** The lock stayed busy for the whole timeout. */
export class LockTimeoutError extends LockError {
  override name = 'LockTimeoutError';
  readonly mode: LockMode;
  readonly timeoutMs: number;

  constructor(path: string, mode: LockMode, timeoutMs: number) {
    super(
      'ELOCKTIMEOUT',
      [
        `Lock timeout: could not acquire lock on ${path} after ${seconds(timeoutMs)}`,
        'What you can do:',
        '  1. Wait a moment and retry: another process is probably still working with these files.',
        '  2. Look for a stuck process that holds the lock, e.g. with `jit debug locks`, and end it.',
        `  3. Raise the timeout: JIT_LOCK_TIMEOUT=<seconds> (this attempt waited ${seconds(timeoutMs)}).`,
      ].join('\n'),
      { path },
    );
    this.mode = mode;
    this.timeoutMs = timeoutMs;
  }
}

export interface RankedLockInfo {
  path: string;
  rank: number;
}

/** Taking a lower rank while a higher one is held would allow deadlocks. */
export class LockOrderError extends LockError {
  override name = 'LockOrderError';
  readonly held: RankedLockInfo;
  readonly requested: RankedLockInfo;

  constructor(held: RankedLockInfo, requested: RankedLockInfo) {
    super(
      'ELOCKORDER',
      `Lock order violation: requested ${requested.path} (rank ${requested.rank}) while holding ` +
        `${held.path} (rank ${held.rank}). Take locks in ascending rank order: release the ` +
        'higher-ranked lock first, or acquire both together with lockAll().',
      { path: requested.path },
    );
    this.held = held;
    this.requested = requested;
  }
}

/**
 * A blocking acquisition that would wait for a lock this realm already holds,
 * or that one of its unsettled lock()/lockAll() calls is waiting for
 * (`pending` true).
 */
export class LockReentryError extends LockError {
  override name = 'LockReentryError';
  readonly heldPath: string;
  readonly pending: boolean;

  constructor(path: string, heldPath: string, options: { pending?: boolean } = {}) {
    const pending = options.pending ?? false;
    const same = heldPath === path ? '' : ` (same file as ${path})`;
    super(
      'ELOCKHELD',
      pending
        ? `Lock already requested: this process (thread) is already waiting for the lock on ${heldPath}${same} ` +
            'in a lock() that has not settled; waiting for it again could wait for itself. Await that lock() ' +
            'first (and release it), or abort it.'
        : `Lock already held: this process (thread) already holds the lock on ${heldPath}${same}` +
            '; waiting for it would wait for itself. Release the held lock first, or reuse it.',
      { path },
    );
    this.heldPath = heldPath;
    this.pending = pending;
  }
}

/** The AbortSignal fired before the lock was acquired; `cause` is signal.reason. */
export class LockAbortedError extends LockError {
  override name = 'AbortError';

  constructor(path: string, reason: unknown) {
    super('ABORT_ERR', `Lock request for ${path} was aborted`, { path, cause: reason });
  }
}

/**
 * A configuration the lock toolkit refuses. This class itself (code
 * EINVALIDTIMEOUT): a JIT_LOCK_TIMEOUT that is not a number of seconds from
 * 0 to 2147483.647 (a bad timeoutMs option is a RangeError, like Node's).
 * Subclasses carry their own code.
 */
export class LockConfigError extends LockError {
  override name = 'LockConfigError';

  constructor(message: string, code = 'EINVALIDTIMEOUT') {
    super(code, message);
  }
}

/** An options object with a key the function does not take (misspelt, or unsupported there). */
export class LockOptionError extends LockConfigError {
  override name = 'LockOptionError';
  readonly option: string;
  readonly allowed: readonly string[];

  constructor(functionName: string, option: string, allowed: readonly string[]) {
    const takes = `${functionName}() takes: ${allowed.join(', ')}`;
    let hint = '';
    if (option === 'signal') {
      hint = ` It cannot be aborted: it never waits or blocks this thread while it waits. Use a timeoutMs, or lock()/lockAll() for an abortable wait.`;
    } else {
      const near = allowed.find((key) => key.toLowerCase().startsWith(option.toLowerCase()) || option.toLowerCase().startsWith(key.toLowerCase()));
      if (near) hint = ` Did you mean "${near}"?`;
    }
    super(`${functionName}() does not take a "${option}" option (${takes}).${hint}`, 'EUNKNOWNOPTION');
    this.option = option;
    this.allowed = allowed;
  }
}
