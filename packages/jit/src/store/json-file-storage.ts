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
 * The invariant that keeps index.db true to the files, and the healing
 * order every step follows, are in the header of summary-cache.ts, which
 * keeps the cache; issue-files.ts reads and writes the issue files,
 * store-locks.ts names the locks, index-journal.ts keeps the markers.
 *
 * Follow-ups (FollowUp in storage.ts): what a transaction owes after its
 * commit (the dependents of an issue that finished or reopened) is a marker
 * too, named `<id>.<pid>.<n>.<kind>` (older versions of jit ignore the
 * suffix), made with the issue markers before the first write and removed
 * by whoever has done the work. listFollowUps keeps the healing order: it
 * lists, then offers only those whose issue is free, so the work the
 * tracker does next reads the write the follow-up belongs to.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { LockRequest } from 'jit-lock';
import { JitError } from './errors.js';
import { appendText, checkDirectory, checkSingleLink, endsWithNewline, fsError, fsyncDirectory, makeDirectory, readTextIfExists, unsafePath, writeFileAtomic } from './files.js';
import { removeStrayTemps } from './integrity.js';
import { IssueFiles } from './issue-files.js';
import { fileLocker, type HeldLocks, type Locker } from './locker.js';
import { STATES, type GateDefinition, type Issue, type JitEvent, type State } from './model.js';
import { EventLog } from './event-log.js';
import { ChangeFeed, type ChangeFeedOptions, type ChangeSource } from './change-feed.js';
import { isAgentLive, listAgents, type AgentRecord } from './agents.js';
import { isClaim } from './leases.js';
import { PendingJournal, newFollowUp } from './index-journal.js';
import { GATES_FILE, INDEX_DB_COMPANIONS, gatesText, storeLayout } from './layout.js';
import * as queries from './queries.js';
import { isTerminal, unfinishedDependencies } from './rules.js';
import { parseGates } from './schema.js';
import { issueRow } from './summary-index.js';
import type { BlockedCandidate, EventFilter, FollowUp, GraphLookup, GraphTx, IssueLocks, IssueTx, LabelNamespace, LabelValue, ReadyQuery, Storage, StorageCheck, SummariesPage, SummaryFilter, SummaryPage, HeldClaim, HeldClaims } from './storage.js';
import { readStoreConfig, type StoreConfig } from './config.js';
import { StoreLocks } from './store-locks.js';
import { SummaryCache, overlaid, overlaidReadyWork, wholeView } from './summary-cache.js';
import type { IssueSummary, JsonList, StatusReport, ValidationProblem } from './tracker-api.js';

export interface JsonFileStorageOptions {
  /** The lock layer; the default takes real OS locks. Only the benchmark swaps it. */
  locker?: Locker;
}

