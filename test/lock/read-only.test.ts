// A shared lock on a file the process may only read: opened read-only, and
// a real lock (it keeps an exclusive holder out). Root passes every
// permission check, so as root the locking process runs as nobody.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tryLock } from '../../src/index.js';
import { tempDir } from './helpers.js';

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const NOBODY = 65534;
const LOCK_MODULE = path.resolve(__dirname, '..', '..', 'dist', 'index.js');

let dir: string;
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/**
 * Runs `lock(file, { mode })` in another process (as nobody when we are
 * root) and reports what happened; a taken lock is held until the returned
 * release() is called.
 */
function lockElsewhere(file: string, mode: 'shared' | 'exclusive'): Promise<{ outcome: string; release: () => Promise<void> }> {
  const script = `
    const { lock } = require(${JSON.stringify(LOCK_MODULE)});
    lock(${JSON.stringify(file)}, { mode: ${JSON.stringify(mode)}, timeoutMs: 0 }).then(
      (held) => { process.stdout.write('held\\n'); process.stdin.on('end', () => held.release()).resume(); },
      (error) => process.stdout.write(String(error.code) + '\\n'),
    );`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'inherit'], ...(isRoot ? { uid: NOBODY, gid: NOBODY } : {}) });
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  return new Promise((resolve, reject) => {
    let out = '';
    child.once('error', reject);
    // A child that dies before answering (it could not even load the module) fails the test at once.
    void exited.then(() => reject(new Error(`the locking process exited without answering: ${JSON.stringify(out)}`)));
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      if (out.endsWith('\n')) resolve({ outcome: out.trim(), release: () => (child.stdin.end(), exited) });
    });
  });
}

describe.skipIf(process.platform === 'win32')('locks on files the process may only read', () => {
  it('a shared lock is taken read-only and holds; exclusive, or a file it cannot create, keeps its error', async () => {
    dir = tempDir();
    fs.chmodSync(dir, 0o755);
    const file = path.join(dir, 'read-only.lock');
    fs.writeFileSync(file, '');
    fs.chmodSync(file, 0o444);
    fs.chmodSync(dir, 0o555); // nor may it be replaced or created anew

    const shared = await lockElsewhere(file, 'shared');
    try {
      expect(shared.outcome).toBe('held');
      expect(tryLock(file, { mode: 'exclusive' })).toBeNull(); // the read-only lock is a real one
      const alongside = tryLock(file, { mode: 'shared' });
      expect(alongside).not.toBeNull();
      alongside?.release();
    } finally {
      await shared.release();
    }
    const exclusive = await lockElsewhere(file, 'exclusive');
    await exclusive.release();
    expect(exclusive.outcome).toBe('EACCES');
    const missing = await lockElsewhere(path.join(dir, 'missing.lock'), 'shared');
    await missing.release();
    expect(missing.outcome).toBe('EACCES');
    fs.chmodSync(dir, 0o755);
  });
});
