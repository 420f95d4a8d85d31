// Waiting for a lock another process holds: timeouts, aborts, the event
// loop, cancelled waits, and many waits at once (none on libuv's pool).
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_TIMEOUT_MS, lock, lockSync, LockAbortedError, LockTimeoutError } from '../../src/index.js';
import { fixture, perTestSandbox } from './helpers.js';

const sandbox = perTestSandbox();
const { children } = sandbox;

function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

async function heldByChild(name: string): Promise<{ lockPath: string; child: Awaited<ReturnType<typeof children.start>> }> {
  const lockPath = path.join(sandbox.dir, name);
  const child = await children.start();
  await child.must({ op: 'lockSync', path: lockPath });
  return { lockPath, child };
}

describe('timeouts', () => {
  it('lock() rejects with LockTimeoutError after about timeoutMs', async () => {
    const { lockPath } = await heldByChild('timeout.lock');
    const started = performance.now();
    const error = await lock(lockPath, { timeoutMs: 300 }).catch((e: unknown) => e);
    const waited = performance.now() - started;
    expect(error).toBeInstanceOf(LockTimeoutError);
    expect(error).toMatchObject({ code: 'ELOCKTIMEOUT', path: lockPath, mode: 'exclusive', timeoutMs: 300 });
    expect(waited).toBeGreaterThanOrEqual(290);
    expect(waited).toBeLessThan(3000);
  });

  it('lockSync throws LockTimeoutError after about timeoutMs', async () => {
    const { lockPath } = await heldByChild('sync-timeout.lock');
    const started = performance.now();
    expect(() => lockSync(lockPath, { timeoutMs: 300 })).toThrow(LockTimeoutError);
    const waited = performance.now() - started;
    expect(waited).toBeGreaterThanOrEqual(290);
    expect(waited).toBeLessThan(3000);
  });

  it('without timeoutMs a wait lasts DEFAULT_TIMEOUT_MS (5 s), whatever the environment says', async () => {
    const { lockPath } = await heldByChild('default-timeout.lock');
    const saved = process.env.JIT_LOCK_TIMEOUT;
    process.env.JIT_LOCK_TIMEOUT = '0.2'; // the tracker's variable: the toolkit never reads it
    try {
      const error = await lock(lockPath).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'ELOCKTIMEOUT', timeoutMs: DEFAULT_TIMEOUT_MS });
      expect((error as LockTimeoutError).waitedMs).toBeGreaterThanOrEqual(DEFAULT_TIMEOUT_MS - 10);
      expect((error as Error).message).toContain('within 5s');
    } finally {
      if (saved === undefined) delete process.env.JIT_LOCK_TIMEOUT;
      else process.env.JIT_LOCK_TIMEOUT = saved;
    }
  });

  it.each(['async', 'sync'] as const)('a %s wait that timed out leaks no lock: another process locks at once after release', async (style) => {
    const { lockPath, child } = await heldByChild('leak.lock');
    if (style === 'async') await expect(lock(lockPath, { timeoutMs: 100 })).rejects.toBeInstanceOf(LockTimeoutError);
    else expect(() => lockSync(lockPath, { timeoutMs: 100 })).toThrow(LockTimeoutError);
    await child.must({ op: 'release', path: lockPath });
    // A waiting thread that survived the timeout would grab the lock the moment it was released.
    const other = await children.start();
    for (let i = 0; i < 5; i++) {
      expect(await other.must({ op: 'tryLock', path: lockPath, name: `try${i}` })).toMatchObject({ held: true });
      await other.must({ op: 'release', name: `try${i}` });
    }
  });
});

