/**
 * The upkeep of the summary cache, `.jit/index.db` (summary-index.ts stores
 * and answers; this module decides when its rows may be trusted): building
 * it from the issue files, upgrading a format-1 store, re-syncing it after
 * an outside change, healing it after a writer's commit or crash, and the
 * view a reader answers from. JsonFileStorage (json-file-storage.ts) runs
 * the transactions and calls in here under the locks its header describes.
 *
 * The invariant: an issue's summary in index.db equals what its committed
 * file says, unless a marker in `pending/` names the issue. Readers overlay
 * marked issues from their files, so nothing a writer acknowledged is ever
 * served stale or missing, whatever was killed when. Why each step keeps it:
 * - A writer makes its marker (and fsyncs `pending/`) under the issue's
 *   exclusive lock before it replaces the file: the file never runs ahead
 *   of its summary unmarked.
 * - Markers are removed in the healing order, (1)-(4) under the exclusive
 *   index lock: (1) list the markers, (2) probe each named issue's lock, (3)
 *   read the file, (4) write its row (one SQLite transaction), (5) once the
 *   rows are durable (a FULL commit, or the WAL fsynced after the lock was
 *   let go: syncIndex, clearHealed), remove only markers
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
 *   lock, so no row changes between the two; a marker may still go (an index
 *   step clears after letting go of the lock), but only one whose rows were
 *   committed before the reader took the lock.
 * - Changes made outside jit (git pull) carry no marker: they are found by
 *   the issues/ directory's stamp, recorded with the rows when no marker is
 *   left, and re-synced (see currentReaderIndex and resync). A marker left by a
 *   killed writer does not excuse a changed stamp (its pid is gone).
 * - A kill anywhere leaves at most markers (and temp files): the next
 *   writer's index step, graph transaction or validate heals them, readers
 *   overlay them meanwhile.
 */
import { command, hint, run } from './suggestions.js';
import fs from 'node:fs';
import path from 'node:path';
import { JitError } from './errors.js';
import { checkSingleLink, createFileIfMissing, fsError, openRegularFile, readTextIfExists, removeFile, unsafePath, writeFileAtomic, writeFilesAtomic } from './files.js';
import { compareIndexWithFiles } from './integrity.js';
import type { IssueFiles } from './issue-files.js';
import { lockFileSync } from './locker.js';
import type { PendingJournal, PendingListing } from './index-journal.js';
import type { Issue } from './model.js';
import { GITIGNORE_FILE, INDEX_DB_COMPANIONS, INDEX_DB_FILE, INDEX_FILE, manifestText, upgradedGitignoreText } from './layout.js';
import { INDEX_SCHEMA_VERSION, freezeSummary, parseManifest, summarize, type IndexManifest } from './schema.js';
import * as queries from './queries.js';
import { byUrgency } from './rules.js';
import type { GraphLookup, ReadyQuery } from './storage.js';
import type { StoreLocks } from './store-locks.js';
import { INDEX_DB_FORMAT, SummaryIndex, directoryStamp, fileStamp, isReadOnlyDatabase, isUnusableDatabase, issueRow, type IndexRow } from './summary-index.js';
import type { IssueSummary, ValidationProblem } from './tracker-api.js';

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

export interface Healed {
  put: IndexRow[];
  remove: string[];
  /** Markers whose writers have finished and whose issues are now summarised. */
  clear: string[];
  /** Issues an unfinished writer holds right now. */
  inFlight: Set<string>;
  /** Whether every marker listed was cleared: then no write is unaccounted for. */
  settled: boolean;
}

/**
 * What a reader answers from: the cache with the marked issues overlaid, or
 * (no usable cache) every summary. `overlay` is every marked issue as its
 * file says, read on first use; `overlayOf` only the marked issues whose id
 * `wanted` accepts (a look-up by id or prefix need not read the files of ten
 * other writers' issues while it holds the index lock that their index steps
 * wait for).
 */
export type ReadView =
  | { index: SummaryIndex; readonly overlay: Map<string, IssueSummary | null>; overlayOf(wanted: (id: string) => boolean): Map<string, IssueSummary | null> }
  | { index: null; all: ReadonlyMap<string, IssueSummary> };

export class SummaryCache {
  private readonly jitDir: string;
  private readonly indexPath: string;
  private readonly indexDbPath: string;

