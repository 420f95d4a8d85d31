// The summary cache (.jit/index.db) against what an agent fleet does to a
// store: writers killed mid-write, then a git checkout of other issue files.
// Real processes and real files.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
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
