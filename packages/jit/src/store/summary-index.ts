/**
 * `.jit/index.db`: the summary cache (issue 13). One SQLite database, opened
 * with `libsql` (loaded here, on first open: commands that never consult the
 * index never load it), that holds every issue's summary plus the
 * dependency and label tables the targeted reads need. A write changes the
 * rows of the issues it touched in one transaction; nothing is rewritten.
 *
 * It is a cache of the issue files, never the truth: missing, corrupt or of
 * a newer format, it is rebuilt from them. When its rows may lag the files
 * (the crash protocol: markers in `pending/`) is JsonFileStorage's business;
 * this module only stores and answers. Every query here sees the rows as
 * committed; the caller overlays in-flight issues.
 *
 * Durability: WAL with synchronous=FULL, so a transaction is on disk when
 * `apply` returns, before the caller clears the markers it covers; or, for
 * the index step after a write, `applyUnsynced` under the index lock and
 * `syncLog` after it is let go (the markers are cleared only then).
 * Concurrency: writers are already serialised by the exclusive index lock
 * (a file lock); SQLite's own locks only meet a reader's checkpoint, which
 * busy_timeout waits out.
 */
import fs from 'node:fs';
import type LibsqlDatabase from 'libsql';
import { JitError } from './errors.js';
import { fsError, openRegularFile } from './files.js';
import { TERMINAL_STATES, type Issue, type Lease, type Priority, type State } from './model.js';
import { activeLease } from './leases.js';
import { freezeSummary, summarize } from './schema.js';
import { PRIORITY_RANK } from './rules.js';
import type { IssueSummary, JsonList } from './tracker-api.js';

/** The layout of index.db's tables; a database of another format is rebuilt. */
export const INDEX_DB_FORMAT = 5; // 2: the lease columns (leases.ts); 3: `waiting` and `state_counts`, kept by triggers; 4: `lease`, summaries_ready covering; 5: `doc`

/** How long SQLite waits for its own lock (a checkpoint by another process) before failing, in ms. */
const BUSY_TIMEOUT_MS = 10_000;

const TERMINAL_SQL = TERMINAL_STATES.map((s) => `'${s}'`).join(', ');

/**
 * The tables, and the triggers that keep two derived facts in the same
 * transaction as the rows they derive from, so that status and ready work
 * read them instead of every row:
 * - `summaries.waiting`: how many of the issue's dependencies have a row
 *   and are unfinished (not done, rejected or archived). Kept by the
 *   dependency rows' inserts and deletes, and by an issue's arrival,
 *   departure or move between finished and unfinished (then its dependents'
 *   counts change: the cost is its dependents, never the store).
 * - `state_counts`: issues per (state, unassigned, waiting > 0).
 * SQLite runs a trigger inside the statement that fires it: a crash or a
 * rollback leaves both exactly as consistent as the rows themselves.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS summaries(
  id TEXT PRIMARY KEY,
  state TEXT NOT NULL,
  priority_rank INTEGER NOT NULL,
  assignee TEXT,
  created_at TEXT NOT NULL,
  file_stamp TEXT,
  lease_expires_at TEXT,
  lease_agent TEXT,
  waiting INTEGER NOT NULL DEFAULT 0,
  lease TEXT,
  doc TEXT NOT NULL
) WITHOUT ROWID;
-- Ready work's order, covering the summary (doc): query ready reads one range of it, never the table (a look-up
-- per ready row cost ~half of printing 27,000 of them).
CREATE INDEX IF NOT EXISTS summaries_ready ON summaries(state, assignee, waiting, priority_rank, created_at, id, doc);
CREATE INDEX IF NOT EXISTS summaries_age ON summaries(created_at, id);
CREATE INDEX IF NOT EXISTS summaries_lease_expiry ON summaries(lease_expires_at) WHERE lease_expires_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS summaries_lease_agent ON summaries(lease_agent) WHERE lease_agent IS NOT NULL;
CREATE TABLE IF NOT EXISTS dependencies(issue_id TEXT NOT NULL, depends_on TEXT NOT NULL, PRIMARY KEY(issue_id, depends_on)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS dependencies_depends_on ON dependencies(depends_on, issue_id);
CREATE TABLE IF NOT EXISTS labels(issue_id TEXT NOT NULL, label TEXT NOT NULL, PRIMARY KEY(issue_id, label)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS labels_label ON labels(label, issue_id);
CREATE TABLE IF NOT EXISTS state_counts(state TEXT NOT NULL, unassigned INTEGER NOT NULL, waiting INTEGER NOT NULL, n INTEGER NOT NULL,
  PRIMARY KEY(state, unassigned, waiting)) WITHOUT ROWID;

CREATE TRIGGER IF NOT EXISTS dependency_added AFTER INSERT ON dependencies
WHEN EXISTS (SELECT 1 FROM summaries t WHERE t.id = new.depends_on AND t.state NOT IN (${TERMINAL_SQL}))
BEGIN UPDATE summaries SET waiting = waiting + 1 WHERE id = new.issue_id; END;
CREATE TRIGGER IF NOT EXISTS dependency_removed AFTER DELETE ON dependencies
WHEN EXISTS (SELECT 1 FROM summaries t WHERE t.id = old.depends_on AND t.state NOT IN (${TERMINAL_SQL}))
BEGIN UPDATE summaries SET waiting = waiting - 1 WHERE id = old.issue_id; END;

CREATE TRIGGER IF NOT EXISTS summary_added AFTER INSERT ON summaries BEGIN
  INSERT INTO state_counts VALUES (new.state, new.assignee IS NULL, new.waiting > 0, 1) ON CONFLICT DO UPDATE SET n = n + 1;
  UPDATE summaries SET waiting = waiting + 1
  WHERE new.state NOT IN (${TERMINAL_SQL}) AND id IN (SELECT issue_id FROM dependencies WHERE depends_on = new.id);
END;
CREATE TRIGGER IF NOT EXISTS summary_removed AFTER DELETE ON summaries BEGIN
  UPDATE state_counts SET n = n - 1 WHERE state = old.state AND unassigned = (old.assignee IS NULL) AND waiting = (old.waiting > 0);
  UPDATE summaries SET waiting = waiting - 1
  WHERE old.state NOT IN (${TERMINAL_SQL}) AND id IN (SELECT issue_id FROM dependencies WHERE depends_on = old.id);
END;
CREATE TRIGGER IF NOT EXISTS summary_counted AFTER UPDATE OF state, assignee, waiting ON summaries
WHEN old.state != new.state OR (old.assignee IS NULL) != (new.assignee IS NULL) OR (old.waiting > 0) != (new.waiting > 0)
BEGIN
  UPDATE state_counts SET n = n - 1 WHERE state = old.state AND unassigned = (old.assignee IS NULL) AND waiting = (old.waiting > 0);
  INSERT INTO state_counts VALUES (new.state, new.assignee IS NULL, new.waiting > 0, 1) ON CONFLICT DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER IF NOT EXISTS summary_finished AFTER UPDATE OF state ON summaries
WHEN (old.state IN (${TERMINAL_SQL})) != (new.state IN (${TERMINAL_SQL}))
BEGIN
  UPDATE summaries SET waiting = waiting + (CASE WHEN new.state IN (${TERMINAL_SQL}) THEN -1 ELSE 1 END)
  WHERE id IN (SELECT issue_id FROM dependencies WHERE depends_on = new.id);
END;
`;

/**
 * The columns a put writes. Filters, order and the triggers use the few
 * fields they need as columns (labels and dependencies as rows of their own
 * tables); readers read `doc`, the summary as its JSON text (summaryDoc),
 * which SQLite hands over without building anything per row (printing
 * 26,667 ready issues: ~23 ms from `doc`, ~50 ms building each object in SQL).
 */
