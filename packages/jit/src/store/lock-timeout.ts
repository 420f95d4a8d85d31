/**
 * JIT_LOCK_TIMEOUT: how long the store waits for a busy lock. The lock
 * toolkit reads no environment; the store reads this variable and passes the
 * timeout in with every lock request.
 */
import { DEFAULT_TIMEOUT_MS, MAX_TIMEOUT_MS } from 'jit-lock';
import { JitError } from './errors.js';

export const LOCK_TIMEOUT_VARIABLE = 'JIT_LOCK_TIMEOUT';

function invalid(message: string): JitError {
  return new JitError('INVALID_ENV', message, {
    suggestions: [`Unset ${LOCK_TIMEOUT_VARIABLE} or set it to seconds, e.g. 5.`],
    details: { variable: LOCK_TIMEOUT_VARIABLE },
  });
}

/**
 * The variable in milliseconds: seconds with decimals allowed (e.g. "0.5"),
 * from 0 to 2147483.647; unset or empty, the toolkit's default (5 s). Read
 * on every call so tests and long-lived servers (`jit mcp`) see changes.
 */
export function lockTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[LOCK_TIMEOUT_VARIABLE];
  if (raw === undefined || raw.trim() === '') return DEFAULT_TIMEOUT_MS;
  const setting = `${LOCK_TIMEOUT_VARIABLE}=${JSON.stringify(raw)}`;
  const seconds = /^\s*(\d+(\.\d*)?|\.\d+)\s*$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isFinite(seconds)) {
    throw invalid(
      `${setting} is not a valid lock timeout: it must be a non-negative number of seconds, e.g. ` +
        `${LOCK_TIMEOUT_VARIABLE}=5 or ${LOCK_TIMEOUT_VARIABLE}=0.5. Fix or unset the variable.`,
    );
  }
  if (seconds * 1000 > MAX_TIMEOUT_MS) {
    throw invalid(
      `${setting} is too long a lock timeout: the maximum is ${MAX_TIMEOUT_MS / 1000} seconds (about 24.8 days). ` +
        'Fix or unset the variable.',
    );
  }
  return seconds * 1000;
}
