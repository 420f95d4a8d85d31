// The store under real concurrent processes (child_process): no lost update, no double claim, no cycle, no stale index.
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { probeLock } from '../../src/lock/index.js';
import { initJit, openTracker, type Tracker } from '../../src/store/index.js';
import { spawn } from 'node:child_process';
import { finish, holding, runAll, start } from './helpers.js';
import { indexRows } from '../support/index-db.js';

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'jit-store-procs-'));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

const indexOnDisk = indexRows;

function issueFiles(jitDir: string): Record<string, { title: string; updated_at: string }> {
  const issues: Record<string, { title: string; updated_at: string }> = {};
  for (const name of fs.readdirSync(path.join(jitDir, 'issues')).filter((n) => n.endsWith('.json'))) {
    issues[name.slice(0, -5)] = JSON.parse(fs.readFileSync(path.join(jitDir, 'issues', name), 'utf8'));
  }
  return issues;
}

/** The index must say exactly what the issue files say, and validate must agree. */
async function expectConsistent(jitDir: string, tracker: Tracker): Promise<void> {
  const files = issueFiles(jitDir);
  const index = indexOnDisk(jitDir);
  expect(Object.keys(index).sort()).toEqual(Object.keys(files).sort());
  for (const [id, issue] of Object.entries(files)) expect(index[id]!.updated_at).toBe(issue.updated_at);
  expect(fs.readdirSync(path.join(jitDir, 'pending'))).toEqual([]);
  expect(await tracker.validate()).toEqual({ ok: true, problems: [], fixed: [], recovered: [] });
}

let stores = 0;
let jitDir: string;
let tracker: Tracker;
beforeEach(() => {
  const project = path.join(scratch, `p${++stores}`);
  fs.mkdirSync(project);
  jitDir = initJit(project).path;
  tracker = openTracker(jitDir);
});