const COLUMNS = ['id', 'state', 'priority_rank', 'assignee', 'created_at', 'lease_expires_at', 'lease_agent', 'file_stamp', 'lease', 'doc'];
/** Every column a put writes, but the id (and `waiting`, which the triggers keep). */
const UPSERT_SET = COLUMNS.slice(1).map((c) => `${c} = excluded.${c}`).join(', ');
/**
 * How many rows have a column, label or dependency row that is not what
 * their `doc` says (quickCheck; ?1: PRIORITY_RANK as JSON). A doc that is
 * not JSON counts too, rather than failing the check.
 */
const DOC_MISMATCHES = `SELECT count(*) FROM summaries s WHERE CASE WHEN NOT json_valid(s.doc) THEN 1 ELSE
  s.id IS NOT json_extract(s.doc, '$.id') OR s.state IS NOT json_extract(s.doc, '$.state')
  OR s.priority_rank IS NOT json_extract(?1, '$.' || json_quote(json_extract(s.doc, '$.priority')))
  OR s.assignee IS NOT json_extract(s.doc, '$.assignee') OR s.created_at IS NOT json_extract(s.doc, '$.created_at')
  OR s.lease_expires_at IS NOT json_extract(s.doc, '$.lease_expires_at') OR s.lease_agent IS NOT json_extract(s.doc, '$.lease_agent')
  OR (SELECT count(*) FROM labels l WHERE l.issue_id = s.id) != (SELECT count(DISTINCT value) FROM json_each(s.doc, '$.labels'))
  OR EXISTS (SELECT 1 FROM json_each(s.doc, '$.labels') j WHERE NOT EXISTS (SELECT 1 FROM labels l WHERE l.issue_id = s.id AND l.label = j.value))
  OR (SELECT count(*) FROM dependencies d WHERE d.issue_id = s.id) != (SELECT count(DISTINCT value) FROM json_each(s.doc, '$.dependencies'))
  OR EXISTS (SELECT 1 FROM json_each(s.doc, '$.dependencies') j
    WHERE NOT EXISTS (SELECT 1 FROM dependencies d WHERE d.issue_id = s.id AND d.depends_on = j.value)) END`;
/**
 * How many claimable issues carry one of the labels given (a JSON list):
 * what status takes off its ready count for the strategic types. CROSS JOIN
 * makes SQLite walk the label index first, so the cost is the issues that
 * carry those labels, never every ready issue.
 */
