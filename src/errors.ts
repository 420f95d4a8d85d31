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

/**
 * The lock stayed busy for the whole timeout. The fields say what was asked
 * and how long it waited, so an application can word its own advice (which
 * tool finds the holder, which setting raises the timeout).
 */
export class LockTimeoutError extends LockError {
  override name = 'LockTimeoutError';
  readonly mode: LockMode;
  readonly timeoutMs: number;
  /** Milliseconds this call waited, rounded; about timeoutMs (lockAll: since the call began). */
  readonly waitedMs: number;

  constructor(path: string, mode: LockMode, timeoutMs: number, waitedMs: number = timeoutMs) {
    super(
      'ELOCKTIMEOUT',
      `Lock timeout: could not acquire ${mode === 'shared' ? 'a shared' : 'an exclusive'} lock on ${path} within ` +
        `${seconds(timeoutMs)}: another process or thread holds it. Retry later, end the holder if it is stuck, ` +
        'or pass a longer timeoutMs (Infinity waits without limit).',
      { path },
    );
    this.mode = mode;
    this.timeoutMs = timeoutMs;
    this.waitedMs = Math.round(waitedMs);
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
  readonly mode: LockMode;
  /** Milliseconds this call waited before the abort, rounded (lockAll: since the call began). */
  readonly waitedMs: number;

  constructor(path: string, reason: unknown, mode: LockMode = 'exclusive', waitedMs = 0) {
    super('ABORT_ERR', `Lock request for ${path} was aborted`, { path, cause: reason });
    this.mode = mode;
    this.waitedMs = Math.round(waitedMs);
  }
}

/**
 * A configuration the lock toolkit refuses; each subclass carries its own
 * code. (A bad option value is a TypeError or RangeError, like Node's.)
 */
export class LockConfigError extends LockError {
  override name = 'LockConfigError';

  constructor(message: string, code: string) {
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
