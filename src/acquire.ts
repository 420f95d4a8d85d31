// The steps every acquisition shares: open the file, learn its identity,
// take the OS lock (fast path, then a wait), and wrap a held lock.
import { performance } from 'node:perf_hooks';
import { LockAbortedError, LockError } from './errors.js';
import { lockChannels, publishAcquire, publishRelease, publishWait, type LockApi } from './metrics.js';
import { NativeLockHandle, openHandle, openLockedHandle } from './native.js';
import { addHeld, addPending, removeHeld, removePending, type HeldEntry } from './registry.js';
import type { FileLock, LockMode } from './types.js';
import { MAX_TIMEOUT_MS } from './validate.js';

/**
 * An open lock file that is not locked (yet); once locked, the held lock's
 * registry entry. It is its own native handle: one object less per lock.
 */
export class Attempt extends NativeLockHandle implements HeldEntry {
  #identity: string | undefined;
  heldSlot = -1;
  pendingSlot = -1;
  /** What an async wait left for release() to clean up (its timeout timer). */
  afterWait: (() => void) | undefined = undefined;
  /** performance.now() when the first try failed (contended); NaN while it has not. For the metrics. */
  waitStartedAt = NaN;
  /** performance.now() when it was taken, if someone listened on jit-lock:release then; else NaN. */
  acquiredAt = NaN;

  constructor(
    handle: number,
    path: string,
    public mode: LockMode, // lockAll may strengthen it when merging duplicates
    public rank: number | undefined,
  ) {
    super(handle, path);
  }

