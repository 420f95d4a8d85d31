// Disk full and read-only: a write that hits ENOSPC or EROFS fails with a
// clear error and leaves the previous version intact. Needs a small tmpfs,
// which only root on Linux can mount; elsewhere the reason is printed.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { canMount, hasStackTrace, jit, report, store, tempDir } from './support.js';

const mountable = canMount();
if (!mountable) {
  console.log('disk-faults: SKIPPED — needs root on Linux to mount a small tmpfs (uid or platform does not allow it)');
}

const mounts: string[] = [];
function smallDisk(sizeKiB: number): string {
  const dir = tempDir('disk');
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKiB}k`, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mount failed: ${r.stderr}`);
  mounts.push(dir);
  return dir;
}
afterAll(() => {
  for (const m of mounts) spawnSync('umount', ['-l', m]);
});

describe.skipIf(!mountable)('disk faults', () => {
  it('ENOSPC: the update fails clearly and the previous version stays', async () => {
    const disk = smallDisk(512);
    const { path: jitDir } = store.initJit(disk);
    const tracker = store.openTracker(jitDir);
    const issue = await tracker.createIssue({ title: 'before the disk filled', description: 'v1' });
    const file = path.join(jitDir, 'issues', `${issue.id}.json`);
    const before = fs.readFileSync(file, 'utf8');

    // Fill the disk, leaving less room than the new version needs.
    fs.writeFileSync(path.join(disk, 'filler'), Buffer.alloc(0));
    const fd = fs.openSync(path.join(disk, 'filler'), 'w');
    try {
      for (;;) fs.writeSync(fd, Buffer.alloc(4096));
    } catch (error) {
      expect((error as NodeJS.ErrnoException).code).toBe('ENOSPC');
    } finally {
      fs.closeSync(fd);
    }

    const big = 'x'.repeat(64 * 1024);
    const update = jit(disk, ['issue', 'update', issue.id, '--description', big]);
    expect(update.status).toBe(10);
    expect(update.json.error.code).toBe('IO_ERROR');
    expect(update.json.error.message).toMatch(/ENOSPC|no space/i);
    expect(hasStackTrace(update.stdout + update.stderr)).toBe(false);
    expect(fs.readFileSync(file, 'utf8')).toBe(before);
    expect(fs.readdirSync(path.join(jitDir, 'issues')).filter((f) => f.endsWith('.tmp'))).toEqual([]);

    fs.rmSync(path.join(disk, 'filler'));
    const retry = jit(disk, ['issue', 'update', issue.id, '--description', 'v2']);
    expect(retry.status, retry.stdout).toBe(0);
    expect(jit(disk, ['validate']).status).toBe(0);
    report('disk full (ENOSPC)', 'tmpfs of 512 KiB filled, 64 KiB update', 'IO_ERROR exit 10 naming ENOSPC; old version intact; no temp left; works after space is freed');
  });

  it('EROFS: writes fail clearly on a read-only file system and nothing changes', async () => {
    const disk = smallDisk(1024);
    // Made by another process: one that keeps index.db open (its write-ahead log is open for writing) stops a remount read-only (EBUSY).
    expect(jit(disk, ['init']).status).toBe(0);
    const jitDir = path.join(disk, '.jit');
    const issue = jit(disk, ['issue', 'create', '--title', 'frozen']).json;
    const file = path.join(jitDir, 'issues', `${issue.id}.json`);
    const before = fs.readFileSync(file, 'utf8');

    const remount = spawnSync('mount', ['-o', 'remount,ro', disk], { encoding: 'utf8' });
    expect(remount.status, remount.stderr).toBe(0);
    try {
      const update = jit(disk, ['issue', 'update', issue.id, '--title', 'thawed']);
      expect(update.status).toBe(10);
      expect(update.json.error.code).toBe('IO_ERROR');
      expect(update.json.error.message).toMatch(/EROFS|read-only/i);
      expect(hasStackTrace(update.stdout + update.stderr)).toBe(false);
      const create = jit(disk, ['issue', 'create', '--title', 'new']);
      expect(create.status).toBe(10);
    } finally {
      spawnSync('mount', ['-o', 'remount,rw', disk]);
    }
    expect(fs.readFileSync(file, 'utf8')).toBe(before);
    expect(jit(disk, ['validate']).status).toBe(0);
    report('read-only file system (EROFS)', 'tmpfs remounted ro; update + create', 'IO_ERROR exit 10 naming EROFS; nothing changed');
  });
});