/** One queue per `.jit/` (by file identity) per process: see the header. */
const queues = new Map<string, Promise<unknown>>();

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
  private readonly locks: StoreLocks;
  /** issues/: the issue files (issue-files.ts). */
  private readonly files: IssueFiles;
  /** pending/: the markers and follow-ups (index-journal.ts). */
  private readonly journal: PendingJournal;
  /** index.db: the summary cache and its upkeep (summary-cache.ts). */
  private readonly cache: SummaryCache;
  private readonly events: EventLog;

  constructor(jitDir: string, options: JsonFileStorageOptions = {}) {
    const layout = storeLayout(jitDir);
    ({
      jitDir: this.jitDir,
      issuesDir: this.issuesDir,
      pendingDir: this.pendingDir,
      indexPath: this.indexPath,
      indexDbPath: this.indexDbPath,
      gatesPath: this.gatesPath,
      eventsPath: this.eventsPath,
    } = layout);
    this.description = `files at ${this.jitDir}`;
    this.locks = new StoreLocks(this.jitDir, this.issuesDir, options.locker ?? fileLocker);
    this.files = new IssueFiles(this.issuesDir);
    this.journal = new PendingJournal(this.pendingDir);
    this.cache = new SummaryCache(layout, this.files, this.journal, this.locks);
    this.events = new EventLog(this.eventsPath, (mode) => this.locks.lock([this.locks.events(mode)]));
  }

  // ----------------------------------------------------------------- reads

  loadSummaries(): Promise<ReadonlyMap<string, IssueSummary>> {
    return this.serial(() => this.cache.read((view) => wholeView(view)));
  }

  summaries(ids: readonly string[]): Promise<Map<string, IssueSummary>> {
    return this.serial(() =>
      this.cache.read((view) => {
        if (!view.index) return queries.pickSummaries(view.all, ids);
        const wanted = new Set(ids);
        const overlay = view.overlayOf((id) => wanted.has(id));
        const found = new Map(view.index.many(ids.filter((id) => !overlay.has(id))).map((s) => [s.id, s]));
        for (const id of ids) {
          const marked = overlay.get(id);
          if (marked) found.set(id, marked);
        }
        return queries.pickSummaries(found, ids);
      }),
    );
  }

  summariesByPrefix(prefix: string, limit: number): Promise<IssueSummary[]> {
    return this.serial(() =>
      this.cache.read((view) => {
        if (!view.index) return queries.summariesByPrefix(view.all, prefix, limit);
        // Only the marked issues the prefix names; enough rows that dropping them still leaves `limit`.
        const overlay = view.overlayOf((id) => id.startsWith(prefix));
        const rows = view.index.byPrefix(prefix, Math.max(0, limit) + overlay.size);
        return queries.summariesByPrefix(overlaid(rows, overlay, (s) => s.id.startsWith(prefix)), prefix, limit);
      }),
    );
  }

  dependentsOf(ids: readonly string[]): Promise<IssueSummary[]> {
    return this.serial(() =>
      this.cache.read((view) => {
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
      this.cache.read((view) => {
        // A marked issue's edges may be changing: walk every summary then (rare, and never wrong).
        if (!view.index || view.overlay.size > 0) return queries.downstreamOf(wholeView(view), id);
        return view.index.downstreamOf(id);
      }),
    );
  }

  readyWork(query: ReadyQuery = {}): Promise<IssueSummary[]> {
    return this.serial(() =>
      this.cache.read((view) => {
        if (!view.index) return queries.readyWork(view.all, query);
        return view.overlay.size === 0 ? view.index.ready(query) : overlaidReadyWork(view.index, view.overlay, query);
      }),
    );
  }

  readyWorkJson(query: ReadyQuery = {}): Promise<JsonList> {
    return this.serial(() =>
      this.cache.read((view) => {
        if (view.index && view.overlay.size === 0) return view.index.readyJson(query);
        return queries.jsonList(!view.index ? queries.readyWork(view.all, query) : overlaidReadyWork(view.index, view.overlay, query));
      }),
    );
  }

  statusReport(options: Pick<ReadyQuery, 'excludeLabels'> = {}): Promise<StatusReport> {
    return this.serial(() =>
      this.cache.read((view) => {
        if (!view.index) return queries.statusReport(view.all, options);
        // The counters, with the marked issues (and their dependents) recounted as their files say.
        const counts = view.index.counts(options.excludeLabels, view.overlay);
        const byState = Object.fromEntries(STATES.map((s) => [s, counts.byState.get(s) ?? 0])) as Record<State, number>;
        return { total: counts.total, by_state: byState, ready: counts.ready, blocked: counts.blocked };
      }),
    );
  }

  labelNamespaces(): Promise<LabelNamespace[]> {
    return this.serial(() =>
      this.cache.read((view) => (!view.index || view.overlay.size > 0 ? queries.labelNamespaces(wholeView(view)) : view.index.labelNamespaces())),
    );
  }

  labelValues(namespace: string): Promise<LabelValue[]> {
    return this.serial(() =>
      this.cache.read((view) => {
        if (!view.index) return queries.labelValues(view.all, namespace);
        if (view.overlay.size === 0) return view.index.labelValues(namespace);
        // The namespace's issues from the index, with the marked ones as their files say.
        const carrying = view.index.list({ label: `${namespace}:*` });
        return queries.labelValues(overlaid(carrying, view.overlay, (s) => s.labels.some((l) => l.startsWith(`${namespace}:`))), namespace);
      }),
    );
  }

  readConfig(): StoreConfig {
    return readStoreConfig(this.jitDir);
  }

  blockedCandidates(): Promise<BlockedCandidate[]> {
    return this.serial(() =>
      this.cache.read((view) => {
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
      this.cache.read((view) => {
        if (!view.index) return queries.lapsableClaims(view.all, now);
        return queries.lapsableClaims(overlaid(view.index.lapsable(now), view.overlay, () => true), now);
      }),
    );
  }

  listSummaries(filter: SummaryFilter = {}): Promise<IssueSummary[]> {
    return this.serial(() =>
      this.cache.read((view) => {
        if (!view.index) return queries.listSummaries(view.all, filter);
        return queries.listSummaries(overlaid(view.index.list(filter), view.overlay, () => true), filter);
      }),
    );
  }

  heldClaims(): Promise<HeldClaims> {
    return this.serial(() =>
      this.cache.read((view) => {
        // No usable index (a read-only store it could not build): the summaries say which issues are claims, their files the leases.
        if (!view.index) return { claims: [], fromFiles: [...view.all.values()].filter(isClaim).map((s) => s.id) };
        // A marked issue's row may lag its file (the invariant): its files says whether it is a claim, and its lease.
        const marked = view.overlay;
        const fromFiles = [...marked].filter(([, s]) => s !== null && isClaim(s)).map(([id]) => id);
        const claims: HeldClaim[] = [];
        for (const { summary, lease } of view.index.claims()) {
          if (marked.has(summary.id)) continue;
          if (lease === undefined) fromFiles.push(summary.id);
          else claims.push({ summary, lease });
        }
        return { claims, fromFiles };
      }),
    );
  }

  pageSummaries(filter: SummaryFilter, page: SummaryPage): Promise<SummariesPage> {
    return this.serial(() =>
      this.cache.read((view) => {
        const index = view.index;
        if (!index) return queries.pageSummaries(view.all, filter, page);
        const overlay = view.overlay;
        // The page and its total from one snapshot: another process's commit between them would make them disagree.
        return index.snapshot(() => {
          if (overlay.size === 0) return { issues: index.list(filter, page), total: index.count(filter) };
          // The marked issues as their files say: each may leave or join the list. Rows up to the page's end
          // and one more per marked issue still hold the first offset + limit of the list as it really is.
          const rows = index.list(filter, { offset: 0, limit: page.offset + page.limit + overlay.size });
          const issues = queries.listSummaries(overlaid(rows, overlay, () => true), filter).slice(page.offset, page.offset + page.limit);
          const keep = queries.matches(filter);
          const rowsMatching = index.many([...overlay.keys()]).filter(keep).length;
          const filesMatching = [...overlay.values()].filter((s) => s !== null && keep(s)).length;
          return { issues, total: index.count(filter) - rowsMatching + filesMatching };
        });
      }),
    );
  }

  readIssue(id: string): Promise<Issue | null> {
    this.files.checkId(id);
    return this.serial(async () => {
      // Its lock file lives in issues/; where that folder is missing (a clone of a store
      // without issues) so is the issue. Nothing is created: a reader may be on a read-only disk.
      this.locks.checkInitialized();
      if (!fs.lstatSync(this.issuesDir, { throwIfNoEntry: false })) return null;
      checkDirectory(this.issuesDir);
      const held = await this.locks.lock([this.locks.issue(id, 'shared')]);
      try {
        return this.files.read(id);
      } finally {
        held.release();
      }
    });
  }

  /** Without locks: every issue file is replaced by rename, so each read is one committed version. */
  readAllIssues(options: { skipCorrupt?: boolean } = {}): Promise<Issue[]> {
    return this.serial(async () =>
      this.files.ids()
        .map((id) => (options.skipCorrupt ? this.files.readOrKeep(id) : this.files.read(id)))
        .filter((issue): issue is Issue => !!issue),
    );
  }

  readGates(): Promise<ReadonlyMap<string, GateDefinition>> {
    return this.serial(async () => {
      const held = await this.locks.lock([this.locks.gates('shared')]);
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
      await this.cache.checkIndexBeforeWrite();
      const requests: LockRequest[] = [
        ...tx.writable.map((id) => this.locks.issue(id, 'exclusive')),
        ...tx.readOnly.map((id) => this.locks.issue(id, 'shared')),
        ...(locks.gates ? [this.locks.gates('shared')] : []),
      ];
      const held = locks.wait === false ? (this.locks.tryLockAll(requests) ?? busy(tx.writable)) : await this.locks.lock(requests);
      let result: T;
      let markers: string[] | null = null;
      try {
        result = apply(tx);
        if (tx.changes.size > 0) {
          markers = this.journal.mark([...tx.changes.keys()], tx.followUps);
          this.files.write(tx.changes);
        }
        await this.appendCommittedEvents(tx.events, [...tx.changes.keys()]);
      } finally {
        held.release();
        if (tx.changes.size > 0) await this.cache.syncIndexAfterCommit([...tx.changes.keys()], markers);
      }
      return result;
    });
  }

  graphTransaction<T>(plan: (graph: GraphLookup) => IssueLocks, apply: (tx: GraphTx) => T): Promise<T> {
    return this.serial(async () => {
      this.checkAfterCommitFiles();
      this.ensureLayout();
      for (let attempt = 1; ; attempt++) {
        const indexHeld = await this.locks.lock([this.locks.index('exclusive')]);
        let issuesHeld: HeldLocks | null = null;
        let changed: string[] = [];
        let markers: string[] | null = null;
        try {
          const { index, pending } = this.cache.currentIndexListed();
          const healed = this.cache.heal(index, pending ?? this.cache.markers(), new Set());
          const graph = this.cache.graphLookup(index, healed);
          const planned = plan(graph);
          const tx = this.newTx(planned);
          const created = new Set(planned.create ?? []);
          const issueLocks = [
            ...tx.writable.filter((id) => !created.has(id)).map((id) => this.locks.issue(id, 'exclusive')),
            ...tx.readOnly.map((id) => this.locks.issue(id, 'shared')),
            // A batch create requires gates: the registry may not drop one meanwhile (removal lists requirers under its exclusive lock).
            ...(planned.gates ? [this.locks.gates('shared')] : []),
          ];
          // Waiting for a busy issue while holding the index would stall every other index user
          // behind that issue's write: let go, wait for the issues alone, and start over.
          issuesHeld = attempt < 5 ? this.locks.tryLockAll(issueLocks) : await this.locks.lock(issueLocks);
          if (!issuesHeld) {
            indexHeld.release();
            (await this.locks.lock(issueLocks)).release();
            continue;
          }
          const result = apply(Object.assign(tx, graph));
          changed = [...tx.changes.keys()];
          const put = healed.put.filter((row) => !tx.changes.has(row.summary.id));
          const remove = healed.remove.filter((id) => !tx.changes.has(id));
          for (const [id, issue] of tx.changes) {
            // The files are written after the index lock is let go: their stamps come with the sync after the commit.
            if (issue) put.push(issueRow(issue, null));
            else remove.push(id);
          }
          // Markers before the index: a crash after this point heals back to whatever the files say.
          // New issues are journalled as one batch instead: a crash after this point completes them all.
          const batch = [...tx.changes.values()].filter((issue): issue is Issue => issue !== null && created.has(issue.id));
          const locked = changed.filter((id) => !created.has(id));
          if (locked.length > 0 || tx.followUps.length > 0) markers = this.journal.mark(locked, tx.followUps);
          const batchName = batch.length > 0 ? this.journal.writeBatch(batch) : null;
          if (put.length > 0 || remove.length > 0) index.apply({ put, remove });
          this.cache.clearHealed(index, healed.clear);
          // The batch's files under the index lock: no reader or healer sees part of it (they would complete it).
          if (batchName !== null) await this.cache.finishBatch(index, batch, batchName);
          changed = locked;
          indexHeld.release(); // not held across the issue files' fsync (Pattern 1)
          const rest = new Map([...tx.changes].filter(([id]) => !created.has(id)));
          if (rest.size > 0) await this.files.writeMany(rest);
          await this.appendCommittedEvents(tx.events, [...tx.changes.keys()]);
          return result;
        } finally {
          issuesHeld?.release();
          indexHeld.release();
          if (changed.length > 0) await this.cache.syncIndexAfterCommit(changed, markers);
        }
      }
    });
  }

  gatesTransaction<T>(apply: (gates: Map<string, GateDefinition>, issues: () => Issue[], event: (event: JitEvent) => void) => T): Promise<T> {
    return this.serial(async () => {
      const held = await this.locks.lock([this.locks.gates('exclusive')]);
      try {
        const before = this.readGatesFile();
        const draft = structuredClone(before);
        const issues = (): Issue[] => this.files.ids().map((id) => this.files.readOrKeep(id)).filter((issue): issue is Issue => !!issue);
        const events: JitEvent[] = [];
        const result = apply(draft, issues, (event) => void events.push(structuredClone(event)));
        const text = gatesText(draft);
        if (text !== gatesText(before)) {
          writeFileAtomic(this.jitDir, GATES_FILE, text);
          // Still under the registry's lock (it ranks below the log's), so the log's order is the registry's.
          await this.appendCommittedEvents(events, [GATES_FILE]);
        }
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
      return found.filter((f) => !this.locks.isBeingWritten(f.issueId));
    });
  }

  finishFollowUps(followUps: readonly FollowUp[]): Promise<void> {
    return this.serial(async () => {
      this.journal.clearFollowUps(followUps);
    });
  }

  // ------------------------------------------------------------- integrity

  /** Watches events.jsonl (change-feed.ts): every write appends to it. */
  async watchChanges(options?: ChangeFeedOptions): Promise<ChangeSource> {
    return new ChangeFeed(this.jitDir, options).start();
  }

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
      const held = await this.locks.lock([this.locks.index('exclusive')]);
      try {
        for (const name of this.ensureLayout()) recovered.push(`created the missing folder ${name} (git keeps no empty folders, so a cloned .jit/ lacks it)`);
        removeStrayTemps([this.jitDir, this.issuesDir], recovered);
        this.cache.checkIndex(options.fix, problems, fixed, recovered);
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
   * from the issue files and writes the manifest (SummaryCache.createMissingIndex).
   */
  createMissingIndex(): { issues: number; unreadable: string[] } | null {
    this.locks.checkInitialized();
    return this.cache.createMissingIndex();
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

  /**
   * Creates `issues/` and `pending/` when they are missing: git keeps no
   * empty folders, so a `.jit/` committed and cloned has neither. mkdir never
   * follows a symlink, and an existing entry must be a real directory
   * (UNSAFE_PATH otherwise). Writers and validate call it; plain reads of
   * the index do not, so they keep working on a read-only file system.
   * Returns the folders it created.
   */
  private ensureLayout(): string[] {
    this.locks.checkInitialized();
    const created: string[] = [];
    for (const dir of [this.issuesDir, this.pendingDir]) if (makeDirectory(dir)) created.push(`${path.basename(dir)}/`);
    if (created.length > 0) fsyncDirectory(this.jitDir);
    return created;
  }

  /**
   * The index and the event log are written after the issue files commit,
   * when a failure can no longer be reported as "nothing happened". Refuse
   * a planted symlink or folder there up front instead, and an index.json
   * that is missing or not jit's (a write no reader could see must not be
   * acknowledged).
   */
  private checkAfterCommitFiles(): void {
    const files = [this.locks.lockPath('index'), this.indexPath, this.indexDbPath, ...INDEX_DB_COMPANIONS.map((name) => path.join(this.jitDir, name))];
    for (const file of [...files, this.locks.lockPath('events'), this.eventsPath]) this.checkRegularFile(file);
    this.cache.readManifest();
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
    for (const id of readable) this.files.checkId(id);
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
        if (!stored.has(id)) stored.set(id, this.files.read(id));
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
        this.files.checkId(issueId);
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

  private readGatesFile(): Map<string, GateDefinition> {
    const text = readTextIfExists(this.gatesPath);
    return new Map(text === null ? [] : Object.entries(parseGates(text, this.gatesPath).gates));
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
    const held = await this.locks.lock([this.locks.events('exclusive')]);
    try {
      // After a crash mid-append the file may end in a torn line: start on a fresh line so ours stays whole.
      const prefix = endsWithNewline(this.eventsPath) ? '' : '\n';
      appendText(this.eventsPath, prefix + events.map((e) => JSON.stringify(e) + '\n').join(''));
    } finally {
      held.release();
    }
  }
}

/** A transaction told not to wait (`wait: false`) found a lock busy. */
function busy(ids: readonly string[]): never {
  throw new JitError('LOCK_TIMEOUT', `Issue ${ids.join(', ')} is being written by another process right now.`, {
    suggestions: ['Retry: nothing was changed.'],
    details: { ids: [...ids], timeout_ms: 0 },
  });
}