describe.skipIf(process.platform !== 'linux')('when the program uses SIGURG itself', () => {
  it('waits neither leak nor signal its listener, while it listens and after it stopped', async () => {
    const lockPath = path.join(sandbox.dir, 'sigurg.lock');
    const held = lockSync(lockPath);
    const waiter = await children.start();
    const timeOutFiveWaits = async (): Promise<void> => {
      for (let i = 0; i < 5; i++) {
        const reply = await waiter.send({ op: 'lock', path: lockPath, options: { timeoutMs: 50 } });
        expect(reply.error?.code).toBe('ELOCKTIMEOUT');
      }
      await new Promise((resolve) => setTimeout(resolve, 50)); // a polling wait notices its cancel within 8 ms
    };
    try {
      const before = await waiter.must({ op: 'stats' });
      await timeOutFiveWaits(); // our handler: interrupts
      await waiter.must({ op: 'listenSigurg' });
      await timeOutFiveWaits(); // libuv's handler: never signalled (Linux interrupts with a real-time signal)
      await waiter.must({ op: 'unlistenSigurg' });
      await timeOutFiveWaits(); // back to the default: ours is installed again
      const after = await waiter.must({ op: 'stats' });
      // A wait that outlived its timeout would keep a thread and a descriptor.
      expect(after.openFds! - before.openFds!).toBe(0);
      expect(after.sigurgSeen).toBe(0);
      held.release();
      const other = await children.start();
      expect(await other.must({ op: 'tryLock', path: lockPath })).toMatchObject({ held: true });
    } finally {
      held.release();
    }
  });

  // The wait starts while SIGURG is ours; the program then takes it over (libuv
  // installs its handler, with SA_RESTART) or takes it and lets it go (libuv
  // resets the default, which discards SIGURG). Cancelling must still end the
  // waiting thread at once, without signalling the program's listener, while
  // the other process keeps holding the lock.
  it.each([
    ['starts listening', ['on']],
    ['starts and stops listening', ['on', 'off']],
  ])('a wait is cancelled cleanly when the program %s to SIGURG during it', async (_, steps) => {
    const lockPath = path.join(sandbox.dir, 'sigurg-mid-wait.lock');
    const held = lockSync(lockPath);
    try {
      const waiter = await children.start();
      for (let i = 0; i < 3; i++) {
        const reply = await waiter.must({ op: 'lockWhileSigurgChanges', path: lockPath, options: { timeoutMs: 300 }, afterMs: 100, steps });
        expect(reply.outcome).toBe('ELOCKTIMEOUT');
        expect(reply.sigurgSeen).toBe(0); // none of our interrupts reached the listener
        expect(reply.openFds).toBe(0); // the lock file was closed...
        expect(reply.threads).toBe(0); // ...by a waiting thread no longer blocked in flock (it ended, or parked for the next wait)
      }
    } finally {
      held.release();
    }
  });
});

