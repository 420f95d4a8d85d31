// The Windows lock suite: LockFileEx through the real Windows node.exe, run
// under Wine by `npm run test:windows` (scripts/windows/test.sh) and by the
// Windows CI job. Every conflict below is between real handles or processes.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as util from 'node:util';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import {
  exitCode,
  lockApi,
  lockApiPath,
  nextMessage,
  releaseHolder,
  startChild,
  startHolder,
  tempDir,
} from './helpers.mjs';

const { lock, lockSync, tryLock, LockTimeoutError } = lockApi;

test('runs on Windows', () => {
  assert.equal(process.platform, 'win32');
});

test('an exclusive lock is acquired and released', (t) => {
  const file = path.join(tempDir(t), 'a.lock');
  const held = lockSync(file);
  assert.equal(held.mode, 'exclusive');
  assert.equal(held.held, true);
  assert.equal(tryLock(file), null, 'a second handle must not get it');
  held.release();
  held.release(); // safe twice
  assert.equal(held.held, false);
  const again = tryLock(file);
  assert.ok(again, 'free again after release');
  again.release();
});

test('shared locks are shared between processes, and exclude an exclusive one', async (t) => {
  const file = path.join(tempDir(t), 'shared.lock');
  const child = await startHolder(t, file, 'shared');
  const reader = tryLock(file, { mode: 'shared' });
  assert.ok(reader, 'a second shared lock is granted');
  assert.equal(reader.mode, 'shared');
  assert.equal(tryLock(file, { mode: 'exclusive' }), null);
  reader.release();
  await releaseHolder(child);
  const writer = tryLock(file, { mode: 'exclusive' });
  assert.ok(writer, 'exclusive once every reader is gone');
  writer.release();
});

test('tryLock returns null at once while another process holds the lock', async (t) => {
  const file = path.join(tempDir(t), 'busy.lock');
  const child = await startHolder(t, file);
  const started = performance.now();
  assert.equal(tryLock(file), null);
  assert.equal(tryLock(file, { mode: 'shared' }), null);
  assert.ok(performance.now() - started < 1000, 'tryLock does not wait');
  await releaseHolder(child);
  const mine = tryLock(file);
  assert.ok(mine);
  mine.release();
});

