// worker_threads: each worker is its own realm with its own addon instance;
// its locks conflict with the main thread's and die with the worker.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lockSync, probeLock, tryLock } from '../../src/index.js';
import { fixture, tempDir } from './helpers.js';

let dir: string;
const workers: Worker[] = [];

beforeEach(() => {
  dir = tempDir();
});
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.terminate()));
  fs.rmSync(dir, { recursive: true, force: true });
});

interface WorkerReply {
  held?: boolean;
  error?: { code?: string; message: string };
}

function startWorker(workerData: Record<string, unknown>): { worker: Worker; reply: Promise<WorkerReply | 'starting'> } {
  const worker = new Worker(fixture('lock-worker.js'), { workerData });
  workers.push(worker);
  const reply = new Promise<WorkerReply | 'starting'>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return { worker, reply };
}

function exited(worker: Worker): Promise<number> {
  return new Promise((resolve) => worker.once('exit', resolve));
}

describe('worker threads', () => {
  it('a worker conflicts with a lock the main thread holds', async () => {
    const lockPath = path.join(dir, 'main.lock');
    const held = lockSync(lockPath);
    try {
      expect(await startWorker({ op: 'tryLock', path: lockPath }).reply).toEqual({ held: false });
      const timedOut = await startWorker({ op: 'lock', path: lockPath, options: { timeoutMs: 100 } }).reply;
      expect(timedOut).toMatchObject({ error: { code: 'ELOCKTIMEOUT' } });
    } finally {
      held.release();
    }
    expect(await startWorker({ op: 'tryLock', path: lockPath }).reply).toEqual({ held: true });
  });

  it('the main thread conflicts with a worker\'s lock, which is freed when the worker exits without releasing', async () => {
    const lockPath = path.join(dir, 'worker.lock');
    const { worker, reply } = startWorker({ op: 'lock', path: lockPath });
    expect(await reply).toEqual({ held: true });
    expect(tryLock(lockPath)).toBeNull();
    expect(probeLock(lockPath)).toBe('exclusive');
    const exit = exited(worker);
    worker.postMessage('exit');
    await exit;
    const held = tryLock(lockPath);
    expect(held).not.toBeNull();
    held!.release();
  });

  it('terminating a worker while its lock() waits ends the wait and leaks nothing', async () => {
    const lockPath = path.join(dir, 'terminate.lock');
    const held = lockSync(lockPath);
    const { worker, reply } = startWorker({ op: 'lock', path: lockPath, options: { timeoutMs: 60_000 }, announce: true });
    expect(await reply).toBe('starting');
    let answered = false;
    worker.once('message', () => (answered = true));
    await new Promise((resolve) => setTimeout(resolve, 200)); // from lock() call to blocked thread takes microseconds
    const exitCode = await worker.terminate();
    expect(answered).toBe(false);
    expect(exitCode).toBe(1);
    held.release();
    // Its waiting thread must not have picked the lock up after our release.
    const again = tryLock(lockPath);
    expect(again).not.toBeNull();
    again!.release();
  });
});
