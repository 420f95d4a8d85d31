// lockAll / lockAllSync and rank ordering, against real OS locks. A raw
// native handle plays "another process" (its own open file description).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  lock,
  lockAll,
  lockAllSync,
  lockSync,
  probeLock,
  tryLock,
  LockAbortedError,
  LockOrderError,
  LockReentryError,
  LockTimeoutError,
} from './index.js';
import { openLockHandle, type NativeLockHandle } from './native.js';

let dir: string;
const cleanups: Array<() => void> = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jit-lockall-unit-'));
});
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
  fs.rmSync(dir, { recursive: true, force: true });
});

const file = (name: string): string => path.join(dir, name);

function holdElsewhere(filePath: string): NativeLockHandle {
  const handle = openLockHandle(filePath, false);
  expect(handle.tryLock(true)).toBe(true);
  cleanups.push(() => handle.close());
  return handle;
}

describe('lockAll', () => {
  it('takes every lock in canonical order: rank ascending, unranked last, then file identity', async () => {
    const set = await lockAll([
      { path: file('u2.lock') },
      { path: file('r3.lock'), rank: 3 },
      { path: file('u1.lock'), mode: 'shared' },
      { path: file('r1.lock'), rank: 1 },
      { path: file('r2.lock'), rank: 2 },
    ]);
    cleanups.push(() => set.release());
    expect(set.held).toBe(true);
    expect(set.locks.map((l) => l.rank)).toEqual([1, 2, 3, undefined, undefined]);
    expect(set.locks.slice(0, 3).map((l) => path.basename(l.path))).toEqual(['r1.lock', 'r2.lock', 'r3.lock']);
    const inode = (p: string): bigint => fs.statSync(p, { bigint: true }).ino;
    const [u1, u2] = set.locks.slice(3).map((l) => inode(l.path));
    expect(u1! <= u2!).toBe(true);
    for (const l of set.locks) expect(probeLock(l.path)).toBe(l.mode);
    set.release();
    set.release();
    expect(set.held).toBe(false);
    for (const l of set.locks) expect(probeLock(l.path)).toBe('unlocked');
  });

  it('merges duplicates of one file (any spelling): strongest mode, lowest rank, no self-deadlock', async () => {
    fs.mkdirSync(file('sub'));
    const started = performance.now();
    const set = await lockAll(
      [
        { path: file('dup.lock'), mode: 'shared', rank: 5 },
        { path: path.join(dir, 'sub', '..', 'dup.lock'), mode: 'exclusive' },
        { path: file('dup.lock'), mode: 'shared', rank: 2 },
      ],
      { timeoutMs: 5000 },
    );
    cleanups.push(() => set.release());
    expect(performance.now() - started).toBeLessThan(1000);
    expect(set.locks).toHaveLength(1);
    expect(set.locks[0]).toMatchObject({ path: file('dup.lock'), mode: 'exclusive', rank: 2 });
    expect(probeLock(file('dup.lock'))).toBe('exclusive');
  });

  it('rolls back on timeout: releases what it took, in reverse, and takes nothing', async () => {
    holdElsewhere(file('b.lock'));
    const started = performance.now();
    const error = await lockAll(
      [
        { path: file('a.lock'), rank: 1 },
        { path: file('b.lock'), rank: 2 },
        { path: file('c.lock'), rank: 3 },
      ],
      { timeoutMs: 200 },
    ).catch((e: unknown) => e);
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
    expect(error).toBeInstanceOf(LockTimeoutError);
    expect(error).toMatchObject({ path: file('b.lock'), timeoutMs: 200 });
    expect(probeLock(file('a.lock'))).toBe('unlocked');
    expect(probeLock(file('c.lock'))).toBe('unlocked');
    // Nothing stayed registered either: a blocking lock of a.lock is not a re-entry.
    lockSync(file('a.lock'), { rank: 1 }).release();
  });

  it('one overall deadline covers every lock', async () => {
    // a frees up after 1000 ms; one deadline of 1200 ms must then leave b only
    // the remaining 200 ms (fails at ~1200), where a fresh timeout per lock
    // would wait for b until ~2200.
    const first = holdElsewhere(file('a.lock'));
    holdElsewhere(file('b.lock'));
    setTimeout(() => first.unlock(), 1000);
    const started = performance.now();
    await expect(lockAll([{ path: file('a.lock') }, { path: file('b.lock') }], { timeoutMs: 1200 })).rejects.toBeInstanceOf(
      LockTimeoutError,
    );
    const waited = performance.now() - started;
    expect(waited).toBeGreaterThanOrEqual(1190);
    expect(waited).toBeLessThan(2100);
  });

  it('an abort rolls back too', async () => {
    holdElsewhere(file('b.lock'));
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    await expect(
      lockAll([{ path: file('a.lock') }, { path: file('b.lock') }], { signal: controller.signal, timeoutMs: 10_000 }),
    ).rejects.toBeInstanceOf(LockAbortedError);
    expect(probeLock(file('a.lock'))).toBe('unlocked');
  });

  it('lockAllSync takes all or nothing as well', () => {
    const set = lockAllSync([{ path: file('a.lock') }, { path: file('b.lock'), mode: 'shared' }]);
    expect(set.locks.map((l) => probeLock(l.path)).sort()).toEqual(['exclusive', 'shared']);
    set.release();
    holdElsewhere(file('b.lock'));
    expect(() => lockAllSync([{ path: file('a.lock') }, { path: file('b.lock') }], { timeoutMs: 50 })).toThrow(LockTimeoutError);
    expect(probeLock(file('a.lock'))).toBe('unlocked');
  });

  it('refuses a file this realm already holds before taking anything', async () => {
    const held = lockSync(file('b.lock'));
    cleanups.push(() => held.release());
    await expect(lockAll([{ path: file('a.lock') }, { path: file('b.lock') }])).rejects.toBeInstanceOf(LockReentryError);
    expect(probeLock(file('a.lock'))).toBe('unlocked');
  });

  it('with Symbol.dispose', () => {
    {
      using set = lockAllSync([{ path: file('a.lock') }]);
      expect(set.held).toBe(true);
    }
    expect(probeLock(file('a.lock'))).toBe('unlocked');
  });
});

