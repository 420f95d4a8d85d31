// JIT_LOCK_TIMEOUT, the store's lock timeout (the lock toolkit reads no
// environment). That the store passes it in: test/store/locks.test.ts.
import { describe, expect, it } from 'vitest';
import { JitError } from './errors.js';
import { lockTimeoutMs } from './lock-timeout.js';

function errorFor(value: string): JitError {
  try {
    lockTimeoutMs({ JIT_LOCK_TIMEOUT: value });
  } catch (error) {
    expect(error).toBeInstanceOf(JitError);
    return error as JitError;
  }
  throw new Error(`JIT_LOCK_TIMEOUT=${value} was accepted`);
}

describe('JIT_LOCK_TIMEOUT', () => {
  it('defaults to 5000 ms (unset or blank) and accepts seconds with decimals', () => {
    expect(lockTimeoutMs({})).toBe(5000);
    expect(lockTimeoutMs({ JIT_LOCK_TIMEOUT: ' ' })).toBe(5000);
    expect(lockTimeoutMs({ JIT_LOCK_TIMEOUT: '0.25' })).toBe(250);
    expect(lockTimeoutMs({ JIT_LOCK_TIMEOUT: '.5' })).toBe(500);
    expect(lockTimeoutMs({ JIT_LOCK_TIMEOUT: '12' })).toBe(12_000);
    expect(lockTimeoutMs({ JIT_LOCK_TIMEOUT: '0' })).toBe(0);
    expect(lockTimeoutMs({ JIT_LOCK_TIMEOUT: '2147483.647' })).toBe(2 ** 31 - 1);
  });

  it('reads process.env on every call', () => {
    const saved = process.env['JIT_LOCK_TIMEOUT'];
    try {
      process.env['JIT_LOCK_TIMEOUT'] = '0.2';
      expect(lockTimeoutMs()).toBe(200);
      process.env['JIT_LOCK_TIMEOUT'] = '3';
      expect(lockTimeoutMs()).toBe(3000);
    } finally {
      if (saved === undefined) delete process.env['JIT_LOCK_TIMEOUT'];
      else process.env['JIT_LOCK_TIMEOUT'] = saved;
    }
  });

  it.each(['2147484', '99999999999'])('%s (more than 2^31-1 ms) is INVALID_ENV naming the variable and the maximum', (value) => {
    const error = errorFor(value);
    expect(error.code).toBe('INVALID_ENV');
    expect(error.message).toContain(`JIT_LOCK_TIMEOUT="${value}"`);
    expect(error.message).toContain('the maximum is 2147483.647 seconds');
    expect(error.details).toEqual({ variable: 'JIT_LOCK_TIMEOUT' });
  });

  it.each(['abc', '-1', '5s', '1e3', 'NaN', 'Infinity'])('%s is INVALID_ENV naming the variable and its value', (value) => {
    const error = errorFor(value);
    expect(error.code).toBe('INVALID_ENV');
    expect(error.message).toContain(`JIT_LOCK_TIMEOUT=${JSON.stringify(value)} is not a valid lock timeout`);
    expect(error.suggestions).toEqual(['Unset JIT_LOCK_TIMEOUT or set it to seconds, e.g. 5.']);
  });
});
