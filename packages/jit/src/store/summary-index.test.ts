// index.db on real files: rows written in one transaction, the targeted
// queries against what the pure functions over every summary answer, stamps.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Priority, State } from './model.js';
import * as queries from './queries.js';
import { overlaidReadyWork } from './summary-cache.js';
import { EXCLUDED_READY_COUNT, INDEX_DB_FORMAT, SummaryIndex, directoryStamp, fileStamp, isUnusableDatabase } from './summary-index.js';
import type { IssueSummary } from './tracker-api.js';

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'jit-index-db-'));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));
let files = 0;

function newIndex(): SummaryIndex {
  const index = new SummaryIndex(path.join(scratch, `i${++files}.db`), { create: true });
  index.initialize();
  return index;
}

const id = (n: number): string => `${n.toString(16).padStart(8, '0')}-0000-4000-8000-000000000000`;

function summary(n: number, fields: Partial<IssueSummary> = {}): IssueSummary {
  return {
    id: id(n),
    title: `issue ${n}`,
    state: 'ready',
    priority: 'normal',
    assignee: null,
    labels: [],
    dependencies: [],
    created_at: `2026-01-01T00:00:${String(n % 60).padStart(2, '0')}.${String(n).padStart(3, '0')}Z`,
    updated_at: '2026-01-02T00:00:00.000Z',
    ...fields,
  };
}

/** A varied little store: every state and priority, labels, chains, a dangling dependency, assignees. */
function sampleStore(): IssueSummary[] {
  const states: State[] = ['backlog', 'ready', 'in_progress', 'gated', 'done', 'rejected', 'archived'];
  const priorities: Priority[] = ['low', 'normal', 'high', 'critical'];
  const all: IssueSummary[] = [];
  for (let n = 1; n <= 120; n++) {
    const dependencies = n % 3 === 0 ? [id(n - 1)] : n % 7 === 0 ? [id(n - 2), id(999)] : [];
    all.push(
      summary(n, {
        state: states[n % states.length]!,
        priority: priorities[(n * 5) % priorities.length]!,
        assignee: n % 4 === 0 ? `agent:${n % 3}` : null,
        labels: n % 2 === 0 ? ['type:bug', `area:${n % 5}`] : n % 5 === 0 ? ['type:feature'] : [],
        dependencies,
      }),
    );
  }
  return all;
}