describe('lock order (ranks)', () => {
  it('taking a lower rank while holding a higher one throws LockOrderError naming both, at once', async () => {
    const high = lockSync(file('high.lock'), { rank: 20 });
    cleanups.push(() => high.release());
    const started = performance.now();
    const error = await lock(file('low.lock'), { rank: 10, timeoutMs: 10_000 }).catch((e: unknown) => e);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(error).toBeInstanceOf(LockOrderError);
    expect(error).toMatchObject({
      code: 'ELOCKORDER',
      held: { path: file('high.lock'), rank: 20 },
      requested: { path: file('low.lock'), rank: 10 },
    });
    expect((error as Error).message).toContain(`${file('high.lock')} (rank 20)`);
    expect((error as Error).message).toContain(`${file('low.lock')} (rank 10)`);
    expect(() => lockSync(file('low.lock'), { rank: 10 })).toThrow(LockOrderError);
    await expect(lockAll([{ path: file('low.lock'), rank: 10 }])).rejects.toBeInstanceOf(LockOrderError);
    expect(probeLock(file('low.lock'))).toBe('unlocked');
  });

  it('equal or higher ranks, unranked locks, and tryLock are not refused', () => {
    const first = lockSync(file('a.lock'), { rank: 5 });
    const same = lockSync(file('b.lock'), { rank: 5 });
    const higher = lockSync(file('c.lock'), { rank: 6 });
    const unranked = lockSync(file('d.lock'));
    const tried = tryLock(file('e.lock'), { rank: 1 }); // never waits, so it cannot deadlock
    expect(tried).not.toBeNull();
    for (const l of [tried!, unranked, higher, same, first]) l.release();
    // once the higher rank is released, a lower one is fine again
    lockSync(file('low.lock'), { rank: 1 }).release();
  });
});
