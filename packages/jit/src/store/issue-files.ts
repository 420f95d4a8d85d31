/**
 * `.jit/issues/`: one file per issue, `<uuid>.json`, the truth every cache is
 * rebuilt from, and its lock file `<uuid>.lock`. Reading, listing and writing
 * them; when (under which locks) is the transaction's business.
 */
import fs from 'node:fs';
import path from 'node:path';
import { JitError } from './errors.js';
import { fsError, listDirectory, readTextIfExists, removeFile, writeFileAtomic, writeFilesAtomic } from './files.js';
import type { Issue } from './model.js';
import { parseIssue } from './schema.js';
import { fileStamp } from './summary-index.js';

const ISSUE_FILE = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.json$/;

/** An issue as read for the index: the file's stamp is taken before the read, so a later change always shows. */
export interface StampedRead {
  /** null: no file; undefined: corrupt (keep what the index says). */
  issue: Issue | null | undefined;
  stamp: string | null;
}

export class IssueFiles {
  constructor(readonly dir: string) {}

  /** INTERNAL for an id that is not an issue file's name (a bug: the tracker resolves ids first). */
  checkId(id: string): void {
    if (!ISSUE_FILE.test(`${id}.json`)) {
      throw new JitError('INTERNAL', `Storage was handed a malformed issue id ${JSON.stringify(id)}.`);
    }
  }

  path(id: string): string {
    return path.join(this.dir, `${id}.json`);
  }

  read(id: string): Issue | null {
    const file = this.path(id);
    const text = readTextIfExists(file);
    return text === null ? null : parseIssue(text, file, id);
  }

  /** The issue, null when its file is gone, undefined when the file is corrupt (keep what the index says). */
  readOrKeep(id: string): Issue | null | undefined {
    try {
      return this.read(id);
    } catch (error) {
      if (isCorruptIssue(error)) return undefined;
      throw error;
    }
  }

  /** The issue with its file's stamp taken first; a corrupt file is recorded in `corrupt` (when given) and read as undefined. */
  readStamped(id: string, corrupt?: Map<string, JitError>): StampedRead {
    const stamp = this.stamp(id);
    try {
      return { issue: stamp === null ? null : this.read(id), stamp };
    } catch (error) {
      if (!isCorruptIssue(error)) throw error;
      corrupt?.set(id, error);
      return { issue: undefined, stamp };
    }
  }

  stamp(id: string): string | null {
    return fileStamp(this.path(id));
  }

  /** A missing issues/ (a cloned store before its first write) holds no issues. */
  ids(): string[] {
    try {
      fs.lstatSync(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw fsError(error, this.dir, 'open the directory');
    }
    return listDirectory(this.dir)
      .map((name) => ISSUE_FILE.exec(name)?.[1])
      .filter((id): id is string => id !== undefined)
      .sort();
  }

  /**
   * Each file is replaced atomically; several are not, together. Writes go
   * before removals so that a disk error part-way through a delete leaves
   * the deleted issue in place rather than its dependents waiting for nothing.
   */
  write(changes: ReadonlyMap<string, Issue | null>): void {
    for (const [id, issue] of changes) if (issue) writeFileAtomic(this.dir, `${id}.json`, JSON.stringify(issue, null, 2) + '\n');
    for (const [id, issue] of changes) if (!issue) removeFile(this.dir, `${id}.json`);
  }

  /** write() for a transaction that may write a whole batch: the writes' fsyncs overlap (writeFilesAtomic). */
  async writeMany(changes: ReadonlyMap<string, Issue | null>): Promise<void> {
    const written = [...changes].filter((entry): entry is [string, Issue] => entry[1] !== null);
    if (written.length <= 1) return this.write(changes);
    await writeFilesAtomic(this.dir, written.map(([id, issue]) => [`${id}.json`, JSON.stringify(issue, null, 2) + '\n'] as const));
    for (const [id, issue] of changes) if (!issue) removeFile(this.dir, `${id}.json`);
  }


  /**
   * Issue files that came without their lock file (git clone or pull, a
   * copied store) get it now, before the issues/ stamp is recorded: the first
   * lock of such an issue would otherwise change the folder, and the next
   * command would take that for an outside change and re-sync every row.
   * Lock files are empty and never data, so nothing is fsynced; a folder
   * this process may not write keeps what it has.
   */
  addMissingLockFiles(): void {
    let names: string[];
    try {
      names = listDirectory(this.dir);
    } catch {
      return; // ids() reports a missing or unreadable folder
    }
    const present = new Set(names);
    this.addLockFiles(names.map((name) => ISSUE_FILE.exec(name)?.[1]).filter((id): id is string => id !== undefined && !present.has(`${id}.lock`)));
  }

  /** Creates the lock files of these issues where missing (see addMissingLockFiles). */
  addLockFiles(ids: readonly string[]): void {
    for (const id of ids) {
      try {
        fs.closeSync(fs.openSync(path.join(this.dir, `${id}.lock`), fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | (fs.constants.O_NOFOLLOW ?? 0), 0o666));
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') return;
        if (code !== 'EEXIST') throw fsError(error, path.join(this.dir, `${id}.lock`), 'create');
      }
    }
  }
}

function isCorruptIssue(error: unknown): error is JitError {
  return error instanceof JitError && (error.code === 'CORRUPT_FILE' || error.code === 'UNSUPPORTED_SCHEMA');
}
