// Shared by the Windows suite: temporary folders and child processes.
import { fork } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
/** The compiled lock toolkit (built on Linux by tsc; JavaScript is portable). */
export const lockApiPath = require.resolve('../../dist/index.js');
export const lockApi = require(lockApiPath);

const childScript = fileURLToPath(new URL('./fixtures/lock-child.cjs', import.meta.url));

/** A fresh folder under the system temp folder; removed after the test. */
export function tempDir(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jit-win-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Runs the fixture in a new node.exe process with an IPC channel only. */
export function startChild(...args) {
  return fork(childScript, args, { stdio: ['ignore', 'ignore', 'ignore', 'ipc'] });
}

/** Waits for `message` from the child; fails if it exits first. */
export async function nextMessage(child, expected) {
  const exited = once(child, 'exit').then(([code]) => {
    throw new Error(`child exited with ${code} before sending '${expected}'`);
  });
  const [message] = await Promise.race([once(child, 'message'), exited]);
  if (message !== expected) throw new Error(`child sent '${message}', expected '${expected}'`);
}

/** A child that holds the lock on `lockPath` until released or killed. */
export async function startHolder(t, lockPath, mode = 'exclusive') {
  const child = startChild('hold', lockPath, mode);
  t.after(() => child.kill());
  await nextMessage(child, 'held');
  return child;
}

/** Asks a holder child to release its lock and waits until it has. */
export async function releaseHolder(child) {
  const released = nextMessage(child, 'released');
  child.send('release');
  await released;
}

/** Resolves with the child's exit code. */
export async function exitCode(child) {
  const [code] = child.exitCode === null ? await once(child, 'exit') : [child.exitCode];
  return code;
}
