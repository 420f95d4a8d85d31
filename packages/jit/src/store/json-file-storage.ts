/**
 * Storage in `.jit/` (the format: docs/format.md; the transactions and crash healing: docs/design.md).
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
 * The invariant: an issue's summary in index.json equals what its committed
 * file says, unless a marker in `pending/` names the issue. Readers overlay
 * marked issues from their files, so nothing a writer acknowledged is ever
 * served stale or missing, whatever was killed when. Why each step keeps it:
 * - A writer makes its marker (and fsyncs `pending/`) under the issue's
 *   exclusive lock before it replaces the file: the file never runs ahead
 *   of its summary unmarked.
 * - Markers are removed only under the exclusive index lock, in the healing
 *   order: (1) list the markers, (2) probe each named issue's lock, (3) read
 *   the file, (4) write the index with that summary, (5) remove only markers
 *   listed in (1) whose issue was free in (2). A free lock means every
 *   writer that made a listed marker has released it, so its file is in
 *   place (or was never written: it died first) and (3) reads it or a later
 *   version. A marker made after (1) survives; a write after (3) has its own.
 *   heal() and the rebuild of `validate --fix` (checkIndex) both follow it:
 *   a rebuild that read the files before listing the markers would clear
 *   the marker of a write its listing missed, and hide it.
 * - Index writes only put in summaries read from files after (2), or, in
 *   graph transactions, summaries of files about to be written, whose
 *   markers already exist. An in-flight issue keeps its last summary.
 * - A reader reads the index and lists the markers under one shared index
 *   lock, so no marker disappears between the two; a parse of index.json is
 *   reused only while its stamp cannot hide a rewrite (see readIndex).
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
  TEMP_FILE,
  appendText,
  checkDirectory,
  checkSingleLink,
  createFileIfMissing,
  endsWithNewline,
  fsError,
  fsyncDirectory,
  isStrayTemp,
  listDirectory,
  makeDirectory,
  readTextIfExists,
  removeFile,
  openRegularFile,
  unsafePath,
  writeFileAtomic,
} from './files.js';
import { RANK, fileLocker, lockFileSync, type HeldLocks, type Locker } from './locker.js';
import type { GateDefinition, Issue, JitEvent } from './model.js';
import { EventLog } from './event-log.js';
import { PendingJournal, newFollowUp } from './index-journal.js';
import { GATES_FILE, INDEX_FILE, JIT_DIR_NAME, gatesText, indexText, storeLayout } from './layout.js';
import { freezeSummary, parseGates, parseIndex, parseIssue, summarize } from './schema.js';
import * as queries from './queries.js';
import type { BlockedCandidate, EventFilter, FollowUp, GraphLookup, GraphTx, IssueLocks, IssueTx, ReadyQuery, Storage, StorageCheck, SummaryFilter } from './storage.js';
import type { IssueSummary, StatusReport, ValidationProblem } from './tracker-api.js';

export interface JsonFileStorageOptions {
  /** The lock layer; the default takes real OS locks. Only the benchmark swaps it. */
  locker?: Locker;
}

const ISSUE_FILE = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.json$/;

/** One queue per `.jit/` (by file identity) per process: see the header. */
const queues = new Map<string, Promise<unknown>>();

type Summaries = Map<string, IssueSummary>;

interface Healed {
  index: Summaries;
  modified: boolean;
  /** Markers whose writers have finished and whose issues are now summarised. */
  clear: string[];
  /** Issues an unfinished writer holds right now. */
  inFlight: Set<string>;
}

export class JsonFileStorage implements Storage {
  readonly description: string;
  readonly jitDir: string;
  private readonly issuesDir: string;
  private readonly pendingDir: string;
  private readonly indexPath: string;
  private readonly gatesPath: string;
  private readonly eventsPath: string;
  private readonly locker: Locker;
  private readonly events: EventLog;
  /** pending/: the markers and follow-ups (index-journal.ts). */
  private readonly journal: PendingJournal;
  private indexCache: { stamp: string; summaries: Summaries; reusable: boolean } | null = null;

