// Lock metrics on node:diagnostics_channel: the messages real locks publish,
// with real contention from other processes.
import { spawnSync } from 'node:child_process';
import * as diagnostics from 'node:diagnostics_channel';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  LOCK_CHANNELS,
  lock,
  lockAll,
  lockAllSync,
  lockSync,
  tryLock,
  type LockAcquireMessage,
  type LockReleaseMessage,
  type LockWaitMessage,
} from '../../src/index.js';
import { fixture, perTestSandbox } from './helpers.js';

const sandbox = perTestSandbox();
const { children } = sandbox;

type Heard =
  | ({ channel: 'wait' } & LockWaitMessage)
  | ({ channel: 'acquire' } & LockAcquireMessage)
  | ({ channel: 'release' } & LockReleaseMessage);

let heard: Heard[] = [];
const listeners = {
  wait: (message: unknown) => heard.push({ channel: 'wait', ...(message as LockWaitMessage) }),
  acquire: (message: unknown) => heard.push({ channel: 'acquire', ...(message as LockAcquireMessage) }),
  release: (message: unknown) => heard.push({ channel: 'release', ...(message as LockReleaseMessage) }),
};

beforeEach(() => {
  heard = [];
  for (const name of ['wait', 'acquire', 'release'] as const) diagnostics.subscribe(LOCK_CHANNELS[name], listeners[name]);
});
afterEach(() => {
  for (const name of ['wait', 'acquire', 'release'] as const) diagnostics.unsubscribe(LOCK_CHANNELS[name], listeners[name]);
});

const file = (name: string): string => path.join(sandbox.dir, name);

async function heldElsewhere(lockPath: string, mode: 'shared' | 'exclusive' = 'exclusive') {
  const child = await children.start();
  await child.must({ op: 'lockSync', path: lockPath, options: { mode } });
  return child;
}