  /** Asked for only when this realm holds or awaits other locks (or by lockAll), so a lone lock pays no fstat for it. */
  get identity(): string {
    return (this.#identity ??= this.fileIdentity());
  }
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
  try {
    // A shared lock (or a probe) needs no write access: a file we may only read still takes it.
    return new Attempt(openHandle(path, followSymlinks, mode === 'shared' || probing), path, mode, rank);
  } catch (error) {
    throw explainOpenError(error, path, followSymlinks, probing);
  }
}

/** openAttempt + tryLock in one step: null when the lock is busy (the file is closed again). */
export function openLockedAttempt(path: string, mode: LockMode, rank: number | undefined, followSymlinks: boolean): Attempt | null {
  let handle: number;
  try {
    handle = openLockedHandle(path, followSymlinks, mode === 'shared', mode === 'exclusive');
  } catch (error) {
    throw explainOpenError(error, path, followSymlinks, false);
  }
  return handle === -1 ? null : new Attempt(handle, path, mode, rank);
}

/** The error to throw for a failed open: ours where we can say more than the OS. */
function explainOpenError(error: unknown, path: string, followSymlinks: boolean, probing: boolean): unknown {
  const code = (error as { code?: unknown }).code;
  if (!followSymlinks && code === 'ELOOP') {
    return new LockError(
      'ELOOP',
      `Refusing to ${probing ? 'probe' : 'lock'} ${path}: it is a symbolic link, and jit-lock does not follow ` +
        'symlinks for lock files (a link could point the lock anywhere). ' +
        (probing ? 'Probe the real file (the link\'s target) instead.' : 'Lock the real file, or pass followSymlinks: true.'),
      { path, cause: error },
    );
  }
  if (code === 'EFTYPE') {
    return new LockError(
      'EFTYPE',
      `Refusing to ${probing ? 'probe' : 'lock'} ${path}: it is not a regular file (a FIFO, socket or device). ` +
        'A lock file must be a regular file: remove what is there, or lock another path.',
      { path, cause: error },
    );
  }
  return error;
}

/** Takes the lock without waiting longer than timeoutMs; false on timeout. Blocks this thread. */
export function acquireSync(attempt: Attempt, timeoutMs: number, api: LockApi): boolean {
  const exclusive = attempt.mode === 'exclusive';
  if (attempt.tryLock(exclusive)) return true;
  attempt.waitStartedAt = performance.now();
  if (timeoutMs <= 0) return false;
  if (lockChannels().wait.hasSubscribers) publishWait(attempt, api);
  primeHandOff();
  return attempt.waitSync(exclusive, timeoutMs);
}

/**
 * A fresh process's first hand-off would compile the code it runs next
 * (HeldFileLock, the registry, the wait's callback) on the hand-off's clock:
 * ~0.3 ms, more than the hand-off itself. So the first wait runs that code
 * once, on nothing, before it blocks (or while its native thread does).
 */
let handOffPrimed = false;

function primeHandOff(onWaitEnd?: (error: Error | null, acquired: boolean) => void): void {
  onWaitEnd?.(null, false); // "the wait was closed": a no-op
  const channels = lockChannels();
  if (handOffPrimed || channels.acquire.hasSubscribers || channels.release.hasSubscribers) return; // they would hear of the dummy
  handOffPrimed = true;
  // Handle -1 is never open: close() ignores it.
  new HeldFileLock(new Attempt(-1, '', 'exclusive', undefined), 'lock').release();
}

/**
 * Takes the lock, waiting on a native thread while the event loop runs on.
 * Rejects with `onTimeout()` after timeoutMs or LockAbortedError on abort
 * (waited: since `startedAt`, a performance.now() reading); a
 * rejected attempt's handle is closed, so no lock outlives its promise.
 * While it waits the attempt is registered as pending in this realm, so a
 * blocking acquisition of the same file refuses at once (ELOCKHELD).
 */
export function acquireAsync(
  attempt: Attempt,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  onTimeout: () => Error,
  api: LockApi,
  startedAt: number,
): Promise<void> {
  const { path } = attempt;
  const exclusive = attempt.mode === 'exclusive';
  const aborted = (): Error => new LockAbortedError(path, signal?.reason, attempt.mode, performance.now() - startedAt);
  if (signal?.aborted) return Promise.reject(aborted());
  if (attempt.tryLock(exclusive)) return Promise.resolve();
  attempt.waitStartedAt = performance.now();
  if (timeoutMs === 0) return Promise.reject(onTimeout());
  if (lockChannels().wait.hasSubscribers) publishWait(attempt, api);
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const fail = (error: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      removePending(attempt);
      attempt.close(); // ends the native wait; a lock it got meanwhile is released
      reject(error);
    };
    const onAbort = (): void => fail(aborted());
    const onWaitEnd = (error: Error | null, acquired: boolean): void => {
      if (error) {
        fail(error);
      } else if (acquired && !settled) {
        // The hand-off's path: it leaves the timer to release() (see
        // afterWait) because Node's timer code is not compiled yet in a
        // fresh process, and clearing one there costs ~0.15 ms.
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        if (timer !== undefined) attempt.afterWait = () => clearTimeout(timer);
        resolve(); // still pending until HeldFileLock registers it as held: no gap in between
      }
      // else: close() ended the wait, and fail() already ran (primeHandOff relies on this being a no-op)
    };
    addPending(attempt);
    try {
      attempt.waitAsync(exclusive, onWaitEnd);
    } catch (error) {
      fail(error); // e.g. no thread could be started: forget the pending wait
      return;
    }
    if (!handOffPrimed) primeHandOff(onWaitEnd);
    if (timeoutMs <= MAX_TIMEOUT_MS) {
      timer = setTimeout(() => settled || fail(onTimeout()), timeoutMs); // else Infinity
      timer.unref(); // the wait keeps the event loop alive; a lock that waits for release() to clear this must not
    }
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

// A lock that is dropped without release() is released when collected: this
// closes its file and forgets it in the registry.
const forgotten = new FinalizationRegistry<Attempt>((entry) => {
  removeHeld(entry);
  entry.close();
  entry.afterWait?.();
  if (lockChannels().release.hasSubscribers) publishRelease(entry, true);
});

// Registering with (and unregistering from) the FinalizationRegistry costs
// about a tenth of an uncontended lock + release. A lock released before the
// microtasks of the task that took it run never needs it, so new locks are
// registered in a batch at the next microtask, or when many pile up in one
// long synchronous stretch. Until then this list holds them strongly: none
// can be collected (and leak its OS lock) unregistered. (A promise reaction,
// not queueMicrotask: that one is Node code a fresh process has not compiled
// yet, ~0.15 ms on a cold hand-off.)
const unregistered: HeldFileLock[] = [];
const MAX_UNREGISTERED = 256;
const settledPromise = Promise.resolve();

/**
 * A lock this realm holds; registered until released. Constructing one is
 * the acquisition's success: it is announced on jit-lock:acquire.
 */
export class HeldFileLock implements FileLock {
  readonly path: string;
  readonly mode: LockMode;
  readonly rank: number | undefined;
  #entry: Attempt | null;
  #registered = false; // with `forgotten`

  constructor(attempt: Attempt, api: LockApi) {
    this.path = attempt.path;
    this.mode = attempt.mode;
    this.rank = attempt.rank;
    this.#entry = attempt;
    addHeld(attempt);
    removePending(attempt); // an async wait that just succeeded
    if (unregistered.push(this) === 1) void settledPromise.then(HeldFileLock.#registerPending);
    else if (unregistered.length >= MAX_UNREGISTERED) HeldFileLock.#registerPending();
    const channels = lockChannels();
    if (channels.release.hasSubscribers) attempt.acquiredAt = performance.now();
    if (channels.acquire.hasSubscribers) publishAcquire(attempt, api, 'acquired');
  }

  static #registerPending(): void {
    for (const lock of unregistered) {
      if (lock.#entry !== null) {
        forgotten.register(lock, lock.#entry, lock.#entry);
        lock.#registered = true;
      }
    }
    unregistered.length = 0;
  }

  get held(): boolean {
    return this.#entry !== null;
  }

  /** The OS handle of a lock still held (a file descriptor on POSIX), for the jit-lock command to hand on. */
  static descriptorOf(lock: FileLock): number | undefined {
    return lock instanceof HeldFileLock ? lock.#entry?.handle : undefined;
  }

  release(): void {
    const entry = this.#entry;
    if (entry === null) return;
    this.#entry = null;
    removeHeld(entry);
    if (this.#registered) forgotten.unregister(entry);
    entry.close(); // closing the file releases the OS lock
    entry.afterWait?.();
    if (lockChannels().release.hasSubscribers) publishRelease(entry, false);
  }

  [Symbol.dispose](): void {
    this.release();
  }
}
