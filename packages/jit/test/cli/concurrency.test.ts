// Several jit processes at once on one .jit/: nothing lost, nothing torn, and
// a held lock turns into exit 75 (EX_TEMPFAIL) after JIT_LOCK_TIMEOUT.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectsForThisFile } from './helpers.js';

const projects = projectsForThisFile();
const project = projects.initialized;

/** A child process holding `lockPath` exclusively until `release()` closes its stdin. */
async function holdLock(lockPath: string): Promise<{ pid: number; release(): Promise<void> }> {
  const child = spawn(process.execPath, [path.join(__dirname, 'fixtures', 'hold-lock.js'), lockPath], { stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`lock holder exited ${code}`)));
  });
  return {
    pid: child.pid!,
    release: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.stdin.end();
      }),
  };
}

describe.concurrent('jit processes at once', () => {
  it('10 processes creating at once -> 10 issues, validate clean', async () => {
    const p = await project();
    const runs = await Promise.all(Array.from({ length: 10 }, (_, i) => p.run(['--json', 'issue', 'create', '-t', `Parallel ${i}`])));
    for (const run of runs) expect(run.code, run.stderr).toBe(0);
    const ids = new Set(runs.map((run) => JSON.parse(run.stdout).id as string));
    expect(ids.size).toBe(10);
    const all = await p.json(['query', 'all']);
    expect(new Set(all.issues.map((issue: { id: string }) => issue.id))).toEqual(ids);
    expect(await p.json(['validate'])).toMatchObject({ ok: true, problems: [] });
  });

  it('two processes updating the same issue: both changes are kept', async () => {
    const p = await project();
    const issue = await p.json(['issue', 'create', '-t', 'Shared']);
    for (let round = 0; round < 3; round++) {
      const [first, second] = await Promise.all([
        p.run(['issue', 'update', issue.id, '--label', `first:${round}`, '--context', `first${round}=yes`]),
        p.run(['issue', 'update', issue.id, '--label', `second:${round}`, '--priority', round % 2 ? 'low' : 'high']),
      ]);
      expect(first.code, first.stderr).toBe(0);
      expect(second.code, second.stderr).toBe(0);
    }
    const final = await p.json(['issue', 'show', issue.id]);
    expect([...final.labels].sort()).toEqual(['first:0', 'first:1', 'first:2', 'second:0', 'second:1', 'second:2']);
    expect(final.context).toEqual({ first0: 'yes', first1: 'yes', first2: 'yes' });
    expect(final.priority).toBe('high');
  });

  it('6 processes race claim-next over 3 ready issues -> 3 winners, each issue once, the rest exit 3', async () => {
    const p = await project();
    const issues = await Promise.all([1, 2, 3].map((i) => p.json(['issue', 'create', '-t', `Work ${i}`])));
    const runs = await Promise.all(Array.from({ length: 6 }, (_, i) => p.run(['--json', 'issue', 'claim-next', `agent:racer-${i}`])));
    const winners = runs.filter((run) => run.code === 0).map((run) => JSON.parse(run.stdout));
    const losers = runs.filter((run) => run.code !== 0);
    expect(winners.map((issue) => issue.id).sort()).toEqual(issues.map((issue) => issue.id).sort());
    expect(new Set(winners.map((issue) => issue.assignee)).size).toBe(3);
    for (const run of losers) {
      expect(run.code, run.stderr).toBe(3);
      expect(JSON.parse(run.stdout).error.code).toBe('NO_READY_ISSUE');
    }
    const claimed = await p.json(['query', 'state', 'in_progress']);
    expect(claimed.count).toBe(3);
  });

  it('listing while others create: every list is whole, the last sees everything', async () => {
    const p = await project();
    const creators = Array.from({ length: 6 }, (_, i) => p.run(['--json', 'issue', 'create', '-t', `Listed ${i}`]));
    const listers = Array.from({ length: 6 }, () => p.run(['--json', 'issue', 'list']));
    const [created, listed] = await Promise.all([Promise.all(creators), Promise.all(listers)]);
    for (const run of [...created, ...listed]) expect(run.code, run.stderr).toBe(0);
    for (const run of listed) {
      const list = JSON.parse(run.stdout);
      expect(list.count).toBe(list.issues.length);
      expect(list.count).toBeLessThanOrEqual(6);
      for (const issue of list.issues) expect(issue.title).toMatch(/^Listed \d$/);
    }
    expect((await p.json(['issue', 'list'])).count).toBe(6);
  });

  it('a held index lock -> exit 75 LOCK_TIMEOUT for index readers and graph changes, and work resumes once it is released', async () => {
    const p = await project();
    const [first, second] = await Promise.all([p.json(['issue', 'create', '-t', 'First']), p.json(['issue', 'create', '-t', 'Second'])]);
    const holder = await holdLock(path.join(p.jitDir, '.index.lock'));
    try {
      const started = Date.now();
      // Readers of the index take it shared, so an exclusive holder makes them wait and give up.
      const run = await p.run(['--json', 'status'], { JIT_LOCK_TIMEOUT: '0.3' });
      const waited = Date.now() - started;
      expect(run.code, run.stderr).toBe(75);
      expect(JSON.parse(run.stdout).error).toMatchObject({ code: 'LOCK_TIMEOUT' });
      expect(run.stderr).toBe(''); // --json: the JSON error only
      expect(waited).toBeGreaterThanOrEqual(300);
      const graphChange = await p.run(['--json', 'dep', 'add', first.id, second.id], { JIT_LOCK_TIMEOUT: '0.3' });
      expect(graphChange.code, graphChange.stderr).toBe(75);
      const locks = await p.json(['debug', 'locks'], { JIT_LOCK_TIMEOUT: '0.3' });
      const index = locks.locks.find((lock: { path: string }) => lock.path.endsWith('.index.lock'));
      expect(index).toMatchObject({ state: 'exclusive' });
      // Only Linux names the holder (/proc/locks); elsewhere the state comes from a probe.
      if (process.platform === 'linux') expect(index.holders).toEqual([{ pid: holder.pid, mode: 'exclusive' }]);
    } finally {
      await holder.release();
    }
    expect((await p.json(['dep', 'add', first.id, second.id], { JIT_LOCK_TIMEOUT: '0.3' })).dependencies).toEqual([second.id]);
    expect((await p.json(['status'], { JIT_LOCK_TIMEOUT: '0.3' })).total).toBe(2);
  });
});
