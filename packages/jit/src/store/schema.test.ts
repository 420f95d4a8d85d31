// Issue and gate files are checked by hand on the hot path (checkedIssue,
// checkedGates) and by zod only when the hand check does not accept them
// (schema.ts). These tests hold the two to one behaviour: on generated files,
// valid and broken, the hand check accepts exactly what zod accepts and
// returns what zod returns (same keys, same order); a broken file of each
// kind fails with CORRUPT_FILE and zod's wording, as before.
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JitError } from './errors.js';
import { PRIORITIES, STATES } from './model.js';
import { checkedGates, checkedIssue, parseGates, parseIssue, zodSchemas } from './schema.js';

const PATH = '/p/.jit/issues/x.json';
const GATES_PATH = '/p/.jit/gates.json';

function validIssue(): Record<string, unknown> {
  return {
    id: randomUUID(),
    title: 'Title',
    description: '',
    state: 'ready',
    priority: 'normal',
    assignee: null,
    dependencies: [randomUUID()],
    gates_required: ['review'],
    gates_status: { review: { status: 'pending', updated_by: null, updated_at: '2026-01-01T00:00:00.000Z' } },
    labels: ['type:bug'],
    context: { branch: 'main' },
    created_at: '2026-01-01T00:00:00.000Z',
    updated_at: '2026-01-01T00:00:00.000Z',
    lease: { holder: 'agent:a', acquired_at: '2026-01-01T00:00:00.000Z', expires_at: null, agent: 'agent:a' },
  };
}

function validGates(): Record<string, unknown> {
  return {
    schema_version: 1,
    gates: {
      review: { key: 'review', title: 'Review', description: 'd', auto: false },
      // A gate that runs a check, in the original jit's shape (with one of its other fields).
      tests: {
        key: 'tests', title: 'Tests', description: '', auto: true, stage: 'postcheck', mode: 'auto', priority: 3,
        checker: { type: 'exec', command: 'npm test', timeout_seconds: 60, working_dir: null, env: { CI: '1' }, pass_context: false },
      },
    },
  };
}

/** Values of every JSON kind, and the ones a field of these files may hold. */
const anyValue = fc.oneof(
  fc.constantFrom<unknown>(null, true, false, 0, 1, 1.5, -1, '', 'x', [], {}, ['x'], [1], { a: 'b' }, { a: 1 }),
  fc.constantFrom<unknown>(...STATES, ...PRIORITIES, 'pending', 'passed', 'failed', 'nope', randomUUID(), [randomUUID()], ['not-a-uuid']),
  fc.constantFrom<unknown>({ k: { status: 'passed', updated_by: 'agent:a', updated_at: 't' } }, { k: { status: 'passed', updated_by: null, updated_at: '' } }),
  fc.constantFrom<unknown>('precheck', 'postcheck', 'auto', 'manual', 'exec', { type: 'exec', command: 'x' }, { A: 'b' }),
  fc.constantFrom<unknown>({ k: { status: 'failed', updated_by: null, updated_at: 't', extra: 1 } }, { k: { key: 'k', title: '', description: '', auto: true, more: 2 } }),
  fc.json().map((text) => JSON.parse(text) as unknown),
);

