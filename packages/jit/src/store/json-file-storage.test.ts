// JsonFileStorage and the .jit/ helpers: layout, corrupt and hostile files, crash leftovers, healing.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { lock } from 'jit-lock';
import { debugLocks } from './debug-locks.js';
import { JitError } from './errors.js';
import { findJitDir, initJit, openTracker, resolveJitDir } from './jit-dir.js';
import type { Issue } from './model.js';
import type { Tracker } from './tracker.js';
import Database from 'libsql';
import { INDEX_DB_FORMAT, SummaryIndex } from './summary-index.js';
import { SummaryCache } from './summary-cache.js';
import type { IssueSummary } from './tracker-api.js';

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'jit-files-'));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

let project: string;
let jitDir: string;
let tracker: Tracker;
let projects = 0;
beforeEach(() => {
  project = path.join(scratch, `p${++projects}`);
  fs.mkdirSync(project);
  jitDir = initJit(project).path;
  tracker = openTracker(jitDir);
});

async function errorOf(promise: Promise<unknown>): Promise<JitError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof JitError) return error;
    throw error;
  }
  throw new Error('expected a JitError, but the call succeeded');
}

/** index.db opened beside the store's own connection, as another process would. */
function withIndex<T>(work: (index: SummaryIndex) => T): T {
  const index = new SummaryIndex(path.join(jitDir, 'index.db'), { create: false });
  try {
    return work(index);
  } finally {
    index.close();
  }
}

const indexRows = (): Record<string, IssueSummary> => withIndex((index) => Object.fromEntries(index.all().map((s) => [s.id, s])));

/** Changes one row by hand, keeping its file stamp (nothing tells jit it is wrong): `patch` merged (a new row copied from `from`), null drops it. */
function editIndexRow(id: string, patch: Partial<IssueSummary> | null, from?: string): void {
  withIndex((index) => {
    if (patch === null) return index.apply({ remove: [id] });
    const base = index.get(id) ?? index.get(from ?? '')!;
    index.apply({ put: [{ summary: { ...base, id, ...patch }, fileStamp: index.fileStamp(id) ?? null }] });
  });
}

const issuePath = (id: string): string => path.join(jitDir, 'issues', `${id}.json`);
const readJson = (file: string): any => JSON.parse(fs.readFileSync(file, 'utf8'));

describe('init and finding .jit/', () => {
  it('lays out the store, idempotently', () => {
    expect(fs.readdirSync(jitDir).sort()).toEqual(['.gitignore', 'events.jsonl', 'gates.json', 'index.json', 'issues', 'pending']);
    expect(readJson(path.join(jitDir, 'index.json'))).toEqual({ schema_version: 2, index: 'index.db' });
    expect(fs.readFileSync(path.join(jitDir, '.gitignore'), 'utf8').split('\n')).toEqual(expect.arrayContaining(['index.db', 'index.db-wal', 'index.db-shm', 'pending/']));
    expect(readJson(path.join(jitDir, 'gates.json'))).toEqual({ schema_version: 1, gates: {} });
    expect(fs.readFileSync(path.join(jitDir, '.gitignore'), 'utf8')).toMatch(/^\*\.lock$/m);
    const before = fs.readFileSync(path.join(jitDir, 'index.json'), 'utf8');
    expect(initJit(project)).toEqual({ path: jitDir, created: false, repaired: [] });
    expect(fs.readFileSync(path.join(jitDir, 'index.json'), 'utf8')).toBe(before);
  });

  it('walks up like git, and --dir beats JIT_DIR beats walking', () => {
    const deep = path.join(project, 'a', 'b');
    fs.mkdirSync(deep, { recursive: true });
    expect(findJitDir(deep)).toBe(jitDir);
    expect(findJitDir(scratch)).toBeNull();
    expect(resolveJitDir({ cwd: deep, env: {} })).toBe(jitDir);
    const other = path.join(scratch, `other${projects}`);
    fs.mkdirSync(other);
    const otherJit = initJit(other).path;
    expect(resolveJitDir({ cwd: deep, env: { JIT_DIR: other } })).toBe(otherJit);
    expect(resolveJitDir({ cwd: deep, env: { JIT_DIR: other }, dir: project })).toBe(jitDir);
    expect(resolveJitDir({ cwd: scratch, env: {}, dir: jitDir })).toBe(jitDir);
    let error: JitError | undefined;
    try {
      resolveJitDir({ cwd: scratch, env: {} });
    } catch (e) {
      error = e as JitError;
    }
    expect(error?.code).toBe('NOT_INITIALIZED');
    expect(error?.suggestions.join(' ')).toContain('jit init');
    expect(() => resolveJitDir({ cwd: scratch, env: {}, dir: 'missing' })).toThrow(expect.objectContaining({ code: 'NOT_INITIALIZED' }));
  });

  it('reports NOT_INITIALIZED when the store is gone', async () => {
    fs.rmSync(jitDir, { recursive: true });
    expect((await errorOf(tracker.listIssues())).code).toBe('NOT_INITIALIZED');
  });
});

