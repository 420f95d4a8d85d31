/**
 * Storage in `.jit/` (the format: docs/format.md; the transactions, crash
 * healing and the summary cache: docs/design.md). The summaries live in
 * `index.db` (summary-index.ts), a cache of the issue files; what validate
 * finds wrong is in integrity.ts.
 *
 * Transactions (the why of the order):
 * - Global lock order index(10) -> issues(20, by file identity) -> gates(30)
 *   -> events(40); every acquisition passes its rank, so an out-of-order
 *   acquisition throws LockOrderError instead of deadlocking.
 * - Issue transactions take only their issues' locks (Pattern 1: different
 *   issues in parallel); issues they merely consult (dependencies) are
 *   peeked without a lock (IssueLocks.peek; why that is enough: Tracker's
 *   changeWithDependencies), so no descriptor is held per dependency.
 *   Before writing an issue file they drop a marker in `pending/`; after
 *   releasing the issue locks they take the index lock, re-read the issue
 *   files and bring their summaries up to date, then remove the markers.
 *   The index lock is never held across an issue fsync, and no issue lock
 *   is taken while waiting for the index.
 * - Graph transactions (dependency add/remove, delete) need a frozen graph:
 *   they hold the index lock exclusively while they check and write the new
 *   summaries (markers first), release it, and only then write the issue
 *   files under their issue locks.
 * - One process runs one transaction per `.jit/` at a time (an in-process
 *   queue, keyed by the folder's file identity so that every spelling of its
 *   path shares it): the OS locks exclude other processes, the queue keeps
 *   concurrent calls in one process (the MCP server) from waiting on their
 *   own locks.
 *
 * The invariant: an issue's summary in index.db equals what its committed
 * file says, unless a marker in `pending/` names the issue. Readers overlay
 * marked issues from their files, so nothing a writer acknowledged is ever
 * served stale or missing, whatever was killed when. Why each step keeps it:
 * - A writer makes its marker (and fsyncs `pending/`) under the issue's
 *   exclusive lock before it replaces the file: the file never runs ahead
 *   of its summary unmarked.
 * - Markers are removed only under the exclusive index lock, in the healing
 *   order: (1) list the markers, (2) probe each named issue's lock, (3) read
 *   the file, (4) write its row (one SQLite transaction, durable when it
 *   returns), (5) remove only markers
 *   listed in (1) whose issue was free in (2). A free lock means every
 *   writer that made a listed marker has released it, so its file is in
 *   place (or was never written: it died first) and (3) reads it or a later
 *   version. A marker made after (1) survives; a write after (3) has its own.
 *   heal(), resync() and rebuild() (validate --fix, the upgrade of a
 *   format-1 store) all follow it:
 *   a rebuild that read the files before listing the markers would clear
 *   the marker of a write its listing missed, and hide it.
 * - Index writes only put in summaries read from files after (2), or, in
 *   graph transactions, summaries of files about to be written, whose
 *   markers already exist. An in-flight issue keeps its last summary.
 * - A reader queries the index and lists the markers under one shared index
 *   lock, so no marker disappears between the two.
 * - Changes made outside jit (git pull) carry no marker: they are found by
 *   the issues/ directory's stamp, recorded with the rows when no marker is
 *   left, and re-synced (see currentView and resync). A marker left by a
 *   killed writer does not excuse a changed stamp (its pid is gone).
 * - A kill anywhere leaves at most markers (and temp files): the next
 *   writer's index step, graph transaction or validate heals them, readers
 *   overlay them meanwhile.
 *
 * Follow-ups (FollowUp in storage.ts): what a transaction owes after its
 * commit (the dependents of an issue that finished or reopened) is a marker
 * too, named `<id>.<pid>.<n>.<kind>` (older versions of jit ignore the
 * suffix), made with the issue markers before the first write and removed
 * by whoever has done the work. listFollowUps keeps the healing order: it
 * lists, then offers only those whose issue is free, so the work the
 * tracker does next reads the write the follow-up belongs to.
 */
import { command, hint, run } from './suggestions.js';
import fs from 'node:fs';
import path from 'node:path';
import type { LockMode, LockRequest } from 'jit-lock';
import { JitError } from './errors.js';
import {
  appendText,
  checkDirectory,
  checkSingleLink,
  createFileIfMissing,
  endsWithNewline,
  fsError,
  fsyncDirectory,
  listDirectory,
  makeDirectory,
  readTextIfExists,
  removeFile,
  openRegularFile,
  unsafePath,
  writeFileAtomic,
} from './files.js';
import { compareIndexWithFiles, removeStrayTemps } from './integrity.js';
import { RANK, fileLocker, lockFileSync, type HeldLocks, type Locker } from './locker.js';
import { STATES, type GateDefinition, type Issue, type JitEvent, type State } from './model.js';
import { EventLog } from './event-log.js';
import { isAgentLive, listAgents, type AgentRecord } from './agents.js';
import { PendingJournal, newFollowUp } from './index-journal.js';
import {
  GATES_FILE,
  GITIGNORE_FILE,
  INDEX_DB_COMPANIONS,
  INDEX_DB_FILE,
  INDEX_FILE,
  JIT_DIR_NAME,
  gatesText,
  manifestText,
  storeLayout,
  upgradedGitignoreText,
} from './layout.js';
import * as queries from './queries.js';
import { isTerminal, unfinishedDependencies } from './rules.js';
import { INDEX_SCHEMA_VERSION, freezeSummary, parseGates, parseIssue, parseManifest, summarize, type IndexManifest } from './schema.js';
import type { BlockedCandidate, EventFilter, FollowUp, GraphLookup, GraphTx, IssueLocks, IssueTx, ReadyQuery, Storage, StorageCheck, SummaryFilter } from './storage.js';
import { INDEX_DB_FORMAT, SummaryIndex, directoryStamp, fileStamp, isReadOnlyDatabase, isUnusableDatabase, type IndexRow } from './summary-index.js';
import type { IssueSummary, StatusReport, ValidationProblem } from './tracker-api.js';

export interface JsonFileStorageOptions {
  /** The lock layer; the default takes real OS locks. Only the benchmark swaps it. */
  locker?: Locker;
}

const ISSUE_FILE = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.json$/;

/** One queue per `.jit/` (by file identity) per process: see the header. */
const queues = new Map<string, Promise<unknown>>();

/** One connection per index.db per process, shared by every JsonFileStorage on the store (by path; reopened when the file is replaced). */
const connections = new Map<string, SummaryIndex>();

/** meta keys of index.db. */
const META = {
  /** The issues/ directory's stamp when the rows last matched every file with no marker left (see the header). */
  dirStamp: 'issues_dir_stamp',
  /** Set by a complete build from the files: a database without it (new, or a build cut short) is rebuilt. */
  built: 'built_from_files',
} as const;

type Summaries = Map<string, IssueSummary>;

/** An issue as read for the index: the file's stamp is taken before the read, so a later change always shows. */
interface StampedRead {
  /** null: no file; undefined: corrupt (keep what the index says). */
  issue: Issue | null | undefined;
  stamp: string | null;
}

interface Healed {
  put: IndexRow[];
  remove: string[];
  /** Markers whose writers have finished and whose issues are now summarised. */
  clear: string[];
  /** Issues an unfinished writer holds right now. */
  inFlight: Set<string>;
  /** Whether every marker listed was cleared: then no write is unaccounted for. */
  settled: boolean;
}

