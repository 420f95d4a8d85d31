/**
 * Suggestions for the store errors that come without one, so an agent always
 * gets a next step. Both faces apply it (the CLI in cli/failure.ts, the MCP server
 * in mcp/tool-result.ts, which renders the commands as tool calls). It
 * reads only the error's stable code and details, never its message.
 * Kept apart from the rules that throw these errors so that every hint
 * is written in one place, as data (suggestions.ts) that each face renders.
 */
import { JitError } from './errors.js';
import { command, hint, run, sentence, type Suggestion } from './suggestions.js';
import type { PendingFollowUp } from './tracker-api.js';

const FIELD_HINTS: Readonly<Record<string, Suggestion>> = {
  label: sentence('A label is namespace:value without spaces, e.g. type:bug or area:store; several are separated by commas.'),
  'label filter': sentence('Filter by one label (type:bug) or by namespace (epic:* matches every epic: label).'),
  'gate key': hint`Gate keys are those of the registry: ${command('registry.list')}.`,
  query: hint`Give some text to search for, e.g. ${command('issue.search', { query: 'timeout' })}.`,
  assignee: sentence('Name who does the work as kind:name without spaces, e.g. agent:worker-1 or human:alice.'),
  by: sentence('Name who checked it as kind:name without spaces, e.g. agent:worker-1 or human:alice.'),
  reason: sentence('Say in a few words why, e.g. "blocked by the API change" (release, evict) or "duplicate of #12" (reject).'),
  title: sentence('Give a title of 1-500 characters on one line.'),
  'context key': sentence('Context keys are 1-100 characters without spaces or =, other than __proto__, constructor and prototype, e.g. branch.'),
};

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function short(id: string): string {
  return id.slice(0, 8);
}

/** Inside a `.jit` directory (either separator, so Windows paths count too). */
function isStorePath(filePath: string): boolean {
  return /(^|[\\/])\.jit([\\/]|$)/.test(filePath);
}

function extraHints(error: JitError): Suggestion[] {
  const details = error.details ?? {};
  const id = text(details['id']);
  const field = text(details['field']);
  const filePath = text(details['path']);

  // A part of .jit/ is missing (e.g. issues/ after a git clone: git keeps no empty folders). `jit init` recreates it.
  if (error.code === 'IO_ERROR' && details['errno'] === 'ENOENT' && filePath !== undefined && isStorePath(filePath)) {
    return [hint`${run(command('init'))} to recreate the missing parts of .jit/, then retry.`];
  }
  if (error.suggestions.length > 0) return [];
  switch (error.code) {
    case 'INVALID_TRANSITION':
      return id === undefined ? [] : [hint`${command('issue.show', { id: short(id) })} shows its state and assignee.`];
    case 'INVALID_ARGUMENT':
      return field !== undefined && FIELD_HINTS[field] !== undefined ? [FIELD_HINTS[field]] : [];
    default:
      return [];
  }
}

/** `error` with a suggestion added where it had none (see extraHints); otherwise `error` itself. */
export function withHints(error: JitError): JitError {
  const extra = extraHints(error);
  if (extra.length === 0) return error;
  return new JitError(error.code, error.message, {
    suggestions: [...extra, ...error.hints],
    ...(error.details ? { details: error.details } : {}),
    cause: error.cause ?? error,
  });
}

/**
 * One sentence per follow-up a saved change left for later (IssueChange's
 * `pending`), for both faces' human output: the change is done, and the
 * next command finishes the rest.
 */
export function pendingNotes(pending: readonly PendingFollowUp[] | undefined): string[] {
  return (pending ?? []).map((p) => {
    const what = p.step === 'self' ? `re-checking ${short(p.issue_id)} against its dependencies` : `moving the issues that wait for ${short(p.issue_id)} between backlog and ready`;
    const code = /^[A-Z_]+(?=:)/.exec(p.reason)?.[0];
    return `Saved, but ${what} is still to do${code ? ` (${code})` : ''}: the next operation on the store finishes it.`;
  });
}