describe('the files', () => {
  it('keeps issue files as the truth and the index as their summary', async () => {
    const issue = await tracker.createIssue({ title: 'a', labels: ['x:y'] });
    const { changed: _changed, ...stored } = issue;
    expect(readJson(issuePath(issue.id))).toEqual(stored);
    expect(indexRows()[issue.id]).toEqual({
      id: issue.id,
      title: 'a',
      state: 'ready',
      priority: 'normal',
      assignee: null,
      labels: ['x:y'],
      dependencies: [],
      created_at: issue.created_at,
      updated_at: issue.updated_at,
    });
    const lines = fs.readFileSync(path.join(jitDir, 'events.jsonl'), 'utf8').trim().split('\n');
    expect(JSON.parse(lines[0]!)).toMatchObject({ type: 'issue_created', issue_id: issue.id });
    expect(fs.readdirSync(path.join(jitDir, 'pending'))).toEqual([]);
    expect(fs.readdirSync(path.join(jitDir, 'issues')).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('answers list, status and ready from the index alone', async () => {
    const a = await tracker.createIssue({ title: 'a' });
    fs.writeFileSync(issuePath(a.id), '{ not json'); // would fail any reader of the issue file
    expect((await tracker.listIssues()).map((s) => s.id)).toEqual([a.id]);
    expect((await tracker.queryReady()).length).toBe(1);
    expect((await tracker.status()).total).toBe(1);
  });

  it('serialises concurrent calls in one process (the MCP server) without losing any', async () => {
    const { id } = await tracker.createIssue({ title: 'shared' });
    const other = openTracker(jitDir); // a second Tracker on the same store shares the queue
    await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? other : tracker).updateIssue(id, { addLabels: [`n:${i}`] })));
    expect((await tracker.getIssue(id)).labels).toHaveLength(20);
  });

  it('serialises calls on one store reached through two spellings (a symlinked parent), as one queue', async () => {
    const { id } = await tracker.createIssue({ title: 'shared' });
    const alias = path.join(scratch, `alias${projects}`);
    fs.symlinkSync(project, alias);
    const other = openTracker(path.join(alias, '.jit'));
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => (i % 2 ? other : tracker).updateIssue(id, { addLabels: [`n:${i}`] })));
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    expect((await other.getIssue(id)).labels).toHaveLength(20);
  });

  it('mixes every kind of transaction concurrently in one process without waiting on its own locks', async () => {
    const a = await tracker.createIssue({ title: 'a' });
    const b = await tracker.createIssue({ title: 'b' });
    await tracker.addGateDefinition({ key: 'tests', title: 'Tests' });
    const results = await Promise.allSettled([
      tracker.addDependency(b.id, a.id),
      tracker.claimNext('agent:1'),
      tracker.createIssue({ title: 'c', dependencies: [a.id], gates: ['tests'] }),
      tracker.updateIssue(a.id, { addLabels: ['x:y'] }),
      tracker.listIssues(),
      tracker.addGate(b.id, 'tests'),
      tracker.validate({ fix: true }),
      tracker.tailEvents(5),
      tracker.status(),
    ]);
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    expect((await tracker.validate()).ok).toBe(true);
  });

  it('works on a store without pending/ (made by hand or by an older jit)', async () => {
    fs.rmdirSync(path.join(jitDir, 'pending'));
    expect((await tracker.listIssues()).length).toBe(0);
    await tracker.createIssue({ title: 'a' });
    expect((await tracker.listIssues()).length).toBe(1);
  });
  it('recreates a missing issues/ and pending/ (a .jit/ cloned from git has neither) on the first write, and validate works', async () => {
    fs.rmSync(path.join(jitDir, 'issues'), { recursive: true });
    fs.rmSync(path.join(jitDir, 'pending'), { recursive: true });
    // Reads of a cloned store work without creating anything.
    expect(await tracker.listIssues()).toEqual([]);
    expect(await tracker.searchIssues('x')).toEqual([]);
    expect(fs.existsSync(path.join(jitDir, 'issues'))).toBe(false);
    const report = await openTracker(jitDir).validate();
    expect(report).toMatchObject({ ok: true, problems: [] });
    expect(report.recovered).toEqual([expect.stringContaining('issues/'), expect.stringContaining('pending/')]);
    fs.rmSync(path.join(jitDir, 'issues'), { recursive: true });
    fs.rmSync(path.join(jitDir, 'pending'), { recursive: true });
    const a = await tracker.createIssue({ title: 'a' });
    expect(fs.statSync(path.join(jitDir, 'issues')).isDirectory()).toBe(true);
    expect(fs.statSync(path.join(jitDir, 'pending')).isDirectory()).toBe(true);
    expect((await tracker.getIssue(a.id)).title).toBe('a');
    fs.rmSync(path.join(jitDir, 'issues'), { recursive: true });
    expect((await errorOf(tracker.getIssue(a.id))).code).toBe('ISSUE_NOT_FOUND'); // a lock-taking read recreates it too
    expect((await tracker.validate({ fix: true })).ok).toBe(true);
  });

  it('never follows a symlinked issues/ or pending/ when recreating them', async () => {
    const outside = path.join(scratch, `outside${projects}`);
    fs.mkdirSync(outside);
    for (const name of ['issues', 'pending']) {
      fs.rmSync(path.join(jitDir, name), { recursive: true });
      fs.symlinkSync(outside, path.join(jitDir, name));
      for (const operation of [() => tracker.createIssue({ title: 'a' }), () => tracker.validate({ fix: true })]) {
        const error = await errorOf(operation());
        expect(error.code).toBe('UNSAFE_PATH');
        expect(error.message).toContain(path.join(jitDir, name));
      }
      expect(fs.readdirSync(outside)).toEqual([]);
      fs.unlinkSync(path.join(jitDir, name));
      // A dangling link is refused the same way: mkdir does not follow it either.
      fs.symlinkSync(path.join(outside, 'nowhere'), path.join(jitDir, name));
      expect((await errorOf(tracker.createIssue({ title: 'a' }))).code).toBe('UNSAFE_PATH');
      expect(fs.existsSync(path.join(outside, 'nowhere'))).toBe(false);
      fs.unlinkSync(path.join(jitDir, name));
      fs.mkdirSync(path.join(jitDir, name));
    }
  });
});

