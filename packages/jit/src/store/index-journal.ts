/**
 * The journal in `.jit/pending/` that keeps index.json consistent with the
 * issue files across crashes (the protocol is explained in the header of
 * json-file-storage.ts): one empty marker file per issue a transaction is
 * changing, `<id>.<pid>.<n>`, made durable before the first issue file is
 * replaced and cleared once the index has caught up; and one per follow-up a
 * change leaves for later, `<id>.<pid>.<n>.<kind>` (older versions of jit
 * ignore the suffix). This module owns those names and files; when to make
 * and clear them is the transaction's business.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fsError, fsyncDirectory, makeDirectory, processIsGone, readTextIfExists, removeFile, writeFileAtomic } from './files.js';
import type { Issue } from './model.js';
import type { FollowUp } from './storage.js';

const MARKER = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.(\d+)\.\d+$/;
/** A follow-up (see FollowUp): a marker with its kind as a suffix. */
const FOLLOW_UP = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.\d+\.\d+\.(dependents|self)$/;

/**
 * A batch of new issues (Tracker.batchCreate), written whole before any of
 * their files: `batch.<pid>.<n>.json`, the issues themselves. Its writer
 * holds the exclusive index lock from before it is made until it is
 * removed, so whoever holds the index lock and finds one finds the batch of
 * a writer that was killed: it completes it (JsonFileStorage.markers).
 */
const BATCH = /^batch\.\d+\.\d+\.json$/;

/** Unique per process: with the pid, every marker name is new. */
let markerCounter = 0;

/** A follow-up of `kind` for `issueId`, named for the journal (not yet written). */
export function newFollowUp(kind: FollowUp['kind'], issueId: string): FollowUp {
  return { kind, issueId, token: `${issueId}.${process.pid}.${++markerCounter}.${kind}` };
}

export class PendingJournal {
  constructor(private readonly pendingDir: string) {}

  /**
   * Markers for `ids` and the transaction's follow-ups, durable before the
   * first issue file is replaced. Returns the names of the issue markers.
   */
  mark(ids: string[], followUps: readonly FollowUp[] = []): string[] {
    makeDirectory(this.pendingDir); // a store made by hand may lack it
    const markers = ids.map((id) => `${id}.${process.pid}.${++markerCounter}`);
    for (const name of [...markers, ...followUps.map((f) => f.token)]) {
      const marker = path.join(this.pendingDir, name);
      try {
        fs.closeSync(fs.openSync(marker, fs.constants.O_WRONLY | fs.constants.O_CREAT | (fs.constants.O_NOFOLLOW ?? 0), 0o644));
      } catch (error) {
        throw fsError(error, marker, 'create');
      }
    }
    fsyncDirectory(this.pendingDir);
    return markers;
  }

  /** Whether any of the markers `names` is still there (markers are cleared only once their issues' rows are durable). */
  anyPresent(names: readonly string[]): boolean {
    return names.some((name) => {
      try {
        return fs.lstatSync(path.join(this.pendingDir, name), { throwIfNoEntry: false }) !== undefined;
      } catch (error) {
        throw fsError(error, path.join(this.pendingDir, name), 'inspect');
      }
    });
  }

  /** What pending/ holds now: one directory listing, read as markers, batches and orphans. */
  listing(): PendingListing {
    return new PendingListing(this.pendingDir, this.names());
  }

  /** Writes a batch of new issues, durable when it returns; its name, for clearMarkers. */
  writeBatch(issues: readonly Issue[]): string {
    makeDirectory(this.pendingDir);
    const name = `batch.${process.pid}.${++markerCounter}.json`;
    writeFileAtomic(this.pendingDir, name, JSON.stringify(issues));
    return name;
  }

  /** The follow-ups the journal holds (those of transactions still at work included). */
  followUps(): FollowUp[] {
    const found: FollowUp[] = [];
    for (const token of this.names()) {
      const match = FOLLOW_UP.exec(token);
      if (match) found.push({ kind: match[2] as FollowUp['kind'], issueId: match[1]!, token });
    }
    return found;
  }

  clearMarkers(names: readonly string[]): void {
    for (const name of names) removeFile(this.pendingDir, name);
  }

  /** Removes done follow-ups (only names that are follow-ups: a token is never a path). */
  clearFollowUps(followUps: readonly FollowUp[]): void {
    for (const { token } of followUps) if (FOLLOW_UP.test(token)) removeFile(this.pendingDir, token);
  }

  /** What pending/ holds. A missing pending/ (store made by an older jit) holds nothing. */
  private names(): string[] {
    try {
      return fs.readdirSync(this.pendingDir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw fsError(error, this.pendingDir, 'list');
    }
  }
}

/**
 * One listing of pending/ (PendingJournal.listing): whoever heals reads the
 * markers, the batches and the orphans from it, so pending/ is listed once
 * per heal, and the three answers describe the same moment.
 */
export class PendingListing {
  constructor(
    private readonly pendingDir: string,
    private readonly names: readonly string[],
  ) {}

  /** Markers by issue id; the issues of a batch (see BATCH) are marked by the batch's name. */
  markersByIssue(): Map<string, string[]> {
    const byId = new Map<string, string[]>();
    for (const name of this.names) {
      const id = MARKER.exec(name)?.[1];
      if (id) byId.set(id, [...(byId.get(id) ?? []), name]);
      else if (BATCH.test(name)) for (const issue of this.readBatch(name)) byId.set(issue.id, [...(byId.get(issue.id) ?? []), name]);
    }
    return byId;
  }

  /** The batches listed, each with its issues. */
  batches(): { name: string; issues: Issue[] }[] {
    return this.names
      .filter((name) => BATCH.test(name))
      .map((name) => ({ name, issues: this.readBatch(name) }));
  }

  /**
   * Whether a marker's writer process is gone (SIGKILLed between its marker
   * and its index update). Its marker then no longer stands for a write in
   * progress, so it explains no change to issues/ made since (a git checkout).
   */
  hasOrphans(): boolean {
    return this.names.some((name) => {
      const pid = MARKER.exec(name)?.[2];
      return pid !== undefined && processIsGone(Number(pid));
    });
  }

  /** A batch's issues; none when it is gone meanwhile or unreadable (a batch is written whole by rename: never torn). */
  private readBatch(name: string): Issue[] {
    try {
      const parsed = JSON.parse(readTextIfExists(path.join(this.pendingDir, name)) ?? '[]') as unknown;
      return Array.isArray(parsed) ? (parsed as Issue[]) : [];
    } catch {
      return [];
    }
  }
}
