// The summary cache (.jit/index.db) against what an agent fleet does to a
// store: writers killed mid-write, then a git checkout of other issue files.
// Real processes and real files.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { probeLock } from 'jit-lock';
import Database from 'libsql';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectMcp, ok } from '../mcp/helpers.js';
import { projectsForThisFile } from './helpers.js';

const projects = projectsForThisFile();

/** The pid of a process that has exited: what a marker of a SIGKILLed writer names. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
  return Number(child.stdout.trim());
}

describe('a marker left by a killed writer', () => {
  it('does not hide issue files a git checkout then added, removed or changed, before or after the next write', async () => {
    const p = await projects.initialized();
    const [a, b, c] = [
      await p.json<{ id: string }>(['issue', 'create', '--title', 'a']),
      await p.json<{ id: string }>(['issue', 'create', '--title', 'b']),
      await p.json<{ id: string }>(['issue', 'create', '--title', 'c']),
    ];
    // The writer of `a` was SIGKILLed after its marker, before its index update.
    writeFileSync(path.join(p.jitDir, 'pending', `${a.id}.${deadPid()}.1`), '');
    // git checkout: a new issue file, one removed, one changed.
    const added = '11111111-2222-4333-8444-555555555555';
    const text = readFileSync(path.join(p.jitDir, 'issues', `${b.id}.json`), 'utf8');
    writeFileSync(path.join(p.jitDir, 'issues', `${added}.json`), text.replaceAll(b.id, added).replace('"b"', '"from the branch"'));
    rmSync(path.join(p.jitDir, 'issues', `${c.id}.json`));
    writeFileSync(path.join(p.jitDir, 'issues', `${b.id}.json`), text.replace('"ready"', '"backlog"'));

    const expected = { total: 3, by_state: expect.objectContaining({ ready: 2, backlog: 1 }) };
    expect(await p.json(['status'])).toMatchObject(expected);
    await p.json(['issue', 'update', a.id, '--title', 'a2']);
    expect(await p.json(['status'])).toMatchObject(expected);
    const listed = (await p.json<{ issues: { id: string; title: string }[] }>(['query', 'ready'])).issues.map((i) => i.title).sort();
    expect(listed).toEqual(['a2', 'from the branch']);
    expect(await p.json(['validate'])).toMatchObject({ ok: true, problems: [] });
  });
});

describe('a marker of a live writer (between its file and its index step)', () => {
  // KNOWN GAP (review-3), not fixed: a live writer's marker excuses a changed issues/ stamp (currentIndex skips
  // the resync), heal re-reads only the marked issues, then syncIndex records the new stamp as if every file were
  // indexed. The checked-out file stays out of status, query ready and claim-next until `jit validate --fix`
  // (validate reports it: unindexed_issue_file). The fix needs a design choice (re-sync all file stamps when a
  // marker excused the stamp, O(issues) per such write, or a stamp taken before the writer's own rename): the lead's.
  it.fails('does not let the next index step stamp a git checkout made meanwhile as indexed: the added issue is counted, ready and valid', async () => {
    const p = await projects.initialized();
    const a = await p.json<{ id: string }>(['issue', 'create', '--title', 'a']);
    // A writer still alive (this sleeper's pid) has written a's file and not yet healed: its marker is there.
    const writer = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1e6)'], { stdio: 'ignore' });
    try {
      writeFileSync(path.join(p.jitDir, 'pending', `${a.id}.${writer.pid}.1`), '');
      // Meanwhile a git checkout adds an issue file (no marker: jit did not write it).
      const added = '11111111-2222-4333-8444-555555555555';
      const text = readFileSync(path.join(p.jitDir, 'issues', `${a.id}.json`), 'utf8');
      writeFileSync(path.join(p.jitDir, 'issues', `${added}.json`), text.replaceAll(a.id, added).replace('"a"', '"from the branch"'));
      // The next jit write's index step heals the marked issue and records the issues/ stamp.
      await p.json(['issue', 'update', a.id, '--title', 'a2']);
    } finally {
      writer.kill('SIGKILL');
      await new Promise((resolve) => writer.once('exit', resolve));
    }
    // The writer is gone and its marker cleared: nothing excuses a stamp any more; the index must hold the new file.
    expect(readdirSync(path.join(p.jitDir, 'pending')).filter((name) => !name.startsWith('.'))).toEqual([]);
    expect(await p.json(['status'])).toMatchObject({ total: 2, by_state: expect.objectContaining({ ready: 2 }) });
    const listed = (await p.json<{ issues: { title: string }[] }>(['query', 'ready'])).issues.map((i) => i.title).sort();
    expect(listed).toEqual(['a2', 'from the branch']);
    expect(await p.json(['validate'])).toMatchObject({ ok: true, problems: [] });
  });
});

describe('index.db-wal and -shm deleted while `jit mcp` has the cache open', () => {
  it('a new CLI process rebuilds the cache instead of failing INTERNAL (no such table), and sees every issue', async () => {
    const p = await projects.initialized();
    const session = await connectMcp(p.dir);
    try {
      // The server made index.db: its tables and rows are still only in the -wal (no checkpoint yet).
      for (const title of ['one', 'two']) await ok(session.client, 'issue_create', { title });
      for (const name of ['index.db-wal', 'index.db-shm']) rmSync(path.join(p.jitDir, name), { force: true });
      expect(await p.json(['status'])).toMatchObject({ total: 2 });
      await p.json(['issue', 'create', '--title', 'three']);
      expect(await p.json(['status'])).toMatchObject({ total: 3 });
      // The long-lived server is not left on its detached copy either.
      expect(await ok(session.client, 'status')).toMatchObject({ total: 3 });
    } finally {
      await session.client.close();
    }
    expect(await p.json(['status'])).toMatchObject({ total: 3 });
    expect(await p.json(['validate'])).toMatchObject({ ok: true, problems: [] });
  });
});

/** A child process holding `lockPath` shared until `release()` closes its stdin. */
async function holdShared(lockPath: string): Promise<{ release(): Promise<void> }> {
  const child = spawn(process.execPath, [path.join(__dirname, 'fixtures', 'hold-lock.js'), lockPath, 'shared'], { stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`lock holder exited ${code}`)));
  });
  return { release: () => new Promise((resolve) => (child.once('exit', () => resolve()), child.stdin.end())) };
}

