// One suite, every Storage: the domain rules must hold the same over files and memory.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { JitError } from './errors.js';
import { initJit } from './jit-dir.js';
import { JsonFileStorage } from './json-file-storage.js';
import { InMemoryStorage } from './memory-storage.js';
import { PgStorage } from './pg-storage.js';
import type { Storage, SummaryFilter } from './storage.js';
import type { State } from './model.js';
import { parseStoreConfig } from './config.js';
import { Tracker } from './tracker.js';
import { codeOf } from './test-support.js';

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'jit-contract-'));
const opened: PgStorage[] = [];
afterAll(async () => {
  fs.rmSync(scratch, { recursive: true, force: true });
  await Promise.all(opened.map((storage) => storage.dropSchema()));
});
let stores = 0;

/** The test server (test/support/postgres-server.mts); a test that needs it fails with the reason when it did not start. */
function postgresUrl(): string {
  const url = inject('postgresUrl');
  if (!url) throw new Error(`The test PostgreSQL server did not start, so this PostgreSQL test cannot run:\n${inject('postgresError')}`);
  return url;
}

const factories: [string, () => Storage | Promise<Storage>][] = [
  ['InMemoryStorage', () => new InMemoryStorage()],
  [
    'JsonFileStorage',
    () => {
      const project = path.join(scratch, `p${++stores}`);
      fs.mkdirSync(project);
      return new JsonFileStorage(initJit(project).path);
    },
  ],
  [
    'PgStorage',
    async () => {
      // A schema of its own for each store, in the server's database.
      // And a project folder, for what lives beside the database (config.toml).
      const jitDir = path.join(scratch, `p${++stores}`, '.jit');
      fs.mkdirSync(jitDir, { recursive: true });
      const storage = new PgStorage(postgresUrl(), { schema: `contract_${randomUUID().replace(/-/g, '')}`, jitDir });
      opened.push(storage);
      await storage.migrate({ create: true });
      return storage;
    },
  ],
];

/** A change's result without its `changed` flag: the issue as stored. */
function stored<T extends { changed?: boolean; pending_gates?: string[] }>(result: T): Omit<T, 'changed' | 'pending_gates'> {
  const { changed: _changed, pending_gates: _pending, ...issue } = result;
  return issue;
}


