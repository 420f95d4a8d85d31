// Which other lock implementations jit-lock excludes (and is excluded by) on
// this OS, checked with real processes. On Linux and macOS jit-lock takes
// flock(2) locks: util-linux flock(1) and the Rust jit are excluded both
// ways. fs-native-extensions takes fcntl OFD locks on Linux, a family that
// flock(2) holders do not exclude (and vice versa): its lock and ours on one
// file are both granted at once.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tryLock } from '../../src/index.js';
import { perTestSandbox } from './helpers.js';

const sandbox = perTestSandbox();

describe.runIf(process.platform === 'linux')('interoperation on Linux', () => {
  it('util-linux flock(1) and jit-lock exclude each other', async () => {
    const lockPath = path.join(sandbox.dir, 'flock1.lock');
    fs.writeFileSync(lockPath, '');
    // Its own process group: flock(1) hands its lock on to sleep, so both must go.
    const holder = spawn('flock', ['--shared', lockPath, 'sleep', '60'], { stdio: 'ignore', detached: true });
    const gone = new Promise((resolve) => holder.once('exit', resolve));
    try {
      let exclusive = tryLock(lockPath);
      for (let i = 0; i < 200 && exclusive !== null; i++) {
        exclusive.release();
        await new Promise((resolve) => setTimeout(resolve, 25)); // until flock(1) holds it
        exclusive = tryLock(lockPath);
      }
      expect(exclusive).toBeNull(); // its shared lock keeps our exclusive one out...
      const shared = tryLock(lockPath, { mode: 'shared' });
      expect(shared).not.toBeNull(); // ...and admits our shared one
      shared!.release();
    } finally {
      process.kill(-holder.pid!, 'SIGKILL');
    }
    await gone;
  });

  it('fs-native-extensions takes fcntl OFD locks: a jit-lock (flock) holder does not keep it out', () => {
    // No type declarations ship with it.
    const fsne = require('fs-native-extensions') as { tryLock(fd: number): boolean; unlock(fd: number): void };
    const lockPath = path.join(sandbox.dir, 'fsne.lock');
    const held = tryLock(lockPath)!;
    const fd = fs.openSync(lockPath, 'r+');
    try {
      expect(fsne.tryLock(fd)).toBe(true); // both "exclusive" locks granted at once
      fsne.unlock(fd);
    } finally {
      fs.closeSync(fd);
      held.release();
    }
  });
});