/** What a reader answers from: the cache with the marked issues overlaid, or (no usable cache) every summary. */
type ReadView = { index: SummaryIndex; overlay: Map<string, IssueSummary | null> } | { index: null; all: ReadonlyMap<string, IssueSummary> };

export class JsonFileStorage implements Storage {
  readonly description: string;
  readonly kind = 'files';
  readonly jitDir: string;
  private readonly issuesDir: string;
  private readonly pendingDir: string;
  private readonly indexPath: string;
  private readonly indexDbPath: string;
  private readonly gatesPath: string;
  private readonly eventsPath: string;
  private readonly locker: Locker;
  private readonly events: EventLog;
  /** pending/: the markers and follow-ups (index-journal.ts). */
  private readonly journal: PendingJournal;

  constructor(jitDir: string, options: JsonFileStorageOptions = {}) {
    ({
      jitDir: this.jitDir,
      issuesDir: this.issuesDir,
      pendingDir: this.pendingDir,
      indexPath: this.indexPath,
      indexDbPath: this.indexDbPath,
      gatesPath: this.gatesPath,
      eventsPath: this.eventsPath,
    } = storeLayout(jitDir));
    this.description = `files at ${this.jitDir}`;
    this.journal = new PendingJournal(this.pendingDir);
    this.locker = options.locker ?? fileLocker;
    this.events = new EventLog(this.eventsPath, (mode) => this.lock([{ path: this.lockPath('events'), mode, rank: RANK.events }]));
  }

  // ----------------------------------------------------------------- reads

  loadSummaries(): Promise<ReadonlyMap<string, IssueSummary>> {
    return this.serial(() => this.read((view) => wholeView(view)));
  }

  summaries(ids: readonly string[]): Promise<Map<string, IssueSummary>> {
    return this.serial(() =>
      this.read((view) => {
        if (!view.index) return queries.pickSummaries(view.all, ids);
        const found = new Map(view.index.many(ids.filter((id) => !view.overlay.has(id))).map((s) => [s.id, s]));
        for (const id of ids) {
          const marked = view.overlay.get(id);
          if (marked) found.set(id, marked);
        }
        return queries.pickSummaries(found, ids);
      }),
    );
  }

  summariesByPrefix(prefix: string, limit: number): Promise<IssueSummary[]> {
    return this.serial(() =>
      this.read((view) => {
        if (!view.index) return queries.summariesByPrefix(view.all, prefix, limit);
        // Enough rows that dropping the marked ones still leaves `limit`.
        const rows = view.index.byPrefix(prefix, Math.max(0, limit) + view.overlay.size);
        return queries.summariesByPrefix(overlaid(rows, view.overlay, (s) => s.id.startsWith(prefix)), prefix, limit);
      }),
    );
  }

  dependentsOf(ids: readonly string[]): Promise<IssueSummary[]> {
    return this.serial(() =>
      this.read((view) => {
        if (!view.index) return queries.dependentsOf(view.all, ids);
        const wanted = new Set(ids);
        return queries.dependentsOf(
          overlaid(view.index.dependentsOf(ids), view.overlay, (s) => s.dependencies.some((d) => wanted.has(d))),
          ids,
        );
      }),
    );
  }

  downstreamOf(id: string): Promise<IssueSummary[]> {
    return this.serial(() =>
      this.read((view) => {
        // A marked issue's edges may be changing: walk every summary then (rare, and never wrong).
        if (!view.index || view.overlay.size > 0) return queries.downstreamOf(wholeView(view), id);
        return view.index.downstreamOf(id);
      }),
    );
  }

  readyWork(query: ReadyQuery = {}): Promise<IssueSummary[]> {
    return this.serial(() =>
      this.read((view) => {
        // Readiness depends on other issues' states: with a marked issue about, answer from every summary.
        if (!view.index || view.overlay.size > 0) return queries.readyWork(wholeView(view), query);
        return view.index.ready(query);
      }),
    );
  }

  statusReport(): Promise<StatusReport> {
    return this.serial(() =>
      this.read((view) => {
        if (!view.index || view.overlay.size > 0) return queries.statusReport(wholeView(view));
        const counts = view.index.counts();
        const byState = Object.fromEntries(STATES.map((s) => [s, counts.byState.get(s) ?? 0])) as Record<State, number>;
        return { total: counts.total, by_state: byState, ready: counts.ready, blocked: counts.blocked };
      }),
    );
  }

  blockedCandidates(): Promise<BlockedCandidate[]> {
    return this.serial(() =>
      this.read((view) => {
        if (!view.index || view.overlay.size > 0) return queries.blockedCandidates(wholeView(view));
        const candidates = view.index.blockedCandidates();
        const states = view.index.states([...new Set(candidates.flatMap((s) => s.dependencies))]);
        return candidates.map((issue) => ({
          issue,
          waitsFor: isTerminal(issue.state)
            ? []
            : unfinishedDependencies(issue, (d) => states.get(d)).map((id) => ({ id, state: states.get(id)! })),
        }));
      }),
    );
  }

  lapsableClaims(now: string): Promise<IssueSummary[]> {
    return this.serial(() =>
      this.read((view) => {
        if (!view.index) return queries.lapsableClaims(view.all, now);
        return queries.lapsableClaims(overlaid(view.index.lapsable(now), view.overlay, () => true), now);
      }),
    );
  }

  listSummaries(filter: SummaryFilter = {}): Promise<IssueSummary[]> {
    return this.serial(() =>
      this.read((view) => {
        if (!view.index) return queries.listSummaries(view.all, filter);
        return queries.listSummaries(overlaid(view.index.list(filter), view.overlay, () => true), filter);
      }),
    );
  }

  readIssue(id: string): Promise<Issue | null> {
    this.checkId(id);
    return this.serial(async () => {
      // Its lock file lives in issues/; where that folder is missing (a clone of a store
      // without issues) so is the issue. Nothing is created: a reader may be on a read-only disk.
      this.checkInitialized();
      if (!fs.lstatSync(this.issuesDir, { throwIfNoEntry: false })) return null;
      checkDirectory(this.issuesDir);
      const held = await this.lock([this.issueLock(id, 'shared')]);
      try {
        return this.readIssueFile(id);
      } finally {
        held.release();
      }
    });
  }

  /** Without locks: every issue file is replaced by rename, so each read is one committed version. */
  readAllIssues(options: { skipCorrupt?: boolean } = {}): Promise<Issue[]> {
    return this.serial(async () =>
      this.issueFileIds()
        .map((id) => (options.skipCorrupt ? this.readIssueFileOrKeep(id) : this.readIssueFile(id)))
        .filter((issue): issue is Issue => !!issue),
    );
  }

  readGates(): Promise<ReadonlyMap<string, GateDefinition>> {
    return this.serial(async () => {
      const held = await this.lock([{ path: this.lockPath('gates'), mode: 'shared', rank: RANK.gates }]);
      try {
        return this.readGatesFile();
      } finally {
        held.release();
      }
    });
  }

  readEvents(filter: EventFilter & { last?: number } = {}): Promise<JitEvent[]> {
    return this.serial(async () => {
      if (filter.last !== undefined) return this.events.readLast(filter.last, filter);
      const events: JitEvent[] = [];
      await this.events.scan(filter, (event) => events.push(event));
      return events;
    });
  }