describe.each(factories)('Tracker over %s', (_name, makeStorage) => {
  let t: Tracker;
  beforeEach(async () => {
    t = new Tracker(await makeStorage());
  });

  describe('issues', () => {
    it('creates with defaults and reads back by id and prefix', async () => {
      const issue = await t.createIssue({ title: '  Fix the parser ' });
      expect(issue).toMatchObject({ title: 'Fix the parser', description: '', state: 'ready', priority: 'normal', assignee: null, dependencies: [], labels: [] });
      expect(issue.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(issue.changed).toBe(true);
      expect(await t.getIssue(issue.id)).toEqual(stored(issue));
      expect(await t.getIssue(issue.id.slice(0, 4).toUpperCase())).toEqual(stored(issue));
    });

    it('updates fields, merges labels and context, and removes context keys with ""', async () => {
      const issue = await t.createIssue({ title: 'a', labels: ['type:bug'], context: { a: '1', b: '2' } });
      const updated = await t.updateIssue(issue.id, {
        title: 'b',
        description: 'more',
        priority: 'CRITICAL',
        addLabels: ['area:store', 'type:feature'],
        removeLabels: ['type:bug', 'type:feature'], // a removal wins over an addition
        context: { b: '', c: '3' },
      });
      expect(updated).toMatchObject({ title: 'b', description: 'more', priority: 'critical', labels: ['area:store'], context: { a: '1', c: '3' } });
      expect(updated.updated_at >= issue.updated_at).toBe(true);
      expect(await t.getIssue(issue.id)).toEqual(stored(updated));
      expect(updated.changed).toBe(true);
      // The same update again: already so.
      const again = await t.updateIssue(issue.id, { title: 'b', addLabels: ['area:store'], context: { b: '', c: '3' } });
      expect(again).toEqual({ ...updated, changed: false });
    });

    it('accepts every state spelling', async () => {
      const issue = await t.createIssue({ title: 'a' });
      for (const [given, stored] of [['in-progress', 'in_progress'], ['open', 'backlog'], ['inprogress', 'in_progress'], ['In_Progress', 'in_progress'], ['rejected', 'rejected']]) {
        expect((await t.updateIssue(issue.id, { state: given })).state).toBe(stored);
      }
    });

    it('deletes, and dependents stop waiting for the deleted issue', async () => {
      const a = await t.createIssue({ title: 'a' });
      const b = await t.createIssue({ title: 'b', dependencies: [a.id] });
      expect(b.state).toBe('backlog');
      expect(await t.deleteIssue(a.id.slice(0, 8))).toEqual({ id: a.id, changed: true });
      expect(await codeOf(t.getIssue(a.id))).toBe('ISSUE_NOT_FOUND');
      expect(await t.getIssue(b.id)).toMatchObject({ dependencies: [], state: 'ready' });
      expect((await t.listIssues()).map((s) => s.id)).toEqual([b.id]);
    });

    it('lists with filters, oldest first, and searches text', async () => {
      const a = await t.createIssue({ title: 'Alpha parser', labels: ['area:x'], priority: 'high' });
      const b = await t.createIssue({ title: 'Beta', description: 'about the PARSER too' });
      await t.assign(b.id, 'agent:w1');
      expect((await t.listIssues()).map((s) => s.id)).toEqual([a.id, b.id]);
      expect((await t.listIssues({ label: 'area:x' })).map((s) => s.id)).toEqual([a.id]);
      expect((await t.listIssues({ priority: 'high' })).map((s) => s.id)).toEqual([a.id]);
      expect((await t.listIssues({ assignee: 'agent:w1' })).map((s) => s.id)).toEqual([b.id]);
      expect((await t.listIssues({ state: 'open' })).length).toBe(0);
      expect((await t.searchIssues('parser')).map((i) => i.id)).toEqual([a.id, b.id]);
      expect(await t.searchIssues('nothing-like-this')).toEqual([]);
    });

    it('labels: an entry may list several (commas), namespace:* filters by namespace', async () => {
      const a = await t.createIssue({ title: 'a', labels: ['type:task,epic:auth', ' area:api '] });
      expect(a.labels).toEqual(['type:task', 'epic:auth', 'area:api']);
      const b = await t.createIssue({ title: 'b', labels: ['type:bug'], priority: 'high' });
      const updated = await t.updateIssue(a.id, { addLabels: ['milestone:v1,team:core'], removeLabels: ['area:api, type:task'] });
      expect(updated.labels).toEqual(['epic:auth', 'milestone:v1', 'team:core']);
      expect((await t.listIssues({ label: 'epic:*' })).map((s) => s.id)).toEqual([a.id]);
      expect((await t.listIssues({ label: 'type:*' })).map((s) => s.id)).toEqual([b.id]);
      expect((await t.listIssues({ label: 'epic:auth' })).map((s) => s.id)).toEqual([a.id]);
      for (const filter of ['epic:a*', '*:auth', 'epic:auth,type:bug']) expect(await codeOf(t.listIssues({ label: filter })), filter).toBe('INVALID_ARGUMENT');
      for (const label of ['type:a*', 'type:*', ',', '']) expect(await codeOf(t.createIssue({ title: 'x', labels: [label] })), label).toBe('INVALID_ARGUMENT');
      expect((await t.claimNext('agent:w', { label: 'epic:*' })).id).toBe(a.id); // b is more urgent but has no epic: label
    });

    it('refuses bad input with INVALID_ARGUMENT and changes nothing', async () => {
      const issue = await t.createIssue({ title: 'a' });
      expect(await codeOf(t.createIssue({ title: '   ' }))).toBe('INVALID_ARGUMENT');
      expect(await codeOf(t.createIssue({ title: 'x', priority: 'urgent' }))).toBe('INVALID_ARGUMENT');
      expect(await codeOf(t.createIssue({ title: 'x', labels: ['has space'] }))).toBe('INVALID_ARGUMENT');
      for (const label of ['bug', ':bug', 'type:', '-x:y']) {
        expect(await codeOf(t.createIssue({ title: 'x', labels: [label] })), label).toBe('INVALID_ARGUMENT');
        expect(await codeOf(t.updateIssue(issue.id, { addLabels: [label] })), label).toBe('INVALID_ARGUMENT');
      }
      expect(await codeOf(t.createIssue({ title: 'line\nbreak' }))).toBe('INVALID_ARGUMENT');
      expect(await codeOf(t.updateIssue(issue.id, { state: 'finished' }))).toBe('INVALID_ARGUMENT');
      expect(await codeOf(t.updateIssue(issue.id, { title: 'ok', priority: 'nope' }))).toBe('INVALID_ARGUMENT');
      expect(await codeOf(t.createIssue({ title: 'x', gates: ['no-such-gate'] }))).toBe('GATE_NOT_FOUND');
      // Who: kind:name everywhere, in changes and in filters.
      for (const who of ['bob', ':bob', 'agent:', 'agent bob']) {
        expect(await codeOf(t.createIssue({ title: 'x', assignee: who })), who).toBe('INVALID_ARGUMENT');
        expect(await codeOf(t.assign(issue.id, who)), who).toBe('INVALID_ARGUMENT');
        expect(await codeOf(t.claim(issue.id, who)), who).toBe('INVALID_ARGUMENT');
        expect(await codeOf(t.claimNext(who)), who).toBe('INVALID_ARGUMENT');
        expect(await codeOf(t.updateIssue(issue.id, { assignee: who })), who).toBe('INVALID_ARGUMENT');
        expect(await codeOf(t.listIssues({ assignee: who })), who).toBe('INVALID_ARGUMENT');
      }
      // Reserved key names, also as own keys of parsed JSON (where "__proto__" is one).
      for (const key of ['__proto__', 'constructor', 'prototype']) {
        const context = JSON.parse(`{"branch": "main", ${JSON.stringify(key)}: "v"}`) as Record<string, string>;
        expect(await codeOf(t.createIssue({ title: 'x', context })), key).toBe('INVALID_ARGUMENT');
        expect(await codeOf(t.updateIssue(issue.id, { context })), key).toBe('INVALID_ARGUMENT');
      }
      expect(await t.getIssue(issue.id)).toEqual(stored(issue));
      expect((await t.listIssues()).length).toBe(1);
    });
  });

  describe('ids', () => {
    it('tells invalid, unknown and ambiguous ids apart', async () => {
      for (const bad of ['../../etc/passwd', '/abs', 'abc', 'xyz12', '', 'a\u0000bcd', '0'.repeat(37)]) {
        expect(await codeOf(t.getIssue(bad))).toBe('INVALID_ID');
      }
      expect(await codeOf(t.getIssue('ffff'))).toBe('ISSUE_NOT_FOUND');
      expect(await codeOf(t.getIssue('ffffffff-ffff-4fff-bfff-ffffffffffff'))).toBe('ISSUE_NOT_FOUND');
      const issue = await t.createIssue({ title: 'a' });
      expect(await codeOf(t.updateIssue('../' + issue.id, { title: 'b' }))).toBe('INVALID_ID');
      expect(await codeOf(t.addDependency(issue.id, '..'))).toBe('INVALID_ID');
      expect((await t.getIssue(issue.id)).title).toBe('a');
    });
  });

  describe('readiness and dependencies', () => {
    it('starts backlog when a dependency is unfinished and becomes ready when it is done', async () => {
      const a = await t.createIssue({ title: 'a' });
      const b = await t.createIssue({ title: 'b' });
      const c = await t.createIssue({ title: 'c', dependencies: [a.id, b.id.slice(0, 6)] });
      expect(c.state).toBe('backlog');
      expect((await t.queryReady()).map((s) => s.id)).toEqual([a.id, b.id]);
      await t.updateIssue(a.id, { state: 'done' });
      expect((await t.getIssue(c.id)).state).toBe('backlog');
      await t.updateIssue(b.id, { state: 'rejected' });
      expect((await t.getIssue(c.id)).state).toBe('ready');
      // Reopening a dependency sends its dependent back.
      await t.updateIssue(b.id, { state: 'backlog' });
      expect((await t.getIssue(c.id)).state).toBe('backlog');
    });

    it('validate leaves a parked issue alone that was given an edge to work finished before the edge existed', async () => {
      // Found by the property test: validate took the dependency's finish for a promotion the system had missed,
      // though when it finished the edge did not exist yet. Each step waits for the clock to move on, so the
      // finish is strictly later than the parking (the case the old rule got wrong; equal stamps hid it).
      const later = async () => {
        const at = Date.now();
        while (Date.now() <= at) await new Promise((resolve) => setTimeout(resolve, 1));
      };
      const parked = await t.createIssue({ title: 'parked' });
      const finished = await t.createIssue({ title: 'finished' });
      await t.updateIssue(parked.id, { state: 'backlog' });
      await later();
      await t.updateIssue(finished.id, { state: 'done' });
      await later();
      expect((await t.addDependency(parked.id, finished.id)).state).toBe('backlog');
      expect(await t.validate()).toMatchObject({ ok: true, problems: [], recovered: [] });
      expect((await t.getIssue(parked.id)).state).toBe('backlog');
      // A finish after the edge was added is one the system would have acted on: that one is still recovered.
      const waiting = await t.createIssue({ title: 'waiting' });
      const blocker = await t.createIssue({ title: 'blocker' });
      await t.updateIssue(waiting.id, { state: 'backlog' });
      await later();
      await t.addDependency(waiting.id, blocker.id);
      await later();
      await t.updateIssue(blocker.id, { state: 'done' });
      expect((await t.getIssue(waiting.id)).state).toBe('ready');
    });

    it('an archived dependency counts as finished: archiving done work keeps its dependents ready and claimable', async () => {
      const a = await t.createIssue({ title: 'a' });
      const b = await t.createIssue({ title: 'b', dependencies: [a.id] });
      const parked = await t.createIssue({ title: 'parked', dependencies: [a.id] });
      await t.updateIssue(a.id, { state: 'done' });
      expect((await t.getIssue(b.id)).state).toBe('ready');
      await t.updateIssue(parked.id, { state: 'backlog' }); // parked on purpose after a finished
      await t.updateIssue(a.id, { state: 'archived' });
      expect((await t.getIssue(b.id)).state).toBe('ready');
      expect((await t.queryReady()).map((s) => s.id)).toEqual([b.id]);
      expect(await t.queryBlocked()).toEqual([]);
      expect((await t.status()).blocked).toBe(0);
      // New work on an archived issue starts ready; an edge to it does not block.
      expect((await t.createIssue({ title: 'c', dependencies: [a.id] })).state).toBe('ready');
      const d = await t.createIssue({ title: 'd' });
      expect((await t.addDependency(d.id, a.id)).state).toBe('ready');
      // Archiving is not finishing anew: validate leaves the parked issue alone and sees nothing wrong.
      expect(await t.validate()).toMatchObject({ ok: true, problems: [], recovered: [] });
      expect((await t.getIssue(parked.id)).state).toBe('backlog');
      expect(await codeOf(t.claim(a.id, 'agent:x'))).toBe('INVALID_TRANSITION');
      expect((await t.claimNext('agent:x')).id).toBe(b.id);
      // Taking an archived issue back up reopens it: its waiting dependents go back to backlog.
      await t.updateIssue(a.id, { state: 'in_progress' });
      expect((await t.getIssue(d.id)).state).toBe('backlog');
      expect((await t.queryBlocked()).map((x) => x.issue.id)).toContain(d.id);
    });

    it('sends a ready issue back to backlog when an unfinished dependency is added, and back when removed', async () => {
      const a = await t.createIssue({ title: 'a' });
      const b = await t.createIssue({ title: 'b' });
      expect(await t.addDependency(b.id, a.id)).toMatchObject({ state: 'backlog', changed: true });
      expect(await t.addDependency(b.id, a.id)).toMatchObject({ state: 'backlog', dependencies: [a.id], changed: false }); // a retry
      expect(await t.removeDependency(b.id, a.id)).toMatchObject({ state: 'ready', changed: true });
      expect(await t.removeDependency(b.id, a.id)).toMatchObject({ state: 'ready', dependencies: [], changed: false }); // already gone
      expect(await codeOf(t.removeDependency(b.id, '0badc0de'))).toBe('DEPENDENCY_NOT_FOUND'); // but names must exist
      const done = await t.createIssue({ title: 'done' });
      await t.updateIssue(done.id, { state: 'done' });
      expect((await t.addDependency(b.id, done.id)).state).toBe('ready');
    });

    it('refuses a cycle and names it', async () => {
      const a = await t.createIssue({ title: 'a' });
      const b = await t.createIssue({ title: 'b', dependencies: [a.id] });
      const c = await t.createIssue({ title: 'c', dependencies: [b.id] });
      const error = await t.addDependency(a.id, c.id).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(JitError);
      expect((error as JitError).code).toBe('CYCLE');
      expect((error as JitError).details?.['cycle']).toEqual([a.id, c.id, b.id, a.id]);
      expect((error as JitError).message).toContain(`${a.id.slice(0, 8)} -> ${c.id.slice(0, 8)} -> ${b.id.slice(0, 8)} -> ${a.id.slice(0, 8)}`);
      expect(await codeOf(t.addDependency(a.id, a.id))).toBe('CYCLE');
      expect((await t.getIssue(a.id)).dependencies).toEqual([]);
    });

    it('refuses ready/in_progress while dependencies are unfinished', async () => {
      const a = await t.createIssue({ title: 'a' });
      const b = await t.createIssue({ title: 'b', dependencies: [a.id] });
      expect(await codeOf(t.updateIssue(b.id, { state: 'ready' }))).toBe('INVALID_TRANSITION');
      expect(await codeOf(t.claim(b.id, 'agent:x'))).toBe('INVALID_TRANSITION');
      expect(await codeOf(t.addDependency(b.id, 'ffffffff'))).toBe('DEPENDENCY_NOT_FOUND');
    });

    it('reports blocked issues with reasons, graph, downstream and roots', async () => {
      await t.addGateDefinition({ key: 'review', title: 'Code review' });
      const a = await t.createIssue({ title: 'a', gates: ['review'] });
      const b = await t.createIssue({ title: 'b', dependencies: [a.id] });
      const c = await t.createIssue({ title: 'c', dependencies: [b.id] });
      expect(await t.updateIssue(a.id, { state: 'done' })).toMatchObject({ state: 'gated', changed: true, pending_gates: ['review'] });
      const blocked = await t.queryBlocked();
      expect(blocked.map((x) => [x.issue.id, x.reasons])).toEqual([
        [a.id, ['gate review pending']],
        [b.id, [`waits for ${a.id.slice(0, 8)} (gated)`]],
        [c.id, [`waits for ${b.id.slice(0, 8)} (backlog)`]],
      ]);
      expect((await t.downstream(a.id)).map((s) => s.id)).toEqual([b.id, c.id]);
      expect((await t.roots()).map((s) => s.id)).toEqual([a.id]);
      expect((await t.graphEdges()).edges).toEqual([
        { from: b.id, to: a.id },
        { from: c.id, to: b.id },
      ]);
      expect(await t.status()).toEqual({
        total: 3,
        by_state: { backlog: 2, ready: 0, in_progress: 0, gated: 1, done: 0, rejected: 0, archived: 0 },
        ready: 0,
        blocked: 3,
        lapsed_claims: 0,
      });
    });
  });

  describe('claims', () => {
    it('claim-next never reports a claim it lost while its transaction ran again to lock the gate registry', async () => {
      // A gated issue's claim reads the registry (prechecks); the first attempt runs without its lock and
      // starts over with it. A rival that claims the issue in between wins; the claimer must not think it did.
      await t.addGateDefinition({ key: 'review', title: 'Review' });
      const a = await t.createIssue({ title: 'a', gates: ['review'] });
      const storage = t.storage;
      let rivalled = false;
      const racing = new Proxy(storage, {
        get(target, property) {
          if (property === 'issueTransaction') {
            return async (...args: Parameters<Storage['issueTransaction']>) => {
              try {
                return await target.issueTransaction(...args);
              } catch (error) {
                if (!rivalled && !(error instanceof JitError)) {
                  rivalled = true;
                  await t.claim(a.id, 'agent:rival');
                }
                throw error;
              }
            };
          }
          const value: unknown = Reflect.get(target, property, target);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
      expect(await codeOf(new Tracker(racing).claimNext('agent:me'))).toBe('NO_READY_ISSUE');
      expect(rivalled).toBe(true);
      expect(await t.getIssue(a.id)).toMatchObject({ assignee: 'agent:rival', state: 'in_progress' });
    });

    it('claims once; a second claimer is refused; release and unassign give it back', async () => {
      const a = await t.createIssue({ title: 'a' });
      expect(await t.claim(a.id, 'agent:one')).toMatchObject({ assignee: 'agent:one', state: 'in_progress' });
      expect(await t.claim(a.id, 'agent:one')).toMatchObject({ assignee: 'agent:one', changed: false }); // idempotent
      expect(await codeOf(t.claim(a.id, 'agent:two'))).toBe('ALREADY_CLAIMED');
      expect(await t.release(a.id, 'blocked on review')).toMatchObject({ assignee: null, state: 'ready', changed: true });
      expect(await t.release(a.id, 'again')).toMatchObject({ assignee: null, state: 'ready', changed: false }); // already given back
      expect(await codeOf(t.release(a.id, ' '))).toBe('INVALID_ARGUMENT');
      // The reason goes into the event log: text every strict JSON reader accepts, like a description.
      expect(await codeOf(t.release(a.id, 'stuck\u0007'))).toBe('INVALID_ARGUMENT');
      expect(await codeOf(t.release(a.id, 'half \ud800 a pair'))).toBe('INVALID_ARGUMENT');
      await t.claim(a.id, 'agent:two');
      expect(await t.unassign(a.id)).toMatchObject({ assignee: null, state: 'ready' });
      const released = (await t.queryEvents({ type: 'issue_released' }))[0]!;
      expect(released).toMatchObject({ issue_id: a.id, reason: 'blocked on review', assignee: 'agent:one' });
    });

    it('update gives a claimed issue back as unassign/release do: never in_progress without a holder, never ready while held', async () => {
      // Clearing the assignee of an in_progress issue: back to ready (claimable), like unassign.
      const a = await t.createIssue({ title: 'a' });
      await t.claim(a.id, 'agent:1');
      expect(await t.updateIssue(a.id, { assignee: null })).toMatchObject({ state: 'ready', assignee: null });
      expect((await t.claimNext('agent:2')).id).toBe(a.id);
      // Even when the update names the unchanged state.
      expect(await t.updateIssue(a.id, { assignee: null, state: 'in_progress' })).toMatchObject({ state: 'ready', assignee: null });
      // Moving a claimed issue back to ready or backlog lets go of its holder, like release.
      await t.claim(a.id, 'agent:1');
      expect(await t.updateIssue(a.id, { state: 'ready' })).toMatchObject({ state: 'ready', assignee: null });
      expect((await t.queryReady()).map((s) => s.id)).toEqual([a.id]);
      expect((await t.claim(a.id, 'agent:3')).assignee).toBe('agent:3');
      expect(await t.updateIssue(a.id, { state: 'backlog' })).toMatchObject({ state: 'backlog', assignee: null });
      // ... unless the same update names the next holder.
      await t.updateIssue(a.id, { state: 'ready' });
      await t.claim(a.id, 'agent:1');
      expect(await t.updateIssue(a.id, { state: 'ready', assignee: 'agent:2' })).toMatchObject({ state: 'ready', assignee: 'agent:2' });
      // A holder cleared while a dependency is unfinished: back to backlog.
      const b = await t.createIssue({ title: 'b' });
      const dep = await t.createIssue({ title: 'dep' });
      await t.claim(b.id, 'agent:1');
      await t.addDependency(b.id, dep.id);
      expect(await t.updateIssue(b.id, { assignee: null })).toMatchObject({ state: 'backlog', assignee: null });
      // Other states keep their assignee: a ready issue reserved with assign stays reserved.
      const c = await t.createIssue({ title: 'c' });
      await t.assign(c.id, 'agent:1');
      expect(await t.updateIssue(c.id, { priority: 'high' })).toMatchObject({ state: 'ready', assignee: 'agent:1' });
      expect((await t.validate()).ok).toBe(true);
    });

    it('claim-next takes the highest priority, then the oldest, skipping assigned and blocked work', async () => {
      const low = await t.createIssue({ title: 'low', priority: 'low' });
      const high1 = await t.createIssue({ title: 'high1', priority: 'high' });
      const high2 = await t.createIssue({ title: 'high2', priority: 'high', labels: ['team:b'] });
      await t.createIssue({ title: 'blocked', priority: 'critical', dependencies: [low.id] });
      const assigned = await t.createIssue({ title: 'assigned', priority: 'critical' });
      await t.assign(assigned.id, 'agent:other');
      expect((await t.claimNext('agent:a')).id).toBe(high1.id);
      expect((await t.claimNext('agent:a', { label: 'team:b' })).id).toBe(high2.id);
      expect(await codeOf(t.claimNext('agent:a', { priority: 'high' }))).toBe('NO_READY_ISSUE');
      expect((await t.claimNext('agent:a')).id).toBe(low.id);
      expect(await codeOf(t.claimNext('agent:a'))).toBe('NO_READY_ISSUE');
    });
  });

  describe('gates', () => {
    it('keeps a registry', async () => {
      expect(await t.addGateDefinition({ key: 'tests', title: 'Tests pass', auto: true })).toEqual({ key: 'tests', title: 'Tests pass', description: '', auto: true, changed: true });
      expect(await t.addGateDefinition({ key: 'tests', title: 'Tests pass', auto: true })).toEqual({ key: 'tests', title: 'Tests pass', description: '', auto: true, changed: false });
      expect(await codeOf(t.addGateDefinition({ key: 'tests', title: 'again' }))).toBe('ALREADY_EXISTS');
      expect(await codeOf(t.addGateDefinition({ key: 'bad key', title: 'x' }))).toBe('INVALID_ARGUMENT');
      await t.addGateDefinition({ key: 'lint', title: 'Lint' });
      expect((await t.listGateDefinitions()).map((g) => g.key)).toEqual(['lint', 'tests']);
      expect((await t.getGateDefinition('lint')).title).toBe('Lint');
      expect(await t.removeGateDefinition('lint')).toMatchObject({ key: 'lint', changed: true });
      expect(await codeOf(t.getGateDefinition('lint'))).toBe('GATE_NOT_FOUND');
      expect(await codeOf(t.removeGateDefinition('lint'))).toBe('GATE_NOT_FOUND');
    });

    it('logs the registry\'s changes, and only them (a live view hears of them; issue 18)', async () => {
      await t.addGateDefinition({ key: 'tests', title: 'Tests pass' });
      await t.addGateDefinition({ key: 'tests', title: 'Tests pass' }); // no change: no event
      await codeOf(t.addGateDefinition({ key: 'tests', title: 'again' }));
      const issue = await t.createIssue({ title: 'requires it', gates: ['tests'] });
      await t.removeGateDefinition('tests', { dropRequirements: true });
      const registry = (await t.storage.readEvents()).filter((e) => e.type.startsWith('gate_definition_'));
      expect(registry).toEqual([
        expect.objectContaining({ type: 'gate_definition_created', issue_id: null, gate_key: 'tests', title: 'Tests pass' }),
        expect.objectContaining({ type: 'gate_definition_removed', issue_id: null, gate_key: 'tests', requirements_dropped: [issue.id] }),
      ]);
    });

    it('blocks done with pending gates (gated), and the last pass completes the issue and unblocks dependents', async () => {
      await t.addGateDefinition({ key: 'tests', title: 'Tests' });
      await t.addGateDefinition({ key: 'review', title: 'Review' });
      const a = await t.createIssue({ title: 'a', gates: ['tests'] });
      expect((await t.addGate(a.id, 'review')).changed).toBe(true);
      expect(await t.addGate(a.id, 'review')).toMatchObject({ gates_required: ['tests', 'review'], changed: false });
      expect(await codeOf(t.addGate(a.id, 'unknown'))).toBe('GATE_NOT_FOUND');
      const b = await t.createIssue({ title: 'b', dependencies: [a.id] });
      // Done with pending gates: saved as gated, a change that succeeded (not an error).
      expect(await t.updateIssue(a.id, { state: 'done', title: 'a2' })).toMatchObject({ state: 'gated', title: 'a2', changed: true, pending_gates: ['tests', 'review'] });
      expect(await t.getIssue(a.id)).toMatchObject({ state: 'gated', title: 'a2' });
      expect(await t.updateIssue(a.id, { state: 'done' })).toMatchObject({ state: 'gated', changed: false, pending_gates: ['tests', 'review'] });
      expect((await t.failGate(a.id, 'tests', 'ci:bot')).changed).toBe(true);
      expect((await t.failGate(a.id, 'tests', 'ci:bot')).changed).toBe(false);
      expect((await t.getIssue(a.id)).gates_status['tests']).toMatchObject({ status: 'failed', updated_by: 'ci:bot' });
      await t.passGate(a.id, 'tests');
      expect((await t.passGate(a.id, 'tests')).changed).toBe(false);
      expect((await t.passGate(a.id, 'tests', 'agent:other')).gates_status['tests']).toMatchObject({ status: 'passed', updated_by: 'agent:other' });
      expect((await t.getIssue(a.id)).state).toBe('gated');
      expect((await t.getIssue(b.id)).state).toBe('backlog');
      expect(await codeOf(t.passGate(a.id, 'lint'))).toBe('GATE_NOT_FOUND');
      expect((await t.passGate(a.id, 'review', 'human:ann')).state).toBe('done');
      expect((await t.getIssue(b.id)).state).toBe('ready');
      const types = (await t.queryEvents({ issueId: a.id.slice(0, 8) })).map((e) => e.type);
      expect(types).toEqual(expect.arrayContaining(['issue_created', 'gate_added', 'gate_failed', 'gate_passed', 'issue_completed', 'issue_state_changed']));
    });

    it('refuses to remove a registry gate issues require unless asked to drop the requirements; removeGate applies the state rules', async () => {
      await t.addGateDefinition({ key: 'tests', title: 'Tests' });
      await t.addGateDefinition({ key: 'review', title: 'Review' });
      const a = await t.createIssue({ title: 'a', gates: ['tests', 'review'] });
      const b = await t.createIssue({ title: 'b', gates: ['review'] });
      const c = await t.createIssue({ title: 'c', dependencies: [a.id] });
      const refused = (await t.removeGateDefinition('review').catch((e: unknown) => e)) as JitError;
      expect(refused).toMatchObject({ code: 'GATE_IN_USE', details: { key: 'review', issues: expect.arrayContaining([a.id, b.id]) } });
      expect((await t.listGateDefinitions()).map((g) => g.key)).toEqual(['review', 'tests']);
      await t.passGate(a.id, 'tests');
      expect(await t.updateIssue(a.id, { state: 'done' })).toMatchObject({ state: 'gated', pending_gates: ['review'] });
      const removal = await t.removeGateDefinition('review', { dropRequirements: true });
      expect(removal).toMatchObject({ key: 'review', changed: true });
      expect([...removal.requirements_dropped].sort()).toEqual([a.id, b.id].sort());
      expect(await t.getIssue(a.id)).toMatchObject({ state: 'done', gates_required: ['tests'] });
      expect(await t.getIssue(b.id)).toMatchObject({ state: 'ready', gates_required: [], gates_status: {} });
      expect((await t.getIssue(c.id)).state).toBe('ready'); // a's dependents follow it to done
      expect(await codeOf(t.removeGateDefinition('review', { dropRequirements: true }))).toBe('GATE_NOT_FOUND');
      expect(await t.removeGate(b.id, 'review')).toMatchObject({ changed: false });
      expect((await t.queryEvents({ type: 'gate_removed' })).map((e) => e.issue_id).sort()).toEqual([a.id, b.id].sort());
      expect((await t.validate()).ok).toBe(true);
    });

    it('refuses an explicit gated state without pending gates, and new gates on a done issue', async () => {
      await t.addGateDefinition({ key: 'tests', title: 'Tests' });
      const a = await t.createIssue({ title: 'a' });
      expect(await codeOf(t.updateIssue(a.id, { state: 'gated' }))).toBe('INVALID_TRANSITION');
      expect((await t.updateIssue(a.id, { state: 'done' })).state).toBe('done');
      expect(await codeOf(t.addGate(a.id, 'tests'))).toBe('INVALID_TRANSITION');
    });
    it('refuses to fail a gate of a done issue (done means every gate passed), and allows it once reopened', async () => {
      await t.addGateDefinition({ key: 'tests', title: 'Tests' });
      const a = await t.createIssue({ title: 'a', gates: ['tests'] });
      await t.passGate(a.id, 'tests', 'ci:x');
      expect((await t.updateIssue(a.id, { state: 'done' })).state).toBe('done');
      let error: unknown;
      try {
        await t.failGate(a.id, 'tests', 'ci:x');
      } catch (e) {
        error = e;
      }
      expect(error).toMatchObject({ code: 'INVALID_TRANSITION', message: expect.stringMatching(/is done: reopen it before failing gate tests/) });
      expect((error as JitError).suggestions).toEqual([`jit issue update ${a.id.slice(0, 8)} --state in_progress`]);
      expect(await t.getIssue(a.id)).toMatchObject({ state: 'done', gates_status: { tests: { status: 'passed' } } });
      expect((await t.passGate(a.id, 'tests', 'ci:y')).state).toBe('done'); // passing again keeps "done" true
      await t.updateIssue(a.id, { state: 'in_progress' });
      expect((await t.failGate(a.id, 'tests')).gates_status['tests']!.status).toBe('failed');
    });
  });

  describe('events', () => {
    it('records operations in order; tail and query filter them', async () => {
      const a = await t.createIssue({ title: 'a' });
      await t.updateIssue(a.id, { title: 'b' });
      await t.claim(a.id, 'agent:x');
      const all = await t.queryEvents();
      expect(all.map((e) => e.type)).toEqual(['issue_created', 'issue_updated', 'issue_claimed', 'issue_state_changed']);
      for (const e of all) expect(e).toMatchObject({ issue_id: a.id, id: expect.any(String), timestamp: expect.any(String) });
      expect((await t.tailEvents(2)).map((e) => e.type)).toEqual(['issue_claimed', 'issue_state_changed']);
      expect(await t.tailEvents(0)).toEqual([]);
      expect((await t.queryEvents({ type: 'issue_updated' }))[0]).toMatchObject({ fields: ['title'] });
      expect((await t.queryEvents({ limit: 1 })).map((e) => e.type)).toEqual(['issue_state_changed']);
      expect(await codeOf(t.queryEvents({ type: 'nope' }))).toBe('INVALID_ARGUMENT');
      expect(await codeOf(t.tailEvents(-1))).toBe('INVALID_ARGUMENT');
    });

    it('scanEvents hands over every match in order; a limit with a filter keeps the most recent matches', async () => {
      const a = await t.createIssue({ title: 'a' });
      const b = await t.createIssue({ title: 'b' });
      for (const title of ['a2', 'a3']) await t.updateIssue(a.id, { title });
      await t.updateIssue(b.id, { title: 'b2' });
      const seen: string[] = [];
      await t.scanEvents({ type: 'issue_updated', issueId: a.id.slice(0, 6) }, (e) => seen.push(`${e.issue_id}:${e['fields']}`));
      expect(seen).toEqual([`${a.id}:title`, `${a.id}:title`]);
      const updates = await t.queryEvents({ type: 'issue_updated', limit: 2 });
      expect(updates.map((e) => e.issue_id)).toEqual([a.id, b.id]);
      expect((await t.queryEvents({ issueId: b.id, limit: 5 })).map((e) => e.type)).toEqual(['issue_created', 'issue_updated']);
      expect(await codeOf(t.scanEvents({ limit: 1 } as never, () => undefined))).toBe('INVALID_ARGUMENT');
      expect(await codeOf(t.scanEvents({ type: 'nope' }, () => undefined))).toBe('INVALID_ARGUMENT');
    });
  });

  describe('follow-ups', () => {
    it('are stored with a change that writes, listed until finished, and never stored by one that writes nothing', async () => {
      const storage = t.storage;
      const a = await t.createIssue({ title: 'a' });
      const recorded = await storage.issueTransaction({ write: [a.id] }, (tx) => {
        tx.put({ ...tx.issue(a.id)!, title: 'a2' });
        return tx.followUp('dependents', a.id);
      });
      await storage.issueTransaction({ write: [a.id] }, (tx) => void tx.followUp('self', a.id));
      expect(await storage.listFollowUps()).toEqual([recorded]);
      await storage.finishFollowUps([recorded]);
      await storage.finishFollowUps([recorded]); // already forgotten: no error
      expect(await storage.listFollowUps()).toEqual([]);
    });

    it('one left behind is finished by the next reader', async () => {
      const x = await t.createIssue({ title: 'x' });
      const d = await t.createIssue({ title: 'd', dependencies: [x.id] });
      // A writer that committed x as done and stopped before its follow-up:
      await t.storage.issueTransaction({ write: [x.id] }, (tx) => {
        tx.put({ ...tx.issue(x.id)!, state: 'done' });
        tx.followUp('dependents', x.id);
      });
      expect((await t.queryReady()).map((s) => s.id)).toEqual([d.id]);
      expect(await t.storage.listFollowUps()).toEqual([]);
    });

    it('a create that read a dependency just before it was reopened is put back in backlog by its self follow-up', async () => {
      const a = await t.createIssue({ title: 'a' });
      const x = await t.createIssue({ title: 'x', dependencies: [a.id] });
      expect(x.state).toBe('backlog');
      // What that race leaves when the creator dies right after its commit: x ready although a is not finished.
      await t.storage.issueTransaction({ write: [x.id] }, (tx) => {
        tx.put({ ...tx.issue(x.id)!, state: 'ready' });
        tx.followUp('self', x.id);
      });
      expect(await t.queryReady()).toEqual([expect.objectContaining({ id: a.id })]);
      expect((await t.getIssue(x.id)).state).toBe('backlog');
    });
  });

  describe('validate', () => {
    it('is clean on a healthy store', async () => {
      const a = await t.createIssue({ title: 'a' });
      await t.createIssue({ title: 'b', dependencies: [a.id] });
      expect(await t.validate()).toEqual({ ok: true, problems: [], fixed: [], recovered: [] });
    });
  });
});

// The targeted reads (storage.ts) asked directly: an indexed backend answers them with queries of its own,
// so each one's order, filters, limits and treatment of dangling dependencies are pinned down here.
describe.each(factories)('targeted reads over %s', (_name, makeStorage) => {
  let storage: Storage;
  let t: Tracker;
  beforeEach(async () => {
    storage = await makeStorage();
    t = new Tracker(storage);
  });
  const ids = (summaries: readonly { id: string }[]): string[] => summaries.map((s) => s.id);
  const byId = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  /** Makes `id` wait for an issue that does not exist (what a hand edit or an interrupted delete leaves). */
  const addDanglingDependency = (id: string, ghost: string): Promise<void> =>
    storage.issueTransaction({ write: [id] }, (tx) => {
      const issue = tx.issue(id)!;
      tx.put({ ...issue, dependencies: [...issue.dependencies, ghost] });
    });
  const GHOST = '00000000-0000-4000-8000-000000000000';
  /**
   * Writes a claim no tracker call makes: `id` in `state`, held by `assignee`, with a lease of `holder`'s that
   * never expires and is bound to `agent` (a holder other than the assignee: a lease an earlier claim left).
   */
  const putClaim = (id: string, claim: { state: State; assignee: string; holder?: string; agent: string | null }): Promise<void> =>
    storage.issueTransaction({ write: [id] }, (tx) => {
      const issue = tx.issue(id)!;
      const lease = { holder: claim.holder ?? claim.assignee, acquired_at: issue.created_at, expires_at: null, agent: claim.agent };
      tx.put({ ...issue, state: claim.state, assignee: claim.assignee, lease });
    });

  it('summaries(ids): those that exist, keyed by id; unknown ids left out', async () => {
    const a = await t.createIssue({ title: 'a', labels: ['type:bug'] });
    const b = await t.createIssue({ title: 'b' });
    const found = await storage.summaries([b.id, GHOST, a.id]);
    expect([...found.keys()].sort()).toEqual([a.id, b.id].sort());
    expect(found.get(a.id)).toEqual({
      id: a.id, title: 'a', state: 'ready', priority: 'normal', assignee: null, labels: ['type:bug'], dependencies: [], created_at: a.created_at, updated_at: a.updated_at,
    });
    expect((await storage.summaries([])).size).toBe(0);
  });

  it('lapsableClaims(now): claims whose lease expired by now or is bound to an agent, oldest first; summaries carry the lease', async () => {
    const expiring = await t.createIssue({ title: 'expiring' });
    const bound = await t.createIssue({ title: 'bound' });
    const forever = await t.createIssue({ title: 'forever' });
    const later = await t.createIssue({ title: 'later' });
    await t.createIssue({ title: 'unclaimed' });
    const claimed = await t.claim(expiring.id, 'agent:a', { ttl: '1m' });
    await t.claim(forever.id, 'agent:a', { ttl: 0 });
    await t.claim(later.id, 'agent:a', { ttl: '2h' });
    await putClaim(bound.id, { state: 'in_progress', assignee: 'agent:b', agent: 'agent:b' });
    const expiry = claimed.lease!.expires_at!;
    expect((await storage.summaries([expiring.id])).get(expiring.id)).toMatchObject({ lease_expires_at: expiry, lease_agent: null });
    expect((await storage.summaries([forever.id])).get(forever.id)).not.toHaveProperty('lease_expires_at');
    expect(ids(await storage.lapsableClaims(new Date(Date.parse(expiry) - 1).toISOString()))).toEqual([bound.id]);
    expect(ids(await storage.lapsableClaims(expiry))).toEqual([expiring.id, bound.id]);
    await t.release(expiring.id, 'done with it');
    expect(ids(await storage.lapsableClaims(expiry))).toEqual([bound.id]);
  });

  it('heldClaims: every claim (in progress or gated, with a holder) with its lease as the file has it; files to read only for rows that may lag', async () => {
    const leased = await t.createIssue({ title: 'leased' });
    const forever = await t.createIssue({ title: 'forever' });
    const gatedClaim = await t.createIssue({ title: 'gated claim' });
    const stale = await t.createIssue({ title: 'lease of another holder' });
    const released = await t.createIssue({ title: 'released' });
    await t.createIssue({ title: 'unclaimed' });
    const claimed = await t.claim(leased.id, 'agent:a', { ttl: '1h' });
    await t.claim(forever.id, 'agent:b', { ttl: 0 });
    await t.claim(released.id, 'agent:c', { ttl: '1h' });
    await t.release(released.id, 'not mine after all');
    await putClaim(gatedClaim.id, { state: 'gated', assignee: 'agent:d', agent: 'agent:d' });
    // A lease left by an earlier holder describes no claim of this one's (activeLease): null.
    await putClaim(stale.id, { state: 'in_progress', assignee: 'agent:e', holder: 'agent:old', agent: null });
    const held = await storage.heldClaims();
    const leases = new Map(held.claims.map(({ summary, lease }) => [summary.id, lease]));
    for (const id of held.fromFiles) {
      const issue = await storage.readIssue(id);
      leases.set(id, issue!.lease && issue!.lease.holder === issue!.assignee ? issue!.lease : null);
    }
    expect([...leases.keys()].sort()).toEqual([leased.id, forever.id, gatedClaim.id, stale.id].sort());
    expect(leases.get(leased.id)).toEqual(claimed.lease);
    expect(leases.get(forever.id)).toMatchObject({ holder: 'agent:b', expires_at: null });
    expect(leases.get(gatedClaim.id)).toMatchObject({ holder: 'agent:d', agent: 'agent:d' });
    expect(leases.get(stale.id)).toBeNull();
    // Every write has finished: rows are current, so no claim needs its file read.
    expect(held.fromFiles).toEqual([]);
    for (const { summary } of held.claims) expect(summary).toEqual((await storage.summaries([summary.id])).get(summary.id));
  });

  it('summariesByPrefix: id order, at most limit, a full id matches itself only', async () => {
    const created = [];
    for (let i = 0; i < 5; i++) created.push(await t.createIssue({ title: `i${i}` }));
    const sorted = ids(created).sort(byId);
    expect(ids(await storage.summariesByPrefix('', 3))).toEqual(sorted.slice(0, 3));
    expect(ids(await storage.summariesByPrefix('', 100))).toEqual(sorted);
    expect(ids(await storage.summariesByPrefix(sorted[2]!, 100))).toEqual([sorted[2]]);
    expect(ids(await storage.summariesByPrefix(sorted[2]!.slice(0, 12), 100))).toContain(sorted[2]);
    expect(await storage.summariesByPrefix(GHOST, 100)).toEqual([]);
    expect(await storage.summariesByPrefix('', 0)).toEqual([]);
  });

  it('dependentsOf: direct dependents of any of the ids, each once, oldest first; dangling edges count', async () => {
    const a = await t.createIssue({ title: 'a' });
    const b = await t.createIssue({ title: 'b' });
    const c = await t.createIssue({ title: 'c', dependencies: [b.id, a.id] });
    const d = await t.createIssue({ title: 'd', dependencies: [a.id] });
    await t.createIssue({ title: 'e', dependencies: [d.id] }); // transitive: not a direct dependent of a
    expect(ids(await storage.dependentsOf([a.id]))).toEqual([c.id, d.id]);
    expect(ids(await storage.dependentsOf([b.id, a.id]))).toEqual([c.id, d.id]);
    expect(await storage.dependentsOf([])).toEqual([]);
    const e = (await storage.dependentsOf([d.id]))[0]!;
    expect(ids(await storage.downstreamOf(a.id))).toEqual([c.id, d.id, e.id]);
    expect(ids(await storage.downstreamOf(e.id))).toEqual([]);
    await t.addDependency(b.id, e.id); // b (and c, which waits for b) now downstream of e
    expect(ids(await storage.downstreamOf(e.id))).toEqual([b.id, c.id]);
    await addDanglingDependency(b.id, GHOST);
    expect(ids(await storage.dependentsOf([GHOST]))).toEqual([b.id]);
  });

  it('readyWork: ready, unassigned, unblocked; most urgent then oldest; priority and label filters; limit', async () => {
    const low = await t.createIssue({ title: 'low', priority: 'low', labels: ['type:bug'] });
    const normal1 = await t.createIssue({ title: 'n1', labels: ['type:task', 'area:x'] });
    const critical = await t.createIssue({ title: 'crit', priority: 'critical' });
    const normal2 = await t.createIssue({ title: 'n2', labels: ['area:x'] });
    const high = await t.createIssue({ title: 'high', priority: 'high' });
    const blocked = await t.createIssue({ title: 'blocked', priority: 'critical', dependencies: [low.id] });
    const assigned = await t.createIssue({ title: 'assigned', priority: 'critical', assignee: 'agent:a' });
    const done = await t.createIssue({ title: 'done dep' });
    await t.updateIssue(done.id, { state: 'done' });
    const afterDone = await t.createIssue({ title: 'waits for done', priority: 'high', dependencies: [done.id] });
    const dangling = await t.createIssue({ title: 'dangling', priority: 'low' });
    await addDanglingDependency(dangling.id, GHOST); // a deleted dependency never blocks
    await t.claim(normal2.id, 'agent:b'); // in progress: not ready
    const expected = [critical, high, afterDone, normal1, low, dangling].map((s) => s.id);
    expect(ids(await storage.readyWork())).toEqual(expected);
    expect(ids(await storage.readyWork({ limit: 2 }))).toEqual(expected.slice(0, 2));
    expect(ids(await storage.readyWork({ limit: 100 }))).toEqual(expected);
    expect(ids(await storage.readyWork({ priority: 'high' }))).toEqual([high.id, afterDone.id]);
    expect(ids(await storage.readyWork({ label: 'type:*' }))).toEqual([normal1.id, low.id]);
    expect(ids(await storage.readyWork({ label: 'area:x' }))).toEqual([normal1.id]);
    expect(ids(await storage.readyWork({ label: 'type:*', priority: 'low', limit: 5 }))).toEqual([low.id]);
    expect(ids(await storage.readyWork())).not.toContain(blocked.id);
    expect(ids(await storage.readyWork())).not.toContain(assigned.id);
  });

  it('readyWorkJson: readyWork as JSON text, for every query (titles that need escaping too)', async () => {
    const odd = await t.createIssue({ title: 'quote " back\\slash </tag> é 😀', priority: 'high', labels: ['type:bug', 'area:é'] });
    const dep = await t.createIssue({ title: 'dep', labels: ['type:task'] });
    await t.createIssue({ title: 'waits', dependencies: [dep.id] });
    await t.createIssue({ title: 'epic', labels: ['type:epic'] });
    const claimed = await t.createIssue({ title: 'claimed' });
    await t.claim(claimed.id, 'agent:a', { ttl: '1h' });
    for (const query of [{}, { limit: 1 }, { priority: 'high' as const }, { label: 'type:*' }, { label: 'area:é' }, { excludeLabels: ['type:epic'] }, { excludeLabels: ['type:epic'], limit: 2 }]) {
      const { count, items } = await storage.readyWorkJson(query);
      const parsed = JSON.parse(`[${Buffer.from(items).toString('utf8')}]`) as unknown[];
      expect(parsed, JSON.stringify(query)).toEqual(await storage.readyWork(query));
      expect(count).toBe(parsed.length);
    }
    expect((await storage.readyWorkJson({ label: 'nothing:here' })).count).toBe(0);
    expect(Buffer.from((await storage.readyWorkJson({ label: 'nothing:here' })).items).length).toBe(0);
    expect(ids(await storage.readyWork({ priority: 'high' }))).toEqual([odd.id]);
  });

  it('statusReport: counts by state, ready and blocked, dangling dependencies not blocking', async () => {
    await t.addGateDefinition({ key: 'review', title: 'Review' });
    const a = await t.createIssue({ title: 'a' });
    await t.createIssue({ title: 'b', dependencies: [a.id] });
    const g = await t.createIssue({ title: 'g', gates: ['review'] });
    await t.updateIssue(g.id, { state: 'done' }); // gated
    const dangling = await t.createIssue({ title: 'd' });
    await addDanglingDependency(dangling.id, GHOST);
    const held = await t.createIssue({ title: 'held', assignee: 'agent:a' });
    expect(await storage.statusReport()).toEqual({
      total: 5,
      by_state: { backlog: 1, ready: 3, in_progress: 0, gated: 1, done: 0, rejected: 0, archived: 0 },
      ready: 2, // a and d; held is assigned
      blocked: 2, // b and g
    });
    expect(held.state).toBe('ready');
  });

  it('blockedCandidates: gated issues and unfinished ones with unfinished dependencies, oldest first, with what they wait for', async () => {
    await t.addGateDefinition({ key: 'review', title: 'Review' });
    const a = await t.createIssue({ title: 'a' });
    const b = await t.createIssue({ title: 'b' });
    const c = await t.createIssue({ title: 'c', dependencies: [b.id, a.id] });
    const g = await t.createIssue({ title: 'g', gates: ['review'] });
    await t.updateIssue(g.id, { state: 'done' });
    const finished = await t.createIssue({ title: 'finished', dependencies: [a.id] });
    await t.updateIssue(finished.id, { state: 'rejected' }); // finished itself: waits for nothing
    const dangling = await t.createIssue({ title: 'dangling' });
    await addDanglingDependency(dangling.id, GHOST);
    await t.claim(a.id, 'agent:x');
    expect(await storage.blockedCandidates()).toEqual([
      { issue: expect.objectContaining({ id: c.id }), waitsFor: [{ id: b.id, state: 'ready' }, { id: a.id, state: 'in_progress' }] },
      { issue: expect.objectContaining({ id: g.id, state: 'gated' }), waitsFor: [] },
    ]);
  });

  it('listSummaries: every filter given must hold (label exact or namespace:*), oldest first', async () => {
    const a = await t.createIssue({ title: 'a', labels: ['type:bug'], priority: 'high' });
    const b = await t.createIssue({ title: 'b', labels: ['type:task'], assignee: 'agent:x' });
    const c = await t.createIssue({ title: 'c', labels: ['area:y'] });
    await t.updateIssue(c.id, { state: 'done' });
    expect(ids(await storage.listSummaries())).toEqual([a.id, b.id, c.id]);
    expect(ids(await storage.listSummaries({}))).toEqual([a.id, b.id, c.id]);
    expect(ids(await storage.listSummaries({ label: 'type:*' }))).toEqual([a.id, b.id]);
    expect(ids(await storage.listSummaries({ label: 'type:bug' }))).toEqual([a.id]);
    expect(ids(await storage.listSummaries({ label: 'type:*', assignee: 'agent:x' }))).toEqual([b.id]);
    expect(ids(await storage.listSummaries({ state: 'done' }))).toEqual([c.id]);
    expect(ids(await storage.listSummaries({ state: 'ready', priority: 'high' }))).toEqual([a.id]);
    expect(await storage.listSummaries({ state: 'archived' })).toEqual([]);
  });

  it('pageSummaries: a page of listSummaries with the filter, and how many match in all', async () => {
    const made = [];
    for (const title of ['a', 'b', 'c', 'd', 'e']) made.push(await t.createIssue({ title, labels: title === 'c' ? ['type:bug'] : [] }));
    await t.updateIssue(made[3]!.id, { state: 'done' });
    const all = ids(made);
    expect(await storage.pageSummaries({}, { offset: 0, limit: 2 })).toEqual({ issues: (await storage.listSummaries()).slice(0, 2), total: 5 });
    expect(ids((await storage.pageSummaries({}, { offset: 3, limit: 10 })).issues)).toEqual(all.slice(3));
    expect(await storage.pageSummaries({ state: 'ready' }, { offset: 1, limit: 2 })).toMatchObject({ total: 4 });
    expect(ids((await storage.pageSummaries({ state: 'ready' }, { offset: 1, limit: 2 })).issues)).toEqual([all[1], all[2]]);
    expect(await storage.pageSummaries({ label: 'type:*' }, { offset: 0, limit: 5 })).toMatchObject({ issues: [expect.objectContaining({ id: all[2] })], total: 1 });
    expect(await storage.pageSummaries({}, { offset: 9, limit: 5 })).toEqual({ issues: [], total: 5 });
  });

  it('pageSummaries is listSummaries sliced, with its length, for every filter and page edge', async () => {
    const labels = [['type:bug'], ['type:bug', 'area:ui'], ['area:db'], [], ['type:feature']];
    const priorities = ['low', 'normal', 'high', 'critical'] as const;
    const made = [];
    for (let n = 0; n < 14; n++) made.push(await t.createIssue({ title: `i${n}`, labels: labels[n % labels.length]!, priority: priorities[n % 4]! }));
    await t.updateIssue(made[1]!.id, { state: 'done' });
    await t.updateIssue(made[2]!.id, { state: 'backlog' });
    await t.claim(made[3]!.id, 'agent:x');
    await t.deleteIssue(made[4]!.id);
    const filters: SummaryFilter[] = [{}, { state: 'ready' }, { state: 'done' }, { priority: 'high' }, { label: 'type:bug' }, { label: 'type:*' }, { label: 'area:*' }, { assignee: 'agent:x' }, { state: 'ready', label: 'type:bug', priority: 'low' }];
    for (const filter of filters) {
      const all = await storage.listSummaries(filter);
      for (const offset of [0, 1, all.length - 1, all.length, all.length + 3].filter((o) => o >= 0)) {
        for (const limit of [0, 1, 3, 1000]) {
          expect(await storage.pageSummaries(filter, { offset, limit }), JSON.stringify({ filter, offset, limit })).toEqual({ issues: all.slice(offset, offset + limit), total: all.length });
        }
      }
    }
  });

  it("graphTransaction: the plan and the tx look up summaries and direct dependents (id order), dangling ones included", async () => {
    const a = await t.createIssue({ title: 'a' });
    const b = await t.createIssue({ title: 'b', dependencies: [a.id] });
    const c = await t.createIssue({ title: 'c', dependencies: [a.id] });
    await addDanglingDependency(c.id, GHOST);
    const seen = await storage.graphTransaction(
      (graph) => {
        expect(graph.dependentsOf(a.id)).toEqual([b.id, c.id].sort(byId));
        return { write: [], read: [a.id] };
      },
      (tx) => ({
        a: tx.summary(a.id),
        ghost: tx.summary(GHOST),
        dependentsOfA: tx.dependentsOf(a.id),
        dependentsOfGhost: tx.dependentsOf(GHOST),
        dependentsOfC: tx.dependentsOf(c.id),
      }),
    );
    expect(seen).toEqual({ a: expect.objectContaining({ id: a.id, title: 'a' }), ghost: undefined, dependentsOfA: [b.id, c.id].sort(byId), dependentsOfGhost: [c.id], dependentsOfC: [] });
  });

  it('queryReady with a limit, and claim-next past candidates lost to other claimers', async () => {
    const first = await t.createIssue({ title: 'first', priority: 'high' });
    const rest = [];
    for (let i = 0; i < 25; i++) rest.push(await t.createIssue({ title: `r${i}` }));
    expect(ids(await t.queryReady({ limit: 3 }))).toEqual([first.id, rest[0]!.id, rest[1]!.id]);
    expect(await t.queryReady({ limit: 0 })).toEqual([]);
    expect(await codeOf(t.queryReady({ limit: -1 }))).toBe('INVALID_ARGUMENT');
    // Claim-next reads candidates a page (20) at a time; each may be lost to another claimer between that read
    // and its lock. Serve it a ready list from before 23 claims, so every candidate of its first page is lost:
    // it must read on instead of reporting nothing ready.
    const before = await storage.readyWork();
    for (const s of [first, ...rest.slice(0, 22)]) await t.claim(s.id, 'agent:other');
    const raced = Object.assign(Object.create(storage) as Storage, {
      readyWork: async (query: { limit?: number } = {}) => before.slice(0, query.limit),
    });
    const claimed = await new Tracker(raced).claimNext('agent:me');
    expect(claimed.id).toBe(rest[22]!.id);
    expect(await codeOf(new Tracker(Object.assign(Object.create(storage) as Storage, { readyWork: async () => before.slice(0, 2) })).claimNext('agent:me'))).toBe(
      'NO_READY_ISSUE',
    );
  });
});

describe.each(factories)('Types and hierarchy over %s (issue 16)', (_name, makeStorage) => {
  let storage: Storage;
  let t: Tracker;
  beforeEach(async () => {
    storage = await makeStorage();
    t = new Tracker(storage);
  });
  /** Gives the store this config.toml: the file for a store with a folder, parsed for memory. */
  const configure = (text: string): void => {
    if (storage instanceof InMemoryStorage) storage.setConfig(parseStoreConfig(text, 'memory'));
    else fs.writeFileSync(path.join((storage as JsonFileStorage | PgStorage).jitDir!, 'config.toml'), text);
  };
  const ids = (list: readonly { id: string }[]): string[] => list.map((s) => s.id);

  it('strategic issues are not ready work: query ready, status and claim-next leave them out unless asked for by type', async () => {
    const epic = await t.createIssue({ title: 'epic', type: 'epic', priority: 'critical' });
    const milestone = await t.createIssue({ title: 'm', labels: ['type:milestone'], priority: 'critical' });
    const task = await t.createIssue({ title: 'task', type: 'task' });
    expect(epic.labels).toEqual(['type:epic']);
    expect(ids(await t.queryReady())).toEqual([task.id]);
    expect(ids(await storage.readyWork({ excludeLabels: ['type:epic', 'type:milestone'] }))).toEqual([task.id]);
    expect((await t.status()).ready).toBe(1);
    expect(ids(await t.queryReady({ type: 'epic' }))).toEqual([epic.id]);
    expect(ids(await t.queryReady({ label: 'type:milestone' }))).toEqual([milestone.id]);
    expect((await t.claimNext('agent:a')).id).toBe(task.id);
    expect(await codeOf(t.claimNext('agent:a'))).toBe('NO_READY_ISSUE');
    expect((await t.claimNext('agent:a', { type: 'epic' })).id).toBe(epic.id);
    expect(await codeOf(t.claimNext('agent:a', { type: 'epic', label: 'type:epic' }))).toBe('INVALID_ARGUMENT');
    expect(ids(await t.queryStrategic())).toEqual([epic.id, milestone.id]);
    expect(ids(await t.queryStrategic({ assignee: 'agent:a' }))).toEqual([epic.id]);
    expect(ids(await t.queryStrategic({ limit: 1 }))).toEqual([epic.id]);
  });

  it('config.toml decides the strategic types', async () => {
    configure('[type_hierarchy]\ntypes = { theme = 1, epic = 2, task = 3 }\nstrategic_types = ["theme"]\n');
    const epic = await t.createIssue({ title: 'epic', type: 'epic' });
    const theme = await t.createIssue({ title: 'theme', type: 'theme' });
    expect(ids(await t.queryReady())).toEqual([epic.id]);
    expect(ids(await t.queryStrategic())).toEqual([theme.id]);
    expect((await t.status()).ready).toBe(1);
  });

  it('query closed lists done, rejected and archived issues, with filters', async () => {
    const done = await t.createIssue({ title: 'done', type: 'bug' });
    const rejected = await t.createIssue({ title: 'rejected' });
    await t.createIssue({ title: 'open' });
    await t.updateIssue(done.id, { state: 'done' });
    await t.rejectIssue(rejected.id, 'duplicate');
    expect(ids(await t.queryClosed())).toEqual([done.id, rejected.id]);
    expect(ids(await t.queryClosed({ type: 'bug' }))).toEqual([done.id]);
  });

  it('reject: terminal, bypasses gates, records the reason, unblocks dependents; again is no change', async () => {
    await t.addGateDefinition({ key: 'review', title: 'Review' });
    const a = await t.createIssue({ title: 'a', gates: ['review'] });
    const b = await t.createIssue({ title: 'b', dependencies: [a.id] });
    const rejected = await t.rejectIssue(a.id, 'not needed');
    expect(rejected).toMatchObject({ state: 'rejected', changed: true, context: { rejection_reason: 'not needed' } });
    expect((await t.getIssue(b.id)).state).toBe('ready');
    expect((await t.rejectIssue(a.id, 'not needed')).changed).toBe(false);
    const events = await t.queryEvents({ issueId: a.id, type: 'issue_state_changed' });
    expect(events.at(-1)).toMatchObject({ from: 'ready', to: 'rejected', reason: 'not needed' });
    expect(await codeOf(t.rejectIssue(b.id, ''))).toBe('INVALID_ARGUMENT');
  });

  it('label namespaces and values, from what the issues carry', async () => {
    await t.createIssue({ title: 'a', labels: ['type:task', 'epic:auth'] });
    await t.createIssue({ title: 'b', labels: ['type:task', 'epic:billing', 'area:x'] });
    expect(await t.labelNamespaces()).toEqual([
      { namespace: 'area', values: 1, issues: 1 },
      { namespace: 'epic', values: 2, issues: 2 },
      { namespace: 'type', values: 1, issues: 2 },
    ]);
    expect(await t.labelValues('epic')).toEqual([
      { label: 'epic:auth', value: 'auth', issues: 1 },
      { label: 'epic:billing', value: 'billing', issues: 1 },
    ]);
    expect(await t.labelValues('type:*')).toEqual([{ label: 'type:task', value: 'task', issues: 2 }]);
    expect(await t.labelValues('none')).toEqual([]);
    // Any namespace a label can have is looked up (hand-written ones hold spaces or accents); a colon inside is not one.
    expect(await t.labelValues('bad ns')).toEqual([]);
    for (const bad of ['', 'a:b', 'a\nb']) expect(await codeOf(t.labelValues(bad)), bad).toBe('INVALID_ARGUMENT');
  });

  it('hierarchy by strictness: loose warns, strict refuses, permissive allows; validate reports', async () => {
    const epic = await t.createIssue({ title: 'epic', type: 'epic' });
    const task = await t.createIssue({ title: 'task', type: 'task' });
    // Default (no config.toml): loose.
    const warned = await t.addDependency(task.id, epic.id);
    expect(warned.warnings).toEqual([expect.objectContaining({ rule: 'wrong_direction', issue_id: task.id, dependency: epic.id })]);
    expect((await t.validate()).problems).toEqual([expect.objectContaining({ kind: 'hierarchy', issue_id: task.id })]);
    // No config.toml: any type is fine (a store keeps the types it uses); once it sets a strictness, the listed ones only.
    expect((await t.createIssue({ title: 'free', type: 'chore' })).warnings).toBeUndefined();
    configure('[validation]\nstrictness = "loose"\n');
    const odd = await t.createIssue({ title: 'odd', type: 'chore' });
    expect(odd.warnings).toEqual([expect.objectContaining({ rule: 'unknown_type', issue_id: odd.id, message: expect.stringContaining(odd.id.slice(0, 8)) })]);

    configure('[validation]\nstrictness = "strict"\n');
    const other = await t.createIssue({ title: 'task 2', type: 'task' });
    expect(await codeOf(t.addDependency(other.id, epic.id))).toBe('HIERARCHY_VIOLATION');
    expect(await codeOf(t.createIssue({ title: 'x', type: 'story', dependencies: [epic.id] }))).toBe('HIERARCHY_VIOLATION');
    expect(await codeOf(t.createIssue({ title: 'x', type: 'chore' }))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(t.updateIssue(other.id, { type: 'milestone' }).then(() => t.addDependency(epic.id, other.id)))).toBe('HIERARCHY_VIOLATION');
    // The right direction is fine: the epic waits for its task.
    const fine = await t.createIssue({ title: 'task 3', type: 'task' });
    expect((await t.addDependency(epic.id, fine.id)).warnings).toBeUndefined();
    // A type change that would put a dependency in the wrong direction is refused too.
    expect(await codeOf(t.updateIssue(fine.id, { type: 'milestone' }))).toBe('HIERARCHY_VIOLATION');
    expect((await t.getIssue(fine.id)).labels).toEqual(['type:task']);

    configure('[validation]\nstrictness = "permissive"\n');
    const free = await t.createIssue({ title: 'task 4', type: 'task', dependencies: [epic.id] });
    expect(free.warnings).toBeUndefined();
    expect((await t.validate()).problems.filter((p) => p.kind === 'hierarchy')).toEqual([]);
  });

  it('--type on update replaces the type label', async () => {
    const issue = await t.createIssue({ title: 'x', type: 'story', labels: ['area:a'] });
    const updated = await t.updateIssue(issue.id, { type: 'bug' });
    expect(updated.labels).toEqual(['area:a', 'type:bug']);
  });
});
