// Unit tests of the single-file API against the real OS. A second open of
// the same file (a raw native handle) conflicts exactly like another process.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  lock,
  lockAllSync,
  lockSync,
  probeLock,
  tryLock,
  withLock,
  LockAbortedError,
  LockError,
  LockReentryError,
  LockTimeoutError,
  type FileLock,
} from './index.js';
import { openLockHandle, type NativeLockHandle } from './native.js';

let dir: string;
const cleanups: Array<() => void> = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jit-lock-unit-'));
});
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
  fs.rmSync(dir, { recursive: true, force: true });
});

function file(name = 'a.lock'): string {
  return path.join(dir, name);
}

/** Another holder: its own open file description, so it conflicts like another process. */
function holdElsewhere(filePath: string, exclusive = true): NativeLockHandle {
  const handle = openLockHandle(filePath, false);
  expect(handle.tryLock(exclusive)).toBe(true);
  cleanups.push(() => handle.close());
  return handle;
}

function track<T extends FileLock | null>(held: T): T {
  if (held) cleanups.push(() => held.release());
  return held;
}

describe('guide tests', () => {
  it('acquires an exclusive lock', async () => {
    const held = track(await lock(file()));
    expect(held).toMatchObject({ path: file(), mode: 'exclusive', held: true, rank: undefined });
    expect(probeLock(file())).toBe('exclusive');
    const other = openLockHandle(file(), false);
    cleanups.push(() => other.close());
    expect(other.tryLock(false)).toBe(false);
  });

  it('acquires a shared lock that admits other readers but no writer', () => {
    const held = track(lockSync(file(), { mode: 'shared' }));
    expect(held.mode).toBe('shared');
    expect(probeLock(file())).toBe('shared');
    const other = openLockHandle(file(), false);
    cleanups.push(() => other.close());
    expect(other.tryLock(false)).toBe(true);
    other.unlock();
    expect(other.tryLock(true)).toBe(false);
  });

  it('tryLock does not wait for a busy lock', () => {
    holdElsewhere(file());
    const started = performance.now();
    expect(tryLock(file())).toBeNull();
    expect(tryLock(file(), { mode: 'shared' })).toBeNull();
    expect(performance.now() - started).toBeLessThan(500);
  });

  it('is released by release() (safe twice) and by Symbol.dispose', () => {
    const first = lockSync(file());
    first.release();
    first.release();
    expect(first.held).toBe(false);
    expect(probeLock(file())).toBe('unlocked');
    {
      using second = lockSync(file());
      expect(second.held).toBe(true);
      expect(probeLock(file())).toBe('exclusive');
    }
    expect(probeLock(file())).toBe('unlocked');
  });
});