export const EXCLUDED_READY_COUNT = `SELECT count(DISTINCT s.id) FROM labels l CROSS JOIN summaries s ON s.id = l.issue_id
  WHERE l.label IN (SELECT value FROM json_each(?)) AND s.state = 'ready' AND s.assignee IS NULL AND s.waiting = 0`;
/** Sorts after every character a label or id can hold: `x >= p AND x < p || MAX_CHAR` is "starts with p", on an index. */
const PREFIX_END = 'char(1114111)';

/** A summary with the stamp of the file it was read from (null: not read from a file yet). */
export interface IndexRow {
  summary: IssueSummary;
  fileStamp: string | null;
  /**
   * The claim's active lease (activeLease), null for none; undefined when
   * not known (a row kept from before): its readers read the file for it.
   */
  lease?: Lease | null;
}

/** The row of an issue as read from its file. */
export function issueRow(issue: Issue, fileStamp: string | null): IndexRow {
  return { summary: freezeSummary(summarize(issue)), fileStamp, lease: activeLease(issue) ?? null };
}

/** A claim as the index holds it (SummaryIndex.claims): its lease undefined when the row does not know it. */
export interface IndexedClaim {
  summary: IssueSummary;
  lease: Lease | null | undefined;
}

/** What one transaction changes: rows to write, ids to drop, and the meta values to set with them. */
export interface IndexChanges {
  put?: readonly IndexRow[];
  remove?: readonly string[];
  meta?: Readonly<Record<string, string>>;
  /** Drop every row first (a rebuild). */
  replaceAll?: boolean;
}

/** Which summaries a list keeps (as Storage's SummaryFilter; repeated here so this module stands alone). */
export interface RowFilter {
  state?: State;
  states?: readonly State[];
  anyLabel?: readonly string[];
  priority?: Priority;
  assignee?: string;
  /** `key:value` exactly, or `key:*` for a namespace. */
  label?: string;
}

/** What status reports: issues per state, in all, claimable, blocked. */
export interface Counts {
  total: number;
  byState: Map<string, number>;
  ready: number;
  blocked: number;
}

type Statement = LibsqlDatabase.Statement;

let driver: typeof LibsqlDatabase | undefined;
function libsql(): typeof LibsqlDatabase {
  // Loaded on first open only: --version, help and commands that read single files never pay for it.
  return (driver ??= require('libsql') as typeof LibsqlDatabase);
}

/** SQLite's primary result code of `error` (libsql names only some codes: the number is what counts), or null. */
function sqliteCode(error: unknown): number | null {
  const { rawCode, code } = (error ?? {}) as { rawCode?: unknown; code?: unknown };
  if (typeof rawCode === 'number') return rawCode & 0xff;
  const named: Record<string, number> = { SQLITE_CORRUPT: 11, SQLITE_NOTADB: 26, SQLITE_FORMAT: 24, SQLITE_READONLY: 8, SQLITE_CANTOPEN: 14 };
  return typeof code === 'string' && code in named ? named[code]! : null;
}

/** A SQLite failure that means the file is not a usable index (rebuild it): corrupt, not a database, or of a format we do not know. */
export function isUnusableDatabase(error: unknown): boolean {
  const code = sqliteCode(error);
  return code === 11 || code === 26 || code === 24;
}

/** A SQLite failure that means we may not write here (read-only file or folder, no -shm to be made), not that the file is bad. */
export function isReadOnlyDatabase(error: unknown): boolean {
  const code = sqliteCode(error);
  return code === 8 || code === 14 || code === 3 || code === 23;
}

export class SummaryIndex {
  /** The (device, inode) of the file this connection has open: a rebuilt index.db is a new file. */
  readonly identity: string;
  private readonly db: LibsqlDatabase.Database;
  private readonly statements = new Map<string, Statement>();
  /** Commits through this connection (PRAGMA data_version counts only other connections'). */
  private ownCommits = 0;
  private countsCache: { version: string; counts: Counts } | null = null;

  /**
   * Opens (creating when asked) the database at `file`. Throws the SQLite
   * error when it is not a usable index (isUnusableDatabase), JitError
   * INDEX_FORMAT... never: a newer or older format is reported by `format`.
   */
  constructor(readonly file: string, options: { create: boolean }) {
    if (!options.create && !fs.existsSync(file)) throw Object.assign(new Error(`${file} does not exist`), { code: 'ENOENT' });
    this.db = new (libsql())(file, { timeout: BUSY_TIMEOUT_MS / 1000 });
    try {
      this.db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
      // WAL: a commit is one append and one fsync; synchronous=FULL: durable before the caller clears its markers.
      if (String(this.db.pragma('journal_mode', { simple: true })).toLowerCase() !== 'wal') this.db.pragma('journal_mode = WAL');
      this.db.exec('PRAGMA synchronous = FULL');
      const stat = fs.statSync(file);
      this.identity = `${stat.dev}:${stat.ino}`;
    } catch (error) {
      this.db.close();
      throw error;
    }
  }

  /** The format stored in meta; null for a database with no tables yet (new). */
  format(): number | null {
    const value = this.metaValues(['format'])?.get('format');
    return value === undefined ? null : Number(value);
  }

