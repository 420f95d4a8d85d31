// The public types of jit-lock.

export type LockMode = 'shared' | 'exclusive';

export interface LockOptions {
  /** Default 'exclusive'. */
  mode?: LockMode;
  /** How long to wait for a busy lock; default DEFAULT_TIMEOUT_MS (5000). 0 = do not wait, Infinity = no limit. */
  timeoutMs?: number;
  /** Aborting stops the wait with LockAbortedError. */
  signal?: AbortSignal;
  /** Lock-order rank: taking a lower rank while holding a higher one throws LockOrderError. */
  rank?: number;
  /** Default false: a symbolic link at the lock path is refused (code 'ELOOP'). */
  followSymlinks?: boolean;
}

export interface FileLock {
  /** The path as given by the caller. */
  readonly path: string;
  readonly mode: LockMode;
  readonly rank: number | undefined;
  /** False once released. */
  readonly held: boolean;
  /** Releases the OS lock and closes the file. Safe to call twice. */
  release(): void;
  [Symbol.dispose](): void;
}

export interface LockRequest {
  path: string;
  mode?: LockMode;
  rank?: number;
}

export interface LockSet {
  /** One lock per distinct file, in the order they were taken. */
  readonly locks: readonly FileLock[];
  /** True until release(). */
  readonly held: boolean;
  /** Releases every lock in reverse order. Safe to call twice. */
  release(): void;
  [Symbol.dispose](): void;
}