  scanEvents(filter: EventFilter, visit: (event: JitEvent) => void): Promise<void> {
    return this.serial(() => this.events.scan(filter, visit));
  }

  // ---------------------------------------------------------- transactions

  issueTransaction<T>(locks: IssueLocks, apply: (tx: IssueTx) => T): Promise<T> {
    return this.serial(async () => {
      const tx = this.newTx(locks);
      this.checkAfterCommitFiles();
      this.ensureLayout();
      await this.checkIndexBeforeWrite();
      const requests: LockRequest[] = [
        ...tx.writable.map((id) => this.issueLock(id, 'exclusive')),
        ...tx.readOnly.map((id) => this.issueLock(id, 'shared')),
        ...(locks.gates ? [{ path: this.lockPath('gates'), mode: 'shared' as const, rank: RANK.gates }] : []),
      ];
      const held = locks.wait === false ? (this.tryLockAll(requests) ?? busy(tx.writable)) : await this.lock(requests);
      let result: T;
      try {
        result = apply(tx);
        if (tx.changes.size > 0) {
          this.journal.mark([...tx.changes.keys()], tx.followUps);
          this.writeIssueFiles(tx.changes);
        }
        await this.appendCommittedEvents(tx.events, [...tx.changes.keys()]);
      } finally {
        held.release();
        if (tx.changes.size > 0) await this.syncIndexAfterCommit([...tx.changes.keys()]);
      }
      return result;
    });
  }

  graphTransaction<T>(plan: (graph: GraphLookup) => IssueLocks, apply: (tx: GraphTx) => T): Promise<T> {
    return this.serial(async () => {
      this.checkAfterCommitFiles();
      this.ensureLayout();
      for (let attempt = 1; ; attempt++) {
        const indexHeld = await this.lock([this.indexLock('exclusive')]);
        let issuesHeld: HeldLocks | null = null;
        let changed: string[] = [];
        try {
          const index = this.currentIndex();
          const healed = this.heal(index, this.journal.markersByIssue(), new Set());
          const graph = this.graphLookup(index, healed);
          const tx = this.newTx(plan(graph));
          const issueLocks = [...tx.writable.map((id) => this.issueLock(id, 'exclusive')), ...tx.readOnly.map((id) => this.issueLock(id, 'shared'))];
          // Waiting for a busy issue while holding the index would stall every other index user
          // behind that issue's write: let go, wait for the issues alone, and start over.
          issuesHeld = attempt < 5 ? this.tryLockAll(issueLocks) : await this.lock(issueLocks);
          if (!issuesHeld) {
            indexHeld.release();
            (await this.lock(issueLocks)).release();
            continue;
          }
          const result = apply(Object.assign(tx, graph));
          changed = [...tx.changes.keys()];
          const put = healed.put.filter((row) => !tx.changes.has(row.summary.id));
          const remove = healed.remove.filter((id) => !tx.changes.has(id));
          for (const [id, issue] of tx.changes) {
            // The files are written after the index lock is let go: their stamps come with the sync after the commit.
            if (issue) put.push({ summary: freezeSummary(summarize(issue)), fileStamp: null });
            else remove.push(id);
          }
          // Markers before the index: a crash after this point heals back to whatever the files say.
          if (changed.length > 0) this.journal.mark(changed, tx.followUps);
          if (put.length > 0 || remove.length > 0) index.apply({ put, remove });
          this.journal.clearMarkers(healed.clear);
          indexHeld.release(); // not held across the issue files' fsync (Pattern 1)
          if (changed.length > 0) this.writeIssueFiles(tx.changes);
          await this.appendCommittedEvents(tx.events, [...tx.changes.keys()]);
          return result;
        } finally {
          issuesHeld?.release();
          indexHeld.release();
          if (changed.length > 0) await this.syncIndexAfterCommit(changed);
        }
      }
    });
  }

  gatesTransaction<T>(apply: (gates: Map<string, GateDefinition>, issues: () => Issue[]) => T): Promise<T> {
    return this.serial(async () => {
      const held = await this.lock([{ path: this.lockPath('gates'), mode: 'exclusive', rank: RANK.gates }]);
      try {
        const before = this.readGatesFile();
        const draft = structuredClone(before);
        const issues = (): Issue[] => this.issueFileIds().map((id) => this.readIssueFileOrKeep(id)).filter((issue): issue is Issue => !!issue);
        const result = apply(draft, issues);
        const text = gatesText(draft);
        if (text !== gatesText(before)) writeFileAtomic(this.jitDir, GATES_FILE, text);
        return result;
      } finally {
        held.release();
      }
    });
  }

  // -------------------------------------------------------------- follow-ups

  listFollowUps(): Promise<FollowUp[]> {
    return this.serial(async () => {
      const found = this.journal.followUps();
      // Its transaction still at work: it finishes its own follow-up, and work done now could miss its write.
      return found.filter((f) => !this.isBeingWritten(f.issueId));
    });
  }

  finishFollowUps(followUps: readonly FollowUp[]): Promise<void> {
    return this.serial(async () => {
      this.journal.clearFollowUps(followUps);
    });
  }

  // ------------------------------------------------------------- integrity

  isAgentLive(id: string): boolean {
    return isAgentLive(this.jitDir, id);
  }

  listAgents(): AgentRecord[] {
    return listAgents(this.jitDir);
  }

  check(options: { fix: boolean }): Promise<StorageCheck> {
    return this.serial(async () => {
      const problems: ValidationProblem[] = [];
      const fixed: string[] = [];
      const recovered: string[] = [];
      const held = await this.lock([this.indexLock('exclusive')]);
      try {
        for (const name of this.ensureLayout()) recovered.push(`created the missing folder ${name} (git keeps no empty folders, so a cloned .jit/ lacks it)`);
        removeStrayTemps([this.jitDir, this.issuesDir], recovered);
        this.checkIndex(options.fix, problems, fixed, recovered);
      } finally {
        held.release();
      }
      try {
        this.readGatesFile();
      } catch (error) {
        if (!(error instanceof JitError && error.code === 'CORRUPT_FILE')) throw error;
        problems.push({ kind: 'corrupt_file', message: error.message, path: this.gatesPath, fixable: false });
      }
      await this.events.check(options.fix, problems, fixed);
      return { problems, fixed, recovered };
    });
  }

  /**
   * For `jit init` on a store whose index.json is missing: builds index.db
   * from the issue files (they are the truth) and writes the manifest, never
   * an empty index that would hide every issue. Synchronous, as initJit is,
   * under the exclusive index lock (always a real file lock: init takes no
   * injected locker), in the healing order. Null when index.json exists
   * (another init or validate made it first).
   */
  createMissingIndex(): { issues: number; unreadable: string[] } | null {
    this.checkInitialized();
    const held = lockFileSync(this.indexLock('exclusive'));
    try {
      if (fs.lstatSync(this.indexPath, { throwIfNoEntry: false })) return null;
      const built = this.rebuild(this.openIndex(true, true), null);
      return createFileIfMissing(this.jitDir, INDEX_FILE, manifestText()) ? { issues: built.issues, unreadable: built.unreadable } : null;
    } finally {
      held.release();
    }
  }

  // ------------------------------------------------------- the summary cache

