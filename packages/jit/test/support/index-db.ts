// Tests look into and hand-edit .jit/index.db (the summary cache) as they once did index.json.
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import { manifestText } from '../../src/store/layout.js';
import { SummaryIndex, directoryStamp } from '../../src/store/summary-index.js';
import type { IssueSummary } from '../../src/store/tracker-api.js';

function withIndex<T>(jitDir: string, work: (index: SummaryIndex) => T): T {
  const index = new SummaryIndex(path.join(jitDir, 'index.db'), { create: false });
  try {
    return work(index);
  } finally {
    index.close();
  }
}

/** Every summary in index.db, by id (plain objects, for toEqual). */
export function indexRows(jitDir: string): Record<string, IssueSummary> {
  return withIndex(jitDir, (index) => Object.fromEntries(index.all().map((s) => [s.id, { ...s, labels: [...s.labels], dependencies: [...s.dependencies] }])));
}

/**
 * Changes one row as a hand (or a bug) might: `patch` merged into the row
 * (a new row when there is none, copied from `from`), null drops it. The
 * row keeps its file stamp, so nothing tells jit the row is wrong.
 */
export function editIndexRow(jitDir: string, id: string, patch: Partial<IssueSummary> | null, from?: string): void {
  withIndex(jitDir, (index) => {
    if (patch === null) return index.apply({ remove: [id] });
    const base = index.get(id) ?? index.get(from ?? '');
    if (!base) throw new Error(`no row ${id} in index.db`);
    index.apply({ put: [{ summary: { ...base, id, ...patch }, fileStamp: index.fileStamp(id) ?? null }] });
  });
}

/**
 * Writes index.db holding `summaries` as the current cache of the store (with
 * the issues/ stamp as it is now, so nothing re-syncs it), and the manifest:
 * a store whose index says what the test wants, whether or not the issue
 * files exist. For stores too big to create issue by issue.
 */
export function writeIndexDb(jitDir: string, summaries: readonly IssueSummary[]): void {
  const index = new SummaryIndex(path.join(jitDir, 'index.db'), { create: true });
  try {
    index.initialize();
    index.apply({
      replaceAll: true,
      put: summaries.map((summary) => ({ summary, fileStamp: null })),
      meta: { built_from_files: new Date().toISOString(), issues_dir_stamp: directoryStamp(path.join(jitDir, 'issues')) },
    });
  } finally {
    index.close();
  }
  writeFileSync(path.join(jitDir, 'index.json'), manifestText());
}
