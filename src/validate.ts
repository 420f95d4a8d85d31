// Argument checks done in TypeScript before anything reaches the addon.
import { LockOptionError } from './errors.js';
import type { LockMode } from './types.js';

type ArgCode = 'ERR_INVALID_ARG_TYPE' | 'ERR_INVALID_ARG_VALUE';

function withCode<E extends Error>(error: E, code: ArgCode): E & { code: ArgCode } {
  return Object.assign(error, { code });
}

export function checkPath(path: unknown, name = 'path'): string {
  if (typeof path !== 'string') {
    throw withCode(new TypeError(`The "${name}" argument must be a string, received ${describe(path)}`), 'ERR_INVALID_ARG_TYPE');
  }
  if (path === '') {
    throw withCode(new TypeError(`The "${name}" argument must be a non-empty path to a lock file`), 'ERR_INVALID_ARG_VALUE');
  }
  if (path.includes('\0')) {
    throw withCode(new TypeError(`The "${name}" argument must not contain NUL bytes, received ${JSON.stringify(path)}`), 'ERR_INVALID_ARG_VALUE');
  }
  return path;
}

export function checkMode(mode: unknown, name = 'mode'): LockMode {
  if (mode === undefined) return 'exclusive';
  if (mode === 'shared' || mode === 'exclusive') return mode;
  throw withCode(
    new TypeError(`The "${name}" option must be 'shared' or 'exclusive', received ${describe(mode)}`),
    'ERR_INVALID_ARG_VALUE',
  );
}

export function checkRank(rank: unknown, name = 'rank'): number | undefined {
  if (rank === undefined) return undefined;
  if (typeof rank !== 'number') {
    throw withCode(new TypeError(`The "${name}" option must be a number, received ${describe(rank)}`), 'ERR_INVALID_ARG_TYPE');
  }
  if (Number.isNaN(rank)) {
    throw withCode(new RangeError(`The "${name}" option must not be NaN`), 'ERR_INVALID_ARG_VALUE');
  }
  return rank;
}

/** The longest finite timeout: timers (setTimeout, and so ours) cannot wait longer. */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** How long lock(), lockSync(), lockAll() and lockAllSync() wait when no timeoutMs is given. */
export const DEFAULT_TIMEOUT_MS = 5000;

export function checkTimeout(timeoutMs: unknown): number | undefined {
  if (timeoutMs === undefined) return undefined;
  if (typeof timeoutMs !== 'number') {
    throw withCode(new TypeError(`The "timeoutMs" option must be a number, received ${describe(timeoutMs)}`), 'ERR_INVALID_ARG_TYPE');
  }
  if (Number.isNaN(timeoutMs) || timeoutMs < 0) {
    throw withCode(
      new RangeError(`The "timeoutMs" option must be a non-negative number of milliseconds (or Infinity), received ${timeoutMs}`),
      'ERR_INVALID_ARG_VALUE',
    );
  }
  if (timeoutMs > MAX_TIMEOUT_MS && timeoutMs !== Infinity) {
    throw withCode(
      new RangeError(
        `The "timeoutMs" option must be at most ${MAX_TIMEOUT_MS} ms (about 24.8 days); use Infinity for no limit, received ${timeoutMs}`,
      ),
      'ERR_INVALID_ARG_VALUE',
    );
  }
  return timeoutMs;
}

export function checkSignal(signal: unknown): AbortSignal | undefined {
  if (signal === undefined || signal instanceof AbortSignal) return signal;
  throw withCode(new TypeError(`The "signal" option must be an AbortSignal, received ${describe(signal)}`), 'ERR_INVALID_ARG_TYPE');
}

export function checkBoolean(value: unknown, name: string): boolean {
  if (value === undefined) return false;
  if (typeof value === 'boolean') return value;
  throw withCode(new TypeError(`The "${name}" option must be a boolean, received ${describe(value)}`), 'ERR_INVALID_ARG_TYPE');
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  if (typeof value === 'object' || typeof value === 'function') return `an instance of ${value.constructor?.name ?? 'Object'}`;
  return `${typeof value} ${String(value)}`;
}

/**
 * The options argument: undefined (defaults) or an object whose own keys are
 * all in `allowed` (a key whose value is undefined counts as absent). An
 * unknown key is a LockOptionError (EUNKNOWNOPTION) naming it and `fn`.
 */
export function checkOptionsObject<T extends object>(options: unknown, fn: string, allowed: readonly (keyof T & string)[]): Partial<T> {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null) {
    throw Object.assign(new TypeError('The "options" argument must be an object'), { code: 'ERR_INVALID_ARG_TYPE' });
  }
  for (const key of Object.keys(options)) {
    if ((options as Record<string, unknown>)[key] !== undefined && !(allowed as readonly string[]).includes(key)) {
      throw new LockOptionError(fn, key, allowed);
    }
  }
  return options as Partial<T>;
}
