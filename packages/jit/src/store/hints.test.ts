// withHints: store errors without a next step get one from their code and details, never from their message.
import { describe, expect, it } from 'vitest';
import { JitError } from './errors.js';
import { withHints } from './hints.js';

const ID = '0f8fad5b-d9cb-469f-a165-70867728950e';

describe('withHints', () => {
  it('keeps an error that already says what to do', () => {
    const error = new JitError('ALREADY_EXISTS', 'x', { suggestions: ['do this'], details: { from: ID } });
    expect(withHints(error)).toBe(error);
  });

  it('adds a next step by code and details, keeping code, message, details and cause', () => {
    const error = new JitError('INVALID_TRANSITION', 'Issue 0f8fad5b is not claimed.', { details: { id: ID } });
    const hinted = withHints(error);
    expect(hinted).toMatchObject({ code: 'INVALID_TRANSITION', message: error.message, details: { id: ID } });
    expect(hinted.suggestions).toEqual(['`jit issue show 0f8fad5b` shows its state and assignee.']);
    expect(hinted.cause).toBe(error);
  });

  it('points a missing part of .jit/ (either path separator) to `jit init`, first', () => {
    for (const file of ['/p/.jit/gates.json', 'C:\\p\\.jit\\gates.json']) {
      const error = new JitError('IO_ERROR', 'ENOENT', { suggestions: ['Check the disk and the path, then retry.'], details: { errno: 'ENOENT', path: file } });
      expect(withHints(error).suggestions).toEqual(['Run `jit init` to recreate the missing parts of .jit/, then retry.', 'Check the disk and the path, then retry.']);
    }
    const elsewhere = new JitError('IO_ERROR', 'ENOENT', { details: { errno: 'ENOENT', path: '/p/graph.dot' } });
    expect(withHints(elsewhere).suggestions).toEqual([]);
  });

  it('explains the expected form of a malformed field', () => {
    const error = new JitError('INVALID_ARGUMENT', 'Invalid label', { details: { field: 'label' } });
    expect(withHints(error).suggestions[0]).toMatch(/namespace:value.*type:bug/);
    expect(withHints(new JitError('INVALID_ARGUMENT', 'x', { details: { field: 'unheard-of' } })).suggestions).toEqual([]);
  });
});
