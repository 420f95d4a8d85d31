/**
 * What `validate` finds wrong with the store's files, as problems: the
 * summary cache against the issue files, corrupt issue files, and the crash
 * leftovers every validate removes (temp files of dead writers). Finding
 * only: when and how the index is rebuilt (the healing order) is
 * JsonFileStorage's, which calls these under the exclusive index lock.
 */
import path from 'node:path';
import { JitError } from './errors.js';
import { TEMP_FILE, isStrayTemp, listDirectory, removeFile } from './files.js';
import type { Issue } from './model.js';
import { summarize } from './schema.js';
import type { IssueSummary, ValidationProblem } from './tracker-api.js';

/** Temp files of dead writers (never renamed into place, so never data), removed; each named in `recovered`. */
export function removeStrayTemps(dirs: readonly string[], recovered: string[]): void {
  for (const dir of dirs) {
    for (const name of listDirectory(dir)) {
      if (!TEMP_FILE.test(name) || !isStrayTemp(dir, name)) continue;
      removeFile(dir, name);
      recovered.push(`removed unfinished temp file ${path.join(dir, name)} (its writer is gone)`);
    }
  }
}

export interface IndexComparison {
  problems: ValidationProblem[];
  /** Rows that differ from, lack or outlive their files (markers aside): a rebuild fixes them. */
  mismatches: number;
  /** Issues whose file is corrupt (reported; their rows are kept). */
  corrupt: Set<string>;
}

/**
 * The rows (null: no usable index to compare) against every issue file. A
 * row may lag its file while a marker names the issue: not a problem.
 */
export function compareIndexWithFiles(input: {
  rows: ReadonlyMap<string, IssueSummary> | null;
  ids: readonly string[];
  read: (id: string) => Issue | null;
  issuePath: (id: string) => string;
  indexPath: string;
  marked: ReadonlySet<string>;
}): IndexComparison {
  const { rows, issuePath, indexPath, marked } = input;
  const problems: ValidationProblem[] = [];
  const corrupt = new Set<string>();
  const fromFiles = new Map<string, IssueSummary>();
  for (const id of input.ids) {
    try {
      const issue = input.read(id);
      if (issue) fromFiles.set(id, summarize(issue));
    } catch (error) {
      if (!(error instanceof JitError && (error.code === 'CORRUPT_FILE' || error.code === 'UNSUPPORTED_SCHEMA'))) throw error;
      corrupt.add(id);
      problems.push({ kind: 'corrupt_file', message: error.message, path: issuePath(id), issue_id: id, fixable: false });
    }
  }
  let mismatches = 0;
  if (rows) {
    for (const [id, summary] of fromFiles) {
      if (marked.has(id)) continue;
      const row = rows.get(id);
      if (!row) {
        mismatches++;
        problems.push({ kind: 'unindexed_issue_file', message: `Issue file ${issuePath(id)} is not in the index.`, path: issuePath(id), issue_id: id, fixable: true });
      } else if (JSON.stringify(row) !== JSON.stringify(summary)) {
        mismatches++;
        problems.push({ kind: 'index_mismatch', message: `The index summary of ${id} differs from its issue file.`, path: indexPath, issue_id: id, fixable: true });
      }
    }
    for (const id of rows.keys()) {
      if (fromFiles.has(id) || corrupt.has(id) || marked.has(id)) continue;
      mismatches++;
      problems.push({ kind: 'missing_issue_file', message: `The index lists ${id} but ${issuePath(id)} does not exist.`, issue_id: id, fixable: true });
    }
  }
  return { problems, mismatches, corrupt };
}
