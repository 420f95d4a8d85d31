// config.toml: what readStoreConfig exposes ([type_hierarchy], [validation]), unknown keys kept, and bad TOML or values as CORRUPT_FILE with the place named.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseStoreConfig, readStoreConfig } from '../../src/store/config.js';
import { JitError } from '../../src/store/errors.js';
import { CONFIG_TOML } from '../support/original-store.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function failure(run: () => unknown): JitError {
  try {
    run();
  } catch (error) {
    return error as JitError;
  }
  throw new Error('expected a failure');
}

describe('config.toml', () => {
  it("exposes the original's [type_hierarchy] and [validation], and keeps every other table and key", () => {
    const config = parseStoreConfig(CONFIG_TOML, '/x/.jit/config.toml');
    expect(config.type_hierarchy).toEqual({
      types: { milestone: 1, epic: 2, story: 3, task: 4, bug: 4 },
      strategic_types: ['milestone', 'epic'],
      label_associations: { epic: 'epic', milestone: 'milestone' },
    });
    expect(config.validation).toEqual({ strictness: 'loose', warn_orphaned_leaves: true });
    expect(config.data['custom_table']).toEqual({ kept: 'verbatim' });
    expect(config.data['documentation']).toEqual({ development_root: 'dev', managed_paths: ['dev/active', 'dev/design'] });
    expect(config.data['version']).toEqual({ schema: 2 });
  });

  it('a store without config.toml has an empty configuration', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'jit-config-'));
    dirs.push(dir);
    expect(readStoreConfig(dir)).toEqual({ path: path.join(dir, 'config.toml'), exists: false, data: {} });
    writeFileSync(path.join(dir, 'config.toml'), '[validation]\nstrictness = "strict"\n');
    expect(readStoreConfig(dir)).toMatchObject({ exists: true, validation: { strictness: 'strict' } });
  });

  it('invalid TOML is CORRUPT_FILE naming the line and column', () => {
    const error = failure(() => parseStoreConfig('[validation]\nstrictness = "loose\n', '/x/.jit/config.toml'));
    expect(error).toBeInstanceOf(JitError);
    expect(error.code).toBe('CORRUPT_FILE');
    expect(error.message).toMatch(/^Corrupt file \/x\/\.jit\/config\.toml: not valid TOML at line 2, column \d+/);
    expect(error.details).toMatchObject({ path: '/x/.jit/config.toml', line: 2 });
  });

  it('values of the wrong kind are CORRUPT_FILE naming the key', () => {
    const cases: Array<[string, RegExp]> = [
      ['[validation]\nstrictness = "lax"\n', /strictness is "lax", not one of strict, loose, permissive/],
      ['[type_hierarchy]\ntypes = { epic = "two" }\n', /types\.epic is not a level/],
      ['[type_hierarchy]\nstrategic_types = "epic"\n', /strategic_types is not a list/],
      ['type_hierarchy = 3\n', /type_hierarchy is not a table/],
    ];
    for (const [text, message] of cases) {
      const error = failure(() => parseStoreConfig(text, '/x/.jit/config.toml'));
      expect(error.code, text).toBe('CORRUPT_FILE');
      expect(error.message, text).toMatch(message);
    }
  });
});