describe('same process', () => {
  it('two tryLocks of one file conflict (flock belongs to the open file)', () => {
    const first = track(tryLock(file()));
    expect(first).not.toBeNull();
    expect(tryLock(file())).toBeNull();
    first!.release();
    expect(track(tryLock(file()))).not.toBeNull();
  });

  it('a blocking acquisition of a held file fails at once with ELOCKHELD, under any spelling', async () => {
    const held = track(lockSync(file()));
    const started = performance.now();
    expect(() => lockSync(file(), { timeoutMs: 10_000 })).toThrow(LockReentryError);
    const spelled = path.join(dir, '.', 'sub', '..', 'a.lock');
    fs.mkdirSync(path.join(dir, 'sub'));
    await expect(lock(spelled, { timeoutMs: 10_000 })).rejects.toMatchObject({ code: 'ELOCKHELD', path: spelled });
    await expect(lock(file(), { mode: 'shared', timeoutMs: 10_000 })).rejects.toBeInstanceOf(LockReentryError);
    expect(performance.now() - started).toBeLessThan(1000);
    held.release();
    track(lockSync(file()));
  });

  it('shared + shared in one process is allowed (it cannot wait for itself)', async () => {
    track(lockSync(file(), { mode: 'shared' }));
    const second = track(await lock(file(), { mode: 'shared', timeoutMs: 0 }));
    expect(second.held).toBe(true);
    expect(() => lockSync(file(), { mode: 'exclusive' })).toThrow(expect.objectContaining({ code: 'ELOCKHELD' }));
  });

  // The async wait's native thread may win the hand-off while lockSync blocks
  // this thread, which then cannot run the code that would release it.
  it('while a lock() waits, blocking acquisitions of that file fail at once with ELOCKHELD naming it', async () => {
    const other = holdElsewhere(file());
    const pending = lock(file(), { timeoutMs: 30_000 });
    const spelled = path.join(dir, '.', 'a.lock');
    const refusals = [
      () => lockSync(file(), { timeoutMs: 200 }),
      () => lockSync(spelled, { mode: 'shared', timeoutMs: 200 }),
      () => lockAllSync([{ path: file('b.lock') }, { path: spelled }], { timeoutMs: 200 }),
    ];
    for (const refused of refusals) {
      let error: unknown;
      try {
        refused();
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(LockReentryError);
      expect(error).toMatchObject({ code: 'ELOCKHELD', heldPath: file(), pending: true });
      expect((error as Error).message).toContain(`waiting for the lock on ${file()}`);
    }
    // A second async lock() of the file is refused the same way (documented).
    await expect(lock(spelled, { timeoutMs: 200 })).rejects.toMatchObject({ code: 'ELOCKHELD', path: spelled, pending: true });
    expect(tryLock(file())).toBeNull(); // tryLock never waits: just busy
    expect(track(lockSync(file('b.lock'), { timeoutMs: 0 })).held).toBe(true); // nothing was left held
    other.close();
    const held = track(await pending);
    expect(() => lockSync(file(), { timeoutMs: 200 })).toThrow(expect.objectContaining({ code: 'ELOCKHELD', pending: false }));
    held.release();
    track(lockSync(file(), { timeoutMs: 0 }));
  });

  it('a pending shared lock() does not refuse another shared request; a settled wait is forgotten', async () => {
    const other = holdElsewhere(file());
    const shared = lock(file(), { mode: 'shared', timeoutMs: 30_000 });
    // Not refused: it waits like any other reader (and times out here).
    expect(() => lockSync(file(), { mode: 'shared', timeoutMs: 50 })).toThrow(LockTimeoutError);
    expect(() => lockSync(file(), { timeoutMs: 50 })).toThrow(expect.objectContaining({ code: 'ELOCKHELD' }));
    const controller = new AbortController();
    holdElsewhere(file('c.lock'));
    const aborted = lock(file('c.lock'), { signal: controller.signal, timeoutMs: 30_000 });
    controller.abort();
    await expect(aborted).rejects.toBeInstanceOf(LockAbortedError);
    await expect(lock(file('c.lock'), { timeoutMs: 50 })).rejects.toBeInstanceOf(LockTimeoutError); // not ELOCKHELD
    other.close();
    (await shared).release();
    track(lockSync(file(), { timeoutMs: 0 }));
  });

  it('the lock file is created if missing and never truncated or deleted', () => {
    fs.writeFileSync(file(), 'keep me');
    lockSync(file()).release();
    expect(fs.readFileSync(file(), 'utf8')).toBe('keep me');
    lockSync(file('new.lock')).release();
    expect(fs.existsSync(file('new.lock'))).toBe(true);
  });
});

describe('waiting', () => {
  it('lockSync times out while the lock is busy and succeeds once it is free', () => {
    const holder = holdElsewhere(file());
    expect(() => lockSync(file(), { timeoutMs: 50 })).toThrow(LockTimeoutError);
    holder.unlock();
    const held = track(lockSync(file(), { timeoutMs: 1000 }));
    expect(held.held).toBe(true);
  });

  it('lock() resolves when the holder releases', async () => {
    const holder = holdElsewhere(file());
    setTimeout(() => holder.unlock(), 50);
    const held = track(await lock(file(), { timeoutMs: 5000 }));
    expect(held.held).toBe(true);
  });

  it('timeoutMs 0 fails at once when busy', async () => {
    holdElsewhere(file());
    await expect(lock(file(), { timeoutMs: 0 })).rejects.toMatchObject({ code: 'ELOCKTIMEOUT', timeoutMs: 0 });
    expect(() => lockSync(file(), { timeoutMs: 0 })).toThrow(LockTimeoutError);
  });

  it('the timeout error carries the path, mode, timeout and time waited, and advice that names no application', async () => {
    holdElsewhere(file());
    const error = await lock(file(), { timeoutMs: 20, mode: 'shared' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockTimeoutError);
    expect(error).toBeInstanceOf(LockError);
    expect(error).toMatchObject({ code: 'ELOCKTIMEOUT', path: file(), mode: 'shared', timeoutMs: 20, name: 'LockTimeoutError' });
    expect((error as LockTimeoutError).waitedMs).toBeGreaterThanOrEqual(19);
    const message = (error as Error).message;
    expect(message).toBe(
      `Lock timeout: could not acquire a shared lock on ${file()} within 0.02s: another process or thread holds it. ` +
        'Retry later, end the holder if it is stuck, or pass a longer timeoutMs (Infinity waits without limit).',
    );
    expect(message.replace(file(), '<path>')).not.toMatch(/\bjit\b|JIT_/);
    const syncError = (() => {
      try {
        lockSync(file(), { timeoutMs: 0 });
      } catch (e) {
        return e;
      }
    })();
    expect(syncError).toMatchObject({ code: 'ELOCKTIMEOUT', mode: 'exclusive', timeoutMs: 0, waitedMs: 0 });
    expect((syncError as Error).message).toContain(`an exclusive lock on ${file()} within 0s`);
  });

  it('an already-aborted signal rejects before waiting', async () => {
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    const error = await lock(file(), { signal: controller.signal }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ABORT_ERR', name: 'AbortError' });
    expect((error as Error).cause).toBe(controller.signal.reason);
    expect(probeLock(file())).toBe('unlocked');
  });

  it('withLock releases after fn, also when fn throws', async () => {
    const result = await withLock(file(), {}, (held) => {
      expect(probeLock(file())).toBe('exclusive');
      return held.mode;
    });
    expect(result).toBe('exclusive');
    expect(probeLock(file())).toBe('unlocked');
    await expect(
      withLock(file(), { mode: 'shared' }, async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(probeLock(file())).toBe('unlocked');
  });
});

describe('probeLock', () => {
  it('reports unlocked for a missing file and does not create it', () => {
    expect(probeLock(file('missing.lock'))).toBe('unlocked');
    expect(fs.existsSync(file('missing.lock'))).toBe(false);
  });

  it('refuses a symbolic link (ELOOP) with advice probeLock can follow', () => {
    fs.writeFileSync(file('real.lock'), '');
    fs.symlinkSync(file('real.lock'), file('link.lock'));
    let error: unknown;
    try {
      probeLock(file('link.lock'));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(LockError);
    expect(error).toMatchObject({ code: 'ELOOP', path: file('link.lock') });
    expect((error as Error).message).toContain(`Refusing to probe ${file('link.lock')}`);
    expect((error as Error).message).toContain("Probe the real file (the link's target) instead.");
    expect((error as Error).message).not.toContain('followSymlinks'); // probeLock has no such option
    expect(probeLock(file('real.lock'))).toBe('unlocked');
  });

  it('reports shared and exclusive holders', () => {
    const holder = holdElsewhere(file(), false);
    expect(probeLock(file())).toBe('shared');
    holder.unlock();
    expect(holder.tryLock(true)).toBe(true);
    expect(probeLock(file())).toBe('exclusive');
  });
});

describe.skipIf(process.platform === 'win32')('lock files that are not regular files', () => {
  it('refuses a FIFO or a socket at once (EFTYPE) instead of locking it or waiting for a peer', async () => {
    const { spawnSync } = await import('node:child_process');
    const net = await import('node:net');
    expect(spawnSync('mkfifo', [file('fifo.lock')]).status).toBe(0);
    const server = net.createServer().listen(file('socket.lock'));
    await new Promise((resolve) => server.once('listening', resolve));
    cleanups.push(() => server.close());
    for (const target of [file('fifo.lock'), file('socket.lock')]) {
      for (const attempt of [() => lock(target, { mode: 'shared' }), async () => lockSync(target), async () => tryLock(target), async () => probeLock(target)]) {
        let error: unknown;
        try {
          await attempt();
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(LockError);
        expect(error).toMatchObject({ code: 'EFTYPE', path: target });
        expect((error as Error).message).toMatch(/not a regular file/);
      }
    }
  });
});
