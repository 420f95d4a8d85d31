// How the store uses its locks, seen from another process: Pattern 1, timeouts, `debug locks`.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { debugLocks, initJit, JitError, openTracker, type Tracker } from '../../src/store/index.js';
import { JIT_BIN } from '../cli/helpers.js';
import { finish, holding, start } from './helpers.js';
import { spawnSync, type ChildProcess } from 'node:child_process';

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'jit-store-locks-'));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

let jitDir: string;
let tracker: Tracker;
let holder: ChildProcess | undefined;
let stores = 0;
const savedTimeout = process.env['JIT_LOCK_TIMEOUT'];

beforeEach(() => {
  const project = path.join(scratch, `p${++stores}`);
  fs.mkdirSync(project);
  jitDir = initJit(project).path;
  tracker = openTracker(jitDir);
});

afterEach(async () => {
  if (savedTimeout === undefined) delete process.env['JIT_LOCK_TIMEOUT'];
  else process.env['JIT_LOCK_TIMEOUT'] = savedTimeout;
  if (holder) {
    const done = finish(holder);
    holder.kill('SIGKILL');
    await done;
    holder = undefined;
  }
});

async function holdInChild(relativePath: string, mode: 'shared' | 'exclusive'): Promise<number> {
  holder = start(jitDir, ['hold-lock', relativePath, mode]);
  await holding(holder);
  return holder.pid!;
}

