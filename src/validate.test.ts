// Bad input gets a clear error with a stable code and loses nothing.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as util from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_TIMEOUT_MS,
  MAX_TIMEOUT_MS,
  lock,
  lockAll,
  lockAllSync,
  lockSync,
  tryLock,
  withLock,
  LockConfigError,
  LockOptionError,
} from './index.js';
import { openLockHandle } from './native.js';

let dir: string;
let savedTimeout: string | undefined;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jit-lock-input-'));
  savedTimeout = process.env.JIT_LOCK_TIMEOUT;
});
afterEach(() => {
  if (savedTimeout === undefined) delete process.env.JIT_LOCK_TIMEOUT;
  else process.env.JIT_LOCK_TIMEOUT = savedTimeout;
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('paths', () => {
  it('a missing parent directory is ENOENT with the path', async () => {
    const missing = path.join(dir, 'no-such-dir', 'a.lock');
    const error = await lock(missing).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ENOENT', syscall: 'open', path: missing });
    expect((error as Error).message).toContain(missing);
    expect(fs.existsSync(path.join(dir, 'no-such-dir'))).toBe(false);
  });

  it('a directory is EISDIR', () => {
    expect(() => lockSync(dir)).toThrow(expect.objectContaining({ code: 'EISDIR', path: dir }));
    expect(() => tryLock(dir)).toThrow(expect.objectContaining({ code: 'EISDIR' }));
  });

  it('file system errors carry the errno Node itself reports (negative), matching their code', () => {
    const thrown = (open: () => unknown): NodeJS.ErrnoException => {
      try {
        open();
      } catch (error) {
        return error as NodeJS.ErrnoException;
      }
      throw new Error('did not throw');
    };
    const missing = path.join(dir, 'no-such-dir', 'a.lock');
    for (const [ours, node] of [
      [thrown(() => lockSync(missing)), thrown(() => fs.openSync(missing, 'a+'))],
      [thrown(() => tryLock(dir)), thrown(() => fs.openSync(dir, 'r+'))],
    ] as const) {
      expect(ours.code).toBe(node.code);
      expect(ours.errno).toBe(node.errno);
      expect(ours.errno).toBeLessThan(0);
      expect(util.getSystemErrorName(ours.errno!)).toBe(ours.code);
    }
  });

  it.each([
    ['an empty path', '', 'ERR_INVALID_ARG_VALUE'],
    ['a NUL byte', 'a\0b.lock', 'ERR_INVALID_ARG_VALUE'],
    ['a number', 42, 'ERR_INVALID_ARG_TYPE'],
    ['undefined', undefined, 'ERR_INVALID_ARG_TYPE'],
  ])('%s is refused with a TypeError before touching the disk', async (_, bad, code) => {
    expect(() => lockSync(bad as string)).toThrow(TypeError);
    expect(() => tryLock(bad as string)).toThrow(expect.objectContaining({ code }));
    await expect(lock(bad as string)).rejects.toMatchObject({ code });
    await expect(lockAll([{ path: bad as string }])).rejects.toMatchObject({ code });
  });

  it('a symbolic link is refused (ELOOP) unless followSymlinks', () => {
    const target = path.join(dir, 'real.lock');
    const link = path.join(dir, 'link.lock');
    fs.writeFileSync(target, '');
    fs.symlinkSync(target, link);
    const error = (() => {
      try {
        lockSync(link);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toMatchObject({ code: 'ELOOP', path: link });
    expect((error as Error).message).toMatch(/does not follow symlinks for lock files/);
    const viaLink = lockSync(link, { followSymlinks: true });
    expect(tryLock(target)).toBeNull(); // the link locked the real file
    viaLink.release();
  });
});

describe('options', () => {
  it('an unknown mode is ERR_INVALID_ARG_VALUE', async () => {
    const p = path.join(dir, 'a.lock');
    await expect(lock(p, { mode: 'write' as never })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    expect(() => tryLock(p, { mode: 'EXCLUSIVE' as never })).toThrow(/'shared' or 'exclusive'/);
    await expect(lockAll([{ path: p, mode: 'x' as never }])).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
  });

  it.each([-1, NaN])('timeoutMs %s is a RangeError', async (timeoutMs) => {
    const p = path.join(dir, 'a.lock');
    await expect(lock(p, { timeoutMs })).rejects.toBeInstanceOf(RangeError);
    expect(() => lockSync(p, { timeoutMs })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
  });

  // setTimeout (and so a lock() timer) cannot wait longer: such a timeout used to never fire.
  it.each([2 ** 31, 30 * 24 * 3600 * 1000, Number.MAX_VALUE])('a finite timeoutMs above 2^31-1 (%s) is a RangeError naming the maximum', async (timeoutMs) => {
    const p = path.join(dir, 'a.lock');
    const holder = openLockHandle(p, false); // busy, so an accepted value would have to wait
    expect(holder.tryLock(true)).toBe(true);
    try {
      const error = await lock(p, { timeoutMs }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RangeError);
      expect(error).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
      expect((error as Error).message).toContain('at most 2147483647 ms');
      expect((error as Error).message).toContain('use Infinity for no limit');
      expect(() => lockSync(p, { timeoutMs })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
      await expect(lockAll([{ path: p }], { timeoutMs })).rejects.toBeInstanceOf(RangeError);
      expect(() => lockAllSync([{ path: p }], { timeoutMs })).toThrow(RangeError);
    } finally {
      holder.close();
    }
  });

  it('timeoutMs 2^31-1 and Infinity are accepted', async () => {
    const p = path.join(dir, 'a.lock');
    (await lock(p, { timeoutMs: 2 ** 31 - 1 })).release();
    lockSync(p, { timeoutMs: Infinity }).release();
  });

  it.each([
    ['lock', (p: string, o: object) => lock(p, o as never)],
    ['lockSync', (p: string, o: object) => lockSync(p, o as never)],
    ['tryLock', (p: string, o: object) => tryLock(p, o as never)],
    ['withLock', (p: string, o: object) => withLock(p, o as never, () => undefined)],
    ['lockAll', (p: string, o: object) => lockAll([{ path: p }], o as never)],
    ['lockAllSync', (p: string, o: object) => lockAllSync([{ path: p }], o as never)],
  ])('%s refuses an unknown option key (EUNKNOWNOPTION), before touching the disk', async (name, call) => {
    const p = path.join(dir, 'never-created.lock');
    const error = await (async () => call(p, { timeout: 5 }))().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockOptionError);
    expect(error).toBeInstanceOf(LockConfigError);
    expect(error).toMatchObject({ code: 'EUNKNOWNOPTION', name: 'LockOptionError', option: 'timeout' });
    expect((error as Error).message).toContain(`${name === 'withLock' ? 'lock' : name}() does not take a "timeout" option`);
    if (name !== 'tryLock') expect((error as Error).message).toContain('Did you mean "timeoutMs"?'); // tryLock never waits
    expect(fs.existsSync(p)).toBe(false);
    // a key whose value is undefined counts as absent
    const held = await call(p, { timeout: undefined, followSymlinks: false });
    if (held) held.release();
  });

  it('lockSync and lockAllSync refuse a signal they could not honour; tryLock refuses timeoutMs', () => {
    const p = path.join(dir, 'a.lock');
    const signal = new AbortController().signal;
    for (const call of [() => lockSync(p, { signal } as never), () => lockAllSync([{ path: p }], { signal } as never)]) {
      expect(call).toThrow(expect.objectContaining({ code: 'EUNKNOWNOPTION', option: 'signal' }));
      expect(call).toThrow(/cannot be aborted/);
    }
    expect(() => tryLock(p, { timeoutMs: 100 } as never)).toThrow(expect.objectContaining({ code: 'EUNKNOWNOPTION', option: 'timeoutMs' }));
  });

  it('non-number timeoutMs, non-boolean followSymlinks, non-AbortSignal signal are TypeErrors', async () => {
    const p = path.join(dir, 'a.lock');
    await expect(lock(p, { timeoutMs: '5' as never })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    expect(() => tryLock(p, { followSymlinks: 'yes' as never })).toThrow(TypeError);
    await expect(lock(p, { signal: {} as never })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    await expect(lockAll('a.lock' as never)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
  });

  it('options that are not an object are TypeErrors with a code, for every entry point', async () => {
    const p = path.join(dir, 'a.lock');
    await expect(lock(p, null as never)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    await expect(lockAll([{ path: p }], null as never)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    expect(() => lockAllSync([{ path: p }], 5 as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
  });
});

describe('the default timeout', () => {
  it('is 5000 ms, and the longest finite timeout is 2^31-1 ms', () => {
    expect(DEFAULT_TIMEOUT_MS).toBe(5000);
    expect(MAX_TIMEOUT_MS).toBe(2 ** 31 - 1);
  });

  it('no environment variable changes it (the toolkit reads none; applications pass timeoutMs)', async () => {
    for (const value of ['abc', '0', '99999999999']) {
      process.env.JIT_LOCK_TIMEOUT = value;
      (await lock(path.join(dir, 'a.lock'))).release();
      lockSync(path.join(dir, 'a.lock')).release();
      (await lockAll([{ path: path.join(dir, 'a.lock') }])).release();
      lockAllSync([{ path: path.join(dir, 'a.lock') }]).release();
    }
  });
});
