// Reads work on a store jit may not write: a read-only file system (EROFS)
// and folders the user may only read (EACCES). Shared locks then use lock
// files opened read-only, or none where a lock file was never made (nobody
// can be writing where no one can create it).
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, rmdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { JIT_BIN, runCollected, type CollectedRun } from './helpers.js';

const isLinux = process.platform === 'linux';
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const NOBODY = 65534;

function jit(cwd: string, args: readonly string[], uid?: number): Promise<CollectedRun> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('JIT_')));
  return runCollected(process.execPath, [JIT_BIN, '--json', ...args], { cwd, env: { ...env, JIT_LOCK_TIMEOUT: '60' }, ...(uid === undefined ? {} : { uid, gid: uid }) });
}

async function ok(cwd: string, args: readonly string[], uid?: number): Promise<any> {
  const run = await jit(cwd, args, uid);
  expect(run.code, `jit ${args.join(' ')}: ${run.stderr}`).toBe(0);
  return run.json;
}

/** A store with a ready issue, a blocked one, a gate and events; `withoutLockFiles` as a fresh clone has it. */
async function fillStore(project: string, options: { withoutLockFiles?: boolean; withoutPendingFolder?: boolean } = {}): Promise<{ ready: string; blocked: string }> {
  await ok(project, ['init']);
  const ready = (await ok(project, ['issue', 'create', '-t', 'first'])).id as string;
  const blocked = (await ok(project, ['issue', 'create', '-t', 'second'])).id as string;
  await ok(project, ['dep', 'add', blocked, ready]);
  await ok(project, ['registry', 'add', 'tests', '--title', 'Tests pass']);
  if (options.withoutLockFiles) {
    const jitDir = path.join(project, '.jit');
    for (const dir of [jitDir, path.join(jitDir, 'issues')]) {
      for (const name of readdirSync(dir)) if (name.endsWith('.lock')) rmSync(path.join(dir, name));
    }
  }
  // git keeps no empty folders: a committed and cloned .jit/ has no pending/.
  if (options.withoutPendingFolder) rmdirSync(path.join(project, '.jit', 'pending'));
  return { ready, blocked };
}

/** The reads the README promises on a read-only store, each checked for its answer. */
async function expectReadsWork(project: string, ids: { ready: string; blocked: string }, uid?: number): Promise<void> {
  expect((await ok(project, ['status'], uid)).total).toBe(2);
  expect((await ok(project, ['issue', 'list'], uid)).issues.map((s: { id: string }) => s.id).sort()).toEqual([ids.ready, ids.blocked].sort());
  expect((await ok(project, ['query', 'ready'], uid)).issues.map((s: { id: string }) => s.id)).toEqual([ids.ready]);
  expect((await ok(project, ['query', 'blocked'], uid)).issues.map((s: { id: string }) => s.id)).toEqual([ids.blocked]);
  expect((await ok(project, ['issue', 'show', ids.blocked], uid)).dependencies).toEqual([ids.ready]);
  expect((await ok(project, ['events', 'tail'], uid)).events.length).toBeGreaterThan(0);
  expect((await ok(project, ['registry', 'list'], uid)).gates.map((g: { key: string }) => g.key)).toEqual(['tests']);
}

async function expectWritesRefused(project: string, uid?: number): Promise<void> {
  const create = await jit(project, ['issue', 'create', '-t', 'refused'], uid);
  expect(create.code).not.toBe(0);
  expect(['IO_ERROR', 'PERMISSION_DENIED']).toContain(create.json.error.code);
}

const made: string[] = [];
const mounts: string[] = [];
afterAll(() => {
  for (const dir of mounts) spawnSync('umount', ['-l', dir]);
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'jit-ro-'));
  made.push(dir);
  return dir;
}

function mountTmpfs(): string {
  const dir = tempDir();
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', dir], { encoding: 'utf8' });
  if (mounted.status !== 0) throw new Error(`cannot mount a tmpfs at ${dir} (needed for the EROFS test): ${mounted.stderr || mounted.error}`);
  mounts.push(dir);
  return dir;
}