  /**
   * The meta values of `keys` (those set), in one statement: every check
   * of the cache asks for several, and each statement is a read
   * transaction of its own (SQLite's shared-memory locks, ~10-20 µs).
   * Null for a database with no tables yet (new, or its -wal, which held
   * them, deleted under a connection).
   */
  metaValues(keys: readonly string[]): Map<string, string> | null {
    try {
      const rows = this.statement('SELECT key, value FROM meta WHERE key IN (SELECT value FROM json_each(?))').raw().all(JSON.stringify(keys)) as [string, string][];
      return new Map(rows);
    } catch (error) {
      if (sqliteCode(error) === 1 && /no such table: meta\b/.test((error as Error).message)) return null;
      throw error;
    }
  }

  /** Creates the tables of a new database and stamps its format. */
  initialize(): void {
    this.transaction(() => {
      this.db.exec(SCHEMA);
      this.db.prepare('INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)').run('format', String(INDEX_DB_FORMAT));
    });
  }

  close(): void {
    this.statements.clear();
    if (this.db.open) this.db.close();
  }

  meta(key: string): string | undefined {
    const row = this.statement('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined;
    return row?.value;
  }

  /**
   * `apply` without waiting for the disk: the commit is in the WAL (every
   * reader sees it) but durable only once `syncLog` has run after it. For
   * the index step after a write, so that the exclusive index lock is not
   * held across an fsync that queues behind every other writer's fsyncs.
   */
  applyUnsynced(changes: IndexChanges): void {
    this.db.exec('PRAGMA synchronous = NORMAL');
    try {
      this.apply(changes);
    } finally {
      this.db.exec('PRAGMA synchronous = FULL');
    }
  }

  /**
   * Makes every commit made so far, by any process, durable: fdatasync of
   * the WAL (a commit is appended to it; with synchronous=NORMAL a
   * checkpoint syncs the WAL before and the database after it, so frames
   * already moved into the database are durable too). Without a WAL (the
   * last connection checkpointed and removed it) the database itself.
   */
  syncLog(): void {
    for (const target of [`${this.file}-wal`, this.file]) {
      // Read-write: Windows flushes only a handle that may write.
      const file = openRegularFile(target, fs.constants.O_RDWR, 'sync');
      if (file === null) continue;
      try {
        fs.fdatasyncSync(file.fd);
      } catch (error) {
        throw fsError(error, target, 'sync');
      } finally {
        fs.closeSync(file.fd);
      }
      return;
    }
  }

  /** One transaction: durable when this returns. */
  apply(changes: IndexChanges): void {
    this.transaction(() => {
      // The dependency rows first: then no summary's removal has dependents to update. The counts start afresh.
      if (changes.replaceAll) this.db.exec('DELETE FROM dependencies; DELETE FROM summaries; DELETE FROM labels; DELETE FROM state_counts;');
      const removeSummary = this.statement('DELETE FROM summaries WHERE id = ?');
      const removeDependencies = this.statement('DELETE FROM dependencies WHERE issue_id = ?');
      const removeLabels = this.statement('DELETE FROM labels WHERE issue_id = ?');
      const drop = (id: string): void => {
        removeSummary.run(id);
        removeDependencies.run(id);
        removeLabels.run(id);
      };
      for (const id of changes.remove ?? []) drop(id);
      // An upsert, never INSERT OR REPLACE: its hidden delete would fire no trigger, and `waiting` must stay.
      const putSummary = this.statement(
        `INSERT INTO summaries(${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')})
         ON CONFLICT(id) DO UPDATE SET ${UPSERT_SET}`,
      );
      const putDependency = this.statement('INSERT OR IGNORE INTO dependencies(issue_id, depends_on) VALUES (?, ?)');
      const putLabel = this.statement('INSERT OR IGNORE INTO labels(issue_id, label) VALUES (?, ?)');
      for (const { summary: s, fileStamp, lease } of changes.put ?? []) {
        if (!changes.replaceAll) (removeDependencies.run(s.id), removeLabels.run(s.id));
        putSummary.run(
          s.id,
          s.state,
          PRIORITY_RANK[s.priority],
          s.assignee,
          s.created_at,
          s.lease_expires_at ?? null,
          s.lease_agent ?? null,
          fileStamp,
          // SQL NULL: not known; the JSON text 'null': no lease.
          lease === undefined ? null : JSON.stringify(lease),
          summaryDoc(s),
        );
        for (const d of s.dependencies) putDependency.run(s.id, d);
        for (const l of s.labels) putLabel.run(s.id, l);
      }
      const setMeta = this.statement('INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)');
      for (const [key, value] of Object.entries(changes.meta ?? {})) setMeta.run(key, value);
    });
  }

  // ------------------------------------------------------------------ reads

  get(id: string): IssueSummary | undefined {
    return this.rows(`SELECT doc FROM summaries WHERE id = ?`, id)[0];
  }

  /** Every row's file stamp, for a re-sync against the directory. */
  fileStamps(): Map<string, string | null> {
    const rows = this.statement('SELECT id, file_stamp FROM summaries').raw().all() as [string, string | null][];
    return new Map(rows);
  }

  fileStamp(id: string): string | null | undefined {
    const row = this.statement('SELECT file_stamp FROM summaries WHERE id = ?').raw().get(id) as [string | null] | undefined;
    return row?.[0];
  }

  /** Those of `ids` that have a row. */
  many(ids: readonly string[]): IssueSummary[] {
    if (ids.length === 0) return [];
    return this.rows(`SELECT doc FROM summaries WHERE id IN (SELECT value FROM json_each(?))`, JSON.stringify(ids));
  }

  all(): IssueSummary[] {
    return this.rows(`SELECT doc FROM summaries ORDER BY id`);
  }

  /** Ids starting with `prefix`, in id order, at most `limit`. */
  byPrefix(prefix: string, limit: number): IssueSummary[] {
    return this.rows(`SELECT doc FROM summaries WHERE id >= ?1 AND id < ?1 || ${PREFIX_END} ORDER BY id LIMIT ?2`, prefix, limit);
  }

  /** Ids of the issues whose dependencies name `id`, in id order. */
  dependentIds(id: string): string[] {
    return (this.statement('SELECT issue_id FROM dependencies WHERE depends_on = ? ORDER BY issue_id').raw().all(id) as [string][]).map(([d]) => d);
  }

  /** Summaries of the issues whose dependencies name any of `ids`, each once, by age. */
  dependentsOf(ids: readonly string[]): IssueSummary[] {
    if (ids.length === 0) return [];
    return this.rows(
      `SELECT doc FROM summaries WHERE id IN (SELECT issue_id FROM dependencies WHERE depends_on IN (SELECT value FROM json_each(?))) ORDER BY created_at, id`,
      JSON.stringify(ids),
    );
  }

  /** Every issue that waits for `id`, directly or transitively (never `id` itself), by age: one recursive query. */
  downstreamOf(id: string): IssueSummary[] {
    return this.rows(
      `WITH RECURSIVE down(id) AS (
         SELECT issue_id FROM dependencies WHERE depends_on = ?1
         UNION SELECT d.issue_id FROM dependencies d JOIN down ON d.depends_on = down.id
       )
       SELECT doc FROM summaries WHERE id IN (SELECT id FROM down) AND id != ?1 ORDER BY created_at, id`,
      id,
    );
  }

  /**
   * Every claim (in progress or gated, with an assignee) by age, with its
   * lease from the `lease` column: one range of the ready index per state,
   * no issue file read. The cost is the claims, not the store.
   */
  claims(): IndexedClaim[] {
    // Both aggregates over one ordered subquery: the n-th lease is the n-th summary's.
    const [docs, leases] = this.statement(
      `SELECT group_concat(doc), json_group_array(lease) FROM (
         SELECT doc, lease FROM summaries WHERE state IN ('in_progress', 'gated') AND assignee IS NOT NULL ORDER BY created_at, id)`,
    ).raw().get() as [string | null, string];
    const leaseTexts = JSON.parse(leases) as (string | null)[];
    return parseDocs(docs).map((summary, n) => {
      const lease = leaseTexts[n]!;
      return { summary, lease: lease === null ? undefined : (JSON.parse(lease) as Lease | null) };
    });
  }

  /** Claims that may have lapsed at `now` (Storage.lapsableClaims): past their expiry, or bound to an agent; by age. */
  lapsable(now: string): IssueSummary[] {
    return this.rows(
      // Driven from the two lease indexes (CROSS JOIN keeps that order): the cost is the leases, not every claimed issue.
      `SELECT s.doc FROM (
         SELECT id AS leased FROM summaries WHERE lease_expires_at IS NOT NULL AND lease_expires_at <= ?1
         UNION SELECT id FROM summaries WHERE lease_agent IS NOT NULL) l
       CROSS JOIN summaries s ON s.id = l.leased
       WHERE s.state IN ('in_progress', 'gated') AND s.assignee IS NOT NULL ORDER BY s.created_at, s.id`,
      now,
    );
  }

  /** Claimable work by urgency: ready, unassigned, no unfinished dependency; the filter's priority and label. */
  ready(filter: ReadyFilter): IssueSummary[] {
    const { sql, params } = readySql(filter);
    return this.rows(sql, ...params);
  }

  /** ready() as JSON text: the rows' `doc`, joined in SQLite, never parsed. */
  readyJson(filter: ReadyFilter): JsonList {
    const { sql, params } = readySql(filter);
    // As a BLOB: bytes for the face to write, never converted to a JavaScript string and back (~7 ms of 6.9 MB).
    const [count, items] = this.statement(`SELECT count(*), coalesce(CAST(group_concat(doc) AS BLOB), x'') FROM (${sql})`).raw().get(...params) as [number, Uint8Array];
    return { count, items };
  }

  /** Label namespaces in use (labels without a `:` left out), by name, with their distinct labels and issues. */
  labelNamespaces(): { namespace: string; values: number; issues: number }[] {
    const rows = this.statement(
      `SELECT substr(label, 1, instr(label, ':') - 1) AS ns, count(DISTINCT label), count(DISTINCT issue_id) FROM labels
       WHERE instr(label, ':') > 1 GROUP BY ns ORDER BY ns`,
    ).raw().all() as [string, number, number][];
    return rows.map(([namespace, values, issues]) => ({ namespace, values, issues }));
  }

  /** The labels of one namespace, by label, with how many issues carry each: a range of the label index. */
  labelValues(namespace: string): { label: string; value: string; issues: number }[] {
    const prefix = `${namespace}:`;
    const rows = this.statement(`SELECT label, count(*) FROM labels WHERE label >= ?1 AND label < ?1 || ${PREFIX_END} GROUP BY label ORDER BY label`).raw().all(prefix) as [string, number][];
    return rows.map(([label, issues]) => ({ label, value: label.slice(prefix.length), issues }));
  }

  /**
   * Counts for status: per state, claimable, and blocked (gated, or
   * unfinished with an unfinished dependency). Kept until any connection
   * commits, so a long-lived process (the MCP server) answers from memory.
   */
  counts(excludeLabels: readonly string[] = [], overlay: ReadonlyMap<string, IssueSummary | null> = new Map()): Counts {
    const version = `${(this.statement('PRAGMA data_version').raw().get() as [number])[0]}:${this.ownCommits}:${JSON.stringify(excludeLabels)}`;
    if (this.countsCache?.version !== version) this.countsCache = { version, counts: this.countRows(excludeLabels) };
    return overlay.size === 0 ? this.countsCache.counts : this.overlaidCounts(this.countsCache.counts, excludeLabels, overlay);
  }

  /**
   * The counts with the marked issues as their files say (`overlay`; null:
   * deleted). Only their own contributions and their dependents' can change
   * (a dependent waits or not by the marked issue's state): those are taken
   * out as the rows count them and put back as the overlay says, so the cost
   * is the marked issues and their dependents, never the store.
   */
  private overlaidCounts(base: Counts, excludeLabels: readonly string[], overlay: ReadonlyMap<string, IssueSummary | null>): Counts {
    const marked = [...overlay.keys()];
    const affected = [...new Set([...marked, ...this.dependentsOf(marked).map((s) => s.id)])];
    const waitingRows = new Map(
      (this.statement('SELECT id, waiting > 0 FROM summaries WHERE id IN (SELECT value FROM json_each(?))').raw().all(JSON.stringify(affected)) as [string, number][]).map(
        ([id, waiting]) => [id, waiting === 1],
      ),
    );
    const rows = new Map(this.many(affected).map((s) => [s.id, s]));
    const after = new Map(affected.map((id) => [id, overlay.has(id) ? (overlay.get(id) ?? undefined) : rows.get(id)]));
    const dependencyIds = [...new Set([...after.values()].flatMap((s) => s?.dependencies ?? []))].filter((d) => !overlay.has(d));
    const rowStates = this.states(dependencyIds);
    const stateAfter = (id: string): State | undefined => (overlay.has(id) ? overlay.get(id)?.state : rowStates.get(id));
    const counts = { total: base.total, byState: new Map(base.byState), ready: base.ready, blocked: base.blocked };
    const add = (summary: IssueSummary, waiting: boolean, sign: 1 | -1): void => {
      counts.total += sign;
      counts.byState.set(summary.state, (counts.byState.get(summary.state) ?? 0) + sign);
      const excluded = summary.labels.some((l) => excludeLabels.includes(l));
      if (summary.state === 'ready' && summary.assignee === null && !waiting && !excluded) counts.ready += sign;
      if (summary.state === 'gated' || (waiting && !TERMINAL_STATES.includes(summary.state))) counts.blocked += sign;
    };
    for (const id of affected) {
      const before = rows.get(id);
      if (before) add(before, waitingRows.get(id) === true, -1);
      const now = after.get(id);
      if (now) {
        const waiting = now.dependencies.some((d) => {
          const state = stateAfter(d);
          return state !== undefined && !TERMINAL_STATES.includes(state);
        });
        add(now, waiting, 1);
      }
    }
    return counts;
  }

  /** From `state_counts` (a few dozen rows whatever the store's size), less the claimable issues carrying an excluded label. */
  private countRows(excludeLabels: readonly string[]): Counts {
    const rows = this.statement('SELECT state, unassigned, waiting, n FROM state_counts WHERE n != 0').raw().all() as [string, number, number, number][];
    const byState = new Map<string, number>();
    let total = 0;
    let ready = 0;
    let blocked = 0;
    for (const [state, unassigned, waiting, n] of rows) {
      byState.set(state, (byState.get(state) ?? 0) + n);
      total += n;
      if (state === 'ready' && unassigned === 1 && waiting === 0) ready += n;
      if (state === 'gated' || (waiting === 1 && !TERMINAL_STATES.includes(state as State))) blocked += n;
    }
    if (excludeLabels.length > 0) {
      // Claimable issues that carry an excluded label, driven from the label index: the cost is those issues.
      ready -= (this.statement(EXCLUDED_READY_COUNT).raw().get(JSON.stringify(excludeLabels)) as [number])[0];
    }
    return { total, byState, ready, blocked };
  }

  /** Issues that may be blocked (gated, or unfinished with an unfinished dependency), by age. */
  blockedCandidates(): IssueSummary[] {
    return this.rows(`SELECT s.doc FROM summaries s WHERE s.state = 'gated' OR (s.state NOT IN (${TERMINAL_SQL}) AND s.waiting > 0) ORDER BY s.created_at, s.id`);
  }

  /** Summaries passing `filter`, by age; with `page`, only `limit` of them from `offset` on. */
  list(filter: RowFilter, page?: { offset: number; limit: number }): IssueSummary[] {
    const { where, params } = filterSql(filter, 's');
    if (page === undefined) return this.rows(`SELECT s.doc FROM summaries s WHERE 1${where} ORDER BY s.created_at, s.id`, ...params);
    // The page's ids first (from an index, as a rule covering), then only their rows: sorting every matching row whole cost ~40 ms at 27,000.
    return this.rows(
      `SELECT doc FROM (SELECT s.id AS page_id FROM summaries s WHERE 1${where} ORDER BY s.created_at, s.id LIMIT ? OFFSET ?)
       CROSS JOIN summaries ON id = page_id ORDER BY created_at, id`,
      ...params,
      page.limit,
      page.offset,
    );
  }

  /** How many summaries pass `filter` (all of them for none): counted in SQLite, no row leaves it. */
  count(filter: RowFilter = {}): number {
    const { where, params } = filterSql(filter, 's');
    return (this.statement(`SELECT count(*) FROM summaries s WHERE 1${where}`).raw().get(...params) as [number])[0];
  }

  /** The state of each of `ids` that exists. */
  states(ids: readonly string[]): Map<string, State> {
    if (ids.length === 0) return new Map();
    const rows = this.statement('SELECT id, state FROM summaries WHERE id IN (SELECT value FROM json_each(?))').raw().all(JSON.stringify(ids)) as [string, State][];
    return new Map(rows);
  }

  /** SQLite's own check of the file (pages, indexes), then the derived columns against the rows: 'ok' or what is wrong. */
  quickCheck(): string {
    const rows = this.db.prepare('PRAGMA quick_check').raw().all() as [string][];
    const verdict = rows.map(([line]) => line).join('; ');
    if (verdict !== 'ok') return verdict;
    // Readers print `doc`; filters and order read the columns and the label and dependency rows: they must agree.
    const [docsWrong] = this.db.prepare(DOC_MISMATCHES).raw().get(JSON.stringify(PRIORITY_RANK)) as [number];
    if (docsWrong > 0) return `the columns, labels or dependencies of ${docsWrong} summaries differ from their doc`;
    // What the triggers keep, recomputed from the rows (validate only: this reads every row).
    const waitingWrong = this.db
      .prepare(
        `SELECT count(*) FROM summaries s WHERE s.waiting != (SELECT count(*) FROM dependencies d JOIN summaries t ON t.id = d.depends_on
           WHERE d.issue_id = s.id AND t.state NOT IN (${TERMINAL_SQL}))`,
      )
      .raw()
      .get() as [number];
    if (waitingWrong[0] > 0) return `the waiting counts of ${waitingWrong[0]} summaries differ from their dependencies`;
    const countsWrong = this.db
      .prepare(
        `SELECT count(*) FROM (SELECT state, assignee IS NULL AS u, waiting > 0 AS w, count(*) AS n FROM summaries GROUP BY 1, 2, 3) r
         FULL JOIN (SELECT * FROM state_counts WHERE n != 0) c ON c.state = r.state AND c.unassigned = r.u AND c.waiting = r.w
         WHERE r.n IS NOT c.n`,
      )
      .raw()
      .get() as [number];
    return countsWrong[0] > 0 ? 'state_counts differs from the summaries' : 'ok';
  }

  /**
   * `read` with every statement in it seeing one snapshot of the database
   * (a deferred read transaction: writers go on committing beside it, WAL),
   * for answers built from several statements, like a page and its total.
   */
  snapshot<T>(read: () => T): T {
    if (this.db.inTransaction) return read();
    this.db.exec('BEGIN');
    try {
      return read();
    } finally {
      if (this.db.inTransaction) this.db.exec('COMMIT');
    }
  }

  private transaction(work: () => void): void {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      work();
      this.db.exec('COMMIT');
      this.ownCommits++;
    } catch (error) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      throw error;
    }
  }

  /**
   * The summaries `sql` selects (one column, `doc`), in its order. One text
   * for the whole result: a single crossing from SQLite instead of one per
   * row (the cost of printing tens of thousands of ready issues was mostly
   * that). SQLite never flattens an ordered subquery into an aggregate, so
   * the rows keep their order.
   */
  private rows(sql: string, ...params: unknown[]): IssueSummary[] {
    const [docs] = this.statement(`SELECT group_concat(doc) FROM (${sql})`).raw().get(...params) as [string | null];
    return parseDocs(docs);
  }

  private statement(sql: string): Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }
}