describe('SummaryIndex', () => {
  it('is created with its format, and stores rows as given, in one transaction per apply', () => {
    const index = newIndex();
    expect(index.format()).toBe(INDEX_DB_FORMAT);
    const a = summary(1, { labels: ['x:y'], dependencies: [id(2)] });
    index.apply({ put: [{ summary: a, fileStamp: '1:2:3' }], meta: { k: 'v' } });
    expect(index.get(a.id)).toEqual(a);
    expect(index.fileStamp(a.id)).toBe('1:2:3');
    expect(index.meta('k')).toBe('v');
    expect(index.dependentIds(id(2))).toEqual([a.id]);
    // A put replaces the row and its dependency and label rows.
    index.apply({ put: [{ summary: { ...a, dependencies: [], labels: [] }, fileStamp: null }] });
    expect(index.dependentIds(id(2))).toEqual([]);
    expect(index.list({ label: 'x:y' })).toEqual([]);
    index.apply({ remove: [a.id] });
    expect(index.get(a.id)).toBeUndefined();
    expect(index.count()).toBe(0);
  });

  it('a failing apply changes nothing', () => {
    const index = newIndex();
    index.apply({ put: [{ summary: summary(1), fileStamp: null }] });
    expect(() => index.apply({ put: [{ summary: summary(2), fileStamp: null }, { summary: { ...summary(3), state: null as unknown as State }, fileStamp: null }] })).toThrow();
    expect(index.all().map((s) => s.id)).toEqual([id(1)]);
  });

  it('is durable across connections (another process sees a committed apply)', () => {
    const index = newIndex();
    index.apply({ put: [{ summary: summary(5), fileStamp: null }] });
    const other = new SummaryIndex(index.file, { create: false });
    try {
      expect(other.get(id(5))?.title).toBe('issue 5');
    } finally {
      other.close();
    }
  });

  it('answers every targeted query as the pure functions over every summary do', () => {
    const index = newIndex();
    const all = sampleStore();
    index.apply({ replaceAll: true, put: all.map((s) => ({ summary: s, fileStamp: null })) });
    const map = new Map(all.map((s) => [s.id, s]));
    expect(index.byPrefix('0000000', 5)).toEqual(queries.summariesByPrefix(map, '0000000', 5));
    expect(index.byPrefix(id(17), 5)).toEqual([map.get(id(17))]);
    expect(index.dependentsOf([id(2), id(999)])).toEqual(queries.dependentsOf(map, [id(2), id(999)]));
    for (const n of [1, 2, 5, 999]) expect(index.downstreamOf(id(n))).toEqual(queries.downstreamOf(map, id(n)));
    // excludeLabels with and without a limit: two SQL forms (a probe per candidate; the excluded ids once), one answer.
    const excluding = [{ excludeLabels: ['type:bug'] }, { excludeLabels: ['type:bug', 'type:feature'], limit: 4 }, { excludeLabels: ['type:feature'], label: 'area:*' }];
    for (const query of [{}, { limit: 3 }, { priority: 'high' as const }, { label: 'type:bug' }, { label: 'area:*' }, { label: 'type:*', limit: 2 }, ...excluding]) {
      expect(index.ready(query), JSON.stringify(query)).toEqual(queries.readyWork(map, query));
      // The same rows as JSON text, joined in SQLite (what query ready --json prints): equal once parsed, keys in one order.
      const { count, items } = index.readyJson(query);
      const parsed = JSON.parse(`[${Buffer.from(items).toString('utf8')}]`) as IssueSummary[];
      expect(parsed, JSON.stringify(query)).toEqual(queries.readyWork(map, query));
      expect(count).toBe(parsed.length);
      for (const row of parsed) expect(Object.keys(row).slice(0, 9)).toEqual(['id', 'title', 'state', 'priority', 'assignee', 'labels', 'dependencies', 'created_at', 'updated_at']);
    }
    const counts = index.counts();
    const report = queries.statusReport(map);
    expect({ total: counts.total, ready: counts.ready, blocked: counts.blocked }).toEqual({ total: report.total, ready: report.ready, blocked: report.blocked });
    for (const [state, n] of Object.entries(report.by_state)) expect(counts.byState.get(state) ?? 0).toBe(n);
    expect(index.blockedCandidates().map((s) => s.id)).toEqual(queries.blockedCandidates(map).map((c) => c.issue.id));
    for (const filter of [{}, { state: 'ready' as const }, { assignee: 'agent:1' }, { label: 'type:feature' }, { label: 'area:*', priority: 'low' as const }]) {
      expect(index.list(filter), JSON.stringify(filter)).toEqual(queries.listSummaries(map, filter));
    }
    expect(index.states([id(1), id(2), id(999)])).toEqual(new Map([[id(1), map.get(id(1))!.state], [id(2), map.get(id(2))!.state]]));
  });

  it('waiting and the state counts (kept by triggers) follow every kind of change as the pure functions say', () => {
    const index = newIndex();
    const map = new Map<string, IssueSummary>();
    let seed = 13;
    const random = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    const states: State[] = ['backlog', 'ready', 'in_progress', 'gated', 'done', 'rejected', 'archived'];
    const excludeLabels = ['type:epic'];
    const check = (step: string): void => {
      for (const exclude of [[], excludeLabels]) {
        const counts = index.counts(exclude);
        const report = queries.statusReport(map, { excludeLabels: exclude });
        expect({ total: counts.total, ready: counts.ready, blocked: counts.blocked }, step).toEqual({ total: report.total, ready: report.ready, blocked: report.blocked });
        for (const [state, n] of Object.entries(report.by_state)) expect(counts.byState.get(state) ?? 0, `${step} ${state}`).toBe(n);
      }
      expect(index.ready({}), step).toEqual(queries.readyWork(map, {}));
      expect(index.blockedCandidates().map((s) => s.id), step).toEqual(queries.blockedCandidates(map).map((c) => c.issue.id));
    };
    for (let step = 0; step < 300; step++) {
      const n = 1 + random(40); // a small id space: dependencies on missing issues that appear later, self-dependencies, cycles
      const kind = random(10);
      if (kind === 0) {
        map.delete(id(n));
        index.apply({ remove: [id(n)] });
      } else if (kind === 1 && step % 50 === 1) {
        index.apply({ replaceAll: true, put: [...map.values()].map((s) => ({ summary: s, fileStamp: null })) });
      } else {
        const many = Array.from({ length: 1 + random(3) }, () => {
          const m = kind === 2 ? n : 1 + random(40);
          const row = summary(m, {
            state: states[random(states.length)]!,
            assignee: random(3) === 0 ? 'agent:a' : null,
            dependencies: [...new Set(Array.from({ length: random(4) }, () => id(1 + random(45))))],
            labels: random(4) === 0 ? ['type:epic'] : [],
          });
          map.set(row.id, row);
          return row;
        });
        index.apply({ put: [...new Map(many.map((row) => [row.id, row])).values()].map((s) => ({ summary: s, fileStamp: null })) });
      }
      check(`step ${step}`);
    }
  });

  it('counts and ready work with marked issues laid over (their files differ from their rows) are those of the merged summaries', () => {
    let seed = 7;
    const random = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    const states: State[] = ['backlog', 'ready', 'in_progress', 'gated', 'done', 'rejected', 'archived'];
    const excludeLabels = ['type:epic'];
    const make = (n: number): IssueSummary =>
      summary(n, {
        state: states[random(states.length)]!,
        assignee: random(3) === 0 ? 'agent:a' : null,
        dependencies: [...new Set(Array.from({ length: random(3) }, () => id(1 + random(35))))],
        labels: random(4) === 0 ? ['type:epic'] : [],
      });
    for (let round = 0; round < 40; round++) {
      const index = newIndex();
      const rows = new Map<string, IssueSummary>();
      for (let n = 1; n <= 30; n++) if (random(5) > 0) rows.set(id(n), make(n));
      index.apply({ put: [...rows.values()].map((s) => ({ summary: s, fileStamp: null })) });
      // Marked issues: changed, deleted (null), or new (ids 31..35, which some rows already depend on).
      const overlay = new Map<string, IssueSummary | null>();
      for (let k = 0; k < 1 + random(5); k++) {
        const n = 1 + random(35);
        overlay.set(id(n), random(4) === 0 ? null : make(n));
      }
      const merged = new Map(rows);
      for (const [key, value] of overlay) (value ? merged.set(key, value) : merged.delete(key));
      for (const exclude of [[], excludeLabels]) {
        const counts = index.counts(exclude, overlay);
        const report = queries.statusReport(merged, { excludeLabels: exclude });
        expect({ total: counts.total, ready: counts.ready, blocked: counts.blocked }, `round ${round}`).toEqual({ total: report.total, ready: report.ready, blocked: report.blocked });
        for (const [state, n] of Object.entries(report.by_state)) expect(counts.byState.get(state) ?? 0, `round ${round} ${state}`).toBe(n);
      }
      for (const query of [{}, { limit: 3 }, { excludeLabels, limit: 5 }, { priority: 'normal' as const }, { label: 'type:epic' }]) {
        expect(overlaidReadyWork(index, overlay, query), `round ${round} ${JSON.stringify(query)}`).toEqual(queries.readyWork(merged, query));
      }
      index.close();
    }
  });

  it('status reads its counts from a few counter rows, and ready work is an index range (no per-row subquery)', () => {
    const index = newIndex();
    index.apply({ put: Array.from({ length: 3000 }, (_, n) => ({ summary: summary(n + 1, { dependencies: n % 3 ? [id(n)] : [] }), fileStamp: null })) });
    const db = (index as unknown as { db: { prepare(sql: string): { raw(): { all(): unknown[][] }; all(...p: unknown[]): { detail: string }[] } } }).db;
    expect((db.prepare('SELECT count(*) FROM state_counts').raw().all()[0] as number[])[0]).toBeLessThanOrEqual(4);
    const readyRows = `SELECT s.doc FROM summaries s WHERE s.state = 'ready' AND s.assignee IS NULL AND s.waiting = 0`;
    const order = 'ORDER BY s.priority_rank, s.created_at, s.id';
    // The summaries (doc) from the index alone, with or without a priority: no look-up in the table per ready row.
    for (const [sql, params] of [[`${readyRows} ${order}`, []], [`${readyRows} AND s.priority_rank = ? ${order}`, [2]]] as const) {
      const plan = db
        .prepare(`EXPLAIN QUERY PLAN ${sql}`)
        .all(...params)
        .map((row) => row.detail)
        .join('; ');
      expect(plan, sql).toMatch(/SEARCH s USING COVERING INDEX summaries_ready \(state=\? AND assignee=\? AND waiting=\?/);
      expect(plan, sql).not.toMatch(/TEMP B-TREE|SUBQUERY/);
    }
    expect(index.counts().ready).toBe(1000);
  });

  it('counts are kept until a commit by this or another connection', () => {
    const index = newIndex();
    index.apply({ put: [{ summary: summary(1), fileStamp: null }] });
    expect(index.counts().total).toBe(1);
    index.apply({ put: [{ summary: summary(2), fileStamp: null }] });
    expect(index.counts().total).toBe(2);
    const other = new SummaryIndex(index.file, { create: false });
    try {
      other.apply({ put: [{ summary: summary(3, { state: 'done' }), fileStamp: null }] });
    } finally {
      other.close();
    }
    expect(index.counts()).toMatchObject({ total: 3, ready: 2 });
  });

  it('ready work with a limit reads only what it returns (an index walk, not a scan and sort)', () => {
    const index = newIndex();
    index.apply({ put: Array.from({ length: 5000 }, (_, n) => ({ summary: summary(n + 1), fileStamp: null })) });
    const plan = (index as unknown as { db: { prepare(sql: string): { all(...p: unknown[]): { detail: string }[] } } }).db
      .prepare("EXPLAIN QUERY PLAN SELECT id FROM summaries s WHERE s.state = 'ready' AND s.assignee IS NULL AND s.waiting = 0 ORDER BY s.priority_rank, s.created_at, s.id LIMIT 20")
      .all()
      .map((row) => row.detail)
      .join('; ');
    expect(plan).toContain('summaries_ready');
    expect(plan).not.toContain('TEMP B-TREE');
  });

  it('strategic types (issue 16): excluded from ready work and its count by index look-ups; label namespaces and values as the pure functions say', () => {
    const index = newIndex();
    const rows = Array.from({ length: 3000 }, (_, n) =>
      summary(n + 1, { labels: n % 3 === 0 ? ['type:epic', 'epic:a'] : n % 3 === 1 ? ['type:task', `epic:${n % 7}`] : [], priority: n % 2 ? 'high' : 'normal' }),
    );
    index.apply({ put: rows.map((row) => ({ summary: row, fileStamp: null })) });
    const all = new Map(rows.map((row) => [row.id, row]));
    const excludeLabels = ['type:epic', 'type:milestone'];
    expect(index.ready({ excludeLabels, limit: 50 })).toEqual(queries.readyWork(all, { excludeLabels, limit: 50 }));
    expect(index.ready({ excludeLabels, label: 'epic:*' })).toEqual(queries.readyWork(all, { excludeLabels, label: 'epic:*' }));
    expect(index.ready({ excludeLabels })).toEqual(queries.readyWork(all, { excludeLabels }));
    expect(index.counts(excludeLabels).ready).toBe(queries.statusReport(all, { excludeLabels }).ready);
    expect(index.counts().ready).toBe(3000);
    expect(index.labelNamespaces()).toEqual(queries.labelNamespaces(all));
    expect(index.labelValues('epic')).toEqual(queries.labelValues(all, 'epic'));
    expect(index.list({ anyLabel: ['type:epic'], states: ['ready'] })).toEqual(queries.listSummaries(all, { anyLabel: ['type:epic'], states: ['ready'] }));
    // The plans: the ready walk stays on its index (no scan and sort), the excluded count and a namespace's values on the label index.
    const db = (index as unknown as { db: { prepare(sql: string): { all(...p: unknown[]): { detail: string }[] } } }).db;
    const plan = (sql: string): string => db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all('[]').map((row) => row.detail).join('; ');
    const readyPlan = plan(
      "SELECT id FROM summaries s WHERE s.state = 'ready' AND s.assignee IS NULL AND s.waiting = 0 AND NOT EXISTS (SELECT 1 FROM labels x WHERE x.issue_id = s.id AND x.label IN (SELECT value FROM json_each(?))) ORDER BY s.priority_rank, s.created_at, s.id LIMIT 20",
    );
    expect(readyPlan).toContain('summaries_ready');
    expect(readyPlan).not.toContain('TEMP B-TREE');
    const countPlan = plan(EXCLUDED_READY_COUNT);
    expect(countPlan).toMatch(/SEARCH l USING COVERING INDEX labels_label/);
    expect(countPlan).not.toMatch(/SCAN s\b/);
  });

  it('a file that is not a database is recognised as unusable (so it is rebuilt, never trusted)', () => {
    const file = path.join(scratch, 'garbage.db');
    fs.writeFileSync(file, 'garbage '.repeat(1000));
    let caught: unknown;
    try {
      new SummaryIndex(file, { create: false }).format();
    } catch (error) {
      caught = error;
    }
    expect(isUnusableDatabase(caught)).toBe(true);
  });

  it('stamps: a rename into a directory changes its stamp, an edit in place changes the file stamp', async () => {
    const dir = fs.mkdtempSync(path.join(scratch, 'stamps-'));
    const file = path.join(dir, 'a.json');
    fs.writeFileSync(file, 'one');
    const dirBefore = directoryStamp(dir);
    const fileBefore = fileStamp(file);
    fs.writeFileSync(file, 'three');
    expect(fileStamp(file)).not.toBe(fileBefore);
    expect(directoryStamp(dir)).toBe(dirBefore); // an edit in place: the directory cannot tell (the documented window)
    fs.writeFileSync(path.join(dir, '.a.tmp'), 'two');
    fs.renameSync(path.join(dir, '.a.tmp'), file);
    expect(directoryStamp(dir)).not.toBe(dirBefore);
    expect(fileStamp(path.join(dir, 'missing.json'))).toBeNull();
    expect(directoryStamp(path.join(dir, 'missing'))).toBe('none');
  });
});
