import { command, hint, run } from './suggestions.js';
import type * as Crypto from 'node:crypto';
import { JitError } from './errors.js';
import { preview } from './rules.js';

/** A full id or a prefix of one: hex digits and dashes only, so it can never name a path. */
const ID_OR_PREFIX = /^[0-9a-f-]{4,36}$/;
const FULL_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

// node:crypto is loaded on first use: it costs ~2 ms of every start-up, and
// the commands polled most (`jit status`, `jit query ready`) make no ids.
let cryptoModule: typeof Crypto | undefined;

/** A random UUID v4 (issue and event ids). */
export function newUuid(): string {
  return (cryptoModule ??= require('node:crypto') as typeof Crypto).randomUUID();
}

export const newIssueId = newUuid;

export function isFullId(id: string): boolean {
  return FULL_ID.test(id);
}

/**
 * Lower-cases and checks an id or prefix before anything touches the file
 * system: `../x`, absolute paths and NUL bytes all fail here.
 */
export function normalizeIdInput(input: unknown): string {
  const text = typeof input === 'string' ? input.trim().toLowerCase() : '';
  if (!ID_OR_PREFIX.test(text) || (text.length === 36 && !isFullId(text))) {
    throw new JitError('INVALID_ID', `Invalid issue id ${preview(input)}: expected a UUID or a prefix of 4+ hex characters.`, {
      suggestions: [hint`${run(command('issue.list'))} to see the ids.`],
    });
  }
  return text;
}

/**
 * Resolves a full id or unique prefix against the known ids. `cut`: the
 * known ids are only the first few that match (Storage.summariesByPrefix),
 * so an ambiguous prefix may match more than are listed.
 */
export function resolveId(input: unknown, knownIds: Iterable<string>, cut = false): string {
  const wanted = normalizeIdInput(input);
  const matches: string[] = [];
  for (const id of knownIds) {
    if (id.startsWith(wanted)) {
      matches.push(id);
      if (id === wanted) return id;
    }
  }
  if (matches.length === 1) return matches[0]!;
  if (matches.length === 0) {
    throw new JitError('ISSUE_NOT_FOUND', `No issue with id ${wanted}.`, {
      suggestions: [hint`${run(command('issue.list'))} to see the ids.`],
      details: { id: wanted },
    });
  }
  throw new JitError('AMBIGUOUS_ID', `Id prefix ${wanted} matches ${cut ? 'at least ' : ''}${matches.length} issues: ${matches.slice(0, 5).map((m) => m.slice(0, 12)).join(', ')}${matches.length > 5 ? ', ...' : ''}.`, {
    suggestions: ['Give more characters of the id.'],
    details: { prefix: wanted, matches },
  });
}
