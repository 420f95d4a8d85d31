// The jit-lock command on Windows (Windows has no flock(1) at all): real
// node.exe processes under Wine. Children write nothing to pipes (node.exe
// under Wine cannot): outcomes are exit codes and files.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { lockApi, lockApiPath, releaseHolder, startHolder, tempDir } from './helpers.mjs';

const require = createRequire(import.meta.url);
const { EXIT } = require('../../dist/cli.js');
const bin = fileURLToPath(new URL('../../bin/jit-lock.js', import.meta.url));
const { tryLock } = lockApi;

/** Runs `jit-lock ...args` to its end; resolves with its exit code. */
async function jitLock(args) {
  const child = spawn(process.execPath, [bin, ...args], { stdio: 'ignore' });
  const [code] = await once(child, 'exit');
  return code;
}

/** `node -e SCRIPT` as the command to run. */
const nodeCommand = (script) => [process.execPath, '-e', script];

/** A command's first step: its pid into `pidFile`, whole (by rename: a reader never sees the file empty). */
const writePid = (pidFile) =>
  `require('fs').writeFileSync(${JSON.stringify(pidFile + '.tmp')}, String(process.pid)); require('fs').renameSync(${JSON.stringify(pidFile + '.tmp')}, ${JSON.stringify(pidFile)});`;

/** The pid in `pidFile`, or null. Never 0: process.kill(0) on Windows ends the calling process itself. */
function readPid(pidFile) {
  try {
    const pid = Number(fs.readFileSync(pidFile, 'utf8'));
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** Waits for the command to write its pid (node.exe under Wine starts slowly on a loaded machine: a bound, not a goal). */
async function waitForPid(pidFile) {
  for (const deadline = Date.now() + 120_000; Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 25))) {
    const pid = readPid(pidFile);
    if (pid !== null) return pid;
  }
  throw new Error(`the command never wrote its pid to ${pidFile} (120 s)`);
}

test('runs the command with the lock held and passes its exit status through', async (t) => {
  const file = path.join(tempDir(t), 'status.lock');
  // The command checks from inside: a lock of its own on the file is refused.
  const check = `const { tryLock } = require(${JSON.stringify(lockApiPath)});
    process.exit(tryLock(${JSON.stringify(file)}) === null ? 7 : 99);`;
  assert.equal(await jitLock([file, '--', ...nodeCommand(check)]), 7);
  assert.equal(await jitLock([file, '--', ...nodeCommand('process.exit(0)')]), 0);
  const after = tryLock(file);
  assert.ok(after, 'released once the command ended');
  after.release();
});

test('--nonblock against a holder in another process: busy, and the command never runs', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'busy.lock');
  const marker = path.join(dir, 'ran');
  const holder = await startHolder(t, file);
  const run = nodeCommand(`require('fs').writeFileSync(${JSON.stringify(marker)}, '')`);
  assert.equal(await jitLock(['--nonblock', file, '--', ...run]), EXIT.busy);
  assert.equal(await jitLock(['-n', '-E', '1', file, '--', ...run]), 1);
  assert.equal(fs.existsSync(marker), false);
  await releaseHolder(holder);
  assert.equal(await jitLock(['-n', file, '--', ...run]), 0);
  assert.equal(fs.existsSync(marker), true);
});

test('--timeout: timed out while another process holds the lock; runs once it is released', async (t) => {
  const file = path.join(tempDir(t), 'timeout.lock');
  const holder = await startHolder(t, file);
  const started = performance.now();
  assert.equal(await jitLock(['--timeout', '0.3', file, '--', ...nodeCommand('process.exit(0)')]), EXIT.timedOut);
  assert.ok(performance.now() - started >= 290);
  const waiter = spawn(process.execPath, [bin, '--timeout=120', file, '--', ...nodeCommand('process.exit(6)')], { stdio: 'ignore' });
  const exited = once(waiter, 'exit');
  await new Promise((resolve) => setTimeout(resolve, 500));
  await releaseHolder(holder);
  assert.equal((await exited)[0], 6);
});

test('a command that is killed: the lock is released and jit-lock reports a failure', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'killed.lock');
  const pidFile = path.join(dir, 'pid');
  const script = `${writePid(pidFile)} setInterval(() => {}, 1000);`;
  const wrapper = spawn(process.execPath, [bin, file, '--', ...nodeCommand(script)], { stdio: 'ignore' });
  const exited = once(wrapper, 'exit');
  const pid = await waitForPid(pidFile);
  assert.equal(tryLock(file), null, 'held while the command runs');
  process.kill(pid, 'SIGKILL');
  const [code] = await exited;
  assert.notEqual(code, 0);
  const after = tryLock(file);
  assert.ok(after, 'released once the command was killed');
  after.release();
});

test('jit-lock itself terminated: Windows releases its lock', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'terminated.lock');
  const pidFile = path.join(dir, 'pid');
  const script = `${writePid(pidFile)} setTimeout(() => {}, 60000);`;
  const wrapper = spawn(process.execPath, [bin, file, '--', ...nodeCommand(script)], { stdio: 'ignore' });
  try {
    await waitForPid(pidFile);
    assert.equal(tryLock(file), null);
    wrapper.kill();
    await once(wrapper, 'exit');
    let after = null;
    for (let i = 0; i < 2400 && !after; i++) {
      after = tryLock(file);
      if (!after) await new Promise((resolve) => setTimeout(resolve, 25));
    }
    assert.ok(after, 'released when jit-lock ended');
    after.release();
  } finally {
    const pid = readPid(pidFile);
    try {
      if (pid !== null) process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

test('usage errors exit 64; a command that does not exist, 127', async (t) => {
  const file = path.join(tempDir(t), 'errors.lock');
  assert.equal(await jitLock([]), EXIT.usage);
  assert.equal(await jitLock(['--timeout', 'soon', file, 'x']), EXIT.usage);
  assert.equal(await jitLock([file, '--', 'jit-lock-no-such-command']), EXIT.notFound);
});