/** Commits in index.db-wal (frames of the current WAL generation that end a transaction). */
function walCommits(jitDir: string): number {
  const file = path.join(jitDir, 'index.db-wal');
  const wal = existsSync(file) ? readFileSync(file) : Buffer.alloc(0);
  if (wal.length < 32) return 0;
  const pageSize = wal.readUInt32BE(8);
  const [salt1, salt2] = [wal.readUInt32BE(16), wal.readUInt32BE(20)];
  let commits = 0;
  for (let at = 32; at + 24 + pageSize <= wal.length; at += 24 + pageSize) {
    if (wal.readUInt32BE(at + 8) !== salt1 || wal.readUInt32BE(at + 12) !== salt2) break;
    if (wal.readUInt32BE(at + 4) !== 0) commits++;
  }
  return commits;
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 20));
}

describe('group commit: writers queued on the index lock', () => {
  it('the first to get it indexes every finished write in one commit; the others find their markers gone and commit nothing; nothing is stale', async () => {
    const p = await projects.initialized();
    const ids: string[] = [];
    for (const title of ['a', 'b', 'c']) ids.push((await p.json<{ id: string }>(['issue', 'create', '--title', title])).id);
    expect(await p.json(['status'])).toMatchObject({ total: 3 });
    // A connection of ours (that never writes) keeps index.db-wal from being checkpointed away when a writer closes the last one.
    const reader = new Database(path.join(p.jitDir, 'index.db'));
    expect(reader.prepare('SELECT count(*) AS n FROM summaries').get()).toMatchObject({ n: 3 }); // opens it for real
    try {
      const before = walCommits(p.jitDir);
      // Shared, as a reader holds it: the writers read and commit their files, and queue for the index step.
      const holder = await holdShared(path.join(p.jitDir, '.index.lock'));
      const updates = ids.map((id, n) => p.run(['--json', 'issue', 'update', id, '--title', `renamed ${n}`]));
      // Each writer commits its issue file (and its marker) without the index lock, then queues for it.
      await until(() => readdirSync(path.join(p.jitDir, 'pending')).length === 3 && ids.every((id, n) => readFileSync(path.join(p.jitDir, 'issues', `${id}.json`), 'utf8').includes(`renamed ${n}`)));
      // A writer logs its event before it lets go of its issue: once each issue lock is free, all three wait for the index
      // only (otherwise, at a high load, the first healer may find one still held, and leave it to its own commit).
      await until(() => ids.every((id) => probeLock(path.join(p.jitDir, 'issues', `${id}.lock`)) === 'unlocked'));
      await holder.release();
      for (const run of await Promise.all(updates)) expect(run.code, run.stderr).toBe(0);
      expect(readdirSync(path.join(p.jitDir, 'pending'))).toEqual([]);
      expect(walCommits(p.jitDir) - before).toBe(1);
    } finally {
      reader.close();
    }
    const titles = (await p.json<{ issues: { title: string }[] }>(['query', 'all'])).issues.map((i) => i.title).sort();
    expect(titles).toEqual(['renamed 0', 'renamed 1', 'renamed 2']);
    expect(await p.json(['validate'])).toMatchObject({ ok: true, problems: [] });
  });

  it('a healer killed after its commit, before it cleared the markers (it fsyncs after letting go of the lock): the next step clears them, commits only its own rows, and nothing is stale', async () => {
    const p = await projects.initialized();
    const a = await p.json<{ id: string }>(['issue', 'create', '--title', 'a']);
    const b = await p.json<{ id: string }>(['issue', 'create', '--title', 'b']);
    expect(await p.json(['issue', 'update', a.id, '--title', 'healed'])).toMatchObject({ title: 'healed' });
    // What the killed healer leaves: its rows committed (they equal the file), its writer's marker still there.
    writeFileSync(path.join(p.jitDir, 'pending', `${a.id}.${deadPid()}.1`), '');
    expect(await p.json(['issue', 'show', a.id])).toMatchObject({ title: 'healed' });
    const reader = new Database(path.join(p.jitDir, 'index.db'));
    expect(reader.prepare('SELECT count(*) AS n FROM summaries').get()).toMatchObject({ n: 2 });
    try {
      const before = walCommits(p.jitDir);
      expect(await p.json(['issue', 'update', b.id, '--title', 'next'])).toMatchObject({ title: 'next' });
      expect(readdirSync(path.join(p.jitDir, 'pending'))).toEqual([]);
      expect(walCommits(p.jitDir) - before).toBe(1); // b's row; a's was already right
    } finally {
      reader.close();
    }
    const titles = (await p.json<{ issues: { title: string }[] }>(['query', 'all'])).issues.map((i) => i.title).sort();
    expect(titles).toEqual(['healed', 'next']);
    expect(await p.json(['validate'])).toMatchObject({ ok: true, problems: [], recovered: [] });
  });
});

