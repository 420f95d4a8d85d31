/**
 * Telling a `.jit/` written by the original (Rust) jit from ours, by the
 * shape of its files, so that opening one says "run `jit migrate`" instead
 * of a generic CORRUPT_FILE or UNSUPPORTED_SCHEMA. Kept apart from the
 * parsers (schema.ts) so that every reader of index.json and gates.json,
 * whatever stores the index, can ask the same two questions.
 *
 * - The original's index.json (its v2): `{"schema_version": 2, "all_ids":
 *   [...], "deleted_ids": [...]}`, a list of ids. Our own index.json never has
 *   `all_ids` (v1 has `issues`; a manifest pointing at another index file,
 *   `{"schema_version": 2, "index": "index.db"}`, has neither), so `all_ids`
 *   is the tell, whatever the version number.
 * - The original's gates.json: `{"gates": {...}}` without `schema_version`,
 *   which every gates.json of ours has.
 */
import { command, hint, run } from './suggestions.js';
import { JitError } from './errors.js';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isOriginalIndex(data: unknown): boolean {
  return isRecord(data) && Array.isArray(data['all_ids']) && !('issues' in data);
}

export function isOriginalGates(data: unknown): boolean {
  return isRecord(data) && !('schema_version' in data) && isRecord(data['gates']);
}

/** ORIGINAL_JIT_STORE for the file at `filePath` (index.json or gates.json of the store). */
export function originalStoreError(filePath: string): JitError {
  return new JitError(
    'ORIGINAL_JIT_STORE',
    `${filePath} was written by the original (Rust) jit, whose format this jit does not read directly; nothing was changed.`,
    {
      suggestions: [hint`${run(command('migrate'))} to convert the store (\`--dry-run\` first shows what would change; the original is kept as a backup).`],
      details: { path: filePath },
    },
  );
}