  constructor(
    paths: { jitDir: string; indexPath: string; indexDbPath: string },
    private readonly files: IssueFiles,
    private readonly journal: PendingJournal,
    private readonly locks: StoreLocks,
  ) {
    ({ jitDir: this.jitDir, indexPath: this.indexPath, indexDbPath: this.indexDbPath } = paths);
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
    const held = lockFileSync(this.locks.index('exclusive'));
    try {
      if (fs.lstatSync(this.indexPath, { throwIfNoEntry: false })) return null;
      const built = this.rebuild(this.openIndex(true, true), null);
      return createFileIfMissing(this.jitDir, INDEX_FILE, manifestText()) ? { issues: built.issues, unreadable: built.unreadable } : null;
    } finally {
      held.release();
    }
  }

  /**
   * Runs `query` against the cache as it stands for a reader: under the
   * shared index lock, current (see currentReaderIndex), with every marked issue
   * read from its file (`overlay`), so nothing a writer acknowledged is
   * served stale. When the cache must first be built, upgraded or
   * re-synced, that is done under the exclusive index lock and the read
   * starts over. A store we may not write (read-only disk, someone else's
   * folder) is answered from the files (or a format-1 index.json) instead:
   * slower, never wrong.
   */
  async read<T>(query: (view: ReadView) => T): Promise<T> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const held = await this.locks.lock([this.locks.index('shared')]);
      let answer: { value: T } | null = null;
      try {
        const current = this.currentReaderIndex();
        if (current) answer = { value: query(this.readerView(current.index, current.pending)) };
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
  async checkIndexBeforeWrite(): Promise<void> {
    const held = this.locks.tryLockAll([this.locks.index('shared')]);
    if (!held) return;
    let current: boolean;
    try {
      // No overlay: this only asks whether the cache is current, and reading every marked issue's
      // file (ten writers at once keep several about) cost each write a file read and parse per marker.
      current = this.currentReaderIndex() !== null;
    } finally {
      held.release();
    }
    if (!current) await this.prepareIndex();
  }

  /**
   * The cache as a reader may use it, with the markers listed (their issues
   * are read from the files by whoever needs the overlay), or null when it
   * must first be built, upgraded or re-synced. Shared index lock held. Current means: the
   * issues/ stamp is the one recorded when the rows last matched every file,
   * or markers of live writers are about (jit writes then explain any
   * change; their writers heal and re-stamp). A marker whose writer process
   * is gone explains nothing: the directory is re-synced.
   */
  private currentReaderIndex(): { index: SummaryIndex; pending: Map<string, string[]> } | null {
    try {
      const manifest = this.readManifest();
      const index = manifest.version === 2 ? this.openIndexIfUsable() : null;
      const meta = index?.metaValues([META.built, META.dirStamp]);
      if (!index || meta?.get(META.built) === undefined) return null;
      // Stamp before listing: a jit write shown in the stamp made its marker before it touched issues/.
      const stamp = this.dirStamp();
      const listing = this.pendingListing();
      const pending = listing.markersByIssue();
      // Markers explain a changed stamp only while their writers live: one left by a killed writer
      // must not hide a git checkout made since (currentIndex re-syncs and clears it). The markers
      // that count are those listed after the stamp was read: no second listing.
      if (meta.get(META.dirStamp) !== stamp && (pending.size === 0 || listing.hasOrphans())) return null;
      return { index, pending };
    } catch (error) {
      if (!isUnusableDatabase(error)) throw error;
      // Replaced or damaged under us: it is a cache, rebuilt by prepareIndex.
      this.forgetIndex();
      return null;
    }
  }

  /** A reader on a store whose cache it may not build: every summary from the files (or a format-1 index.json), marked issues overlaid. */
  private async readWithoutIndex<T>(query: (view: ReadView) => T): Promise<T> {
    const held = await this.locks.lock([this.locks.index('shared')]);
    try {
      const manifest = this.readManifest(true);
      const pending = this.markers();
      let all: Summaries;
      if (manifest.version === 1) {
        all = new Map(manifest.summaries);
        for (const [id, summary] of this.overlay(pending)) {
          if (summary) all.set(id, summary);
          else all.delete(id);
        }
      } else {
        all = new Map();
        for (const id of this.files.ids()) {
          const issue = this.files.readOrKeep(id);
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
    const held = await this.locks.lock([this.locks.index('exclusive')]);
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
  currentIndex(): SummaryIndex {
    return this.currentIndexListed().index;
  }

  /**
   * currentIndex, with the markers when it had to list them (the issues/
   * stamp differs, as it does after every write): the caller heals from
   * that listing instead of listing `pending/` again.
   */
  currentIndexListed(): { index: SummaryIndex; pending: Map<string, string[]> | null } {
    const manifest = this.readManifest(true);
    let index = this.openIndex(true, false);
    let meta: Map<string, string> | null = null;
    try {
      meta = index.metaValues([META.built, META.dirStamp]);
    } catch (error) {
      if (!isUnusableDatabase(error)) throw error;
      // Damaged since this process opened it: a cache, so start it afresh.
      index = this.openIndex(true, true);
    }
    if (manifest.version === 1 || meta?.get(META.built) === undefined) {
      this.rebuild(index, manifest.version === 1 ? manifest.summaries : null);
      if (manifest.version === 1) this.finishUpgrade();
    } else if (meta.get(META.dirStamp) !== this.dirStamp()) {
      const listing = this.pendingListing();
      const pending = listing.markersByIssue();
      if (pending.size > 0 && !listing.hasOrphans()) return { index, pending };
      try {
        this.resync(index); // it lists them again: it clears some
      } catch (error) {
        if (!isUnusableDatabase(error)) throw error;
        // Rows it read are damaged (a doc that is not JSON): a cache, so build it afresh.
        index = this.openIndex(true, true);
        this.rebuild(index, null);
      }
    }
    return { index, pending: null };
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
    const listed = this.markers();
    const inFlight = new Set([...listed.keys()].filter((id) => this.locks.isBeingWritten(id)));
    this.files.addMissingLockFiles();
    const stamp = this.dirStamp();
    const put: IndexRow[] = [];
    const corrupt = new Map<string, JitError>();
    for (const id of this.files.ids()) {
      const read = this.files.readStamped(id, corrupt);
      if (read.issue) put.push(issueRow(read.issue, read.stamp));
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
    this.clearHealed(index, finished.flatMap(([, names]) => names));
    return { issues: files, unreadable: [...corrupt.keys()].map((id) => this.files.path(id)), corrupt };
  }

  /**
   * Brings rows up to a directory an outside hand changed: every file whose
   * stamp differs from its row's is re-read, rows of missing files dropped.
   * The healing order holds: heal lists the markers and probes before it reads.
   */
  private resync(index: SummaryIndex): void {
    this.files.addMissingLockFiles();
    const stamp = this.dirStamp();
    const rows = index.fileStamps();
    const changed = new Set<string>();
    for (const id of this.files.ids()) {
      if (rows.get(id) !== this.files.stamp(id)) changed.add(id);
      rows.delete(id);
    }
    for (const id of rows.keys()) changed.add(id); // rows of files that are gone
    const healed = this.heal(index, this.markers(), changed);
    index.apply({ put: healed.put, remove: healed.remove, meta: healed.settled ? { [META.dirStamp]: stamp } : {} });
    this.clearHealed(index, healed.clear);
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
  readManifest(whole: true): IndexManifest;
  readManifest(whole?: false): IndexManifest | { version: 1 };
  readManifest(whole = false): IndexManifest | { version: 1 } {
    const file = openRegularFile(this.indexPath, fs.constants.O_RDONLY, 'read');
    // No index.json: the same CORRUPT_FILE (and hint) as for an empty one.
    if (file === null) {
      throw new JitError('CORRUPT_FILE', `The index ${this.indexPath} is missing.`, {
        suggestions: [hint`${run(command('validate', { fix: true }))} to rebuild it from the issue files.`],
        details: { path: this.indexPath },
      });
    }
    // One byte more than jit's manifest with its newline: anything longer is not it.
    const head = Buffer.alloc(MANIFEST.length + 2);
    let size: number;
    try {
      size = fs.readSync(file.fd, head, 0, head.length, 0);
    } catch (error) {
      throw fsError(error, this.indexPath, 'read');
    } finally {
      fs.closeSync(file.fd);
    }
    const text = head.subarray(0, size).toString('latin1');
    if (text === MANIFEST || text === `${MANIFEST}\n`) return { version: 2 };
    if (!whole && text.startsWith(LEGACY_HEAD)) return { version: 1 };
    return parseManifest(readTextIfExists(this.indexPath) ?? '', this.indexPath);
  }

  /**
   * The markers (PendingListing.markersByIssue), once the batches of killed writers
   * are completed: their missing files written from the batch. Index lock
   * held (shared or exclusive): a batch's writer holds it exclusively while
   * the batch exists, so a batch found now is a dead writer's. Idempotent, so
   * readers holding it shared at once may all do it.
   */
  markers(): Map<string, string[]> {
    return this.pendingListing().markersByIssue();
  }

  /** markers() as the listing it reads them from, for a caller that also asks it about orphans. */
  private pendingListing(): PendingListing {
    // One listing for all: a batch is found only under the index lock, which its (live) writer holds throughout.
    const listing = this.journal.listing();
    for (const { issues } of listing.batches()) {
      for (const issue of issues) {
        try {
          if (fileStamp(this.files.path(issue.id)) === null) createFileIfMissing(this.files.dir, `${issue.id}.json`, JSON.stringify(issue, null, 2) + '\n');
        } catch {
          // A read-only store: readers see what is there; a writer completes the batch.
        }
      }
    }
    return listing;
  }

  /**
   * Writes a journalled batch's files, their rows with stamps, and removes
   * the batch. Exclusive index lock held. The issues/ stamp is recorded when
   * no marker is left, read before the markers are listed (as syncIndex does).
   */
  async finishBatch(index: SummaryIndex, issues: readonly Issue[], batchName: string): Promise<void> {
    await writeFilesAtomic(this.files.dir, issues.map((issue) => [`${issue.id}.json`, JSON.stringify(issue, null, 2) + '\n'] as const));
    // Before the stamp: the first lock of each would otherwise look like an outside change (addMissingLockFiles).
    this.files.addLockFiles(issues.map((issue) => issue.id));
    const rows = issues.map((issue) => issueRow(issue, this.files.stamp(issue.id)));
    this.journal.clearMarkers([batchName]);
    const stamp = this.dirStamp();
    index.apply({ put: rows, meta: this.journal.listing().markersByIssue().size === 0 ? { [META.dirStamp]: stamp } : {} });
  }

  private dirStamp(): string {
    return directoryStamp(this.files.dir);
  }

  /** A reader's view; the marked files are read when the query asks for them, still under the reader's lock and after the markers were listed. */
  private readerView(index: SummaryIndex, pending: Map<string, string[]>): ReadView {
    let whole: Map<string, IssueSummary | null> | undefined;
    const read = (wanted?: (id: string) => boolean): Map<string, IssueSummary | null> => this.overlay(pending, wanted);
    return {
      index,
      get overlay() {
        return (whole ??= read());
      },
      overlayOf: (wanted) => (whole ? new Map([...whole].filter(([id]) => wanted(id))) : read(wanted)),
    };
  }

  /** The marked issues (those `wanted` accepts) as their files say (null: deleted); a corrupt file is left out (its row stands). */
  private overlay(pending: Map<string, string[]>, wanted: (id: string) => boolean = () => true): Map<string, IssueSummary | null> {
    const overlay = new Map<string, IssueSummary | null>();
    for (const id of pending.keys()) {
      if (!wanted(id)) continue;
      const issue = this.files.readOrKeep(id);
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
  graphLookup(index: SummaryIndex, healed: Healed): GraphLookup {
    const overlay = new Map<string, IssueSummary | null>();
    for (const row of healed.put) overlay.set(row.summary.id, row.summary);
    for (const id of healed.remove) overlay.set(id, null);
    for (const id of healed.inFlight) {
      const issue = this.files.readOrKeep(id);
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

  /**
   * The rows of marked (and `changed`) issues brought up to their files.
   * A marker is cleared only when no writer holds its issue: every writer
   * that made one of the markers listed has then finished, so the file read
   * afterwards includes its write. Called with the index lock held
   * exclusively; the caller applies `put`/`remove` in one transaction, then
   * clears `clear`.
   */
  heal(index: SummaryIndex, pending: Map<string, string[]>, changed: Set<string>): Healed {
    const healed: Healed = { put: [], remove: [], clear: [], inFlight: new Set(), settled: true };
    for (const id of new Set([...pending.keys(), ...changed])) {
      const busy = this.locks.isBeingWritten(id);
      if (busy) healed.inFlight.add(id);
      if (busy && !changed.has(id)) {
        healed.settled = false;
        continue; // its writer will update it
      }
      const { issue, stamp } = this.files.readStamped(id);
      if (issue === undefined) {
        // Corrupt: keep the row and the marker; validate reports it.
        if (pending.has(id)) healed.settled = false;
        continue;
      }
      const before = index.get(id);
      if (issue === null) {
        if (before) healed.remove.push(id);
      } else if (!before || index.fileStamp(id) !== stamp || JSON.stringify(before) !== JSON.stringify(summarize(issue))) {
        healed.put.push(issueRow(issue, stamp));
      }
      if (busy) healed.settled = false;
      else healed.clear.push(...(pending.get(id) ?? []));
    }
    return healed;
  }

  /**
   * Clears markers whose issues `heal` brought into the rows, once those rows
   * are durable: the caller's own commit may have made them so, but a heal
   * that found its rows already written (nothing to commit) may have found
   * another healer's commit whose fsync is still under way (syncIndex
   * commits under the index lock and fsyncs after it). One fdatasync of the
   * WAL covers both; on a WAL with nothing unwritten it costs little.
   */
  clearHealed(index: SummaryIndex, names: readonly string[]): void {
    if (names.length === 0) return;
    index.syncLog();
    this.journal.clearMarkers(names);
  }

  /**
   * The issue files are the commit point: once they are written the
   * operation has happened, whatever befalls the index update (a lock
   * timeout, a corrupt index). Its markers stay, so readers still see the
   * files and the next writer or `validate --fix` heals the index.
   */
  async syncIndexAfterCommit(changed: string[], markers: readonly string[] | null): Promise<void> {
    try {
      await this.syncIndex(changed, markers);
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
   *
   * Group commit: whoever holds the index lock heals every finished write,
   * so writers queued behind it often find their work done. `markers` (the
   * transaction's own, null when it made none) all gone means exactly that:
   * another writer read our files after we let go of them, and its rows were
   * durable before it cleared our markers; with no marker left it also
   * recorded the stamp (or left that to a writer still at work). We then
   * leave without a commit (and its fsync). A commit that would change
   * nothing (no row, the same stamp) is skipped too.
   *
   * The commit's fsync is made after the index lock is let go (applyUnsynced,
   * then syncLog), and the markers it covers are cleared only after that
   * fsync: a marker is never gone while the rows that replace it could still
   * be lost with the OS. Clearing after the release is safe because marker
   * names are unique to their write and the rows are already committed: the
   * next holder may heal the same markers again (it finds the rows equal,
   * commits nothing, and syncs before it clears them too). Every healer syncs
   * before it clears, also when it committed nothing: the rows it found may
   * be another healer's commit whose fsync has not finished.
   */
  private async syncIndex(changed: string[], markers: readonly string[] | null): Promise<void> {
    let remaining = changed;
    for (let attempt = 0; remaining.length > 0; attempt++) {
      const held = await this.locks.lock([this.locks.index('exclusive')]);
      let healed: Healed;
      let index: SummaryIndex;
      try {
        if (markers !== null && !this.journal.anyPresent(markers)) return;
        let pending: Map<string, string[]> | null;
        ({ index, pending } = this.currentIndexListed());
        healed = this.heal(index, pending ?? this.markers(), new Set(remaining));
        const stamp = healed.settled ? this.dirStamp() : null;
        if (healed.put.length > 0 || healed.remove.length > 0 || (stamp !== null && stamp !== index.meta(META.dirStamp))) {
          index.applyUnsynced({ put: healed.put, remove: healed.remove, meta: stamp === null ? {} : { [META.dirStamp]: stamp } });
        }
      } finally {
        held.release();
      }
      this.clearHealed(index, healed.clear);
      remaining = remaining.filter((id) => healed.inFlight.has(id));
      // Whoever holds them heals them when it writes; a holder that only reads leaves that to us.
      if (remaining.length === 0 || attempt === 3) return;
      (await this.locks.lock(remaining.map((id) => this.locks.issue(id, 'shared')))).release();
    }
  }

  /**
   * The index against the issue files (integrity.ts says what differs);
   * with fix, or when only crash leftovers differ, the index is rebuilt
   * from the files in the healing order (rebuild). Exclusive index lock held.
   */
  checkIndex(fix: boolean, problems: ValidationProblem[], fixed: string[], recovered: string[]): void {
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
    // An older or newer jit's cache is no fault: every reader rebuilds it (openIndex), and so does validate, below.
    let otherFormat: number | null = null;
    // Judge the file as it is on disk, not through the pages this process has cached.
    this.forgetIndex();
    if (this.indexDbStat()) {
      let probe: SummaryIndex | null = null;
      try {
        probe = new SummaryIndex(this.indexDbPath, { create: false });
        const format = probe.format();
        if (format !== null && Number.isInteger(format) && format !== INDEX_DB_FORMAT) otherFormat = format;
        const verdict = format === INDEX_DB_FORMAT ? probe.quickCheck() : otherFormat !== null ? 'ok' : `format ${format}, not ${INDEX_DB_FORMAT}`;
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
      const healed = this.heal(index, this.markers(), new Set());
      if (healed.put.length > 0 || healed.remove.length > 0) index.apply({ put: healed.put, remove: healed.remove });
      this.clearHealed(index, healed.clear);
      for (const id of [...healed.put.map((row) => row.summary.id), ...healed.remove]) {
        recovered.push(`brought the index summary of ${id} up to its issue file (a writer died between the two)`);
      }
    }
    const found = compareIndexWithFiles({
      rows: built ? new Map(index.all().map((s) => [s.id, s])) : null,
      ids: this.files.ids(),
      read: (id) => this.files.read(id),
      issuePath: (id) => this.files.path(id),
      indexPath: this.indexDbPath,
      marked: new Set(this.markers().keys()),
    });
    problems.push(...found.problems);
    if (built && (found.mismatches === 0 || !fix)) return;
    // Asked to fix, or nothing to compare yet (a format-1 store, a cache never built): build it as every writer would.
    const result = this.rebuild(index, manifest?.version === 1 ? manifest.summaries : null);
    if (fix && (built || !usable || manifest === null)) fixed.push(`rebuilt ${this.indexDbPath} from ${result.issues} issue files`);
    else if (otherFormat !== null) recovered.push(`rebuilt ${this.indexDbPath} (format ${otherFormat}, another jit's) from ${result.issues} issue files`);
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
export function overlaid(rows: readonly IssueSummary[], overlay: ReadonlyMap<string, IssueSummary | null>, keep: (summary: IssueSummary) => boolean): Summaries {
  const result: Summaries = new Map();
  for (const row of rows) if (!overlay.has(row.id)) result.set(row.id, row);
  for (const [id, summary] of overlay) if (summary && keep(summary)) result.set(id, summary);
  return result;
}

/**
 * Ready work with the marked issues as their files say. Only they and their
 * dependents (whose readiness follows the marked issues' states) can answer
 * differently from the index: those are judged by the pure rule over them and
 * what they depend on, the rest comes from the index (asked for as many more
 * as may drop out), and the two are merged in urgency order. The cost is the
 * marked issues, their dependents and their dependencies, never the store.
 */
export function overlaidReadyWork(index: SummaryIndex, overlay: ReadonlyMap<string, IssueSummary | null>, query: ReadyQuery): IssueSummary[] {
  const marked = [...overlay.keys()];
  const affected = new Set([...marked, ...index.dependentsOf(marked).map((s) => s.id)]);
  const local: Summaries = new Map(index.many([...affected].filter((id) => !overlay.has(id))).map((s) => [s.id, s]));
  for (const [id, summary] of overlay) if (summary) local.set(id, summary);
  // What they depend on, as it stands now (a deleted one is missing, and so blocks nothing).
  const dependencies = [...new Set([...local.values()].flatMap((s) => s.dependencies))].filter((d) => !local.has(d) && !overlay.has(d));
  for (const summary of index.many(dependencies)) local.set(summary.id, summary);
  const rejudged = queries.readyWork(local, { ...query, limit: undefined }).filter((s) => affected.has(s.id));
  const limit = query.limit === undefined ? undefined : query.limit + affected.size;
  const unaffected = index.ready({ ...query, limit }).filter((s) => !affected.has(s.id));
  const merged = [...unaffected, ...rejudged].sort(byUrgency);
  return query.limit === undefined ? merged : merged.slice(0, query.limit);
}

/** Every summary a reader may see. */
export function wholeView(view: ReadView): ReadonlyMap<string, IssueSummary> {
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