function remountReadOnly(dir: string): void {
  const remounted = spawnSync('mount', ['-o', 'remount,ro', dir], { encoding: 'utf8' });
  if (remounted.status !== 0) throw new Error(`cannot remount ${dir} read-only: ${remounted.stderr || remounted.error}`);
}

// A read-only mount needs root on Linux. Everywhere else the EACCES test below still runs.
if (!(isLinux && isRoot)) console.log('read-only-store: the EROFS tests need root on Linux to mount a tmpfs; running the EACCES tests only');

describe.skipIf(!(isLinux && isRoot))('a store on a read-only file system (EROFS)', () => {
  it('status, list, query, issue show, events tail and registry list work; writes fail clearly', async () => {
    const disk = mountTmpfs();
    const ids = await fillStore(disk);
    remountReadOnly(disk);
    await expectReadsWork(disk, ids);
    const create = await jit(disk, ['issue', 'create', '-t', 'refused']);
    expect(create.code).toBe(10);
    expect(create.json.error.code).toBe('IO_ERROR');
    expect(create.json.error.message).toMatch(/EROFS|read-only/i);
  });

  it('also when no lock file was ever made there (a fresh clone mounted read-only)', async () => {
    const disk = mountTmpfs();
    const ids = await fillStore(disk, { withoutLockFiles: true });
    remountReadOnly(disk);
    await expectReadsWork(disk, ids);
    await expectWritesRefused(disk);
  });

  it('a clone without index.db (git ignores it) cannot build one: claims and their leases come from the issue files', async () => {
    const disk = mountTmpfs();
    const ids = await fillStore(disk, { withoutLockFiles: true, withoutPendingFolder: true });
    // fillStore's store, with the first issue claimed, as a commit of .jit/ holds it: no index.db.
    const claimed = await ok(disk, ['issue', 'claim', ids.ready, 'agent:reader', '--ttl', '2h']);
    for (const name of readdirSync(path.join(disk, '.jit'))) if (name.startsWith('index.db')) rmSync(path.join(disk, '.jit', name));
    remountReadOnly(disk);
    const claims = await ok(disk, ['query', 'claims']);
    expect(claims.issues.map((c: { id: string; assignee: string; lease: unknown }) => [c.id, c.assignee, c.lease])).toEqual([[ids.ready, 'agent:reader', claimed.lease]]);
    expect(readdirSync(path.join(disk, '.jit')).filter((name) => name.startsWith('index.db'))).toEqual([]);
  });

  it('also in a clone without the empty pending/ folder git does not keep (issue show too)', async () => {
    const disk = mountTmpfs();
    const ids = await fillStore(disk, { withoutLockFiles: true, withoutPendingFolder: true });
    remountReadOnly(disk);
    await expectReadsWork(disk, ids);
    await expectWritesRefused(disk);
  });
});

describe.skipIf(process.platform === 'win32')('a store the user may only read (EACCES)', () => {
  // Root passes every permission check: run the reads as nobody, who owns nothing here.
  const reader = isRoot ? NOBODY : undefined;

  it('reads work with the lock files opened read-only, and with none at all', async () => {
    for (const withoutLockFiles of [false, true]) {
      const project = tempDir();
      const ids = await fillStore(project, { withoutLockFiles });
      const jitDir = path.join(project, '.jit');
      chmodSync(project, 0o755);
      for (const dir of [jitDir, path.join(jitDir, 'issues'), path.join(jitDir, 'pending')]) chmodSync(dir, 0o555);
      for (const dir of [jitDir, path.join(jitDir, 'issues')]) {
        for (const name of readdirSync(dir)) if (!name.startsWith('.') || name.endsWith('.lock')) chmodSync(path.join(dir, name), name === 'issues' || name === 'pending' ? 0o555 : 0o444);
      }
      try {
        await expectReadsWork(project, ids, reader);
        await expectWritesRefused(project, reader);
      } finally {
        for (const dir of [jitDir, path.join(jitDir, 'issues'), path.join(jitDir, 'pending')]) chmodSync(dir, 0o755);
      }
    }
  });
});