function filterSql(filter: RowFilter, alias: string): { where: string; params: unknown[] } {
  let where = '';
  const params: unknown[] = [];
  if (filter.state !== undefined) (where += ` AND ${alias}.state = ?`), params.push(filter.state);
  // The rank, not the name: the ready index holds it, so a priority filter reads no table row.
  if (filter.priority !== undefined) (where += ` AND ${alias}.priority_rank = ?`), params.push(PRIORITY_RANK[filter.priority]);
  if (filter.assignee !== undefined) (where += ` AND ${alias}.assignee = ?`), params.push(filter.assignee);
  if (filter.states !== undefined) (where += ` AND ${alias}.state IN (SELECT value FROM json_each(?))`), params.push(JSON.stringify(filter.states));
  // Driven from the label index: the cost is the issues that carry one of them.
  if (filter.anyLabel !== undefined) (where += ` AND ${alias}.id IN (SELECT issue_id FROM labels WHERE label IN (SELECT value FROM json_each(?)))`), params.push(JSON.stringify(filter.anyLabel));
  if (filter.label !== undefined) {
    if (filter.label.endsWith(':*')) {
      where += ` AND EXISTS (SELECT 1 FROM labels l WHERE l.issue_id = ${alias}.id AND l.label >= ? AND l.label < ? || ${PREFIX_END})`;
      const namespace = filter.label.slice(0, -1);
      params.push(namespace, namespace);
    } else {
      where += ` AND EXISTS (SELECT 1 FROM labels l WHERE l.issue_id = ${alias}.id AND l.label = ?)`;
      params.push(filter.label);
    }
  }
  return { where, params };
}

