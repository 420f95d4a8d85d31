// The default lock timeout, from JIT_LOCK_TIMEOUT.
import { LockConfigError } from './errors.js';
import { MAX_TIMEOUT_MS } from './validate.js';

export const DEFAULT_TIMEOUT_MS = 5000;
export const TIMEOUT_VARIABLE = 'JIT_LOCK_TIMEOUT';

/**
 * JIT_LOCK_TIMEOUT in seconds (decimals allowed, e.g. "0.5"), else 5000 ms.
 * Read on every call so tests and long-lived servers see changes.
 */
export function defaultTimeoutMs(): number {
  const raw = process.env[TIMEOUT_VARIABLE];
  if (raw === undefined || raw.trim() === '') return DEFAULT_TIMEOUT_MS;
  const seconds = /^\s*(\d+(\.\d*)?|\.\d+)\s*$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isFinite(seconds)) {
    throw new LockConfigError(
      `${TIMEOUT_VARIABLE}=${JSON.stringify(raw)} is not a valid lock timeout: it must be a non-negative ` +
        `number of seconds, e.g. ${TIMEOUT_VARIABLE}=5 or ${TIMEOUT_VARIABLE}=0.5. Fix or unset the variable.`,
    );
  }
  if (seconds * 1000 > MAX_TIMEOUT_MS) {
    throw new LockConfigError(
      `${TIMEOUT_VARIABLE}=${JSON.stringify(raw)} is too long a lock timeout: the maximum is ${MAX_TIMEOUT_MS / 1000} ` +
        `seconds (about 24.8 days). For no limit, unset the variable and pass timeoutMs: Infinity.`,
    );
  }
  return seconds * 1000;
}
