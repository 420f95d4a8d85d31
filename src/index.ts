// jit-lock: true OS file locks (flock / LockFileEx) for Node.js.
export type { FileLock, LockMode, LockOptions, LockRequest, LockSet } from './types.js';
export { lock, lockSync, tryLock, withLock, probeLock } from './lock.js';
export { lockAll, lockAllSync } from './lock-all.js';
export { DEFAULT_TIMEOUT_MS, MAX_TIMEOUT_MS } from './validate.js';
export { LOCK_CHANNELS } from './metrics.js';
export { signalReachedForegroundGroup } from './terminal.js';
export type { LockAcquireMessage, LockApi, LockOutcome, LockReleaseMessage, LockWaitMessage } from './metrics.js';
export {
  LockError,
  LockTimeoutError,
  LockOrderError,
  LockReentryError,
  LockAbortedError,
  LockConfigError,
  LockOptionError,
} from './errors.js';
