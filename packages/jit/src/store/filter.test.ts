import { describe, expect, it } from 'vitest';
import { JitError } from './errors.js';
import { parseFilter } from './filter.js';
import type { IssueSummary } from './tracker-api.js';

function issue(fields: Partial<IssueSummary>): IssueSummary {
  return {
    id: '0a1b2c3d-0000-4000-8000-000000000000',
    title: 'Login API',
    state: 'ready',
    priority: 'normal',
    assignee: null,
    labels: [],
    dependencies: [],
    created_at: '2026-01-01T00:00:00.000Z',
    updated_at: '2026-01-01T00:00:00.000Z',
    ...fields,
  };
}

function errorOf(expression: string): JitError {
  try {
    parseFilter(expression);
  } catch (error) {
    if (error instanceof JitError) return error;
    throw error;
  }
  throw new Error(`${expression} parsed`);
}

describe('filter language', () => {
  const ready = issue({ state: 'ready', labels: ['epic:auth', 'type:task'] });
  const backlogBug = issue({ state: 'backlog', priority: 'high', labels: ['type:bug'], assignee: 'agent:w1', title: 'Crash on save' });

  it('matches each field', () => {
    expect(parseFilter('state:ready')(ready)).toBe(true);
    expect(parseFilter('state:open')(backlogBug)).toBe(true); // the original's alias
    expect(parseFilter('label:epic:auth')(ready)).toBe(true);
    expect(parseFilter('label:type:*')(backlogBug)).toBe(true);
    expect(parseFilter('label:epic:*')(backlogBug)).toBe(false);
    expect(parseFilter('priority:high')(backlogBug)).toBe(true);
    expect(parseFilter('assignee:agent:w1')(backlogBug)).toBe(true);
    expect(parseFilter('assignee:none')(ready)).toBe(true);
    expect(parseFilter('id:0a1b')(ready)).toBe(true);
    expect(parseFilter('id:ffff')(ready)).toBe(false);
    expect(parseFilter('title:"on save"')(backlogBug)).toBe(true);
    expect(parseFilter('title:login')(ready)).toBe(true);
  });

  it('NOT binds tighter than AND, AND tighter than OR', () => {
    // a OR b AND c  ==  a OR (b AND c): true for the ready issue through a alone.
    expect(parseFilter('state:ready OR state:backlog AND priority:critical')(ready)).toBe(true);
    expect(parseFilter('(state:ready OR state:backlog) AND priority:critical')(ready)).toBe(false);
    // NOT a AND b  ==  (NOT a) AND b
    expect(parseFilter('NOT state:backlog AND label:epic:auth')(ready)).toBe(true);
    expect(parseFilter('NOT (state:ready AND label:epic:auth)')(ready)).toBe(false);
    expect(parseFilter('NOT NOT state:ready')(ready)).toBe(true);
    // a AND b OR c  ==  (a AND b) OR c
    expect(parseFilter('state:done AND priority:low OR label:type:bug')(backlogBug)).toBe(true);
    expect(parseFilter('state:done AND (priority:low OR label:type:bug)')(backlogBug)).toBe(false);
    // Keywords in any case.
    expect(parseFilter('state:ready and not label:type:bug or state:done')(ready)).toBe(true);
  });

  it('bad input: INVALID_ARGUMENT with the column and a caret in the expression', () => {
    const cases: Array<[string, number, string]> = [
      ['state:ready AND', 16, 'ends where a term'],
      ['state:ready AND (label:x:y', 27, 'expected ) to close the ( at column 17'],
      ['state:ready label:x:y', 13, 'expected AND, OR or the end'],
      ['state:sleepy', 1, 'Unknown state'],
      ['colour:red', 1, 'field one of state, priority'],
      ['state:ready OR ) ', 16, 'not )'],
      ['title:"open', 7, 'never closed'],
      ['label:a*', 1, 'label filter'],
      ['AND state:ready', 1, 'not AND'],
      ['state:', 1, 'has no value'],
    ];
    for (const [expression, column, words] of cases) {
      const error = errorOf(expression);
      expect(error.code, expression).toBe('INVALID_ARGUMENT');
      expect(error.details?.column, expression).toBe(column);
      expect(error.message, expression).toContain(`at column ${column}`);
      expect(error.message, expression).toContain(words);
      // The caret sits where the column says.
      const shown = error.message.slice(error.message.indexOf('Here (^): ') + 'Here (^): '.length);
      expect(shown.indexOf('^'), expression).toBe(column - 1);
    }
    expect(errorOf('   ').message).toContain('empty');
  });
});

describe('filter errors on long expressions', () => {
  it('quote only the neighbourhood of the mistake, not the whole expression', () => {
    const expression = 'state:ready AND '.repeat(5000) + 'colour:red' + ' OR state:done'.repeat(5000);
    const error = errorOf(expression);
    expect(error.details).toMatchObject({ column: 5000 * 16 + 1 });
    expect(error.message.length).toBeLessThan(600);
    expect(error.message).toContain('^colour:red');
    const pointer = String(error.details!.pointer).split('\n');
    expect(pointer[1]!.length - 1).toBe(pointer[0]!.indexOf('colour:red'));
    expect(pointer[0]!.length).toBeLessThan(200);
    for (const huge of ['x'.repeat(100_000) + ':y', 'state:ready ' + 'z'.repeat(100_000), `label:${'a'.repeat(100_000)}`]) expect(errorOf(huge).message.length).toBeLessThan(600);
  });
});