describe('a summary in index.db that is not JSON (a hand edit, a bad disk)', () => {
  it('is read around, then rebuilt by the next heal: every command answers from the files, none fails INTERNAL', async () => {
    const p = await projects.initialized();
    const a = await p.json<{ id: string }>(['issue', 'create', '--title', 'a']);
    const b = await p.json<{ id: string }>(['issue', 'create', '--title', 'b']);
    const db = new Database(path.join(p.jitDir, 'index.db'));
    try {
      db.prepare("UPDATE summaries SET doc = '{' WHERE id = ?").run(a.id);
    } finally {
      db.close();
    }
    // A write (its index step reads the damaged row), then commands that heal what it left and read.
    const updated = await p.run(['--json', 'issue', 'update', a.id, '--priority', 'high']);
    expect(updated.code, updated.stdout + updated.stderr).toBe(0);
    const added = await p.run(['--json', 'dep', 'add', b.id, a.id]);
    expect(added.code, added.stdout + added.stderr).toBe(0);
    expect(await p.json(['status'])).toMatchObject({ total: 2, ready: 1, blocked: 1 });
    expect((await p.json<{ issues: { id: string; priority: string }[] }>(['query', 'ready'])).issues).toEqual([expect.objectContaining({ id: a.id, priority: 'high' })]);
    expect(await p.json(['validate'])).toMatchObject({ ok: true, problems: [] });
  });
});