type ReadyFilter = Pick<RowFilter, 'priority' | 'label'> & { limit?: number; excludeLabels?: readonly string[] };

/** The ready rows' query (`doc`, by urgency) and its parameters. */
function readySql(filter: ReadyFilter): { sql: string; params: unknown[] } {
  const { where, params } = filterSql(filter, 's');
  const excluding = filter.excludeLabels !== undefined && filter.excludeLabels.length > 0;
  // With a limit, one primary-key probe per candidate: the cost stays that of the ready rows read. Without one
  // (every ready row is read), the excluded ids once from the label index, then an in-memory probe per row:
  // the per-row probes of the table's key were ~45-100 ms of 26,667 ready rows.
  const exclude = !excluding
    ? ''
    : filter.limit === undefined
      ? ' AND s.id NOT IN (SELECT issue_id FROM labels WHERE label IN (SELECT value FROM json_each(?)))'
      : ' AND NOT EXISTS (SELECT 1 FROM labels x WHERE x.issue_id = s.id AND x.label IN (SELECT value FROM json_each(?)))';
  const sql =
    `SELECT s.doc FROM summaries s WHERE s.state = 'ready' AND s.assignee IS NULL AND s.waiting = 0${where}${exclude}` +
    ` ORDER BY s.priority_rank, s.created_at, s.id${filter.limit === undefined ? '' : ' LIMIT ?'}`;
  return { sql, params: [...params, ...(excluding ? [JSON.stringify(filter.excludeLabels)] : []), ...(filter.limit === undefined ? [] : [filter.limit])] };
}

