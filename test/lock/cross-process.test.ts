// Locks between real OS processes: children run fixtures/lock-child.js (dist/).
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lockSync, probeLock, tryLock } from '../../src/index.js';
import { fixture, perTestSandbox, tempDir } from './helpers.js';

const sandbox = perTestSandbox();
const { children } = sandbox;

describe('guide tests across processes', () => {
  it('exclusive locks prevent concurrent writes: no increment is lost', async () => {
    const lockPath = path.join(sandbox.dir, 'counter.lock');
    const counterPath = path.join(sandbox.dir, 'counter');
    fs.writeFileSync(counterPath, '0');
    const processes = 4;
    const times = 150;
    const runs = Array.from({ length: processes }, (_, i) =>
      new Promise<number | null>((resolve) => {
        const child = spawn(process.execPath, [fixture('increment.js'), lockPath, counterPath, String(times), i % 2 ? 'async' : 'sync'], {
          stdio: ['ignore', 'inherit', 'inherit'],
        });
        child.on('exit', resolve);
      }),
    );
    expect(await Promise.all(runs)).toEqual(Array(processes).fill(0));
    expect(Number(fs.readFileSync(counterPath, 'utf8'))).toBe(processes * times);
  });

  it('shared locks allow concurrent readers (two children hold shared at once)', async () => {
    const lockPath = path.join(sandbox.dir, 'shared.lock');
    const [a, b] = await Promise.all([children.start(), children.start()]);
    await a.must({ op: 'lockSync', path: lockPath, options: { mode: 'shared' } });
    // b must get it while a still holds it; with exclusive semantics it would time out.
    await b.must({ op: 'lockSync', path: lockPath, options: { mode: 'shared', timeoutMs: 2000 } });
    expect(probeLock(lockPath)).toBe('shared');
    expect(tryLock(lockPath)).toBeNull();
    await a.must({ op: 'release', path: lockPath });
    expect(tryLock(lockPath)).toBeNull();
    await b.must({ op: 'release', path: lockPath });
    expect(probeLock(lockPath)).toBe('unlocked');
  });
});

describe('lockAll across processes', () => {
  it('random overlapping sets in random order and spelling never deadlock and never overlap', async () => {
    fs.mkdirSync(path.join(sandbox.dir, 'sub'));
    for (const name of ['a', 'b', 'c', 'd', 'e']) fs.writeFileSync(path.join(sandbox.dir, `${name}.count`), '0');
    const runs = [1, 2, 3].map((seed) =>
      new Promise<Record<string, number>>((resolve, reject) => {
        const child = spawn(process.execPath, [fixture('lock-all-loop.js'), sandbox.dir, '150', String(seed)], {
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        let output = '';
        child.stdout.on('data', (chunk: Buffer) => (output += chunk));
        child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(output)) : reject(new Error(`lock-all-loop ${seed} exited ${code}`))));
      }),
    );
    const counts = await Promise.all(runs);
    for (const name of ['a', 'b', 'c', 'd', 'e']) {
      const expected = counts.reduce((sum, c) => sum + c[name]!, 0);
      expect(expected).toBeGreaterThan(0);
      expect(Number(fs.readFileSync(path.join(sandbox.dir, `${name}.count`), 'utf8'))).toBe(expected);
    }
  });
});

describe('crash and inheritance', () => {
  it('a SIGKILLed holder releases: tryLock is null, then succeeds after the kill', async () => {
    const lockPath = path.join(sandbox.dir, 'crash.lock');
    const child = await children.start();
    await child.must({ op: 'lockSync', path: lockPath });
    expect(tryLock(lockPath)).toBeNull();
    await child.kill('SIGKILL');
    const held = tryLock(lockPath);
    expect(held).not.toBeNull();
    held!.release();
  });

  it('a child spawned while the lock is held does not keep it (O_CLOEXEC)', async () => {
    const lockPath = path.join(sandbox.dir, 'cloexec.lock');
    const held = lockSync(lockPath);
    const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      await new Promise((resolve) => sleeper.once('spawn', resolve));
      if (process.platform === 'linux') {
        const inherited = fs.readdirSync(`/proc/${sleeper.pid}/fd`).map((fd) => {
          try {
            return fs.readlinkSync(`/proc/${sleeper.pid}/fd/${fd}`);
          } catch {
            return '';
          }
        });
        expect(inherited).not.toContain(fs.realpathSync(lockPath));
      }
      held.release();
      const other = await children.start();
      expect(await other.must({ op: 'tryLock', path: lockPath })).toMatchObject({ held: true });
      expect(sleeper.exitCode).toBeNull(); // still running, and yet the lock was free
    } finally {
      sleeper.kill('SIGKILL');
    }
  });
});

describe('garbage collection', () => {
  it('a lock dropped without release() is released and forgotten once collected', () => {
    const lockPath = path.join(sandbox.dir, 'forgotten.lock');
    const result = spawnSync(process.execPath, ['--expose-gc', fixture('forget.js'), lockPath], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual({ heldBefore: true, releasedAfterGc: true });
  });

  // New locks join the collector's safety net in batches (at the next
  // microtask, or every 256 in one synchronous stretch): 300 dropped in one
  // loop cover both ways in.
  it('300 locks dropped in one synchronous loop are all released once collected', () => {
    const lockPath = path.join(sandbox.dir, 'many-forgotten.lock');
    const result = spawnSync(process.execPath, ['--expose-gc', fixture('forget.js'), lockPath, '300'], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual({ heldBefore: true, releasedAfterGc: true });
  });
});

describe('waiting across processes', () => {
  it('lockSync blocks until another process releases', async () => {
    const lockPath = path.join(sandbox.dir, 'sync.lock');
    const child = await children.start();
    await child.must({ op: 'lockSync', path: lockPath });
    const released = child.must({ op: 'release', path: lockPath, delayMs: 150 });
    const started = performance.now();
    const held = lockSync(lockPath, { timeoutMs: 10_000 });
    const waited = performance.now() - started;
    held.release();
    await released;
    expect(waited).toBeGreaterThan(100);
    expect(waited).toBeLessThan(5000);
  });

  it('a lock that another process holds in shared mode blocks exclusive but not shared', async () => {
    const lockPath = path.join(sandbox.dir, 'modes.lock');
    const child = await children.start();
    await child.must({ op: 'lockSync', path: lockPath, options: { mode: 'shared' } });
    expect(tryLock(lockPath, { mode: 'exclusive' })).toBeNull();
    const shared = tryLock(lockPath, { mode: 'shared' });
    expect(shared).not.toBeNull();
    shared!.release();
  });
});

describe('loading the addon', () => {
  it('fails with one error that lists what was tried and what to do', () => {
    const emptyDir = tempDir();
    const result = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(path.resolve(__dirname, '../../dist/index.js'))}).tryLock('x')`], {
      env: { ...process.env, PREBUILDS_ONLY: '1', JIT_LOCK_PREBUILD: emptyDir },
      encoding: 'utf8',
    });
    fs.rmSync(emptyDir, { recursive: true, force: true });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/could not load its native lock addon/);
    expect(result.stderr).toMatch(/build[\\/]Release/);
    expect(result.stderr).toMatch(/prebuilds/);
    expect(result.stderr).toMatch(/npm rebuild/);
  });
});