test('a waiting lock() resumes when the other process releases, without blocking the event loop', async (t) => {
  const file = path.join(tempDir(t), 'handoff.lock');
  const child = await startHolder(t, file);
  let ticks = 0;
  const ticker = setInterval(() => (ticks += 1), 5);
  try {
    const waiting = lock(file, { timeoutMs: 20_000 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await releaseHolder(child);
    const held = await waiting;
    assert.equal(held.held, true);
    held.release();
  } finally {
    clearInterval(ticker);
  }
  assert.ok(ticks >= 10, `the event loop kept running (${ticks} ticks)`);
});

test('a timeout raises LockTimeoutError (async and sync) and leaves the lock to its holder', async (t) => {
  const file = path.join(tempDir(t), 'timeout.lock');
  const child = await startHolder(t, file);
  const started = performance.now();
  await assert.rejects(lock(file, { timeoutMs: 300 }), (error) => {
    assert.ok(error instanceof LockTimeoutError);
    assert.equal(error.code, 'ELOCKTIMEOUT');
    assert.equal(error.timeoutMs, 300);
    assert.ok(error.waitedMs >= 250, `waitedMs ${error.waitedMs}`);
    assert.match(error.message, /Lock timeout: could not acquire an exclusive lock on .*timeout\.lock within 0\.3s/);
    return true;
  });
  assert.ok(performance.now() - started >= 250, 'waited about timeoutMs');
  assert.throws(() => lockSync(file, { timeoutMs: 200 }), { code: 'ELOCKTIMEOUT' });
  await releaseHolder(child);
  const mine = tryLock(file);
  assert.ok(mine, 'the timed-out waits did not keep the lock');
  mine.release();
});

test('an AbortSignal stops a wait, and the abandoned wait does not take the lock later', async (t) => {
  const file = path.join(tempDir(t), 'abort.lock');
  const child = await startHolder(t, file);
  const controller = new AbortController();
  const waiting = lock(file, { timeoutMs: 20_000, signal: controller.signal });
  setTimeout(() => controller.abort(new Error('user gave up')), 100);
  await assert.rejects(waiting, { code: 'ABORT_ERR' });
  await releaseHolder(child);
  await new Promise((resolve) => setTimeout(resolve, 100)); // a leaked poller would grab it now
  const mine = tryLock(file);
  assert.ok(mine, 'free after the holder released');
  mine.release();
});

test('the lock is released when its holder process is killed', async (t) => {
  const file = path.join(tempDir(t), 'killed.lock');
  const child = await startHolder(t, file);
  assert.equal(tryLock(file), null);
  child.kill(); // TerminateProcess: no cleanup code runs in the child
  await exitCode(child);
  // Windows frees a dead process's locks asynchronously, so wait briefly.
  const mine = await lock(file, { timeoutMs: 5_000 });
  assert.equal(mine.held, true);
  mine.release();
});

test('two handles in one process conflict', (t) => {
  const file = path.join(tempDir(t), 'two-handles.lock');
  const first = tryLock(file);
  assert.ok(first);
  assert.equal(tryLock(file), null, 'a second handle of the same process is refused');
  assert.equal(tryLock(path.join(path.dirname(file), '.', 'two-handles.lock')), null, 'another spelling too');
  first.release();
});

test('a worker thread conflicts with the main thread', async (t) => {
  const file = path.join(tempDir(t), 'worker.lock');
  const held = lockSync(file);
  const worker = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads');
     const { tryLock } = require(workerData.api);
     parentPort.postMessage(tryLock(workerData.file) === null);`,
    { eval: true, workerData: { file, api: lockApiPath } },
  );
  const refused = await new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  assert.equal(refused, true);
  held.release();
});

test('two Windows processes exclude each other: no increment is lost', async (t) => {
  const dir = tempDir(t);
  const lockFile = path.join(dir, 'counter.lock');
  const counter = path.join(dir, 'counter.txt');
  fs.writeFileSync(counter, '0');
  const processes = 3;
  const times = 40;
  const children = Array.from({ length: processes }, () =>
    startChild('count', lockFile, counter, String(times)),
  );
  t.after(() => children.forEach((child) => child.kill()));
  await Promise.all(children.map((child) => nextMessage(child, 'ready')));
  for (const child of children) child.send('go');
  const codes = await Promise.all(children.map(exitCode));
  assert.deepEqual(codes, children.map(() => 0));
  assert.equal(Number(fs.readFileSync(counter, 'utf8')), processes * times);
});

test('bad paths fail with Node-style codes and errno (libuv numbers)', (t) => {
  const dir = tempDir(t);
  assert.throws(() => tryLock(dir), { code: 'EISDIR', errno: -4068 });
  const missing = path.join(dir, 'missing', 'x.lock');
  assert.throws(() => tryLock(missing), { code: 'ENOENT', errno: -4058 });
  // the very numbers Node's own fs reports for the same failure
  assert.throws(() => fs.openSync(missing, 'a+'), { code: 'ENOENT', errno: -4058 });
  assert.equal(util.getSystemErrorName(-4068), 'EISDIR');
});

test('a symbolic link is refused unless followSymlinks', (t) => {
  const dir = tempDir(t);
  const target = path.join(dir, 'target.lock');
  const link = path.join(dir, 'link.lock');
  fs.writeFileSync(target, '');
  if (!createSymlink(target, link)) {
    // Windows needs Developer Mode or admin rights; Wine 8 reports success
    // but creates nothing.
    t.skip('this system cannot create symbolic links');
    return;
  }
  assert.throws(() => tryLock(link), { code: 'ELOOP' });
  const followed = tryLock(link, { followSymlinks: true });
  assert.ok(followed);
  assert.equal(tryLock(target), null, 'following the link locked the target');
  followed.release();
});

function createSymlink(target, link) {
  try {
    fs.symlinkSync(target, link, 'file');
  } catch {
    return false;
  }
  return fs.lstatSync(link, { throwIfNoEntry: false })?.isSymbolicLink() === true;
}

test('a read-only file takes a shared lock (opened read-only) but not an exclusive one', (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'read-only.lock');
  fs.writeFileSync(file, '');
  fs.chmodSync(file, 0o444); // the read-only attribute: no handle may write it
  // Writable again for the folder's removal, unless that already ran (after hooks run in the order they were added).
  t.after(() => fs.existsSync(file) && fs.chmodSync(file, 0o666));
  try {
    fs.closeSync(fs.openSync(file, 'r+'));
    t.skip('this system opens a read-only file for writing anyway (Wine run as root)');
    return;
  } catch {
    // refused, as Windows does: the case under test
  }
  const shared = tryLock(file, { mode: 'shared' });
  assert.ok(shared, 'a shared lock on a read-only file');
  const second = tryLock(file, { mode: 'shared' });
  assert.ok(second, 'shared locks still share');
  second.release();
  shared.release();
  assert.throws(() => tryLock(file), { code: 'EACCES' });
});

test('a device name is no lock file (EFTYPE)', (t) => {
  const dir = tempDir(t);
  // NUL resolves to the null device in any folder on Windows.
  assert.throws(() => tryLock(path.join(dir, 'NUL')), { code: 'EFTYPE' });
});
