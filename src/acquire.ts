// The steps every acquisition shares: open the file, learn its identity,
// take the OS lock (fast path, then a wait), and wrap a held lock.
import { LockAbortedError, LockError } from './errors.js';
import { openLockHandle, type NativeLockHandle } from './native.js';
import { addHeld, addPending, removeHeld, removePending, type HeldEntry } from './registry.js';
import type { FileLock, LockMode } from './types.js';
import { MAX_TIMEOUT_MS } from './validate.js';

/** An open lock file that is not locked (yet). */
export interface Attempt extends HeldEntry {
  readonly handle: NativeLockHandle;
  mode: LockMode; // lockAll may strengthen it when merging duplicates
  rank: number | undefined;
}

/**
 * Opens the lock file: never waits, refuses anything but a regular file
 * (EFTYPE); for a shared lock, read-only where writing is refused. `probing` is for probeLock, which has no
 * followSymlinks option: its ELOOP error gives advice it can follow.
 */
export function openAttempt(
  path: string,
  mode: LockMode,
  rank: number | undefined,
  followSymlinks: boolean,
  probing = false,
): Attempt {
  let handle: NativeLockHandle;
  try {
    // A shared lock (or a probe) needs no write access: a file we may only read still takes it.
    handle = openLockHandle(path, followSymlinks, mode === 'shared' || probing);
  } catch (error) {
    if (!followSymlinks && (error as { code?: unknown }).code === 'ELOOP') {
      throw new LockError(
        'ELOOP',
        `Refusing to ${probing ? 'probe' : 'lock'} ${path}: it is a symbolic link, and jit-lock does not follow ` +
          'symlinks for lock files (a link could point the lock anywhere). ' +
          (probing ? 'Probe the real file (the link\'s target) instead.' : 'Lock the real file, or pass followSymlinks: true.'),
        { path, cause: error },
      );
    }
    if ((error as { code?: unknown }).code === 'EFTYPE') {
      throw new LockError(
        'EFTYPE',
        `Refusing to ${probing ? 'probe' : 'lock'} ${path}: it is not a regular file (a FIFO, socket or device). ` +
          'A lock file must be a regular file: remove what is there, or lock another path.',
        { path, cause: error },
      );
    }
    throw error;
  }
  try {
    return { handle, identity: handle.identity(), path, mode, rank };
  } catch (error) {
    handle.close();
    throw error;
  }
}

/** Takes the lock without waiting longer than timeoutMs; false on timeout. Blocks this thread. */
export function acquireSync(attempt: Attempt, timeoutMs: number): boolean {
  const exclusive = attempt.mode === 'exclusive';
  return attempt.handle.tryLock(exclusive) || (timeoutMs > 0 && attempt.handle.waitSync(exclusive, timeoutMs));
}

/**
 * Takes the lock, waiting on a native thread while the event loop runs on.
 * Rejects with `onTimeout()` after timeoutMs or LockAbortedError on abort; a
 * rejected attempt's handle is closed, so no lock outlives its promise.
 * While it waits the attempt is registered as pending in this realm, so a
 * blocking acquisition of the same file refuses at once (ELOCKHELD).
 */
export function acquireAsync(
  attempt: Attempt,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  onTimeout: () => Error,
): Promise<void> {
  const { handle, path } = attempt;
  const exclusive = attempt.mode === 'exclusive';
  if (signal?.aborted) return Promise.reject(new LockAbortedError(path, signal.reason));
  if (handle.tryLock(exclusive)) return Promise.resolve();
  if (timeoutMs === 0) return Promise.reject(onTimeout());
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const settle = (error?: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (error === undefined) {
        resolve(); // still pending until HeldFileLock registers it as held: no gap in between
      } else {
        removePending(attempt);
        handle.close(); // ends the native wait; a lock it got meanwhile is released
        reject(error);
      }
    };
    const onAbort = (): void => settle(new LockAbortedError(path, signal?.reason));
    addPending(attempt);
    try {
      handle.waitAsync(exclusive, (error, acquired) => {
        if (error) settle(error);
        else if (acquired) settle();
        // else: close() ended the wait, and settle() already ran
      });
    } catch (error) {
      settle(error); // e.g. no thread could be started: forget the pending wait
      return;
    }
    if (timeoutMs <= MAX_TIMEOUT_MS) timer = setTimeout(() => settle(onTimeout()), timeoutMs); // else Infinity
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

// A lock that is dropped without release() is released when collected (the
// native finalizer closes its file); this forgets it in the registry too.
const forgotten = new FinalizationRegistry<HeldEntry>(removeHeld);

/** A lock this realm holds; registered until released. */
export class HeldFileLock implements FileLock {
  readonly path: string;
  readonly mode: LockMode;
  readonly rank: number | undefined;
  readonly #entry: HeldEntry;
  #handle: NativeLockHandle | null;

  constructor(attempt: Attempt) {
    this.path = attempt.path;
    this.mode = attempt.mode;
    this.rank = attempt.rank;
    this.#entry = { identity: attempt.identity, path: attempt.path, mode: attempt.mode, rank: attempt.rank };
    this.#handle = attempt.handle;
    addHeld(this.#entry);
    removePending(attempt); // an async wait that just succeeded
    forgotten.register(this, this.#entry, this);
  }

  get held(): boolean {
    return this.#handle !== null;
  }

  release(): void {
    const handle = this.#handle;
    if (handle === null) return;
    this.#handle = null;
    removeHeld(this.#entry);
    forgotten.unregister(this);
    handle.close(); // closing the file releases the OS lock
  }

  [Symbol.dispose](): void {
    this.release();
  }
}