describe('corrupt files', () => {
  it('a corrupt issue file is named, reported and never overwritten', async () => {
    const a = await tracker.createIssue({ title: 'a' });
    fs.writeFileSync(issuePath(a.id), '{"id": "trunc');
    const error = await errorOf(tracker.getIssue(a.id));
    expect(error.code).toBe('CORRUPT_FILE');
    expect(error.message).toContain(issuePath(a.id));
    expect((await errorOf(tracker.updateIssue(a.id, { title: 'b' }))).code).toBe('CORRUPT_FILE');
    const report = await tracker.validate({ fix: true });
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([expect.objectContaining({ kind: 'corrupt_file', path: issuePath(a.id), fixable: false })]);
    expect(fs.readFileSync(issuePath(a.id), 'utf8')).toBe('{"id": "trunc');
    expect((await tracker.listIssues()).map((s) => s.id)).toEqual([a.id]); // its summary is kept, not guessed
  });

  it('an issue file with a wrong shape is corrupt too', async () => {
    const a = await tracker.createIssue({ title: 'a' });
    fs.writeFileSync(issuePath(a.id), JSON.stringify({ ...readJson(issuePath(a.id)), state: 'finished' }));
    expect((await errorOf(tracker.getIssue(a.id))).message).toMatch(/state/);
  });

  it("index.json that begins with jit's manifest but goes on is not taken for it (readers match only the head)", async () => {
    await tracker.createIssue({ title: 'a' });
    const indexPath = path.join(jitDir, 'index.json');
    const manifest = fs.readFileSync(indexPath, 'utf8');
    expect(manifest.endsWith('}\n')).toBe(true);
    for (const tail of ['x', '\n{}']) {
      fs.writeFileSync(indexPath, manifest + tail);
      expect((await errorOf(tracker.listIssues())).code).toBe('CORRUPT_FILE');
    }
    fs.writeFileSync(indexPath, manifest.trimEnd()); // without its newline: still jit's manifest
    expect(await tracker.listIssues()).toHaveLength(1);
  });

  it("index.json as jit's manifest with CRLF (git's autocrlf) is parsed and accepted; cut short by one byte it is corrupt (the head match takes neither)", async () => {
    const a = await tracker.createIssue({ title: 'a' });
    const indexPath = path.join(jitDir, 'index.json');
    const manifest = fs.readFileSync(indexPath, 'utf8');
    fs.writeFileSync(indexPath, manifest.replace('\n', '\r\n'));
    expect((await tracker.listIssues()).map((s) => s.id)).toEqual([a.id]);
    await tracker.updateIssue(a.id, { title: 'a2' });
    expect((await tracker.listIssues()).map((s) => s.title)).toEqual(['a2']);
    fs.writeFileSync(indexPath, manifest.trimEnd().slice(0, -1));
    expect((await errorOf(tracker.listIssues())).code).toBe('CORRUPT_FILE');
    fs.writeFileSync(indexPath, manifest.replace('"schema_version":2', '"schema_version":3'));
    expect((await errorOf(tracker.listIssues())).code).toBe('UNSUPPORTED_SCHEMA');
  });

  it('index.db missing a meta row (the issues/ stamp, or built) or its whole meta table is re-synced or rebuilt, never trusted', async () => {
    const a = await tracker.createIssue({ title: 'a' });
    const edit = (title: string): void => {
      fs.writeFileSync(issuePath(a.id), JSON.stringify({ ...readJson(issuePath(a.id)), title }, null, 2) + '\n');
    };
    const sql = (statement: string): void => {
      const db = new Database(path.join(jitDir, 'index.db'));
      try {
        db.exec(statement);
      } finally {
        db.close();
      }
    };
    for (const [statement, title] of [
      ["DELETE FROM meta WHERE key = 'issues_dir_stamp'", 'no stamp'],
      ["DELETE FROM meta WHERE key = 'built_from_files'", 'not built'],
      ['DROP TABLE meta', 'no meta'],
      ["UPDATE meta SET value = '3' WHERE key = 'format'", 'format 3'],
    ]) {
      sql(statement!);
      edit(title!);
      // A reader (a fresh process's first look), then a writer in this one.
      expect((await openTracker(jitDir).listIssues()).map((s) => s.title)).toEqual([title]);
      expect((await tracker.listIssues()).map((s) => s.title)).toEqual([title]);
      await tracker.updateIssue(a.id, { priority: 'high' });
      expect((await tracker.listIssues()).map((s) => [s.title, s.priority])).toEqual([[title, 'high']]);
      await tracker.updateIssue(a.id, { priority: 'normal' });
    }
    expect((await tracker.validate()).ok).toBe(true);
  });

  it('a truncated index is named, and validate --fix rebuilds it from the issue files', async () => {
    const a = await tracker.createIssue({ title: 'a' });
    const indexPath = path.join(jitDir, 'index.json');
    fs.writeFileSync(indexPath, fs.readFileSync(indexPath, 'utf8').slice(0, 25));
    const error = await errorOf(tracker.listIssues());
    expect(error).toMatchObject({ code: 'CORRUPT_FILE' });
    expect(error.message).toContain(indexPath);
    expect(error.suggestions.join(' ')).toContain('jit validate --fix');
    const report = await tracker.validate({ fix: true });
    expect(report.problems.map((p) => p.kind)).toEqual(['corrupt_file']);
    expect(report.fixed).toEqual([`rebuilt ${path.join(jitDir, 'index.db')} from 1 issue files`, expect.stringContaining(`wrote ${indexPath}`)]);
    expect(report.ok).toBe(true);
    expect((await tracker.listIssues()).map((s) => s.id)).toEqual([a.id]);
  });

  it('an index.db SQLite refuses is rebuilt from the issue files by the next command, and validate --fix says so', async () => {
    const a = await tracker.createIssue({ title: 'a' });
    const dbPath = path.join(jitDir, 'index.db');
    for (const name of ['index.db-wal', 'index.db-shm']) fs.rmSync(path.join(jitDir, name), { force: true });
    fs.writeFileSync(dbPath, 'not a database, but some bytes that are long enough to look like a header '.repeat(100));
    // It is a cache: the next reader has it rebuilt from the files (the connection this process had open is dropped).
    expect((await tracker.listIssues()).map((s) => s.id)).toEqual([a.id]);
    fs.writeFileSync(dbPath, 'garbage '.repeat(1000));
    const report = await tracker.validate({ fix: true });
    expect(report.problems.map((p) => p.kind)).toEqual(['corrupt_file']);
    expect(report.fixed).toEqual([`rebuilt ${dbPath} from 1 issue files`]);
    expect(report.ok).toBe(true);
    expect((await tracker.status()).total).toBe(1);
  });

  it('an index.db of the previous format (2: no waiting counts, no state counters) is rebuilt from the files by the next read', async () => {
    const a = await tracker.createIssue({ title: 'a' });
    const b = await tracker.createIssue({ title: 'b', dependencies: [a.id] });
    const db = new Database(path.join(jitDir, 'index.db'));
    try {
      // Format 2 exactly: its ready index, no `waiting`, no state_counts, no triggers; and a row that no longer matches its file.
      for (const trigger of ['dependency_added', 'dependency_removed', 'summary_added', 'summary_removed', 'summary_counted', 'summary_finished']) db.exec(`DROP TRIGGER ${trigger}`);
      db.exec('DROP TABLE state_counts; DROP INDEX summaries_ready; ALTER TABLE summaries DROP COLUMN waiting');
      db.exec('CREATE INDEX summaries_ready ON summaries(state, assignee, priority_rank, created_at, id)');
      db.prepare("UPDATE summaries SET doc = json_set(doc, '$.title', 'stale') WHERE id = ?").run(a.id);
      db.prepare("UPDATE meta SET value = '2' WHERE key = 'format'").run();
    } finally {
      db.close();
    }
    expect((await tracker.status()).ready).toBe(1);
    expect((await tracker.queryReady()).map((s) => [s.id, s.title])).toEqual([[a.id, 'a']]);
    expect(withIndex((index) => index.format())).toBe(INDEX_DB_FORMAT);
    await tracker.updateIssue(a.id, { state: 'done' });
    expect((await tracker.queryReady()).map((s) => s.id)).toEqual([b.id]);
    expect((await tracker.validate()).ok).toBe(true);
  });

  it('counters that disagree with the rows (a hand edit) are reported by validate and rebuilt by --fix', async () => {
    const a = await tracker.createIssue({ title: 'a' });
    await tracker.createIssue({ title: 'b', dependencies: [a.id] });
    const db = new Database(path.join(jitDir, 'index.db'));
    try {
      db.exec("UPDATE state_counts SET n = n + 5 WHERE state = 'ready'");
      db.prepare('UPDATE summaries SET waiting = 0 WHERE id != ?').run(a.id);
    } finally {
      db.close();
    }
    const report = await tracker.validate();
    expect(report.problems).toEqual([expect.objectContaining({ kind: 'corrupt_file', path: path.join(jitDir, 'index.db'), fixable: true })]);
    expect((await tracker.validate({ fix: true })).ok).toBe(true);
    expect(await tracker.status()).toMatchObject({ total: 2, ready: 1, blocked: 1 });
    expect((await tracker.validate()).ok).toBe(true);
  });

  it('columns, labels or dependencies that disagree with the row’s doc (a hand edit) are reported by validate and rebuilt by --fix', async () => {
    const a = await tracker.createIssue({ title: 'a', priority: 'high', labels: ['area:x'] });
    const b = await tracker.createIssue({ title: 'b', dependencies: [a.id] });
    const c = await tracker.createIssue({ title: 'c' });
    await tracker.updateIssue(c.id, { state: 'done' });
    const edits = [
      // Each leaves the doc (what readers print) as it was: only the filters and the order see the edit.
      ["UPDATE summaries SET state = 'ready' WHERE id = ?", c.id],
      ['UPDATE summaries SET priority_rank = 3 WHERE id = ?', a.id],
      ["UPDATE summaries SET assignee = 'agent:x' WHERE id = ?", a.id],
      ["UPDATE summaries SET created_at = '2000-01-01T00:00:00.000Z' WHERE id = ?", b.id],
      ["DELETE FROM labels WHERE issue_id = ?", a.id],
      ['DELETE FROM dependencies WHERE issue_id = ?', b.id],
    ] as const;
    for (const [sql, id] of edits) {
      const db = new Database(path.join(jitDir, 'index.db'));
      try {
        db.prepare(sql).run(id);
      } finally {
        db.close();
      }
      const report = await tracker.validate();
      expect({ sql, problems: report.problems }).toEqual({ sql, problems: [expect.objectContaining({ kind: 'corrupt_file', path: path.join(jitDir, 'index.db'), fixable: true })] });
      expect((await tracker.validate({ fix: true })).ok).toBe(true);
      expect((await tracker.queryReady()).map((s) => s.id)).toEqual([a.id]);
      expect((await tracker.queryReady({ label: 'area:x' })).map((s) => s.id)).toEqual([a.id]);
    }
  });

  it('an index.db of another format (an older or newer jit left it) is no problem to validate: rebuilt as any reader would, and said so', async () => {
    const a = await tracker.createIssue({ title: 'a' });
    const db = new Database(path.join(jitDir, 'index.db'));
    try {
      db.prepare("UPDATE meta SET value = ? WHERE key = 'format'").run(String(INDEX_DB_FORMAT - 1));
    } finally {
      db.close();
    }
    const report = await tracker.validate();
    expect(report).toMatchObject({ ok: true, problems: [], fixed: [] });
    expect(report.recovered).toEqual([`rebuilt ${path.join(jitDir, 'index.db')} (format ${INDEX_DB_FORMAT - 1}, another jit's) from 1 issue files`]);
    expect(withIndex((index) => index.format())).toBe(INDEX_DB_FORMAT);
    expect((await tracker.queryReady()).map((s) => s.id)).toEqual([a.id]);
  });

  it('a doc that is not JSON (a hand edit) is read around from the files, reported by validate and rebuilt by --fix', async () => {
    const a = await tracker.createIssue({ title: 'a' });
    const b = await tracker.createIssue({ title: 'b' });
    const db = new Database(path.join(jitDir, 'index.db'));
    try {
      db.prepare("UPDATE summaries SET doc = '{' WHERE id = ?").run(a.id);
    } finally {
      db.close();
    }
    expect((await tracker.listIssues()).map((s) => s.title)).toEqual(['a', 'b']);
    expect((await tracker.queryReady({ limit: 5 })).map((s) => s.id)).toEqual([a.id, b.id]);
    expect((await tracker.validate()).problems).toEqual([expect.objectContaining({ kind: 'corrupt_file', path: path.join(jitDir, 'index.db'), fixable: true })]);
    expect((await tracker.validate({ fix: true })).ok).toBe(true);
    expect(indexRows()[a.id]?.title).toBe('a');
  });

  it('an unknown schema_version is refused and left alone', async () => {
    const indexPath = path.join(jitDir, 'index.json');
    fs.writeFileSync(indexPath, JSON.stringify({ schema_version: 99, issues: {} }));
    expect((await errorOf(tracker.listIssues())).code).toBe('UNSUPPORTED_SCHEMA');
    expect((await errorOf(tracker.validate({ fix: true }))).code).toBe('UNSUPPORTED_SCHEMA');
    expect(readJson(indexPath).schema_version).toBe(99);
    fs.writeFileSync(path.join(jitDir, 'gates.json'), JSON.stringify({ schema_version: 2, gates: {} }));
    expect((await errorOf(tracker.listGateDefinitions())).code).toBe('UNSUPPORTED_SCHEMA');
  });

  it('a hand-edited index is reported and rebuilt', async () => {
    const a = await tracker.createIssue({ title: 'a' });
    const b = await tracker.createIssue({ title: 'b' });
    editIndexRow(a.id, { title: 'stale' });
    editIndexRow(b.id, null);
    editIndexRow('00000000-0000-4000-8000-000000000000', {}, a.id);
    const report = await tracker.validate();
    expect(report.problems.map((p) => p.kind).sort()).toEqual(['index_mismatch', 'missing_issue_file', 'unindexed_issue_file']);
    expect((await tracker.validate({ fix: true })).ok).toBe(true);
    expect((await tracker.listIssues()).map((s) => s.title)).toEqual(['a', 'b']);
  });
});