describe('jit-lock:acquire and jit-lock:release', () => {
  it('names its channels', () => {
    expect(LOCK_CHANNELS).toEqual({ wait: 'jit-lock:wait', acquire: 'jit-lock:acquire', release: 'jit-lock:release' });
  });

  it('an uncontended tryLock: acquired, not contended; its release says how long it was held', async () => {
    const held = tryLock(file('free.lock'), { mode: 'shared' })!;
    await new Promise((resolve) => setTimeout(resolve, 30));
    held.release();
    held.release(); // a second release is no release
    expect(heard).toEqual([
      { channel: 'acquire', path: file('free.lock'), mode: 'shared', api: 'tryLock', outcome: 'acquired', contended: false, waitedMs: 0 },
      { channel: 'release', path: file('free.lock'), mode: 'shared', heldMs: expect.any(Number), collected: false },
    ]);
    expect((heard[1] as LockReleaseMessage).heldMs).toBeGreaterThanOrEqual(25);
  });

  it('tryLock on a lock another process holds: busy, contended', async () => {
    await heldElsewhere(file('busy.lock'));
    expect(tryLock(file('busy.lock'))).toBeNull();
    expect(heard).toEqual([
      { channel: 'acquire', path: file('busy.lock'), mode: 'exclusive', api: 'tryLock', outcome: 'busy', contended: true, waitedMs: 0 },
    ]);
  });

  it('lock() that waits for another process: a wait message, then acquired with the time it waited', async () => {
    const lockPath = file('wait.lock');
    const child = await heldElsewhere(lockPath);
    const released = child.must({ op: 'release', path: lockPath, delayMs: 200 });
    const held = await lock(lockPath, { timeoutMs: 60_000 });
    await released;
    held.release();
    expect(heard.map((m) => m.channel)).toEqual(['wait', 'acquire', 'release']);
    expect(heard[0]).toEqual({ channel: 'wait', path: lockPath, mode: 'exclusive', api: 'lock' });
    expect(heard[1]).toMatchObject({ channel: 'acquire', path: lockPath, api: 'lock', outcome: 'acquired', contended: true });
    expect((heard[1] as LockAcquireMessage).waitedMs).toBeGreaterThanOrEqual(100);
    expect(heard[1]).not.toHaveProperty('error');
  });

  it('lockSync that waits for another process: the same, from lockSync', async () => {
    const lockPath = file('wait-sync.lock');
    const child = await heldElsewhere(lockPath);
    // The child releases after 300 ms while this thread is blocked in lockSync.
    const released = child.must({ op: 'release', path: lockPath, delayMs: 300 });
    const held = lockSync(lockPath, { timeoutMs: 60_000 });
    held.release();
    await released;
    expect(heard.map((m) => [m.channel, (m as { api?: string }).api])).toEqual([
      ['wait', 'lockSync'],
      ['acquire', 'lockSync'],
      ['release', undefined],
    ]);
    expect(heard[1]).toMatchObject({ outcome: 'acquired', contended: true });
    expect((heard[1] as LockAcquireMessage).waitedMs).toBeGreaterThanOrEqual(100);
  });

  it('a lock() that times out: outcome timeout, with the error it throws', async () => {
    const lockPath = file('timeout.lock');
    await heldElsewhere(lockPath);
    const error = await lock(lockPath, { timeoutMs: 200 }).catch((e: unknown) => e);
    expect(heard.map((m) => m.channel)).toEqual(['wait', 'acquire']);
    expect(heard[1]).toMatchObject({ path: lockPath, api: 'lock', outcome: 'timeout', contended: true, error });
    expect((heard[1] as LockAcquireMessage).waitedMs).toBeGreaterThanOrEqual(150);
  });

  it('timeoutMs 0 on a busy lock: a timeout that never waited (no wait message)', async () => {
    const lockPath = file('zero.lock');
    await heldElsewhere(lockPath);
    expect(() => lockSync(lockPath, { timeoutMs: 0 })).toThrow(expect.objectContaining({ code: 'ELOCKTIMEOUT' }));
    expect(heard).toEqual([expect.objectContaining({ channel: 'acquire', api: 'lockSync', outcome: 'timeout', contended: true })]);
  });

  it('an aborted lock(): outcome aborted', async () => {
    const lockPath = file('abort.lock');
    await heldElsewhere(lockPath);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    await expect(lock(lockPath, { signal: controller.signal, timeoutMs: 60_000 })).rejects.toMatchObject({ code: 'ABORT_ERR' });
    expect(heard.map((m) => [m.channel, (m as { outcome?: string }).outcome])).toEqual([
      ['wait', undefined],
      ['acquire', 'aborted'],
    ]);
  });

  it('failures after valid arguments are outcome error: re-entry, and a file that cannot be opened', async () => {
    const lockPath = file('reentry.lock');
    const held = lockSync(lockPath);
    expect(() => lockSync(lockPath)).toThrow(expect.objectContaining({ code: 'ELOCKHELD' }));
    held.release();
    const missing = file('no-such-dir/x.lock');
    expect(() => tryLock(missing)).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    const failures = heard.filter((m) => m.channel === 'acquire' && m.outcome === 'error') as LockAcquireMessage[];
    expect(failures.map((m) => [m.api, m.path, (m.error as { code?: string }).code, m.contended])).toEqual([
      ['lockSync', lockPath, 'ELOCKHELD', false],
      ['tryLock', missing, 'ENOENT', false],
    ]);
  });

  it('invalid arguments publish nothing', () => {
    expect(() => tryLock('')).toThrow(TypeError);
    expect(() => lockSync(file('x.lock'), { timeoutMs: -1 })).toThrow(RangeError);
    expect(heard).toEqual([]);
  });

  it('lockAll publishes one acquisition per file, and a rollback releases what it took', async () => {
    const [a, b] = [file('all-a.lock'), file('all-b.lock')];
    const set = await lockAll([{ path: a }, { path: b, mode: 'shared' }], { timeoutMs: 60_000 });
    set.release();
    const acquired = heard.filter((m) => m.channel === 'acquire') as LockAcquireMessage[];
    expect(acquired.map((m) => [m.path, m.mode, m.api, m.outcome]).sort()).toEqual([
      [a, 'exclusive', 'lockAll', 'acquired'],
      [b, 'shared', 'lockAll', 'acquired'],
    ]);
    expect(heard.filter((m) => m.channel === 'release')).toHaveLength(2);

    // b is busy elsewhere: whichever of a and b comes first, the set times out on b and takes nothing.
    heard = [];
    await heldElsewhere(b);
    expect(() => lockAllSync([{ path: a }, { path: b }], { timeoutMs: 100 })).toThrow(expect.objectContaining({ code: 'ELOCKTIMEOUT' }));
    const outcomes = heard.filter((m) => m.channel === 'acquire') as LockAcquireMessage[];
    expect(outcomes.at(-1)).toMatchObject({ path: b, api: 'lockAllSync', outcome: 'timeout', contended: true });
    const taken = outcomes.filter((m) => m.outcome === 'acquired').length;
    expect(heard.filter((m) => m.channel === 'release')).toHaveLength(taken); // each rolled back
  });

  it('nobody listening: nothing is published, and importing jit-lock loads no diagnostics_channel', () => {
    for (const name of ['wait', 'acquire', 'release'] as const) diagnostics.unsubscribe(LOCK_CHANNELS[name], listeners[name]);
    tryLock(file('quiet.lock'))!.release();
    expect(heard).toEqual([]);
    const script = `
      const jit = require(${JSON.stringify(path.resolve(__dirname, '..', '..', 'dist', 'index.js'))});
      const loaded = () => process.moduleLoadList.some((m) => m.endsWith(' diagnostics_channel'));
      const before = loaded();
      jit.tryLock(${JSON.stringify(file('load.lock'))}).release();
      console.log(JSON.stringify({ before, after: loaded() }));`;
    const result = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual({ before: false, after: true });
  });

  it('a dropped lock that the collector releases: a release message with collected: true', () => {
    const lockPath = file('collected.lock');
    const result = spawnSync(process.execPath, ['--expose-gc', fixture('collected-metrics.js'), lockPath], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual([{ path: lockPath, mode: 'exclusive', heldMs: expect.any(Number), collected: true }]);
    expect(fs.existsSync(lockPath)).toBe(true);
  });
});
