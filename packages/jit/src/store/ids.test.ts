// Issue ids: UUID v4 generation, resolution of full ids and unique prefixes, and refusal of anything else.
import { describe, expect, it } from 'vitest';
import { JitError } from './errors.js';
import { newIssueId, normalizeIdInput, resolveId, uuidFromBytes } from './ids.js';

const known = ['1a2b3c4d-0000-4000-8000-000000000001', '1a2b3c4d-0000-4000-8000-000000000002', '9f00aaaa-1111-4111-9111-111111111111'];

function errorOf(fn: () => unknown): JitError {
  try {
    fn();
  } catch (error) {
    return error as JitError;
  }
  throw new Error('expected a JitError');
}
const codeOf = (fn: () => unknown): string => errorOf(fn).code;

describe('ids', () => {
  it('makes UUID v4 ids', () => {
    const id = newIssueId();
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(newIssueId()).not.toBe(id);
  });

  it('never repeats an id across many refills of its pool of random bytes', () => {
    const ids = Array.from({ length: 5000 }, () => newIssueId());
    expect(new Set(ids).size).toBe(ids.length);
    for (const made of ids) expect(made).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    // Random bits: every hex digit shows up in each free position over 5,000 ids.
    expect(new Set(ids.map((made) => made[0])).size).toBe(16);
    expect(new Set(ids.map((made) => made[35])).size).toBe(16);
  });

  it('sets the version and variant bits of whatever bytes it is given (RFC 9562)', () => {
    expect(uuidFromBytes(new Uint8Array(16).fill(0xff))).toBe('ffffffff-ffff-4fff-bfff-ffffffffffff');
    expect(uuidFromBytes(new Uint8Array(16))).toBe('00000000-0000-4000-8000-000000000000');
    const bytes = Uint8Array.from({ length: 20 }, (_, i) => i);
    expect(uuidFromBytes(bytes, 4)).toBe('04050607-0809-4a0b-8c0d-0e0f10111213');
  });

  it('resolves full ids and unique prefixes of 4+ characters, case-insensitively', () => {
    expect(resolveId('9F00', known)).toBe(known[2]);
    expect(resolveId(' 9f00aaaa-1111 ', known)).toBe(known[2]);
    expect(resolveId(known[0], known)).toBe(known[0]);
  });

  it('tells ambiguous prefixes from unknown ones', () => {
    expect(codeOf(() => resolveId('1a2b', known))).toBe('AMBIGUOUS_ID');
    expect(errorOf(() => resolveId('1a2b3c4d', known)).details?.['matches']).toEqual([known[0], known[1]]);
    expect(codeOf(() => resolveId('dead', known))).toBe('ISSUE_NOT_FOUND');
  });

  it('refuses anything that is not an id before it can reach the file system', () => {
    for (const bad of ['../x', '..', '/etc/passwd', 'C:\\x', 'abc', 'ghij', '1a2b\u0000', 'a'.repeat(37), '', ' ', '1a2b3c4d/0', 'x'.repeat(36)]) {
      expect(codeOf(() => normalizeIdInput(bad))).toBe('INVALID_ID');
    }
    for (const bad of [undefined, null, 42, {}]) expect(codeOf(() => normalizeIdInput(bad))).toBe('INVALID_ID');
    // 36 characters of hex and dashes that are not a UUID.
    expect(codeOf(() => normalizeIdInput('------------------------------------'))).toBe('INVALID_ID');
  });
});