describe('the summary cache (index.db) and changes made outside jit', () => {
  it('files added, replaced and removed by another hand (git pull, checkout) are seen by the next read, with no marker to say so', async () => {
    const a = await tracker.createIssue({ title: 'a' });
    const b = await tracker.createIssue({ title: 'b' });
    const template = readJson(issuePath(a.id));
    const added = '00000000-0000-4000-8000-0000000000ad';
    // What git does: new files, a file replaced by rename, a file deleted.
    fs.writeFileSync(issuePath(added), JSON.stringify({ ...template, id: added, title: 'pulled' }));
    fs.writeFileSync(`${issuePath(a.id)}.new`, JSON.stringify({ ...template, title: 'a, edited upstream' }));
    fs.renameSync(`${issuePath(a.id)}.new`, issuePath(a.id));
    fs.rmSync(issuePath(b.id));
    expect((await tracker.listIssues()).map((s) => s.title).sort()).toEqual(['a, edited upstream', 'pulled']);
    expect(indexRows()[added]!.title).toBe('pulled');
    expect(indexRows()[b.id]).toBeUndefined();
    expect(await tracker.validate()).toMatchObject({ ok: true, problems: [] });
  });

  it('a change made before the next write is re-synced first, not taken for that write’s own', async () => {
    const a = await tracker.createIssue({ title: 'a' });
    const added = '00000000-0000-4000-8000-0000000000ae';
    fs.writeFileSync(issuePath(added), JSON.stringify({ ...readJson(issuePath(a.id)), id: added, title: 'pulled' }));
    await tracker.createIssue({ title: 'c' }); // its own write changes issues/ too
    expect(indexRows()[added]?.title).toBe('pulled');
    expect(await tracker.validate()).toMatchObject({ ok: true, problems: [] });
  });

  it('an edit in place that leaves issues/ unchanged is the documented gap: validate reports it, --fix rebuilds', async () => {
    const a = await tracker.createIssue({ title: 'a' });
    fs.writeFileSync(issuePath(a.id), JSON.stringify({ ...readJson(issuePath(a.id)), title: 'edited in place' }));
    const report = await tracker.validate();
    expect(report.problems.map((p) => p.kind)).toEqual(['index_mismatch']);
    expect((await tracker.validate({ fix: true })).ok).toBe(true);
    expect((await tracker.listIssues())[0]!.title).toBe('edited in place');
  });
});

