// Tests look into and hand-edit .jit/index.db (the summary cache) as they once did index.json.
import path from 'node:path';
import { SummaryIndex } from '../../src/store/summary-index.js';
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