/**
 * A summary as its `doc`: the fields in one order whatever order the object
 * has (the lease fields only when either is set, as summarize gives them).
 */
function summaryDoc(s: IssueSummary): string {
  const { id, title, state, priority, assignee, labels, dependencies, created_at, updated_at } = s;
  const leased = (s.lease_expires_at ?? null) !== null || (s.lease_agent ?? null) !== null;
  return JSON.stringify(
    leased
      ? { id, title, state, priority, assignee, labels, dependencies, created_at, updated_at, lease_expires_at: s.lease_expires_at ?? null, lease_agent: s.lease_agent ?? null }
      : { id, title, state, priority, assignee, labels, dependencies, created_at, updated_at },
  );
}

/** The summaries of `docs`, the comma-joined docs group_concat gives (null: none), frozen as summaries are. */
function parseDocs(docs: string | null): IssueSummary[] {
  if (docs === null) return [];
  let summaries: IssueSummary[];
  try {
    summaries = JSON.parse(`[${docs}]`) as IssueSummary[];
  } catch (error) {
    // A damaged cache, like one SQLite refuses: readers then answer from the files, validate --fix rebuilds it.
    throw Object.assign(new Error(`a summary in index.db is not JSON (${(error as Error).message})`), { code: 'SQLITE_CORRUPT' });
  }
  for (const summary of summaries) {
    Object.freeze(summary.labels);
    Object.freeze(summary.dependencies);
    Object.freeze(summary);
  }
  return summaries;
}

/** For messages: an index.db that SQLite refuses. */
export function unusableIndex(file: string, cause: unknown): JitError {
  return new JitError('CORRUPT_FILE', `Corrupt file ${file}: ${(cause as Error).message}.`, { details: { path: file }, cause });
}

/**
 * A directory's stamp, (inode, mtime in ns): any file added, removed or
 * renamed into it changes it (an edit in place does not). 'none' when missing.
 */
export function directoryStamp(dir: string): string {
  try {
    const stat = fs.lstatSync(dir, { bigint: true });
    return `${stat.ino}:${stat.mtimeNs}`;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'none';
    throw fsError(error, dir, 'inspect');
  }
}

/** A file's stamp (null: no file): a rewrite by rename changes the inode; an edit in place, the size or mtime. */
export function fileStamp(file: string): string | null {
  try {
    const stat = fs.lstatSync(file, { bigint: true });
    return `${stat.ino}:${stat.size}:${stat.mtimeNs}`;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw fsError(error, file, 'inspect');
  }
}