describe('crash leftovers', () => {
  it('a torn last event line is skipped, reported, and truncated by --fix only', async () => {
    await tracker.createIssue({ title: 'a' });
    const eventsPath = path.join(jitDir, 'events.jsonl');
    fs.appendFileSync(eventsPath, '{"type":"issue_upd');
    expect((await tracker.tailEvents(10)).map((e) => e.type)).toEqual(['issue_created']);
    const report = await tracker.validate();
    expect(report.problems).toEqual([expect.objectContaining({ kind: 'torn_event_line', fixable: true })]);
    expect((await tracker.validate({ fix: true })).ok).toBe(true);
    expect(fs.readFileSync(eventsPath, 'utf8').endsWith('}\n')).toBe(true);
    expect((await tracker.tailEvents(10)).length).toBe(1);
  });

  it('a whole last event without its final newline is kept: --fix appends the newline, never truncates', async () => {
    await tracker.createIssue({ title: 'a' });
    await tracker.createIssue({ title: 'b' });
    const eventsPath = path.join(jitDir, 'events.jsonl');
    const whole = fs.readFileSync(eventsPath, 'utf8');
    fs.writeFileSync(eventsPath, whole.replace(/\n$/, ''));
    expect((await tracker.tailEvents(10)).map((e) => e['title'])).toEqual(['a', 'b']);
    const report = await tracker.validate();
    expect(report).toMatchObject({ ok: false, problems: [expect.objectContaining({ kind: 'missing_final_newline', fixable: true })] });
    const fixed = await tracker.validate({ fix: true });
    expect(fixed).toMatchObject({ ok: true, fixed: [expect.stringContaining('appended the missing final newline')] });
    expect(fs.readFileSync(eventsPath, 'utf8')).toBe(whole);
    expect((await tracker.tailEvents(10)).map((e) => e['title'])).toEqual(['a', 'b']);
    expect(await tracker.validate()).toMatchObject({ ok: true, problems: [] });
  });

  it('an append after a torn line starts on a fresh line, so the new event survives', async () => {
    const eventsPath = path.join(jitDir, 'events.jsonl');
    fs.writeFileSync(eventsPath, '{"type":"issue_cr');
    await tracker.createIssue({ title: 'a' });
    expect((await tracker.tailEvents(10)).map((e) => e.type)).toEqual(['issue_created']);
    expect((await tracker.validate()).problems).toEqual([expect.objectContaining({ kind: 'torn_event_line', fixable: false })]);
  });

  it('every validate removes temp files of dead writers and reports it; a live writer’s are left alone', async () => {
    const dead = spawn(process.execPath, ['-e', '0']);
    await new Promise((resolve) => dead.on('close', resolve));
    const live = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
    try {
      const deadTemp = path.join(jitDir, 'issues', `.x.json.${dead.pid}.1.tmp`);
      const liveTemp = path.join(jitDir, `.index.json.${live.pid}.1.tmp`);
      fs.writeFileSync(deadTemp, '{"half');
      fs.writeFileSync(liveTemp, '{"half');
      const report = await tracker.validate();
      expect(report.ok).toBe(true);
      expect(report.recovered).toEqual([`removed unfinished temp file ${deadTemp} (its writer is gone)`]);
      expect(fs.existsSync(deadTemp)).toBe(false);
      expect(fs.existsSync(liveTemp)).toBe(true);
    } finally {
      live.kill();
    }
  });

  describe('an issue written but not yet indexed (the writer died)', () => {
    let a: Issue;
    beforeEach(async () => {
      a = await tracker.createIssue({ title: 'a' });
      // What a writer killed between its issue write and its index update leaves behind.
      const changed = { ...readJson(issuePath(a.id)), title: 'new', updated_at: new Date(Date.now() + 1000).toISOString() };
      fs.writeFileSync(issuePath(a.id), JSON.stringify(changed));
      fs.writeFileSync(path.join(jitDir, 'pending', `${a.id}.999999.1`), '');
    });

    it('is served from its file and healed by the next write', async () => {
      expect((await tracker.listIssues())[0]!.title).toBe('new');
      await tracker.createIssue({ title: 'b' });
      expect(indexRows()[a.id]!.title).toBe('new');
      expect(fs.readdirSync(path.join(jitDir, 'pending'))).toEqual([]);
    });

    it('is healed by validate, which says so', async () => {
      const report = await tracker.validate();
      expect(report.problems).toEqual([]);
      expect(report.recovered).toEqual([expect.stringContaining(`index summary of ${a.id}`)]);
      expect(indexRows()[a.id]!.title).toBe('new');
      expect(fs.readdirSync(path.join(jitDir, 'pending'))).toEqual([]);
    });
  });

  it('every targeted read serves what writers killed before their index update wrote (a marker names those issues)', async () => {
    const a = await tracker.createIssue({ title: 'a' });
    const b = await tracker.createIssue({ title: 'b' });
    const c = await tracker.createIssue({ title: 'c' });
    const later = new Date(Date.now() + 1000).toISOString();
    const d = { ...readJson(issuePath(a.id)), id: '0d0d0d0d-0000-4000-8000-000000000000', title: 'd', created_at: later, updated_at: later };
    // What four writers killed between their issue writes and their index update leave behind: a finished,
    // b made critical and waiting for a, c deleted, d created. The index still has the old summaries.
    fs.writeFileSync(issuePath(a.id), JSON.stringify({ ...readJson(issuePath(a.id)), state: 'done', updated_at: later }));
    fs.writeFileSync(issuePath(b.id), JSON.stringify({ ...readJson(issuePath(b.id)), priority: 'critical', dependencies: [a.id], updated_at: later }));
    fs.rmSync(issuePath(c.id));
    fs.writeFileSync(issuePath(d.id), JSON.stringify(d));
    for (const id of [a.id, b.id, c.id, d.id]) fs.writeFileSync(path.join(jitDir, 'pending', `${id}.999999.1`), '');
    const storage = tracker.storage;
    const ids = (summaries: readonly { id: string }[]): string[] => summaries.map((s) => s.id);

    const found = await storage.summaries([a.id, b.id, c.id, d.id]);
    expect([...found.keys()].sort()).toEqual([a.id, b.id, d.id].sort());
    expect(found.get(a.id)!.state).toBe('done');
    expect(found.get(b.id)).toMatchObject({ priority: 'critical', dependencies: [a.id] });
    expect(await storage.summariesByPrefix(c.id, 10)).toEqual([]);
    expect(ids(await storage.summariesByPrefix(d.id.slice(0, 8), 10))).toEqual([d.id]);
    expect(ids(await storage.dependentsOf([a.id]))).toEqual([b.id]);
    expect(ids(await storage.readyWork())).toEqual([b.id, d.id]);
    expect(ids(await storage.listSummaries({ state: 'done' }))).toEqual([a.id]);
    expect(ids(await storage.listSummaries())).toEqual([a.id, b.id, d.id]);
    // Counted in SQL less the marked rows that match, plus the marked files that match.
    expect(await storage.pageSummaries({}, { offset: 0, limit: 10 })).toMatchObject({ issues: [{ id: a.id }, { id: b.id }, { id: d.id }], total: 3 });
    expect(await storage.pageSummaries({ state: 'ready' }, { offset: 1, limit: 1 })).toMatchObject({ issues: [{ id: d.id }], total: 2 });
    expect(await storage.pageSummaries({ priority: 'critical' }, { offset: 0, limit: 1 })).toMatchObject({ issues: [{ id: b.id }], total: 1 });
    expect(await storage.blockedCandidates()).toEqual([]);
    expect(await storage.statusReport()).toMatchObject({ total: 3, ready: 2, blocked: 0, by_state: { done: 1, ready: 2 } });
    const graph = await storage.graphTransaction(
      (lookup) => ({ write: [], read: lookup.dependentsOf(a.id) }),
      (tx) => ({ c: tx.summary(c.id), d: tx.summary(d.id)?.title, dependentsOfA: tx.dependentsOf(a.id) }),
    );
    expect(graph).toEqual({ c: undefined, d: 'd', dependentsOfA: [b.id] });
  });

  it('query claims answers from the index (leases in their rows), and from the files of issues a marker names', async () => {
    const old = await tracker.createIssue({ title: 'old claim' });
    const marked = await tracker.createIssue({ title: 'claimed while its marker is pending' });
    const released = await tracker.createIssue({ title: 'released while its marker is pending' });
    const untimed = await tracker.createIssue({ title: 'claim without a time limit' });
    await tracker.claim(old.id, 'agent:one', { ttl: '1h' });
    await tracker.claim(released.id, 'agent:two');
    await tracker.claim(untimed.id, 'agent:three', { ttl: 0 });
    const before = await tracker.queryClaims();
    expect(before.map((c) => c.id)).toEqual([old.id, released.id, untimed.id]);
    expect(before[0]!.lease).toMatchObject({ holder: 'agent:one', expires_at: expect.any(String), agent: null });
    expect(before[2]!.lease).toMatchObject({ holder: 'agent:three', expires_at: null, agent: null });

    // Proof that rows, not files, answer for unmarked claims: an edit in place (no marker, same directory) is not seen.
    const file = readJson(issuePath(old.id)) as Issue;
    fs.writeFileSync(issuePath(old.id), JSON.stringify({ ...file, lease: { ...file.lease!, acquired_at: '2000-01-01T00:00:00.000Z' } }));
    expect((await tracker.queryClaims())[0]!.lease!.acquired_at).toBe(file.lease!.acquired_at);
    fs.writeFileSync(issuePath(old.id), JSON.stringify(file));

    // Writers killed before their index step: one claimed `marked`, one released `released`. Their rows lag, their files tell.
    const later = new Date(Date.now() + 1000).toISOString();
    const lease = { holder: 'agent:four', acquired_at: later, expires_at: null, agent: null };
    fs.writeFileSync(issuePath(marked.id), JSON.stringify({ ...readJson(issuePath(marked.id)), state: 'in_progress', assignee: 'agent:four', lease, updated_at: later }));
    const { lease: _gone, ...releasedFile } = readJson(issuePath(released.id)) as Issue;
    fs.writeFileSync(issuePath(released.id), JSON.stringify({ ...releasedFile, state: 'ready', assignee: null, updated_at: later }));
    for (const id of [marked.id, released.id]) fs.writeFileSync(path.join(jitDir, 'pending', `${id}.999999.1`), '');
    expect(indexRows()[marked.id]!.assignee).toBeNull();
    const claims = await tracker.queryClaims();
    expect(claims.map((c) => c.id)).toEqual([old.id, marked.id, untimed.id]);
    expect(claims[1]).toMatchObject({ assignee: 'agent:four', state: 'in_progress', lease, lapsed: null });
  });

  /** Puts `issue` back in backlog as it was before its follow-up (a writer died), in its file and its summary alike. */
  function strandInBacklog(issue: { id: string; updated_at: string }): void {
    fs.writeFileSync(issuePath(issue.id), JSON.stringify({ ...readJson(issuePath(issue.id)), state: 'backlog', updated_at: issue.updated_at }));
    editIndexRow(issue.id, { state: 'backlog', updated_at: issue.updated_at });
  }

  it('a dependent left in backlog by a crash (its dependency is done) is moved by every validate, which says so', async () => {
    const a = await tracker.createIssue({ title: 'a' });
    const b = await tracker.createIssue({ title: 'b', dependencies: [a.id] });
    await tracker.updateIssue(a.id, { state: 'done' });
    strandInBacklog(b);
    const report = await tracker.validate();
    expect(report.ok).toBe(true);
    expect(report.recovered).toEqual([expect.stringContaining(`moved issue ${b.id} from backlog to ready`)]);
    expect((await tracker.getIssue(b.id)).state).toBe('ready');
    expect((await tracker.validate()).recovered).toEqual([]);
  });

  it('a dependent left in backlog by a crash is still moved after later edits of it (a label, a gate pass)', async () => {
    // The kill storm found this: a writer edited the stranded issue before validate ran,
    // and judging by its last edit made it look parked on purpose.
    await tracker.addGateDefinition({ key: 'review', title: 'Review' });
    const a = await tracker.createIssue({ title: 'a' });
    const b = await tracker.createIssue({ title: 'b', dependencies: [a.id], gates: ['review'] });
    await tracker.updateIssue(a.id, { state: 'done' });
    strandInBacklog(b);
    await tracker.updateIssue(b.id, { addLabels: ['area:store'] });
    await tracker.passGate(b.id, 'review', 'agent:reviewer');
    expect((await tracker.getIssue(b.id)).state).toBe('backlog');
    const report = await tracker.validate();
    expect(report.recovered).toEqual([expect.stringContaining(`moved issue ${b.id} from backlog to ready`)]);
    expect((await tracker.getIssue(b.id)).state).toBe('ready');
  });

  it('a dangling dependency is reported, does not block, and can be removed', async () => {
    const b = await tracker.createIssue({ title: 'b' });
    const gone = '0badc0de-0000-4000-8000-000000000000';
    fs.writeFileSync(issuePath(b.id), JSON.stringify({ ...readJson(issuePath(b.id)), dependencies: [gone] }));
    await tracker.validate({ fix: true }); // reindex b
    expect((await tracker.validate()).problems).toEqual([expect.objectContaining({ kind: 'dangling_dependency', issue_id: b.id, fixable: false })]);
    expect((await tracker.queryReady()).map((s) => s.id)).toEqual([b.id]);
    expect((await tracker.removeDependency(b.id, '0badc0de')).dependencies).toEqual([]);
    expect((await tracker.validate()).ok).toBe(true);
  });

  it('an issue parked in backlog on purpose after its dependencies finished is left alone', async () => {
    const a = await tracker.createIssue({ title: 'a' });
    const b = await tracker.createIssue({ title: 'b', dependencies: [a.id] });
    await tracker.updateIssue(a.id, { state: 'done' });
    await tracker.updateIssue(b.id, { state: 'backlog' });
    expect(await tracker.validate({ fix: true })).toEqual({ ok: true, problems: [], fixed: [], recovered: [] });
    expect((await tracker.getIssue(b.id)).state).toBe('backlog');
  });
});

