/**
 * `issue batch-create`: the input's shape and the checks that need no store
 * (entries, local keys, the cycle check among new issues). The transaction
 * itself is Tracker.batchCreate. zod is loaded here only, on first use: no
 * other command pays for it.
 */
import type * as Zod from 'zod';
import { JitError } from './errors.js';
import { describeCycle } from './rules.js';

/** One issue of a batch, as given (checked field by field by the tracker's rules afterwards). */
export interface BatchEntry {
  /** The local key other entries name in their dependencies. */
  ref?: string;
  title: string;
  description?: string;
  priority?: string;
  labels?: string[];
  gates?: string[];
  assignee?: string;
  context?: Record<string, string>;
  /** Local keys of other entries, or ids (unique prefixes) of existing issues. */
  dependencies?: string[];
}

/** At most this many issues in one batch: every new issue holds its lock (a file descriptor) until the batch commits. */
export const BATCH_LIMIT = 5000;

/** The batch as given: a list of entries, or `{"issues": [...]}`; INVALID_ARGUMENT naming the entry and field at fault. */
export function parseBatch(input: unknown): BatchEntry[] {
  const { z } = require('zod') as typeof Zod;
  const text = z.string();
  const entry = z.strictObject({
    ref: text.min(1).max(200).optional(),
    title: text,
    description: text.optional(),
    priority: text.optional(),
    labels: z.array(text).optional(),
    gates: z.array(text).optional(),
    assignee: text.optional(),
    context: z.record(text, text).optional(),
    dependencies: z.array(text).optional(),
  });
  const list = z.array(entry).min(1).max(BATCH_LIMIT);
  const shape = z.union([list, z.strictObject({ issues: list })]);
  const parsed = shape.safeParse(input);
  if (!parsed.success) {
    // The union's own error says little: word it from whichever branch the input resembles.
    const branch = Array.isArray(input) ? list.safeParse(input) : z.strictObject({ issues: list }).safeParse(input);
    const issue = (branch.success ? parsed.error : branch.error).issues[0]!;
    const where = issue.path.map((part) => (typeof part === 'number' ? `[${part}]` : `.${String(part)}`)).join('');
    // The path is [index, ...] or ['issues', index, ...]: the entry, named in details as entryError does.
    const entry = issue.path.find((part) => typeof part === 'number');
    throw new JitError('INVALID_ARGUMENT', `Invalid batch at ${where === '' ? 'the top' : `entry ${where.replace(/^\.issues/, '')}`}: ${issue.message}.`, {
      suggestions: ['Give a JSON list of {"ref", "title", "description", "priority", "labels", "gates", "assignee", "context", "dependencies"} (title required), or {"issues": [...]}.'],
      details: { field: where === '' ? 'batch' : where.replace(/^\.issues/, '').replace(/^\./, ''), ...(entry === undefined ? {} : { entry }), limit: BATCH_LIMIT },
    });
  }
  const entries = Array.isArray(parsed.data) ? parsed.data : parsed.data.issues;
  const seen = new Map<string, number>();
  entries.forEach((e, i) => {
    if (e.ref === undefined) return;
    // "[N]" is the key of an entry without a ref in the result's ids: a ref spelled so would hide one of them.
    if (/^\[\d+\]$/.test(e.ref)) throw entryError(i, 'ref', `ref ${JSON.stringify(e.ref)} is spelled like the key of an entry without a ref: choose another`);
    const first = seen.get(e.ref);
    if (first !== undefined) throw entryError(i, 'ref', `ref ${JSON.stringify(e.ref)} is already the key of entry [${first}]`);
    seen.set(e.ref, i);
  });
  return entries;
}

/** INVALID_ARGUMENT about one field of one entry. */
export function entryError(index: number, field: string, problem: string, cause?: unknown): JitError {
  return new JitError('INVALID_ARGUMENT', `Invalid batch entry [${index}] ${field}: ${problem}.`, { details: { field: `[${index}].${field}`, entry: index }, cause });
}

/**
 * A cycle among the new issues (given as the local dependencies of each,
 * by index), as a list of indexes that starts and ends with the same one;
 * null when there is none. Existing issues cannot close a cycle: none of
 * them can wait for an issue that does not exist yet.
 */
export function findBatchCycle(localDependencies: readonly (readonly number[])[]): number[] | null {
  // Depth-first with colours; the stack holds the path to the current node.
  const colour = new Uint8Array(localDependencies.length); // 0 new, 1 on the path, 2 done
  for (let root = 0; root < localDependencies.length; root++) {
    if (colour[root] !== 0) continue;
    const path: number[] = [root];
    const next: number[] = [0];
    colour[root] = 1;
    while (path.length > 0) {
      const node = path[path.length - 1]!;
      const edges = localDependencies[node]!;
      const i = next[next.length - 1]!;
      if (i >= edges.length) {
        colour[node] = 2;
        path.pop();
        next.pop();
        continue;
      }
      next[next.length - 1] = i + 1;
      const target = edges[i]!;
      if (colour[target] === 1) return [...path.slice(path.indexOf(target)), target];
      if (colour[target] === 0) {
        colour[target] = 1;
        path.push(target);
        next.push(0);
      }
    }
  }
  return null;
}

/** CYCLE naming the entries (by ref, else index) that would wait for each other. */
export function batchCycleError(cycle: readonly number[], entries: readonly BatchEntry[]): JitError {
  const name = (i: number): string => entries[i]!.ref ?? `[${i}]`;
  return new JitError('CYCLE', `Refused: the batch's dependencies form a cycle ${describeCycle(cycle.map(String), (i) => name(Number(i)))}; nothing was created.`, {
    suggestions: ['Remove or reverse one dependency on the cycle, then run the batch again.'],
    details: { cycle: cycle.map(name) },
  });
}