  /**
   * Runs `query` against the cache as it stands for a reader: under the
   * shared index lock, current (see currentView), with every marked issue
   * read from its file (`overlay`), so nothing a writer acknowledged is
   * served stale. When the cache must first be built, upgraded or
   * re-synced, that is done under the exclusive index lock and the read
   * starts over. A store we may not write (read-only disk, someone else's
   * folder) is answered from the files (or a format-1 index.json) instead:
   * slower, never wrong.
   */
  private async read<T>(query: (view: ReadView) => T): Promise<T> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const held = await this.lock([this.indexLock('shared')]);
      let answer: { value: T } | null = null;
      try {
        const view = this.currentView();
        if (view) answer = { value: query(view) };
      } catch (error) {
        // Damaged under the query: a cache, rebuilt below. SQLite may refuse a reader only where it may not write (no -shm on a read-only disk).
        if (isUnusableDatabase(error)) this.forgetIndex();
        else if (!cannotWrite(error)) throw error;
        else break;
      } finally {
        held.release();
      }
      if (answer) return answer.value;
      try {
        await this.prepareIndex();
      } catch (error) {
        if (!cannotWrite(error)) throw error;
        break;
      }
    }
    return this.readWithoutIndex(query);
  }

  /**
   * Before a write touches issues/: an outside change (git pull) seen now is
   * re-synced, not mistaken for the write's own. Never waits for the index
   * lock (writes commit without it); whoever holds it checks the same on its
   * way in (currentIndex).
   */
  private async checkIndexBeforeWrite(): Promise<void> {
    const held = this.tryLockAll([this.indexLock('shared')]);
    if (!held) return;
    let current: boolean;
    try {
      current = this.currentView() !== null;
    } finally {
      held.release();
    }
    if (!current) await this.prepareIndex();
  }

  /**
   * The cache as a reader may use it, or null when it must first be built,
   * upgraded or re-synced. Shared index lock held. Current means: the
   * issues/ stamp is the one recorded when the rows last matched every file,
   * or markers of live writers are about (jit writes then explain any
   * change; their writers heal and re-stamp). A marker whose writer process
   * is gone explains nothing: the directory is re-synced.
   */
  private currentView(): ReadView | null {
    try {
      const manifest = this.readManifest();
      const index = manifest.version === 2 ? this.openIndexIfUsable() : null;
      if (index?.meta(META.built) === undefined) return null;
      // Stamp before listing: a jit write shown in the stamp made its marker before it touched issues/.
      const stamp = this.dirStamp();
      const pending = this.journal.markersByIssue();
      // Markers explain a changed stamp only while their writers live: one left by a killed writer
      // must not hide a git checkout made since (currentIndex re-syncs and clears it).
      if (index.meta(META.dirStamp) !== stamp && (pending.size === 0 || this.journal.hasOrphans())) return null;
      return { index, overlay: this.overlay(pending) };
    } catch (error) {
      if (!isUnusableDatabase(error)) throw error;
      // Replaced or damaged under us: it is a cache, rebuilt by prepareIndex.
      this.forgetIndex();
      return null;
    }
  }

  /** A reader on a store whose cache it may not build: every summary from the files (or a format-1 index.json), marked issues overlaid. */
  private async readWithoutIndex<T>(query: (view: ReadView) => T): Promise<T> {
    const held = await this.lock([this.indexLock('shared')]);
    try {
      const manifest = this.readManifest(true);
      const pending = this.journal.markersByIssue();
      let all: Summaries;
      if (manifest.version === 1) {
        all = new Map(manifest.summaries);
        for (const [id, summary] of this.overlay(pending)) {
          if (summary) all.set(id, summary);
          else all.delete(id);
        }
      } else {
        all = new Map();
        for (const id of this.issueFileIds()) {
          const issue = this.readIssueFileOrKeep(id);
          if (issue) all.set(id, freezeSummary(summarize(issue)));
        }
      }
      return query({ index: null, all });
    } finally {
      held.release();
    }
  }

  /** Takes the exclusive index lock and makes the cache current (currentIndex). */
  private async prepareIndex(): Promise<void> {
    const held = await this.lock([this.indexLock('exclusive')]);
    try {
      this.currentIndex();
    } finally {
      held.release();
    }
  }

  /**
   * The cache, made current. Exclusive index lock held. Upgrades a format-1
   * store (builds index.db from the files, then replaces index.json by the
   * manifest and adds the cache to .gitignore), builds a missing, unusable
   * or unfinished index.db, and re-syncs one whose issues/ stamp shows a
   * change no marker accounts for (git pull, a copied store, an older jit).
   */
  private currentIndex(): SummaryIndex {
    const manifest = this.readManifest(true);
    let index = this.openIndex(true, false);
    let built: string | undefined;
    try {
      built = index.meta(META.built);
    } catch (error) {
      if (!isUnusableDatabase(error)) throw error;
      // Damaged since this process opened it: a cache, so start it afresh.
      index = this.openIndex(true, true);
    }
    if (manifest.version === 1 || built === undefined) {
      this.rebuild(index, manifest.version === 1 ? manifest.summaries : null);
      if (manifest.version === 1) this.finishUpgrade();
    } else if (index.meta(META.dirStamp) !== this.dirStamp() && (this.journal.markersByIssue().size === 0 || this.journal.hasOrphans())) {
      this.resync(index);
    }
    return index;
  }

  /** After a format-1 store's index.db is built: the manifest (older jit now refuse the store), then the .gitignore lines. */
  private finishUpgrade(): void {
    writeFileAtomic(this.jitDir, INDEX_FILE, manifestText());
    const gitignore = upgradedGitignoreText(readTextIfExists(path.join(this.jitDir, GITIGNORE_FILE)));
    if (gitignore !== null) writeFileAtomic(this.jitDir, GITIGNORE_FILE, gitignore);
  }

  /**
   * Builds every row from the files, in the healing order: (1) list the
   * markers, (2) probe their issues, (3) read the files, (4) write the rows in
   * one transaction, (5) clear the markers listed whose issue was free. An
   * in-flight or corrupt issue keeps its last known summary (`previous`, or
   * the row), so nothing is guessed or dropped. Exclusive index lock held.
   */
  private rebuild(index: SummaryIndex, previous: ReadonlyMap<string, IssueSummary> | null): { issues: number; unreadable: string[]; corrupt: Map<string, JitError> } {
    const listed = this.journal.markersByIssue();
    const inFlight = new Set([...listed.keys()].filter((id) => this.isBeingWritten(id)));
    this.addMissingIssueLockFiles();
    const stamp = this.dirStamp();
    const put: IndexRow[] = [];
    const corrupt = new Map<string, JitError>();
    for (const id of this.issueFileIds()) {
      const read = this.readStamped(id, corrupt);
      if (read.issue) put.push({ summary: freezeSummary(summarize(read.issue)), fileStamp: read.stamp });
    }
    const files = put.length;
    const keep = (id: string): IssueSummary | undefined => previous?.get(id) ?? (index.meta(META.built) === undefined ? undefined : index.get(id));
    for (const id of new Set([...corrupt.keys(), ...inFlight])) {
      const last = keep(id);
      if (last && !put.some((row) => row.summary.id === id)) put.push({ summary: last, fileStamp: null });
    }
    const finished = [...listed].filter(([id]) => !inFlight.has(id) && !corrupt.has(id));
    const settled = finished.length === listed.size;
    index.apply({ replaceAll: true, put, meta: { [META.built]: new Date().toISOString(), ...(settled ? { [META.dirStamp]: stamp } : {}) } });
    this.journal.clearMarkers(finished.flatMap(([, names]) => names));
    return { issues: files, unreadable: [...corrupt.keys()].map((id) => this.issuePath(id)), corrupt };
  }

  /**
   * Brings rows up to a directory an outside hand changed: every file whose
   * stamp differs from its row's is re-read, rows of missing files dropped.
   * The healing order holds: heal lists the markers and probes before it reads.
   */
  private resync(index: SummaryIndex): void {
    this.addMissingIssueLockFiles();
    const stamp = this.dirStamp();
    const rows = index.fileStamps();
    const changed = new Set<string>();
    for (const id of this.issueFileIds()) {
      if (rows.get(id) !== this.fileStamp(id)) changed.add(id);
      rows.delete(id);
    }
    for (const id of rows.keys()) changed.add(id); // rows of files that are gone
    const healed = this.heal(index, this.journal.markersByIssue(), changed);
    index.apply({ put: healed.put, remove: healed.remove, meta: healed.settled ? { [META.dirStamp]: stamp } : {} });
    this.journal.clearMarkers(healed.clear);
  }

  /**
   * The connection to index.db, opened once per process and reopened when
   * the file was replaced. `create`: make it when missing (writers, under the
   * exclusive index lock), and replace one SQLite refuses or of another
   * format (it is a cache); `fresh`: start from an empty file whatever is
   * there (a rebuild by init).
   */
  private openIndex(create: true, fresh: boolean): SummaryIndex;
  private openIndex(create: false): SummaryIndex | null;
  private openIndex(create: boolean, fresh = false): SummaryIndex | null {
    const cached = connections.get(this.indexDbPath);
    const stat = this.indexDbStat();
    // A reader's connection may be to a file with no tables (its -wal, which held them, was deleted):
    // a writer then starts it afresh instead of querying tables that are not there.
    if (cached && (!stat || `${stat.dev}:${stat.ino}` !== cached.identity || fresh || (create && cached.format() !== INDEX_DB_FORMAT))) {
      cached.close();
      connections.delete(this.indexDbPath);
    } else if (cached) {
      return cached;
    }
    if (!create && !stat) return null;
    if (fresh || !stat) this.removeIndexDb();
    let index: SummaryIndex;
    try {
      index = new SummaryIndex(this.indexDbPath, { create });
      if (create && index.format() !== INDEX_DB_FORMAT) {
        if (index.format() !== null) throw Object.assign(new Error(`index.db has format ${index.format()}`), { code: 'SQLITE_FORMAT' });
        index.initialize();
      }
    } catch (error) {
      if (!create || !isUnusableDatabase(error)) throw error;
      // A cache SQLite refuses (or of another format) is rebuilt from the files.
      this.removeIndexDb();
      index = new SummaryIndex(this.indexDbPath, { create });
      index.initialize();
    }
    connections.set(this.indexDbPath, index);
    return index;
  }

  /** Closes this process's connection to index.db (it was found damaged). */
  private forgetIndex(): void {
    connections.get(this.indexDbPath)?.close();
    connections.delete(this.indexDbPath);
  }

  /** The cache for a reader: null when it is missing or unusable (a writer builds it). */
  private openIndexIfUsable(): SummaryIndex | null {
    try {
      const index = this.openIndex(false);
      return index && index.format() === INDEX_DB_FORMAT ? index : null;
    } catch (error) {
      if (isUnusableDatabase(error) || cannotWrite(error)) return null;
      throw error;
    }
  }

  private indexDbStat(): fs.Stats | undefined {
    let stat: fs.Stats | undefined;
    try {
      stat = fs.lstatSync(this.indexDbPath, { throwIfNoEntry: false });
    } catch (error) {
      throw fsError(error, this.indexDbPath, 'inspect');
    }
    if (stat?.isSymbolicLink()) throw unsafePath(this.indexDbPath, 'is a symbolic link');
    if (stat && !stat.isFile()) throw unsafePath(this.indexDbPath, 'is not a regular file');
    if (stat) checkSingleLink(this.indexDbPath, stat);
    return stat;
  }

  /** Removes index.db and its companions: a stale -wal must never be replayed into a new database. Exclusive index lock held. */
  private removeIndexDb(): void {
    for (const name of [...INDEX_DB_COMPANIONS, INDEX_DB_FILE]) removeFile(this.jitDir, name);
  }

  /**
   * index.json: the format-2 manifest, or a format-1 index (upgraded by the
   * next writer). Readers only check its head: jit's manifest is a few bytes
   * and never changes; anything else is parsed (and reported) whole. With
   * `whole`, a format-1 index is parsed for its summaries.
   */
  private readManifest(whole: true): IndexManifest;
  private readManifest(whole?: false): IndexManifest | { version: 1 };
  private readManifest(whole = false): IndexManifest | { version: 1 } {
    const file = openRegularFile(this.indexPath, fs.constants.O_RDONLY, 'read');
    // No index.json: the same CORRUPT_FILE (and hint) as for an empty one.
    if (file === null) {
      throw new JitError('CORRUPT_FILE', `The index ${this.indexPath} is missing.`, {
        suggestions: [hint`${run(command('validate', { fix: true }))} to rebuild it from the issue files.`],
        details: { path: this.indexPath },
      });
    }
    const head = Buffer.alloc(MANIFEST.length + 1);
    let size: number;
    try {
      size = fs.readSync(file.fd, head, 0, head.length, 0);
    } catch (error) {
      throw fsError(error, this.indexPath, 'read');
    } finally {
      fs.closeSync(file.fd);
    }
    const text = head.subarray(0, size).toString('latin1');
    if (text === MANIFEST) return { version: 2 };
    if (!whole && text.startsWith(LEGACY_HEAD)) return { version: 1 };
    return parseManifest(readTextIfExists(this.indexPath) ?? '', this.indexPath);
  }

  /**
   * Issue files that came without their lock file (git clone or pull, a
   * copied store) get it now, before the issues/ stamp is recorded: the first
   * lock of such an issue would otherwise change the folder, and the next
   * command would take that for an outside change and re-sync every row.
   * Lock files are empty and never data, so nothing is fsynced; a folder
   * this process may not write keeps what it has.
   */
  private addMissingIssueLockFiles(): void {
    let names: string[];
    try {
      names = listDirectory(this.issuesDir);
    } catch {
      return; // issueFileIds reports a missing or unreadable folder
    }
    const present = new Set(names);
    for (const name of names) {
      const id = ISSUE_FILE.exec(name)?.[1];
      if (id === undefined || present.has(`${id}.lock`)) continue;
      try {
        fs.closeSync(fs.openSync(path.join(this.issuesDir, `${id}.lock`), fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | (fs.constants.O_NOFOLLOW ?? 0), 0o666));
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') return;
        if (code !== 'EEXIST') throw fsError(error, path.join(this.issuesDir, `${id}.lock`), 'create');
      }
    }
  }

  private dirStamp(): string {
    return directoryStamp(this.issuesDir);
  }

  private fileStamp(id: string): string | null {
    return fileStamp(this.issuePath(id));
  }

  /** The issue with its file's stamp taken first; a corrupt file is recorded in `corrupt` (when given) and read as undefined. */
  private readStamped(id: string, corrupt?: Map<string, JitError>): StampedRead {
    const stamp = this.fileStamp(id);
    try {
      return { issue: stamp === null ? null : this.readIssueFile(id), stamp };
    } catch (error) {
      if (!(error instanceof JitError && (error.code === 'CORRUPT_FILE' || error.code === 'UNSUPPORTED_SCHEMA'))) throw error;
      corrupt?.set(id, error);
      return { issue: undefined, stamp };
    }
  }

  /** The marked issues as their files say (null: deleted); a corrupt file is left out (its row stands). */
  private overlay(pending: Map<string, string[]>): Map<string, IssueSummary | null> {
    const overlay = new Map<string, IssueSummary | null>();
    for (const id of pending.keys()) {
      const issue = this.readIssueFileOrKeep(id);
      if (issue !== undefined) overlay.set(id, issue && freezeSummary(summarize(issue)));
    }
    return overlay;
  }

  /**
   * The graph a graph transaction reasons about. An issue whose writer is
   * still at work counts with the edges of both its row and its file, so a
   * cycle check never misses an edge that is being written. Point look-ups:
   * a walk costs what it reaches.
   */
  private graphLookup(index: SummaryIndex, healed: Healed): GraphLookup {
    const overlay = new Map<string, IssueSummary | null>();
    for (const row of healed.put) overlay.set(row.summary.id, row.summary);
    for (const id of healed.remove) overlay.set(id, null);
    for (const id of healed.inFlight) {
      const issue = this.readIssueFileOrKeep(id);
      if (!issue) continue;
      const entry = overlay.has(id) ? overlay.get(id) : index.get(id);
      const dependencies = [...new Set([...(entry?.dependencies ?? []), ...issue.dependencies])];
      overlay.set(id, freezeSummary({ ...(entry ?? summarize(issue)), dependencies }));
    }
    return {
      summary: (id) => (overlay.has(id) ? (overlay.get(id) ?? undefined) : index.get(id)),
      dependentsOf: (id) => {
        const found = new Set(index.dependentIds(id).filter((d) => !overlay.has(d)));
        for (const [other, summary] of overlay) if (summary?.dependencies.includes(id)) found.add(other);
        return [...found].sort(compareIds);
      },
    };
  }

  // -------------------------------------------------------------- internal

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const key = this.queueKey();
    const previous = queues.get(key) ?? Promise.resolve();
    const run = previous.then(work, work);
    const tail = run.catch(() => undefined);
    queues.set(key, tail);
    void tail.then(() => {
      if (queues.get(key) === tail) queues.delete(key);
    });
    return run;
  }

  /**
   * The queue of this `.jit/`: its file identity (device:inode), as the lock
   * registry keys locks, so every spelling of the path (a symlinked parent,
   * a bind mount) shares one queue instead of waiting on its own locks.
   * A store that cannot be inspected falls back to the path; the work then
   * reports why.
   */
  private queueKey(): string {
    try {
      const stat = fs.statSync(this.jitDir, { bigint: true });
      return `${stat.dev}:${stat.ino}`;
    } catch {
      return this.jitDir;
    }
  }

  private async lock(requests: LockRequest[]): Promise<HeldLocks> {
    this.checkInitialized();
    return this.locker.lockAll(requests);
  }

  /**
   * Creates `issues/` and `pending/` when they are missing: git keeps no
   * empty folders, so a `.jit/` committed and cloned has neither. mkdir never
   * follows a symlink, and an existing entry must be a real directory
   * (UNSAFE_PATH otherwise). Writers and validate call it; plain reads of
   * the index do not, so they keep working on a read-only file system.
   * Returns the folders it created.
   */
  private ensureLayout(): string[] {
    this.checkInitialized();
    const created: string[] = [];
    for (const dir of [this.issuesDir, this.pendingDir]) if (makeDirectory(dir)) created.push(`${path.basename(dir)}/`);
    if (created.length > 0) fsyncDirectory(this.jitDir);
    return created;
  }

  /** All of `requests` right now, or none (null). */
  private tryLockAll(requests: LockRequest[]): HeldLocks | null {
    const held: HeldLocks[] = [];
    const releaseAll = (): void => held.splice(0).reverse().forEach((h) => h.release());
    try {
      for (const request of requests) {
        const one = this.locker.tryLock(request.path, request.mode ?? 'exclusive', request.rank ?? RANK.issue);
        if (!one) {
          releaseAll();
          return null;
        }
        held.push(one);
      }
    } catch (error) {
      releaseAll();
      throw error;
    }
    return { release: releaseAll };
  }

  private checkInitialized(): void {
    if (path.basename(this.jitDir) !== JIT_DIR_NAME) {
      // Not a store (whatever it holds): never write a single file into someone else's folder.
      throw new JitError('NOT_INITIALIZED', `No jit store at ${this.jitDir}: a store is a folder named ${JIT_DIR_NAME}, as \`jit init\` makes it.`, {
        suggestions: [hint`${run(command('init'))} in your project folder and open its ${JIT_DIR_NAME} folder.`],
        details: { path: this.jitDir },
      });
    }
    try {
      checkDirectory(this.jitDir);
    } catch (error) {
      if ((error as JitError).details?.['errno'] === 'ENOENT') {
        throw new JitError('NOT_INITIALIZED', `No jit store at ${this.jitDir}.`, { suggestions: [hint`${run(command('init'))} in your project folder.`], details: { path: this.jitDir } });
      }
      throw error;
    }
  }

  private checkId(id: string): void {
    if (!ISSUE_FILE.test(`${id}.json`)) {
      throw new JitError('INTERNAL', `Storage was handed a malformed issue id ${JSON.stringify(id)}.`);
    }
  }

  /**
   * The index and the event log are written after the issue files commit,
   * when a failure can no longer be reported as "nothing happened". Refuse
   * a planted symlink or folder there up front instead, and an index.json
   * that is missing or not jit's (a write no reader could see must not be
   * acknowledged).
   */
  private checkAfterCommitFiles(): void {
    const files = [this.lockPath('index'), this.indexPath, this.indexDbPath, ...INDEX_DB_COMPANIONS.map((name) => path.join(this.jitDir, name))];
    for (const file of [...files, this.lockPath('events'), this.eventsPath]) this.checkRegularFile(file);
    this.readManifest();
  }

  /** UNSAFE_PATH when a file jit writes was replaced by a symlink, something other than a regular file, or a file with other hard links. */
  private checkRegularFile(lockFile: string): void {
    let stat: fs.Stats;
    try {
      stat = fs.lstatSync(lockFile);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return; // created on first use
      throw fsError(error, lockFile, 'inspect');
    }
    if (stat.isSymbolicLink()) throw unsafePath(lockFile, 'is a symbolic link');
    if (!stat.isFile()) throw unsafePath(lockFile, 'is not a regular file');
    checkSingleLink(lockFile, stat);
  }

  private lockPath(name: 'index' | 'gates' | 'events'): string {
    return path.join(this.jitDir, `.${name}.lock`);
  }

  private indexLock(mode: LockMode): LockRequest {
    return { path: this.lockPath('index'), mode, rank: RANK.index };
  }

  private issueLock(id: string, mode: LockMode): LockRequest {
    return { path: path.join(this.issuesDir, `${id}.lock`), mode, rank: RANK.issue };
  }

  private newTx(locks: IssueLocks): IssueTx & {
    writable: string[];
    readOnly: string[];
    changes: Map<string, Issue | null>;
    events: JitEvent[];
    followUps: FollowUp[];
  } {
    const writable = [...new Set(locks.write)];
    const readOnly = [...new Set(locks.read ?? [])].filter((id) => !writable.includes(id));
    const readable = new Set([...writable, ...readOnly, ...(locks.peek ?? [])]);
    for (const id of readable) this.checkId(id);
    const stored = new Map<string, Issue | null>();
    const changes = new Map<string, Issue | null>();
    const events: JitEvent[] = [];
    const followUps: FollowUp[] = [];
    let gates: ReadonlyMap<string, GateDefinition> | undefined;
    const refuse = (what: string, id: string): never => {
      throw new JitError('INTERNAL', `Transaction ${what} issue ${id} without locking it.`);
    };
    return {
      writable,
      readOnly,
      changes,
      events,
      followUps,
      issue: (id) => {
        if (!readable.has(id)) refuse('read', id);
        if (changes.has(id)) return structuredClone(changes.get(id)!);
        if (!stored.has(id)) stored.set(id, this.readIssueFile(id));
        return structuredClone(stored.get(id)!);
      },
      put: (issue) => {
        if (!writable.includes(issue.id)) refuse('wrote', issue.id);
        changes.set(issue.id, structuredClone(issue));
      },
      remove: (id) => {
        if (!writable.includes(id)) refuse('removed', id);
        changes.set(id, null);
      },
      event: (event) => void events.push(event),
      followUp: (kind, issueId) => {
        this.checkId(issueId);
        const followUp = newFollowUp(kind, issueId);
        followUps.push(followUp);
        return followUp;
      },
      gates: () => {
        if (!locks.gates) throw new JitError('INTERNAL', 'Transaction read the gate registry without locking it.');
        return (gates ??= this.readGatesFile());
      },
    };
  }

  private issuePath(id: string): string {
    return path.join(this.issuesDir, `${id}.json`);
  }

  private readIssueFile(id: string): Issue | null {
    const file = this.issuePath(id);
    const text = readTextIfExists(file);
    return text === null ? null : parseIssue(text, file, id);
  }

  /** The issue, null when its file is gone, undefined when the file is corrupt (keep what the index says). */
  private readIssueFileOrKeep(id: string): Issue | null | undefined {
    try {
      return this.readIssueFile(id);
    } catch (error) {
      if (error instanceof JitError && (error.code === 'CORRUPT_FILE' || error.code === 'UNSUPPORTED_SCHEMA')) return undefined;
      throw error;
    }
  }

  /** A missing issues/ (a cloned store before its first write) holds no issues. */
  private issueFileIds(): string[] {
    try {
      fs.lstatSync(this.issuesDir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw fsError(error, this.issuesDir, 'open the directory');
    }
    return listDirectory(this.issuesDir)
      .map((name) => ISSUE_FILE.exec(name)?.[1])
      .filter((id): id is string => id !== undefined)
      .sort();
  }

  /**
   * Each file is replaced atomically; several are not, together. Writes go
   * before removals so that a disk error part-way through a delete leaves
   * the deleted issue in place rather than its dependents waiting for nothing.
   */
  private writeIssueFiles(changes: Map<string, Issue | null>): void {
    for (const [id, issue] of changes) if (issue) writeFileAtomic(this.issuesDir, `${id}.json`, JSON.stringify(issue, null, 2) + '\n');
    for (const [id, issue] of changes) if (!issue) removeFile(this.issuesDir, `${id}.json`);
  }

  private readGatesFile(): Map<string, GateDefinition> {
    const text = readTextIfExists(this.gatesPath);
    return new Map(text === null ? [] : Object.entries(parseGates(text, this.gatesPath).gates));
  }

  /** True while some process holds the issue's lock exclusively (its write may be under way). */
  private isBeingWritten(id: string): boolean {
    // No issues/ (a cloned store, or removed by hand): nobody can hold a lock in it.
    if (!fs.existsSync(this.issuesDir)) return false;
    const probe = this.locker.tryLock(path.join(this.issuesDir, `${id}.lock`), 'shared', RANK.issue);
    probe?.release();
    return probe === null;
  }

  /**
   * The rows of marked (and `changed`) issues brought up to their files.
   * A marker is cleared only when no writer holds its issue: every writer
   * that made one of the markers listed has then finished, so the file read
   * afterwards includes its write. Called with the index lock held
   * exclusively; the caller applies `put`/`remove` in one transaction, then
   * clears `clear`.
   */
  private heal(index: SummaryIndex, pending: Map<string, string[]>, changed: Set<string>): Healed {
    const healed: Healed = { put: [], remove: [], clear: [], inFlight: new Set(), settled: true };
    for (const id of new Set([...pending.keys(), ...changed])) {
      const busy = this.isBeingWritten(id);
      if (busy) healed.inFlight.add(id);
      if (busy && !changed.has(id)) {
        healed.settled = false;
        continue; // its writer will update it
      }
      const { issue, stamp } = this.readStamped(id);
      if (issue === undefined) {
        // Corrupt: keep the row and the marker; validate reports it.
        if (pending.has(id)) healed.settled = false;
        continue;
      }
      const before = index.get(id);
      if (issue === null) {
        if (before) healed.remove.push(id);
      } else if (!before || index.fileStamp(id) !== stamp || JSON.stringify(before) !== JSON.stringify(summarize(issue))) {
        healed.put.push({ summary: freezeSummary(summarize(issue)), fileStamp: stamp });
      }
      if (busy) healed.settled = false;
      else healed.clear.push(...(pending.get(id) ?? []));
    }
    return healed;
  }

  /**
   * The issue files are the commit point: once they are written the
   * operation has happened, whatever befalls the index update (a lock
   * timeout, a corrupt index). Its markers stay, so readers still see the
   * files and the next writer or `validate --fix` heals the index.
   */
  private async syncIndexAfterCommit(changed: string[]): Promise<void> {
    try {
      await this.syncIndex(changed);
    } catch {
      // Deliberately ignored: see above.
    }
  }

  /**
   * Brings the rows of `changed` up to their files and clears finished
   * markers. An issue another process holds right now keeps its marker; we
   * wait for that holder without the index lock (so the order is kept) and
   * try again, so markers do not outlive their writers in the common case.
   * With no marker left, the issues/ stamp read after the probes is recorded:
   * every change it shows is then in the rows.
   */
  private async syncIndex(changed: string[]): Promise<void> {
    let remaining = changed;
    for (let attempt = 0; remaining.length > 0; attempt++) {
      const held = await this.lock([this.indexLock('exclusive')]);
      let healed: Healed;
      try {
        const index = this.currentIndex();
        healed = this.heal(index, this.journal.markersByIssue(), new Set(remaining));
        const stamp = healed.settled ? this.dirStamp() : null;
        if (healed.put.length > 0 || healed.remove.length > 0 || stamp !== null) {
          index.apply({ put: healed.put, remove: healed.remove, meta: stamp === null ? {} : { [META.dirStamp]: stamp } });
        }
        this.journal.clearMarkers(healed.clear);
      } finally {
        held.release();
      }
      remaining = remaining.filter((id) => healed.inFlight.has(id));
      // Whoever holds them heals them when it writes; a holder that only reads leaves that to us.
      if (remaining.length === 0 || attempt === 3) return;
      (await this.lock(remaining.map((id) => this.issueLock(id, 'shared')))).release();
    }
  }

  /**
   * Events of a transaction whose issue files are already in place. The
   * change has happened, so a failure here must not be reported as an
   * error: a retrying caller (LOCK_TIMEOUT means "retry") would apply it
   * twice. The event log is an audit trail, not the truth; say what was
   * lost on stderr and succeed.
   */
  private async appendCommittedEvents(events: JitEvent[], committed: string[]): Promise<void> {
    try {
      await this.appendEvents(events);
    } catch (error) {
      if (committed.length === 0) throw error;
      const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
      process.emitWarning(`The change to ${committed.join(', ')} was saved, but ${events.length} event(s) were not logged: ${reason}`, {
        code: 'JIT_EVENTS_NOT_LOGGED',
      });
    }
  }

  private async appendEvents(events: JitEvent[]): Promise<void> {
    if (events.length === 0) return;
    const held = await this.lock([{ path: this.lockPath('events'), mode: 'exclusive', rank: RANK.events }]);
    try {
      // After a crash mid-append the file may end in a torn line: start on a fresh line so ours stays whole.
      const prefix = endsWithNewline(this.eventsPath) ? '' : '\n';
      appendText(this.eventsPath, prefix + events.map((e) => JSON.stringify(e) + '\n').join(''));
    } finally {
      held.release();
    }
  }

  /**
   * The index against the issue files (integrity.ts says what differs);
   * with fix, or when only crash leftovers differ, the index is rebuilt
   * from the files in the healing order (rebuild). Exclusive index lock held.
   */
  private checkIndex(fix: boolean, problems: ValidationProblem[], fixed: string[], recovered: string[]): void {
    let manifest: IndexManifest | null = null;
    try {
      manifest = this.readManifest(true);
    } catch (error) {
      // UNSUPPORTED_SCHEMA (a newer jit's store) fails validate as it fails every command.
      if (!(error instanceof JitError && error.code === 'CORRUPT_FILE')) throw error;
      // A file jit did not write (another tool's index.json) is somebody's data: never replace it.
      const replaceable = error.details?.['written_by_jit'] !== false;
      problems.push({ kind: 'corrupt_file', message: error.message, path: this.indexPath, fixable: replaceable });
      if (!fix || !replaceable) return;
    }
    let usable = true;
    // Judge the file as it is on disk, not through the pages this process has cached.
    this.forgetIndex();
    if (this.indexDbStat()) {
      let probe: SummaryIndex | null = null;
      try {
        probe = new SummaryIndex(this.indexDbPath, { create: false });
        const verdict = probe.format() === INDEX_DB_FORMAT ? probe.quickCheck() : `format ${probe.format()}, not ${INDEX_DB_FORMAT}`;
        if (verdict !== 'ok') throw Object.assign(new Error(verdict), { code: 'SQLITE_CORRUPT' });
      } catch (error) {
        if (!isUnusableDatabase(error)) throw error;
        usable = false;
        problems.push({ kind: 'corrupt_file', message: `Corrupt file ${this.indexDbPath}: ${(error as Error).message}.`, path: this.indexDbPath, fixable: true });
        if (!fix) return;
      } finally {
        probe?.close();
      }
    }
    const index = this.openIndex(true, !usable);
    const built = usable && manifest?.version === 2 && index.meta(META.built) !== undefined;
    if (built) {
      // Crash leftovers (markers whose writer is gone), healed in the healing order whether or not fix was asked.
      const healed = this.heal(index, this.journal.markersByIssue(), new Set());
      if (healed.put.length > 0 || healed.remove.length > 0) index.apply({ put: healed.put, remove: healed.remove });
      this.journal.clearMarkers(healed.clear);
      for (const id of [...healed.put.map((row) => row.summary.id), ...healed.remove]) {
        recovered.push(`brought the index summary of ${id} up to its issue file (a writer died between the two)`);
      }
    }
    const found = compareIndexWithFiles({
      rows: built ? new Map(index.all().map((s) => [s.id, s])) : null,
      ids: this.issueFileIds(),
      read: (id) => this.readIssueFile(id),
      issuePath: (id) => this.issuePath(id),
      indexPath: this.indexDbPath,
      marked: new Set(this.journal.markersByIssue().keys()),
    });
    problems.push(...found.problems);
    if (built && (found.mismatches === 0 || !fix)) return;
    // Asked to fix, or nothing to compare yet (a format-1 store, a cache never built): build it as every writer would.
    const result = this.rebuild(index, manifest?.version === 1 ? manifest.summaries : null);
    if (fix && (built || !usable || manifest === null)) fixed.push(`rebuilt ${this.indexDbPath} from ${result.issues} issue files`);
    if (manifest?.version === 1) {
      this.finishUpgrade();
      recovered.push(`upgraded the store to format ${INDEX_SCHEMA_VERSION}: built ${INDEX_DB_FILE} from ${result.issues} issue files and wrote the manifest ${this.indexPath}`);
    } else if (manifest === null) {
      this.finishUpgrade();
      fixed.push(`wrote ${this.indexPath}: the store's format manifest (format ${INDEX_SCHEMA_VERSION}, summaries in ${INDEX_DB_FILE})`);
    }
  }
}