describe('hostile files', () => {
  it('refuses a symlinked lock file and never writes through it', async () => {
    const a = await tracker.createIssue({ title: 'a' });
    const outside = path.join(scratch, `outside${projects}`);
    fs.writeFileSync(outside, 'precious');
    const lockFile = path.join(jitDir, 'issues', `${a.id}.lock`);
    fs.rmSync(lockFile, { force: true });
    fs.symlinkSync(outside, lockFile);
    const error = await errorOf(tracker.updateIssue(a.id, { title: 'b' }));
    expect(error.code).toBe('UNSAFE_PATH');
    expect(error.message).toContain(lockFile);
    expect(fs.readFileSync(outside, 'utf8')).toBe('precious');
  });

  it('refuses a symlinked issue file', async () => {
    const a = await tracker.createIssue({ title: 'a' });
    const outside = path.join(scratch, `outside-issue${projects}.json`);
    fs.copyFileSync(issuePath(a.id), outside);
    fs.rmSync(issuePath(a.id));
    fs.symlinkSync(outside, issuePath(a.id));
    expect((await errorOf(tracker.getIssue(a.id))).code).toBe('UNSAFE_PATH');
    expect((await errorOf(tracker.updateIssue(a.id, { title: 'b' }))).code).toBe('UNSAFE_PATH');
    expect(readJson(outside).title).toBe('a');
  });

  it('an event log replaced by a folder is refused before anything is written', async () => {
    const a = await tracker.createIssue({ title: 'a' });
    fs.rmSync(path.join(jitDir, 'events.jsonl'));
    fs.mkdirSync(path.join(jitDir, 'events.jsonl'));
    const error = await errorOf(tracker.updateIssue(a.id, { title: 'b' }));
    expect(error.code).toBe('UNSAFE_PATH');
    expect(error.message).toContain('events.jsonl');
    expect((await tracker.getIssue(a.id)).title).toBe('a');
  });

  it('an event that cannot be logged after the change committed is a warning, not an error (a retry would apply it twice)', async () => {
    const a = await tracker.createIssue({ title: 'a' });
    const warnings: string[] = [];
    const onWarning = (warning: Error): void => void warnings.push(warning.message);
    process.on('warning', onWarning);
    // Another process holds the event log's lock longer than our timeout.
    const lockModule = path.resolve(__dirname, '../../dist/lock/index.js');
    const holder = spawn(process.execPath, ['-e', `require(${JSON.stringify(lockModule)}).lockSync(process.argv[1]); console.log('held'); setTimeout(() => {}, 30000)`, path.join(jitDir, '.events.lock')]);
    await new Promise((resolve) => holder.stdout.once('data', resolve));
    const saved = process.env['JIT_LOCK_TIMEOUT'];
    process.env['JIT_LOCK_TIMEOUT'] = '0.2';
    try {
      expect((await tracker.updateIssue(a.id, { title: 'b' })).title).toBe('b');
    } finally {
      holder.kill('SIGKILL');
      if (saved === undefined) delete process.env['JIT_LOCK_TIMEOUT'];
      else process.env['JIT_LOCK_TIMEOUT'] = saved;
      await new Promise((resolve) => setImmediate(resolve));
      process.off('warning', onWarning);
    }
    expect((await tracker.getIssue(a.id)).title).toBe('b');
    expect(warnings).toEqual([expect.stringContaining(`The change to ${a.id} was saved, but 1 event(s) were not logged: Lock timeout`)]);
  });

  it('refuses an issues/ that is a file', async () => {
    fs.rmSync(path.join(jitDir, 'issues'), { recursive: true });
    fs.writeFileSync(path.join(jitDir, 'issues'), 'not a folder');
    const error = await errorOf(tracker.createIssue({ title: 'a' }));
    expect(error.code).toBe('UNSAFE_PATH');
    expect(error.message).toContain(path.join(jitDir, 'issues'));
  });
});