  constructor(jitDir: string, options: JsonFileStorageOptions = {}) {
    ({
      jitDir: this.jitDir,
      issuesDir: this.issuesDir,
      pendingDir: this.pendingDir,
      indexPath: this.indexPath,
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
    return this.serial(async () => {
      let index: Summaries;
      let pending: Map<string, string[]>;
      const held = await this.lock([this.indexLock('shared')]);
      try {
        index = this.readIndex();
        pending = this.journal.markersByIssue();
      } finally {
        held.release();
      }
      if (pending.size === 0) return index;
      // A marker means the summary may lag its file: the file is the truth.
      const view = new Map(index);
      for (const id of pending.keys()) {
        const issue = this.readIssueFileOrKeep(id);
        if (issue === null) view.delete(id);
        else if (issue) view.set(id, freezeSummary(summarize(issue)));
      }
      return view;
    });
  }

  // The targeted reads, answered from the whole index for now (its parse is reused while index.json is unchanged).

  async summaries(ids: readonly string[]): Promise<Map<string, IssueSummary>> {
    return queries.pickSummaries(await this.loadSummaries(), ids);
  }

  async summariesByPrefix(prefix: string, limit: number): Promise<IssueSummary[]> {
    return queries.summariesByPrefix(await this.loadSummaries(), prefix, limit);
  }

  async dependentsOf(ids: readonly string[]): Promise<IssueSummary[]> {
    return queries.dependentsOf(await this.loadSummaries(), ids);
  }

  async downstreamOf(id: string): Promise<IssueSummary[]> {
    return queries.downstreamOf(await this.loadSummaries(), id);
  }

  async readyWork(query?: ReadyQuery): Promise<IssueSummary[]> {
    return queries.readyWork(await this.loadSummaries(), query);
  }

  async statusReport(): Promise<StatusReport> {
    return queries.statusReport(await this.loadSummaries());
  }

  async blockedCandidates(): Promise<BlockedCandidate[]> {
    return queries.blockedCandidates(await this.loadSummaries());
  }

  async listSummaries(filter?: SummaryFilter): Promise<IssueSummary[]> {
    return queries.listSummaries(await this.loadSummaries(), filter);
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
          const healed = this.heal(this.readIndex(true), this.journal.markersByIssue(), new Set());
          const graph = queries.graphLookup(this.graphView(healed));
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
          for (const [id, issue] of tx.changes) {
            if (issue) healed.index.set(id, freezeSummary(summarize(issue)));
            else healed.index.delete(id);
          }
          // Markers before the index: a crash after this point heals back to whatever the files say.
          if (changed.length > 0) this.journal.mark(changed, tx.followUps);
          if (changed.length > 0 || healed.modified) this.writeIndex(healed.index);
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

  check(options: { fix: boolean }): Promise<StorageCheck> {
    return this.serial(async () => {
      const problems: ValidationProblem[] = [];
      const fixed: string[] = [];
      const recovered: string[] = [];
      const held = await this.lock([this.indexLock('exclusive')]);
      try {
        for (const name of this.ensureLayout()) recovered.push(`created the missing folder ${name} (git keeps no empty folders, so a cloned .jit/ lacks it)`);
        this.recoverFromCrashes(recovered);
        this.checkIndex(options.fix, problems, fixed);
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
   * For `jit init` on a store whose index.json is missing: creates one from
   * the issue files (they are the truth), never an empty one that would
   * hide every issue. Synchronous, as initJit is, under the exclusive index
   * lock (always a real file lock: init takes no injected locker). Markers
   * are left alone: readers overlay them and the next writer heals them.
   * Null when index.json exists (another init or validate made it first).
   */
  createMissingIndex(): { issues: number; unreadable: string[] } | null {
    this.checkInitialized();
    const held = lockFileSync(this.indexLock('exclusive'));
    try {
      if (fs.lstatSync(this.indexPath, { throwIfNoEntry: false })) return null;
      const summaries: Summaries = new Map();
      const unreadable: string[] = [];
      for (const id of this.issueFileIds()) {
        const issue = this.readIssueFileOrKeep(id);
        if (issue === undefined) unreadable.push(this.issuePath(id));
        else if (issue) summaries.set(id, freezeSummary(summarize(issue)));
      }
      return createFileIfMissing(this.jitDir, INDEX_FILE, indexText(summaries)) ? { issues: summaries.size, unreadable } : null;
    } finally {
      held.release();
    }
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
   * a planted symlink or folder there up front instead.
   */
  private checkAfterCommitFiles(): void {
    for (const file of [this.lockPath('index'), this.indexPath, this.lockPath('events'), this.eventsPath]) this.checkRegularFile(file);
    this.checkIndexBeforeWrite();
  }

  /**
   * A write that no reader could see must not be acknowledged: an index.json
   * that is missing or not jit's fails a writer here, before it commits, as
   * it fails every reader. Cheap on the common path: jit's own index starts
   * with its version field, so only another spelling is parsed whole.
   */
  private checkIndexBeforeWrite(): void {
    const file = openRegularFile(this.indexPath, fs.constants.O_RDONLY, 'read');
    // No index.json: the same CORRUPT_FILE (and hint) readers give for it, as parsing nothing yields.
    if (file === null) return void parseIndex('', this.indexPath);
    const head = Buffer.alloc(INDEX_HEAD.length);
    try {
      fs.readSync(file.fd, head, 0, head.length, 0);
    } catch (error) {
      throw fsError(error, this.indexPath, 'read');
    } finally {
      fs.closeSync(file.fd);
    }
    if (head.toString('latin1') !== INDEX_HEAD) parseIndex(readTextIfExists(this.indexPath) ?? '', this.indexPath);
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

  /**
   * The index as stored. Readers reuse the last parse while the file looks
   * unchanged (inode, size, change times). On file systems with coarse
   * timestamps a rewrite can look unchanged (ext4 reuses the two inodes of a
   * rename cycle, and the size rarely changes), so, as git does with its
   * "racily clean" entries, a parse of a file written less than
   * RACY_WINDOW_MS before it was read is never reused: a later rewrite could
   * carry the same stamp, and serving the old parse after its markers were
   * cleared would hide an acknowledged write. Writers pass `fresh`: one that
   * started from an old copy would write it back over others' updates.
   */
  private readIndex(fresh = false): Summaries {
    let stat: fs.BigIntStats;
    try {
      stat = fs.lstatSync(this.indexPath, { bigint: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new JitError('CORRUPT_FILE', `The index ${this.indexPath} is missing.`, {
          suggestions: [hint`${run(command('validate', { fix: true }))} to rebuild it from the issue files.`],
          details: { path: this.indexPath },
        });
      }
      throw fsError(error, this.indexPath, 'read');
    }
    const stamp = indexStamp(stat);
    if (!fresh && this.indexCache?.reusable && this.indexCache.stamp === stamp) return this.indexCache.summaries;
    const summaries = parseIndex(readTextIfExists(this.indexPath) ?? '', this.indexPath);
    this.indexCache = { stamp, summaries, reusable: settled(stat) };
    return summaries;
  }

  private writeIndex(summaries: Summaries): void {
    writeFileAtomic(this.jitDir, INDEX_FILE, indexText(summaries));
    // Our own write: cache what we wrote instead of parsing it again (once it is old enough to trust its stamp).
    const stat = fs.lstatSync(this.indexPath, { bigint: true });
    this.indexCache = { stamp: indexStamp(stat), summaries, reusable: settled(stat) };
  }

  private readGatesFile(): Map<string, GateDefinition> {
    const text = readTextIfExists(this.gatesPath);
    return new Map(text === null ? [] : Object.entries(parseGates(text, this.gatesPath).gates));
  }

  /** True while some process holds the issue's lock exclusively (its write may be under way). */
  private isBeingWritten(id: string): boolean {
    const probe = this.locker.tryLock(path.join(this.issuesDir, `${id}.lock`), 'shared', RANK.issue);
    probe?.release();
    return probe === null;
  }

  /**
   * Brings the summaries of marked (and `changed`) issues up to their files.
   * A marker is cleared only when no writer holds its issue: every writer
   * that made one of the markers listed has then finished, so the file read
   * afterwards includes its write. Called with the index lock held exclusively.
   */
  private heal(stored: Summaries, pending: Map<string, string[]>, changed: Set<string>): Healed {
    const healed: Healed = { index: new Map(stored), modified: false, clear: [], inFlight: new Set() };
    for (const id of new Set([...pending.keys(), ...changed])) {
      const busy = this.isBeingWritten(id);
      if (busy) healed.inFlight.add(id);
      if (busy && !changed.has(id)) continue; // its writer will update it
      const issue = this.readIssueFileOrKeep(id);
      if (issue === undefined) continue; // corrupt: keep the summary and the marker; validate reports it
      const before = healed.index.get(id);
      if (issue === null) {
        if (before) (healed.index.delete(id), (healed.modified = true));
      } else if (!before || before.updated_at !== issue.updated_at || JSON.stringify(before) !== JSON.stringify(summarize(issue))) {
        healed.index.set(id, freezeSummary(summarize(issue)));
        healed.modified = true;
      }
      if (!busy) healed.clear.push(...(pending.get(id) ?? []));
    }
    return healed;
  }

  /**
   * The graph a graph transaction reasons about. An issue whose writer is
   * still at work counts with the edges of both its index entry and its file,
   * so a cycle check never misses an edge that is being written.
   */
  private graphView(healed: Healed): Summaries {
    const view = new Map(healed.index);
    for (const id of healed.inFlight) {
      const issue = this.readIssueFileOrKeep(id);
      if (!issue) continue;
      const entry = view.get(id);
      const dependencies = [...new Set([...(entry?.dependencies ?? []), ...issue.dependencies])];
      view.set(id, freezeSummary({ ...(entry ?? summarize(issue)), dependencies }));
    }
    return view;
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
   * Brings the summaries of `changed` up to their files and clears finished
   * markers. An issue another process holds right now keeps its marker; we
   * wait for that holder without the index lock (so the order is kept) and
   * try again, so markers do not outlive their writers in the common case.
   */
  private async syncIndex(changed: string[]): Promise<void> {
    let remaining = changed;
    for (let attempt = 0; remaining.length > 0; attempt++) {
      const held = await this.lock([this.indexLock('exclusive')]);
      let healed: Healed;
      try {
        healed = this.heal(this.readIndex(true), this.journal.markersByIssue(), new Set(remaining));
        if (healed.modified) this.writeIndex(healed.index);
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
   * What a killed writer leaves behind, cleaned up by every validate, as a
   * database recovers its journal on open: temp files of dead writers (never
   * renamed into place, so never data) and summaries behind their issue
   * files (markers whose writer is gone; the files are the truth). Runs
   * under the exclusive index lock.
   */
  private recoverFromCrashes(recovered: string[]): void {
    for (const dir of [this.jitDir, this.issuesDir]) {
      for (const name of listDirectory(dir)) {
        if (!TEMP_FILE.test(name) || !isStrayTemp(dir, name)) continue;
        removeFile(dir, name);
        recovered.push(`removed unfinished temp file ${path.join(dir, name)} (its writer is gone)`);
      }
    }
    let index: Summaries;
    try {
      index = this.readIndex(true);
    } catch (error) {
      if (error instanceof JitError && error.code === 'CORRUPT_FILE') return; // checkIndex reports it
      throw error;
    }
    const healed = this.heal(index, this.journal.markersByIssue(), new Set());
    const behind = [...index.keys(), ...healed.index.keys()].filter((id) => index.get(id) !== healed.index.get(id));
    if (healed.modified) this.writeIndex(healed.index);
    this.journal.clearMarkers(healed.clear);
    for (const id of new Set(behind)) recovered.push(`brought the index summary of ${id} up to its issue file (a writer died between the two)`);
  }

  /**
   * Index against the issue files; with fix, rebuilds the index from them.
   * Index lock held. The order is the healing order of the header: list the
   * markers, probe their issues, and only then list and read the files, so
   * that every marker cleared here was made by a writer whose write the
   * rebuild has read. Markers that appear later stay for their writers.
   */
  private checkIndex(fix: boolean, problems: ValidationProblem[], fixed: string[]): void {
    const listed = this.journal.markersByIssue();
    const inFlight = new Set([...listed.keys()].filter((id) => this.isBeingWritten(id)));
    const fromFiles: Summaries = new Map();
    const corrupt = new Set<string>();
    for (const id of this.issueFileIds()) {
      try {
        const issue = this.readIssueFile(id);
        if (issue) fromFiles.set(id, summarize(issue));
      } catch (error) {
        if (!(error instanceof JitError && (error.code === 'CORRUPT_FILE' || error.code === 'UNSUPPORTED_SCHEMA'))) throw error;
        corrupt.add(id);
        problems.push({ kind: 'corrupt_file', message: error.message, path: this.issuePath(id), issue_id: id, fixable: false });
      }
    }
    let stored: Summaries | null = null;
    let replaceable = true;
    try {
      stored = this.readIndex(true);
    } catch (error) {
      if (!(error instanceof JitError && error.code === 'CORRUPT_FILE')) throw error;
      // A file jit did not write (another tool's index.json) is somebody's data: never replace it.
      replaceable = error.details?.['written_by_jit'] !== false;
      problems.push({ kind: 'corrupt_file', message: error.message, path: this.indexPath, fixable: replaceable });
    }
    // A summary may lag its file while a marker names it: not a problem to report.
    const marked = new Set([...listed.keys(), ...this.journal.markersByIssue().keys()]);
    let mismatches = 0;
    if (stored) {
      for (const [id, summary] of fromFiles) {
        if (marked.has(id)) continue;
        const entry = stored.get(id);
        if (!entry) {
          mismatches++;
          problems.push({ kind: 'unindexed_issue_file', message: `Issue file ${this.issuePath(id)} is not in the index.`, path: this.issuePath(id), issue_id: id, fixable: true });
        } else if (JSON.stringify(entry) !== JSON.stringify(summary)) {
          mismatches++;
          problems.push({ kind: 'index_mismatch', message: `The index summary of ${id} differs from its issue file.`, path: this.indexPath, issue_id: id, fixable: true });
        }
      }
      for (const id of stored.keys()) {
        if (fromFiles.has(id) || corrupt.has(id) || marked.has(id)) continue;
        mismatches++;
        problems.push({ kind: 'missing_issue_file', message: `The index lists ${id} but ${this.issuePath(id)} does not exist.`, issue_id: id, fixable: true });
      }
    }
    const finishedMarkers = [...listed].filter(([id]) => !inFlight.has(id) && !corrupt.has(id)).flatMap(([, names]) => names);
    if (!fix || !replaceable || (stored && mismatches === 0 && finishedMarkers.length === 0)) return;
    const rebuilt: Summaries = new Map();
    for (const [id, summary] of fromFiles) rebuilt.set(id, freezeSummary(summary));
    // Corrupt or in-flight issues keep their last known summary: nothing is guessed or dropped.
    for (const id of [...corrupt, ...inFlight]) {
      const entry = stored?.get(id);
      if (entry) rebuilt.set(id, entry);
    }
    this.writeIndex(rebuilt);
    this.journal.clearMarkers(finishedMarkers);
    fixed.push(`rebuilt ${this.indexPath} from ${fromFiles.size} issue files`);
  }
}

/** index.json's text. One summary per line: small diffs, and fast to write for 10,000 issues. */

/**
 * How close to its last change a file must not be read for its stamp to be
 * trusted: above the timestamp granularity of every common file system
 * (ext4 and friends tick once a kernel jiffy, HFS+ once a second, FAT every
 * two seconds).
 */
const RACY_WINDOW_MS = 2000n;

/** Whether any later rewrite of the file must carry a newer timestamp than it has now. */
function settled(stat: fs.BigIntStats): boolean {
  const changed = stat.mtimeNs > stat.ctimeNs ? stat.mtimeNs : stat.ctimeNs;
  return BigInt(Date.now()) * 1_000_000n - changed > RACY_WINDOW_MS * 1_000_000n;
}

/** A transaction told not to wait (`wait: false`) found a lock busy. */
function busy(ids: readonly string[]): never {
  throw new JitError('LOCK_TIMEOUT', `Issue ${ids.join(', ')} is being written by another process right now.`, {
    suggestions: ['Retry: nothing was changed.'],
    details: { ids: [...ids], timeout_ms: 0 },
  });
}

/** How every index.json jit writes begins (see indexText). */
const INDEX_HEAD = '{"schema_version":';

/** What tells one version of index.json from another, short of reading it. */
function indexStamp(stat: fs.BigIntStats): string {
  return `${stat.ino}:${stat.size}:${stat.mtimeNs}:${stat.ctimeNs}`;
}