/** The head of index.json of format 2 as jit writes it (the whole file but its newline). */
const MANIFEST = manifestText().trimEnd();
/** How every format-1 index.json jit wrote begins. */
const LEGACY_HEAD = '{"schema_version":1,';

const compareIds = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** `rows` with the marked issues replaced by their files' summaries (those that still pass `keep`). */
function overlaid(rows: readonly IssueSummary[], overlay: ReadonlyMap<string, IssueSummary | null>, keep: (summary: IssueSummary) => boolean): Summaries {
  const result: Summaries = new Map();
  for (const row of rows) if (!overlay.has(row.id)) result.set(row.id, row);
  for (const [id, summary] of overlay) if (summary && keep(summary)) result.set(id, summary);
  return result;
}

/** Every summary a reader may see. */
function wholeView(view: ReadView): ReadonlyMap<string, IssueSummary> {
  if (!view.index) return view.all;
  const all: Summaries = new Map(view.index.all().map((s) => [s.id, s]));
  for (const [id, summary] of view.overlay) {
    if (summary) all.set(id, summary);
    else all.delete(id);
  }
  return all;
}

/** A failure that says the store may not be written here (read-only disk, someone else's folder), not that it is broken. */
function cannotWrite(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  const errno = (error as JitError).details?.['errno'];
  return code === 'PERMISSION_DENIED' || errno === 'EROFS' || errno === 'EACCES' || errno === 'EPERM' || isReadOnlyDatabase(error);
}

/** A transaction told not to wait (`wait: false`) found a lock busy. */
function busy(ids: readonly string[]): never {
  throw new JitError('LOCK_TIMEOUT', `Issue ${ids.join(', ')} is being written by another process right now.`, {
    suggestions: ['Retry: nothing was changed.'],
    details: { ids: [...ids], timeout_ms: 0 },
  });
}