describe('lock errors', () => {
  it('maps a bad JIT_LOCK_TIMEOUT to INVALID_ENV', async () => {
    const saved = process.env['JIT_LOCK_TIMEOUT'];
    process.env['JIT_LOCK_TIMEOUT'] = 'abc';
    try {
      const error = await errorOf(tracker.listIssues());
      expect(error.code).toBe('INVALID_ENV');
      expect(error.message).toContain('JIT_LOCK_TIMEOUT');
    } finally {
      if (saved === undefined) delete process.env['JIT_LOCK_TIMEOUT'];
      else process.env['JIT_LOCK_TIMEOUT'] = saved;
    }
  });
});

describe('debugLocks', () => {
  it('lists every lock file with its state and holder', async () => {
    const a = await tracker.createIssue({ title: 'a' });
    const held = await lock(path.join(jitDir, '.index.lock'), { mode: 'exclusive' });
    try {
      const states = debugLocks(jitDir);
      const byName = new Map(states.map((s) => [path.relative(jitDir, s.path), s]));
      expect([...byName.keys()]).toEqual(expect.arrayContaining(['.index.lock', '.events.lock', path.join('issues', `${a.id}.lock`)]));
      expect(byName.get('.index.lock')).toMatchObject({ state: 'exclusive' });
      expect(byName.get('.events.lock')).toMatchObject({ state: 'unlocked', holders: [] });
      if (process.platform === 'linux') expect(byName.get('.index.lock')!.holders).toEqual([{ pid: process.pid, mode: 'exclusive' }]);
    } finally {
      held.release();
    }
    expect(debugLocks(jitDir).every((s) => s.state === 'unlocked')).toBe(true);
  });
});

describe('pageSummaries reads its page and its total from one snapshot of index.db', () => {
  it('a row another process commits between the two is in neither', async () => {
    for (const title of ['a', 'b', 'c']) await tracker.createIssue({ title });
    const first = (await tracker.storage.listSummaries())[0]!;
    const list = SummaryIndex.prototype.list;
    // Another process's commit lands right after the page is read, before the total is counted.
    const spy = vi.spyOn(SummaryIndex.prototype, 'list').mockImplementationOnce(function (this: SummaryIndex, ...args) {
      const page = list.apply(this, args);
      editIndexRow('0e0e0e0e-0000-4000-8000-000000000000', { title: 'committed meanwhile' }, first.id);
      return page;
    });
    try {
      const page = await tracker.storage.pageSummaries({}, { offset: 0, limit: 10 });
      expect(spy).toHaveBeenCalled();
      expect(page.issues.map((s) => s.title)).toEqual(['a', 'b', 'c']);
      expect(page.total).toBe(page.issues.length);
    } finally {
      spy.mockRestore();
    }
  });
});