describe('after a wait', () => {
  it('a lock that waited is kept past its timeoutMs: the timeout never fires once it is held', async () => {
    const { lockPath, child } = await heldByChild('kept.lock');
    const released = child.must({ op: 'release', path: lockPath, delayMs: 100 });
    const held = await lock(lockPath, { timeoutMs: 400 });
    await released;
    await new Promise((resolve) => setTimeout(resolve, 800)); // well past the 400 ms deadline
    expect(held.held).toBe(true);
    const other = await children.start();
    expect(await other.must({ op: 'tryLock', path: lockPath })).toMatchObject({ held: false });
    held.release();
    expect(await other.must({ op: 'tryLock', path: lockPath, name: 'after' })).toMatchObject({ held: true });
  });

  // A fresh process's first wait primes the hand-off's code on a dummy lock
  // and leaves its timeout timer to release(): neither may leave anything
  // behind, in the registry or in the event loop.
  it.each(['release', 'keep'])('a fresh process whose first lock() waited sees a clean registry and ends by itself (%s)', async (ending) => {
    const { lockPath, child } = await heldByChild('first-wait.lock');
    const waiter = spawn(process.execPath, [fixture('first-wait.js'), lockPath, ending], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise<number | null>((resolve) => waiter.once('exit', (code) => resolve(code)));
    let out = '';
    waiter.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    while (!out.includes('waiting\n')) await new Promise((resolve) => setTimeout(resolve, 10));
    await child.must({ op: 'release', path: lockPath });
    // Its lock() waits up to 120 s: a timer that kept the loop alive would hold it that long.
    const code = await within(60_000, exited);
    expect(code).toBe(0);
    const result = JSON.parse(out.split('\n')[1]!) as Record<string, unknown>;
    expect(result).toEqual({ held: true, sameFileAgain: 'ELOCKHELD', otherFile: 'taken', tryOther: 'taken' });
  });
});

describe('abort', () => {
  it('an AbortSignal stops a wait and leaves nothing held', async () => {
    const { lockPath, child } = await heldByChild('abort.lock');
    const controller = new AbortController();
    const reason = new Error('user pressed ctrl-c');
    setTimeout(() => controller.abort(reason), 100);
    const started = performance.now();
    const error = await lock(lockPath, { signal: controller.signal, timeoutMs: 10_000 }).catch((e: unknown) => e);
    expect(performance.now() - started).toBeLessThan(5000);
    expect(error).toBeInstanceOf(LockAbortedError);
    expect(error).toMatchObject({ code: 'ABORT_ERR', name: 'AbortError', path: lockPath, mode: 'exclusive' });
    // Like a timeout, it says how long the call waited.
    expect((error as LockAbortedError).waitedMs).toBeGreaterThanOrEqual(90);
    expect((error as LockAbortedError).waitedMs).toBeLessThanOrEqual(Math.ceil(performance.now() - started));
    expect((error as Error).cause).toBe(reason);
    const early = await lock(lockPath, { mode: 'shared', signal: AbortSignal.abort() }).catch((e: unknown) => e);
    expect(early).toMatchObject({ code: 'ABORT_ERR', path: lockPath, mode: 'shared', waitedMs: 0 });
    await child.must({ op: 'release', path: lockPath });
    const other = await children.start();
    expect(await other.must({ op: 'tryLock', path: lockPath })).toMatchObject({ held: true });
  });
});

describe('the event loop', () => {
  it('keeps ticking while lock() waits, and the wait ends when the holder releases', async () => {
    const { lockPath, child } = await heldByChild('ticks.lock');
    let immediates = 0;
    let timeouts = 0;
    let running = true;
    const spinImmediate = (): void => {
      immediates++;
      if (running) setImmediate(spinImmediate);
    };
    const spinTimeout = (): void => {
      timeouts++;
      if (running) setTimeout(spinTimeout, 5);
    };
    spinImmediate();
    spinTimeout();
    const released = child.must({ op: 'release', path: lockPath, delayMs: 300 });
    const held = await lock(lockPath, { timeoutMs: 10_000 });
    running = false;
    held.release();
    await released;
    expect(immediates).toBeGreaterThan(50);
    expect(timeouts).toBeGreaterThan(10);
  });

  it('20 simultaneous waits all complete and leave libuv\'s pool free for fs work', async () => {
    const child = await children.start();
    const paths = Array.from({ length: 20 }, (_, i) => path.join(sandbox.dir, `many-${i}.lock`));
    for (const lockPath of paths) await child.must({ op: 'lockSync', path: lockPath });
    const waits = paths.map((lockPath) => lock(lockPath, { timeoutMs: 30_000 }));
    // With blocking waits on the pool (4 threads) these reads would never run.
    const reads = await within(5000, Promise.all(Array.from({ length: 16 }, () => fs.promises.readFile(__filename, 'utf8'))));
    expect(reads.every((text) => text.length > 0)).toBe(true);
    const stat = await within(5000, fs.promises.stat(sandbox.dir));
    expect(stat.isDirectory()).toBe(true);
    await child.must({ op: 'releaseAll' });
    const held = await Promise.all(waits);
    expect(held.every((l) => l.held)).toBe(true);
    for (const l of held) l.release();
  });
});