/** A valid object with some fields replaced, dropped or added (extra keys, __proto__ via JSON.parse, reordered keys). */
function mutated(base: () => Record<string, unknown>, paths: string[][]) {
  const edit = fc.record({
    path: fc.constantFrom(...paths),
    action: fc.constantFrom('set', 'delete'),
    value: anyValue,
  });
  return fc.tuple(fc.array(edit, { maxLength: 3 }), fc.boolean(), fc.boolean(), fc.boolean()).map(([edits, extraKey, protoKey, reverse]) => {
    const data = base();
    for (const { path, action, value } of edits) {
      let target = data as Record<string, unknown>;
      for (const key of path.slice(0, -1)) {
        if (typeof target[key] !== 'object' || target[key] === null) target[key] = {};
        target = target[key] as Record<string, unknown>;
      }
      if (action === 'delete') delete target[path.at(-1)!];
      else target[path.at(-1)!] = structuredClone(value); // a copy: the generator shares its constants
    }
    if (extraKey) data['added_by_a_newer_jit'] = { nested: [1] };
    let text = JSON.stringify(reverse ? Object.fromEntries(Object.entries(data).reverse()) : data);
    if (protoKey) text = text.replace(/^\{/, text === '{}' ? '{"__proto__":{"x":1}' : '{"__proto__":{"x":1},');
    return text;
  });
}

const ISSUE_PATHS = [
  ...['id', 'title', 'description', 'state', 'priority', 'assignee', 'dependencies', 'gates_required', 'gates_status', 'labels', 'context', 'created_at', 'updated_at'].map((key) => [key]),
  ['gates_status', 'review'],
  ['gates_status', 'review', 'status'],
  ['gates_status', 'review', 'updated_by'],
  ['gates_status', 'review', 'updated_at'],
  ['gates_status', 'review', 'extra'],
  ['context', 'branch'],
  ['context', '__proto__'],
  ['lease'],
  ['lease', 'holder'],
  ['lease', 'acquired_at'],
  ['lease', 'expires_at'],
  ['lease', 'agent'],
  ['lease', 'extra'],
];
const GATES_PATHS = [['schema_version'], ['gates'], ['gates', 'review'], ['gates', 'review', 'key'], ['gates', 'review', 'title'], ['gates', 'review', 'description'], ['gates', 'review', 'auto'], ['gates', 'review', 'extra'], ['gates', 'other'],
  ...['stage', 'mode', 'checker', 'description', 'auto', 'priority'].map((key) => ['gates', 'tests', key]),
  ...['type', 'command', 'timeout_seconds', 'working_dir', 'env', 'pass_context', 'extra'].map((key) => ['gates', 'tests', 'checker', key]),
  ['gates', 'tests', 'checker', 'env', 'CI']];

/** The same value, keys in the same order, prototypes included (a __proto__ key must not turn into a prototype silently). */
function same(actual: unknown, expected: unknown): void {
  expect(JSON.stringify(actual)).toBe(JSON.stringify(expected));
  expect(actual).toStrictEqual(expected);
}

describe('the hand checks agree with the zod schemas', () => {
  it('issue files: accepted by one exactly when by the other, with the same result', () => {
    let accepted = 0;
    fc.assert(
      fc.property(mutated(validIssue, ISSUE_PATHS), (text) => {
        const data: unknown = JSON.parse(text);
        const byHand = checkedIssue(data);
        const byZod = zodSchemas().issue.safeParse(data);
        // Where a __proto__ key matters the hand check leaves the file to zod (zod's result is then the one used).
        if (byHand !== undefined || !text.includes('"__proto__"')) expect(byHand !== undefined, text).toBe(byZod.success);
        if (byHand) {
          accepted++;
          same(byHand, byZod.data);
        }
      }),
      { numRuns: 3000 },
    );
    expect(accepted).toBeGreaterThan(100); // the generator reaches both sides
  });

  it('gates files: accepted by one exactly when by the other, with the same result', () => {
    let accepted = 0;
    fc.assert(
      fc.property(mutated(validGates, GATES_PATHS), (text) => {
        const data: unknown = JSON.parse(text);
        const byHand = checkedGates(data);
        const byZod = zodSchemas().gates.safeParse(data);
        // Where a __proto__ key matters the hand check leaves the file to zod (zod's result is then the one used).
        if (byHand !== undefined || !text.includes('"__proto__"')) expect(byHand !== undefined, text).toBe(byZod.success);
        if (byHand) {
          accepted++;
          same(byHand, byZod.data);
        }
      }),
      { numRuns: 3000 },
    );
    expect(accepted).toBeGreaterThan(100);
  });
});

function corruptError(parse: () => unknown): JitError {
  try {
    parse();
  } catch (error) {
    if (error instanceof JitError) return error;
    throw error;
  }
  throw new Error('expected CORRUPT_FILE, but the file was accepted');
}

describe('a broken file of each kind is CORRUPT_FILE with zod\'s wording', () => {
  it.each([
    ['a title that is a number', { title: 7 }, 'title: Invalid input: expected string, received number'],
    ['an unknown state', { state: 'finished' }, 'state: Invalid option: expected one of "backlog"|"ready"|"in_progress"|"gated"|"done"|"rejected"|"archived"'],
    ['a dependency that is not a UUID', { dependencies: ['abc'] }, 'dependencies.0: Invalid string: must match pattern /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/'],
    ['a gate status of another kind', { gates_status: { review: { status: 'maybe', updated_by: null, updated_at: 't' } } }, 'gates_status.review.status: Invalid option: expected one of "pending"|"passed"|"failed"'],
    ['a context value that is not text', { context: { branch: 1 } }, 'context.branch: Invalid input: expected string, received number'],
    ['no updated_at', { updated_at: undefined }, 'updated_at: Invalid input: expected string, received undefined'],
    ['an array instead of an object', null, '(top level): Invalid input: expected object, received array'],
  ])('issue file: %s', (_name, change, reason) => {
    const data = change === null ? [] : { ...validIssue(), ...change };
    const error = corruptError(() => parseIssue(JSON.stringify(data), PATH));
    expect(error.code).toBe('CORRUPT_FILE');
    expect(error.message).toBe(`Corrupt file ${PATH}: ${reason}.`);
    expect(error.details).toEqual({ path: PATH });
  });

  it('issue file: not JSON, empty, or holding another issue', () => {
    expect(corruptError(() => parseIssue('{"id":', PATH)).message).toMatch(/^Corrupt file .*: not valid JSON \(/);
    expect(corruptError(() => parseIssue('', PATH)).message).toBe(`Corrupt file ${PATH}: the file is empty.`);
    const issue = validIssue();
    const other = randomUUID();
    expect(corruptError(() => parseIssue(JSON.stringify(issue), PATH, other)).message).toBe(`Corrupt file ${PATH}: it holds issue ${String(issue['id'])}, not ${other}.`);
  });

  it.each([
    ['a gate without a title', { review: { key: 'review', description: '', auto: false } }, 'gates.review.title: Invalid input: expected string, received undefined'],
    ['auto as text', { review: { key: 'review', title: '', description: '', auto: 'yes' } }, 'gates.review.auto: Invalid input: expected boolean, received string'],
    ['an empty key', { review: { key: '', title: '', description: '', auto: false } }, 'gates.review.key: Too small: expected string to have >=1 characters'],
    ['gates as a list', [], 'gates: Invalid input: expected record, received array'],
  ])('gates file: %s', (_name, gates, reason) => {
    const error = corruptError(() => parseGates(JSON.stringify({ schema_version: 1, gates }), GATES_PATH));
    expect(error.code).toBe('CORRUPT_FILE');
    expect(error.message).toBe(`Corrupt file ${GATES_PATH}: ${reason}.`);
    expect(error.details).toEqual({ path: GATES_PATH });
  });

  it('gates file: an entry under another name, and no schema_version, as before', () => {
    const renamed = { schema_version: 1, gates: { review: { key: 'other', title: '', description: '', auto: false } } };
    expect(corruptError(() => parseGates(JSON.stringify(renamed), GATES_PATH)).message).toBe(`Corrupt file ${GATES_PATH}: entry review holds gate other.`);
    expect(corruptError(() => parseGates('{"gates":[]}', GATES_PATH)).message).toBe(`Corrupt file ${GATES_PATH}: schema_version is missing or not an integer.`);
  });

  it('valid files parse to the same data as before (zod\'s)', () => {
    const issue = { ...validIssue(), newer_field: 1 };
    same(parseIssue(JSON.stringify(issue), PATH), zodSchemas().issue.parse(issue));
    same(parseGates(JSON.stringify(validGates()), GATES_PATH), zodSchemas().gates.parse(validGates()));
  });
});