describe('the index step heals from the listing of pending/ its cache check made (under the exclusive index lock)', () => {
  it('a marker a live writer makes after that listing is neither dropped nor left without its row once the writer dies', async () => {
    const a = await tracker.createIssue({ title: 'a' });
    const b = await tracker.createIssue({ title: 'b' });
    const lockModule = path.resolve(__dirname, '../../dist/lock/index.js');
    // The other writer: a live process holding b's issue lock, as during its write.
    const writer = spawn(process.execPath, ['-e', `require(${JSON.stringify(lockModule)}).lockSync(process.argv[1]); console.log('held'); setTimeout(() => {}, 60000)`, path.join(jitDir, 'issues', `${b.id}.lock`)]);
    try {
      await new Promise((resolve) => writer.stdout.once('data', resolve));
      const marker = path.join(jitDir, 'pending', `${b.id}.${writer.pid}.1`);
      const heal = SummaryCache.prototype.heal;
      // Right after our index step listed pending/ (our own marker is in that listing): the other writer marks b and writes its file.
      const spy = vi.spyOn(SummaryCache.prototype, 'heal').mockImplementation(function (this: SummaryCache, index, pending, changed) {
        if (pending.has(a.id) && !fs.existsSync(marker)) {
          expect(pending.has(b.id)).toBe(false);
          fs.writeFileSync(marker, '');
          fs.writeFileSync(issuePath(b.id), JSON.stringify({ ...readJson(issuePath(b.id)), title: 'b live', updated_at: new Date(Date.now() + 1000).toISOString() }, null, 2) + '\n');
        }
        return heal.call(this, index, pending, changed);
      });
      try {
        await tracker.updateIssue(a.id, { title: 'a2' });
      } finally {
        spy.mockRestore();
      }
      expect(fs.existsSync(marker)).toBe(true);
      expect(fs.readdirSync(path.join(jitDir, 'pending'))).toEqual([path.basename(marker)]);
      const titles = async (): Promise<string[]> => (await openTracker(jitDir).listIssues()).map((s) => s.title).sort();
      expect(await titles()).toEqual(['a2', 'b live']);
      await tracker.updateIssue(a.id, { title: 'a3' }); // b still being written: its marker stays
      expect(fs.existsSync(marker)).toBe(true);
      expect(await titles()).toEqual(['a3', 'b live']);
      writer.kill('SIGKILL');
      await new Promise((resolve) => writer.on('close', resolve));
      // Killed before its index step: the marker explains b's file until the next write heals its row.
      expect(await titles()).toEqual(['a3', 'b live']);
      await tracker.updateIssue(a.id, { title: 'a4' });
      expect(fs.readdirSync(path.join(jitDir, 'pending'))).toEqual([]);
      expect(withIndex((index) => index.get(b.id)?.title)).toBe('b live');
      expect((await tracker.validate()).ok).toBe(true);
    } finally {
      writer.kill('SIGKILL');
    }
  });

  it('that listing is always taken with the exclusive index lock held by this process (the index step, a graph transaction, a batch)', async () => {
    const a = await tracker.createIssue({ title: 'a' });
    const b = await tracker.createIssue({ title: 'b' });
    const states: unknown[] = [];
    const listed = SummaryCache.prototype.currentIndexListed;
    const spy = vi.spyOn(SummaryCache.prototype, 'currentIndexListed').mockImplementation(function (this: SummaryCache) {
      const index = debugLocks(jitDir).find((state) => path.basename(state.path) === '.index.lock');
      states.push(process.platform === 'linux' ? { state: index?.state, holders: index?.holders } : index?.state);
      return listed.call(this);
    });
    try {
      await tracker.updateIssue(a.id, { title: 'a2' });
      await tracker.addDependency(b.id, a.id);
      await tracker.batchCreate([{ title: 'c' }, { title: 'd' }]);
      await tracker.deleteIssue(b.id);
    } finally {
      spy.mockRestore();
    }
    expect(states.length).toBeGreaterThanOrEqual(4);
    const held = process.platform === 'linux' ? { state: 'exclusive', holders: [{ pid: process.pid, mode: 'exclusive' }] } : 'exclusive';
    expect(states).toEqual(states.map(() => held));
  });

  it('one listing of pending/ with every kind of name: a dead writer\'s marker and batch healed, a live writer\'s marker, temp files and strangers left', async () => {
    const a = await tracker.createIssue({ title: 'a' });
    const b = await tracker.createIssue({ title: 'b' });
    const d = await tracker.createIssue({ title: 'd' });
    const c: Issue = { ...(await tracker.getIssue(a.id)), id: '0c0c0c0c-0000-4000-8000-000000000000', title: 'c from a batch' };
    const dead = spawn(process.execPath, ['-e', '0']);
    await new Promise((resolve) => dead.on('close', resolve));
    const lockModule = path.resolve(__dirname, '../../dist/lock/index.js');
    const writer = spawn(process.execPath, ['-e', `require(${JSON.stringify(lockModule)}).lockSync(process.argv[1]); console.log('held'); setTimeout(() => {}, 60000)`, path.join(jitDir, 'issues', `${b.id}.lock`)]);
    try {
      await new Promise((resolve) => writer.stdout.once('data', resolve));
      const pending = path.join(jitDir, 'pending');
      const retitle = (id: string, title: string): void => {
        fs.writeFileSync(issuePath(id), JSON.stringify({ ...readJson(issuePath(id)), title, updated_at: new Date(Date.now() + 1000).toISOString() }, null, 2) + '\n');
      };
      const left = [`${b.id}.${writer.pid}.1`, `.batch.${dead.pid}.2.json.${dead.pid}.3.tmp`, 'notes.txt'];
      for (const name of [`${a.id}.${dead.pid}.1`, ...left]) fs.writeFileSync(path.join(pending, name), name === 'notes.txt' ? 'mine' : '');
      fs.writeFileSync(path.join(pending, `batch.${dead.pid}.1.json`), JSON.stringify([c]));
      retitle(a.id, 'a by the dead');
      retitle(b.id, 'b by the live');
      const titles = async (): Promise<string[]> => (await openTracker(jitDir).listIssues()).map((s) => s.title).sort();
      const expected = ['a by the dead', 'b by the live', 'c from a batch', 'd'];
      expect(await titles()).toEqual(expected);
      await tracker.updateIssue(d.id, { title: 'd2' });
      expected[3] = 'd2';
      expect(await titles()).toEqual(expected);
      expect(fs.readdirSync(pending).sort()).toEqual([...left].sort());
      expect(withIndex((index) => [a.id, c.id].map((id) => index.get(id)?.title))).toEqual(['a by the dead', 'c from a batch']);
      writer.kill('SIGKILL');
      await new Promise((resolve) => writer.on('close', resolve));
      await tracker.updateIssue(d.id, { title: 'd3' });
      expect(withIndex((index) => index.get(b.id)?.title)).toBe('b by the live');
      expect(fs.readdirSync(pending).sort()).toEqual(left.slice(1).sort());
    } finally {
      writer.kill('SIGKILL');
    }
  });
});