describe('locks seen from another process', () => {
  it('Pattern 1: while another process holds issue A, issue B can be updated and everything listed', async () => {
    const a = await tracker.createIssue({ title: 'a' });
    const b = await tracker.createIssue({ title: 'b' });
    await holdInChild(path.join('issues', `${a.id}.lock`), 'exclusive');
    process.env['JIT_LOCK_TIMEOUT'] = '0.3';
    expect((await tracker.updateIssue(b.id, { title: 'b2' })).title).toBe('b2');
    expect((await tracker.listIssues()).map((s) => s.title)).toEqual(['a', 'b2']);
    expect((await tracker.status()).total).toBe(2);
    const error = await tracker.updateIssue(a.id, { title: 'a2' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JitError);
    expect((error as JitError).code).toBe('LOCK_TIMEOUT');
    expect((await tracker.getIssue(a.id).catch((e: JitError) => e.code))).toBe('LOCK_TIMEOUT'); // reads wait for writers
  });

  it('a held index lock times out readers with LOCK_TIMEOUT, naming the lock and the remedies', async () => {
    await holdInChild('.index.lock', 'exclusive');
    process.env['JIT_LOCK_TIMEOUT'] = '0.2';
    const started = Date.now();
    const error = (await tracker.listIssues().catch((e: unknown) => e)) as JitError;
    expect(error.code).toBe('LOCK_TIMEOUT');
    expect(error.message).toBe(`Lock timeout: could not acquire lock on ${path.join(jitDir, '.index.lock')} after 0.2s`);
    // The store reads JIT_LOCK_TIMEOUT and passes it to the toolkit, whose error carries the facts.
    expect(error.details).toMatchObject({ path: path.join(jitDir, '.index.lock'), timeout_ms: 200 });
    expect(error.details!['waited_ms']).toBeGreaterThanOrEqual(190);
    expect(error.suggestions.join('\n')).toMatch(/JIT_LOCK_TIMEOUT/);
    expect(error.suggestions.join('\n')).toMatch(/jit debug locks/);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('a create commits with its issue file even when the index stays locked, and is indexed later', async () => {
    await holdInChild('.index.lock', 'exclusive');
    process.env['JIT_LOCK_TIMEOUT'] = '0.2';
    const a = await tracker.createIssue({ title: 'a' });
    expect(fs.readdirSync(path.join(jitDir, 'pending'))).toHaveLength(1);
    const done = finish(holder!);
    holder!.kill('SIGKILL');
    await done;
    holder = undefined;
    expect((await tracker.listIssues()).map((s) => s.id)).toEqual([a.id]);
    await tracker.createIssue({ title: 'b' });
    expect(fs.readdirSync(path.join(jitDir, 'pending'))).toEqual([]);
    expect((await tracker.validate()).ok).toBe(true);
  });

  it('a shared index holder lets readers through but stops dependency changes', async () => {
    const a = await tracker.createIssue({ title: 'a' });
    const b = await tracker.createIssue({ title: 'b' });
    await holdInChild('.index.lock', 'shared');
    process.env['JIT_LOCK_TIMEOUT'] = '0.2';
    expect((await tracker.listIssues()).length).toBe(2);
    expect(await tracker.addDependency(b.id, a.id).catch((e: JitError) => e.code)).toBe('LOCK_TIMEOUT');
    expect((await tracker.getIssue(b.id)).dependencies).toEqual([]);
  });

  it('debugLocks names the holding process and its mode', async () => {
    const pid = await holdInChild('.gates.lock', 'shared');
    const gates = debugLocks(jitDir).find((s) => s.path === path.join(jitDir, '.gates.lock'))!;
    expect(gates.state).toBe('shared');
    if (process.platform === 'linux') expect(gates.holders).toEqual([{ pid, mode: 'shared' }]);
  });
});

describe('a committed change never reports "nothing happened"', () => {
  const followUps = (): string[] => fs.readdirSync(path.join(jitDir, 'pending')).filter((name) => /\.(dependents|self)$/.test(name));
  const releaseHolder = async (): Promise<void> => {
    const done = finish(holder!);
    holder!.kill('SIGKILL');
    await done;
    holder = undefined;
  };

  it('done while a dependent is busy: success with the follow-up pending, and the next reader promotes the dependent', async () => {
    const x = await tracker.createIssue({ title: 'x' });
    const d = await tracker.createIssue({ title: 'waits for x', dependencies: [x.id] });
    expect(d.state).toBe('backlog');
    await holdInChild(path.join('issues', `${d.id}.lock`), 'exclusive');
    process.env['JIT_LOCK_TIMEOUT'] = '0.3';
    const done = await tracker.updateIssue(x.id, { state: 'done' });
    expect(done.state).toBe('done');
    expect(done.pending).toEqual([{ step: 'dependents', issue_id: x.id, issues: [d.id], reason: expect.stringMatching(/^LOCK_TIMEOUT: /) }]);
    expect(followUps()).toHaveLength(1); // stored, for whoever comes next
    // A retry is a no-op that says so: the state is already done.
    expect((await tracker.getIssue(x.id)).state).toBe('done');

    await releaseHolder();
    // A reader in another process (the CLI) finishes the follow-up before it answers.
    const ready = spawnSync(process.execPath, [JIT_BIN, '--json', '--dir', jitDir, 'query', 'ready'], { encoding: 'utf8' });
    expect(ready.status, ready.stderr).toBe(0);
    expect(JSON.parse(ready.stdout).issues.map((s: { id: string }) => s.id)).toEqual([d.id]);
    expect(JSON.parse(fs.readFileSync(path.join(jitDir, 'issues', `${d.id}.json`), 'utf8')).state).toBe('ready');
    expect(followUps()).toEqual([]);
    expect((await tracker.validate()).recovered).toEqual([]);
  });

  it('the last gate pass while a dependent is busy: done, with the follow-up pending, finished by the next writer', async () => {
    await tracker.addGateDefinition({ key: 'review', title: 'Review' });
    const x = await tracker.createIssue({ title: 'x', gates: ['review'] });
    const d = await tracker.createIssue({ title: 'waits for x', dependencies: [x.id] });
    expect((await tracker.updateIssue(x.id, { state: 'done' })).pending_gates).toEqual(['review']);
    await holdInChild(path.join('issues', `${d.id}.lock`), 'exclusive');
    process.env['JIT_LOCK_TIMEOUT'] = '0.3';
    const passed = await tracker.passGate(x.id, 'review', 'agent:ci');
    expect(passed.state).toBe('done');
    expect(passed.pending).toMatchObject([{ step: 'dependents', issue_id: x.id, issues: [d.id] }]);

    await releaseHolder();
    const other = openTracker(jitDir); // another writer, unrelated to x or d
    await other.createIssue({ title: 'unrelated' });
    expect(JSON.parse(fs.readFileSync(path.join(jitDir, 'issues', `${d.id}.json`), 'utf8')).state).toBe('ready');
    expect(followUps()).toEqual([]);
  });

  it('CLI: exit 0 with "pending" in --json, and a note in the text', async () => {
    const x = await tracker.createIssue({ title: 'x' });
    const y = await tracker.createIssue({ title: 'y' });
    const d = await tracker.createIssue({ title: 'waits', dependencies: [x.id, y.id] });
    await holdInChild(path.join('issues', `${d.id}.lock`), 'exclusive');
    const env = { ...process.env, JIT_LOCK_TIMEOUT: '0.3', NO_COLOR: '1' };
    const json = spawnSync(process.execPath, [JIT_BIN, '--json', '--dir', jitDir, 'issue', 'update', x.id, '--state', 'done'], { encoding: 'utf8', env });
    expect(json.status, json.stdout + json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ id: x.id, state: 'done', pending: [{ step: 'dependents', issue_id: x.id, issues: [d.id] }] });
    const text = spawnSync(process.execPath, [JIT_BIN, '--dir', jitDir, 'issue', 'update', y.id, '--state', 'done'], { encoding: 'utf8', env });
    expect(text.status, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^Updated .* \[done\]\nSaved, but moving the issues that wait for .{8} between backlog and ready is still to do \(LOCK_TIMEOUT\): the next operation on the store finishes it\.\n$/);
    await releaseHolder();
    expect((await tracker.getIssue(d.id)).state).toBe('ready');
  });

  it('a reader never waits for a busy issue to finish a follow-up left behind: it answers, and a later one finishes it', async () => {
    const x = await tracker.createIssue({ title: 'x' });
    const d = await tracker.createIssue({ title: 'waits for x', dependencies: [x.id] });
    await holdInChild(path.join('issues', `${d.id}.lock`), 'exclusive');
    process.env['JIT_LOCK_TIMEOUT'] = '30';
    // What a writer killed right after committing x as done leaves:
    await tracker.storage.issueTransaction({ write: [x.id] }, (tx) => {
      tx.put({ ...tx.issue(x.id)!, state: 'done' });
      tx.followUp('dependents', x.id);
    });
    const started = Date.now();
    expect((await openTracker(jitDir).status()).by_state).toMatchObject({ done: 1, backlog: 1 });
    expect(Date.now() - started).toBeLessThan(15_000); // far below the 30 s a wait would take
    expect(followUps()).toHaveLength(1);
    await releaseHolder();
    expect((await openTracker(jitDir).status()).by_state).toMatchObject({ done: 1, ready: 1 });
    expect(followUps()).toEqual([]);
  });

  it('many leftovers that owe the same work are done once and all forgotten (a reader does not pay per leftover)', async () => {
    const x = await tracker.createIssue({ title: 'x' });
    const waiting = [];
    for (let i = 0; i < 5; i++) waiting.push(await tracker.createIssue({ title: `waits ${i}`, dependencies: [x.id] }));
    // What 1,000 writers killed after committing x as done would leave behind.
    await tracker.storage.issueTransaction({ write: [x.id] }, (tx) => {
      tx.put({ ...tx.issue(x.id)!, state: 'done' });
      for (let i = 0; i < 1000; i++) tx.followUp('dependents', x.id);
    });
    expect(followUps()).toHaveLength(1000);
    const reader = openTracker(jitDir);
    let summaryLoads = 0;
    let transactions = 0;
    const storage = reader.storage;
    const loadSummaries = storage.loadSummaries.bind(storage);
    const issueTransaction = storage.issueTransaction.bind(storage);
    storage.loadSummaries = () => (summaryLoads++, loadSummaries());
    storage.issueTransaction = (locks, apply) => (transactions++, issueTransaction(locks, apply));
    expect((await reader.status()).by_state).toMatchObject({ done: 1, ready: 5 });
    expect(followUps()).toEqual([]);
    expect(transactions).toBe(waiting.length); // each waiting issue re-checked once, not once per leftover
    expect(summaryLoads).toBeLessThanOrEqual(2); // the follow-ups' view and status's own
  });

  it('a writer killed after its commit, before its follow-up: the next reader promotes the dependent, without validate', async () => {
    const x = await tracker.createIssue({ title: 'x' });
    const d = await tracker.createIssue({ title: 'waits for x', dependencies: [x.id] });
    await holdInChild(path.join('issues', `${d.id}.lock`), 'exclusive');
    // The writer commits x as done, then waits (60 s) for d's lock in its follow-up: kill it there.
    const writer = start(jitDir, ['set-state', x.id, 'done']);
    const writerDone = finish(writer);
    const xFile = path.join(jitDir, 'issues', `${x.id}.json`);
    while (JSON.parse(fs.readFileSync(xFile, 'utf8')).state !== 'done') await new Promise((r) => setTimeout(r, 5));
    writer.kill('SIGKILL');
    expect((await writerDone).signal).toBe('SIGKILL');
    await releaseHolder();
    expect(followUps()).toHaveLength(1);

    expect((await openTracker(jitDir).queryReady()).map((s) => s.id)).toEqual([d.id]);
    expect((await tracker.getIssue(d.id)).state).toBe('ready');
    expect(followUps()).toEqual([]);
  });
});