describe('the store across processes', () => {
  it('50 processes x 5 creates -> 250 issues; index and files agree', async () => {
    const outputs = await runAll(jitDir, Array.from({ length: 50 }, (_, p) => ['create', '5', `p${p}`]));
    const ids = outputs.flat() as string[];
    expect(ids).toHaveLength(250);
    expect(new Set(ids).size).toBe(250);
    const listed = await tracker.listIssues();
    expect(listed.map((s) => s.id).sort()).toEqual([...ids].sort());
    expect(new Set(listed.map((s) => s.title)).size).toBe(250);
    expect((await tracker.queryEvents({ type: 'issue_created' })).length).toBe(250);
    await expectConsistent(jitDir, tracker);
  });

  it('updates to different issues all land (10 processes x 20 updates of their own issue)', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push((await tracker.createIssue({ title: `own ${i}` })).id);
    await runAll(jitDir, ids.map((id) => ['update-own', id, '20']));
    for (const id of ids) {
      const issue = await tracker.getIssue(id);
      expect(issue.title).toBe('v19');
      expect(Object.keys(issue.context)).toHaveLength(20);
    }
    await expectConsistent(jitDir, tracker);
  });

  it('updates to one issue are never lost: 20 processes each add their own label -> 20 labels', async () => {
    const { id } = await tracker.createIssue({ title: 'shared' });
    const outputs = await runAll(jitDir, Array.from({ length: 20 }, (_, p) => ['label', id, `agent:w${p}`]));
    for (const [result] of outputs) expect(result).toHaveProperty('ok');
    const issue = await tracker.getIssue(id);
    expect([...issue.labels].sort()).toEqual(Array.from({ length: 20 }, (_, p) => `agent:w${p}`).sort());
    expect((await tracker.listIssues())[0]!.labels).toHaveLength(20);
    await expectConsistent(jitDir, tracker);
  });

  it('readers never see partial or corrupt data while writers write', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push((await tracker.createIssue({ title: `rw ${i}` })).id);
    const outputs = await runAll(jitDir, [
      ...ids.map((id) => ['update-own', id, '25']),
      ['create', '10', 'new'],
      ...Array.from({ length: 4 }, () => ['read-loop', '1500']),
    ]);
    for (const [result] of outputs.slice(ids.length + 1)) expect((result as { reads: number }).reads).toBeGreaterThan(0);
    await expectConsistent(jitDir, tracker);
  });

  it('listing while others create: counts only grow, and the last list sees everything', async () => {
    const outputs = await runAll(jitDir, [
      ...Array.from({ length: 6 }, (_, p) => ['create', '10', `c${p}`]),
      ...Array.from({ length: 3 }, () => ['list-loop', '1500']),
    ]);
    for (const [counts] of outputs.slice(6)) {
      const list = counts as number[];
      expect(list.length).toBeGreaterThan(0);
      for (let i = 1; i < list.length; i++) expect(list[i]!).toBeGreaterThanOrEqual(list[i - 1]!);
    }
    expect((await tracker.listIssues()).length).toBe(60);
    await expectConsistent(jitDir, tracker);
  });

  it('racing dependency adds: A->B against B->A, exactly one wins each time', async () => {
    const pairs: [string, string][] = [];
    for (let i = 0; i < 8; i++) pairs.push([(await tracker.createIssue({ title: `a${i}` })).id, (await tracker.createIssue({ title: `b${i}` })).id]);
    const [forward, backward] = await runAll(jitDir, [
      ['add-deps', JSON.stringify(pairs)],
      ['add-deps', JSON.stringify(pairs.map(([a, b]) => [b, a]))],
    ]);
    for (let i = 0; i < pairs.length; i++) {
      const results = [forward![i], backward![i]] as { ok?: boolean; error?: string }[];
      expect(results.filter((r) => r.ok)).toHaveLength(1);
      expect(results.filter((r) => r.error === 'CYCLE')).toHaveLength(1);
    }
    await expectConsistent(jitDir, tracker);
  });

  it('many processes adding random edges: no edge lost, no cycle', async () => {
    const nodes: string[] = [];
    for (let i = 0; i < 12; i++) nodes.push((await tracker.createIssue({ title: `n${i}` })).id);
    // Each process tries edges in both directions over the same nodes, so cycles are attempted constantly.
    const workers = Array.from({ length: 8 }, (_, p) => {
      const edges = [];
      for (let k = 0; k < 12; k++) {
        const a = (p * 5 + k * 7) % 12;
        const b = (p * 3 + k * 5 + 1) % 12;
        if (a !== b) edges.push([nodes[a], nodes[b]]);
      }
      return ['add-deps', JSON.stringify(edges)];
    });
    const outputs = (await runAll(jitDir, workers)).flat() as { from: string; to: string; ok?: boolean; changed?: boolean; error?: string }[];
    for (const r of outputs) if (!r.ok) expect(r.error).toBe('CYCLE');
    const edges = new Set((await tracker.graphEdges()).edges.map((e) => `${e.from}>${e.to}`));
    for (const r of outputs.filter((o) => o.ok)) expect(edges.has(`${r.from}>${r.to}`)).toBe(true);
    // Each edge added once; adding it again is a success that changed nothing.
    expect(edges.size).toBe(outputs.filter((o) => o.ok && o.changed).length);
    await expectConsistent(jitDir, tracker); // validate finds no cycle
  });

  it('20 processes race claim-next over 10 ready issues: 10 winners, each issue once', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push((await tracker.createIssue({ title: `work ${i}` })).id);
    const results = (await runAll(jitDir, Array.from({ length: 20 }, (_, p) => ['claim-next', `agent:w${p}`]))).map((o) => o[0]) as {
      id?: string;
      assignee?: string;
      error?: string;
    }[];
    const winners = results.filter((r) => r.id);
    expect(winners).toHaveLength(10);
    expect(new Set(winners.map((w) => w.id)).size).toBe(10);
    expect(results.filter((r) => r.error === 'NO_READY_ISSUE')).toHaveLength(10);
    for (const w of winners) expect(await tracker.getIssue(w.id!)).toMatchObject({ state: 'in_progress', assignee: w.assignee });
    expect((await tracker.queryEvents({ type: 'issue_claimed' })).length).toBe(10);
    await expectConsistent(jitDir, tracker);
  });

  it('a process SIGKILLed while holding the index lock: others proceed, nothing is served stale, validate heals', async () => {
    const { id } = await tracker.createIssue({ title: 'before' });
    const child = start(jitDir, ['hold-index', id]);
    const done = finish(child);
    await holding(child);
    child.kill('SIGKILL');
    expect((await done).signal).toBe('SIGKILL');

    // The issue file was written, the index was not: readers still see the new title.
    expect(indexOnDisk(jitDir)[id]!.title).toBe('before');
    expect((await tracker.listIssues())[0]!.title).toBe('written before the crash');
    const stray = fs.readdirSync(jitDir).filter((n) => n.endsWith('.tmp'));
    expect(stray).toHaveLength(1);

    // The next process takes the lock the dead one held, and its write heals the index.
    const [[created]] = await runAll(jitDir, [['create', '1', 'after']]);
    expect(indexOnDisk(jitDir)[id]!.title).toBe('written before the crash');
    expect(indexOnDisk(jitDir)[created as string]).toBeDefined();

    // validate cleans up the dead writer's temp file on its own, and says so.
    const report = await tracker.validate();
    expect(report.problems).toEqual([]);
    expect(report.recovered).toEqual([`removed unfinished temp file ${path.join(jitDir, stray[0]!)} (its writer is gone)`]);
    expect(fs.readdirSync(jitDir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    await expectConsistent(jitDir, tracker);
  });

  it('a dependency add killed between its index write and its issue write is rolled back to what the files say', async () => {
    const a = await tracker.createIssue({ title: 'a' });
    const b = await tracker.createIssue({ title: 'b' });
    const child = start(jitDir, ['stop-after-index-write', a.id, b.id]);
    const done = finish(child);
    await holding(child);
    expect(indexOnDisk(jitDir)[a.id]!.dependencies).toEqual([b.id]); // written first...
    child.kill('SIGKILL');
    expect((await done).signal).toBe('SIGKILL');
    // ...but the issue file never got the edge, and the marker makes readers trust the file.
    expect((await tracker.graphEdges()).edges).toEqual([]);
    expect((await tracker.getIssue(a.id)).dependencies).toEqual([]);
    // The edge can be added again (no phantom ALREADY_EXISTS), and the store ends consistent.
    expect((await tracker.addDependency(a.id, b.id)).dependencies).toEqual([b.id]);
    await expectConsistent(jitDir, tracker);
  });

  it('a create acknowledged while validate --fix rebuilds the index stays visible: the rebuild never clears a marker it did not read behind', async () => {
    // Big enough that reading every issue file takes a while under the index lock.
    const template = JSON.parse(fs.readFileSync(path.join(jitDir, 'issues', `${(await tracker.createIssue({ title: 'template' })).id}.json`), 'utf8'));
    for (let i = 0; i < 3000; i++) {
      const id = randomUUID();
      fs.writeFileSync(path.join(jitDir, 'issues', `${id}.json`), JSON.stringify({ ...template, id, title: `bulk ${i}` }));
    }
    expect((await tracker.validate({ fix: true })).ok).toBe(true);

    const rebuild = finish(start(jitDir, ['validate-fix']));
    let rebuilt = false;
    void rebuild.then(() => (rebuilt = true));
    while (!rebuilt && probeLock(path.join(jitDir, '.index.lock')) !== 'exclusive') await new Promise((r) => setTimeout(r, 1));
    // Creates need no index lock to commit; their index step gives up at once while the rebuild holds it.
    const saved = process.env['JIT_LOCK_TIMEOUT'];
    process.env['JIT_LOCK_TIMEOUT'] = '0.01';
    const created: { id: string; title: string }[] = [];
    let raced = 0;
    try {
      for (let n = 0; !rebuilt; n++) {
        const { id, title } = await tracker.createIssue({ title: `during ${n}` });
        created.push({ id, title });
        if (fs.readdirSync(path.join(jitDir, 'pending')).some((m) => m.startsWith(id))) raced++;
        await new Promise((r) => setImmediate(r)); // an uncontended create never leaves the microtask queue: let the child's exit in
      }
    } finally {
      if (saved === undefined) delete process.env['JIT_LOCK_TIMEOUT'];
      else process.env['JIT_LOCK_TIMEOUT'] = saved;
    }
    expect(await rebuild).toMatchObject({ code: 0 });
    expect(raced).toBeGreaterThan(0); // some creates committed while the rebuild held the index

    const listed = new Map((await tracker.listIssues()).map((s) => [s.id, s.title]));
    for (const { id, title } of created) {
      expect(listed.get(id), `create ${id} hidden from list`).toBe(title);
      expect((await tracker.getIssue(id)).title).toBe(title);
    }
    await tracker.createIssue({ title: 'a later writer heals the index' });
    await expectConsistent(jitDir, tracker);
  });

  it('a create racing the delete of its dependency never keeps a dependency on the deleted issue', async () => {
    const doomed: string[] = [];
    for (let i = 0; i < 150; i++) doomed.push((await tracker.createIssue({ title: `doomed ${i}` })).id);
    const env = { JIT_LOCK_TIMEOUT: '60' };
    const [creates, deletes] = await Promise.all([
      finish(start(jitDir, ['create-waiting-for', JSON.stringify(doomed)], env)),
      finish(start(jitDir, ['delete-all', JSON.stringify(doomed)], env)),
    ]);
    expect(creates, creates.stderr).toMatchObject({ code: 0 });
    expect(deletes, deletes.stderr).toMatchObject({ code: 0 });
    // Dependencies are read without locks: a create that saw its dependency just before the delete
    // removed it must end without it (as the delete does to the dependents it saw), not dangling.
    const survivors = (await tracker.listIssues()).filter((s) => s.title.startsWith('waits for'));
    expect(survivors.length).toBeGreaterThan(0);
    for (const s of survivors) expect((await tracker.getIssue(s.id)).dependencies, s.title).toEqual([]);
    await expectConsistent(jitDir, tracker);
  });

  it.skipIf(process.platform === 'win32')('an issue with 5,000 dependencies can be changed under ulimit -n 1024 (no descriptor per dependency)', async () => {
    const template = JSON.parse(fs.readFileSync(path.join(jitDir, 'issues', `${(await tracker.createIssue({ title: 'template' })).id}.json`), 'utf8'));
    const dependencies = Array.from({ length: 5000 }, () => randomUUID());
    for (const [i, id] of dependencies.entries()) {
      fs.writeFileSync(path.join(jitDir, 'issues', `${id}.json`), JSON.stringify({ ...template, id, title: `dependency ${i}`, state: 'done' }));
    }
    const big = randomUUID();
    fs.writeFileSync(path.join(jitDir, 'issues', `${big}.json`), JSON.stringify({ ...template, id: big, title: 'big', dependencies }));
    expect((await tracker.validate({ fix: true })).ok).toBe(true);

    const worker = path.join(__dirname, 'fixtures', 'worker.js');
    const child = spawn('bash', ['-c', 'ulimit -n 1024 && exec "$0" "$@"', process.execPath, worker, jitDir, 'change-big', big, JSON.stringify(dependencies.slice(0, 1000))], {
      env: { ...process.env, JIT_LOCK_TIMEOUT: '60' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const run = await finish(child);
    expect(run, run.stderr).toMatchObject({ code: 0 });
    expect(JSON.parse(run.stdout)).toEqual({ label: 'ready', claim: 'in_progress', release: 'ready', done: 'done', reopen: 'ready', create: 'ready' });
    const issue = await tracker.getIssue(big);
    expect(issue).toMatchObject({ state: 'ready', labels: ['size:big'], assignee: null });
    expect(issue.dependencies).toHaveLength(5000);
    await expectConsistent(jitDir, tracker);
  });
});
