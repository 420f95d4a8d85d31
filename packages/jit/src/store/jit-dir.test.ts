// What counts as a store: only a folder named .jit is ever opened or written.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { JitError } from './errors.js';
import { initJit, openTracker, resolveJitDir } from './jit-dir.js';

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'jit-dir-'));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

let folders = 0;
function folder(): string {
  const dir = path.join(scratch, `f${++folders}`);
  fs.mkdirSync(dir);
  return dir;
}

async function errorOf(promise: Promise<unknown>): Promise<JitError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof JitError) return error;
    throw error;
  }
  throw new Error('expected a JitError, but the call succeeded');
}

describe('a folder that is not a store', () => {
  it('is not adopted by resolveJitDir because it holds an index.json', () => {
    const dir = folder();
    fs.writeFileSync(path.join(dir, 'index.json'), '{"schema_version":1,"issues":{}}\n');
    for (const options of [{ dir }, { env: { JIT_DIR: dir } }]) {
      expect(() => resolveJitDir({ cwd: scratch, env: {}, ...options })).toThrow(expect.objectContaining({ code: 'NOT_INITIALIZED' }));
    }
  });

  it('is never written through the library either: NOT_INITIALIZED, and the folder is unchanged', async () => {
    const dir = folder();
    fs.writeFileSync(path.join(dir, 'index.json'), '{"schema_version":1,"issues":{}}\n');
    const tracker = openTracker(dir);
    for (const operation of [() => tracker.createIssue({ title: 'lost?' }), () => tracker.validate({ fix: true }), () => tracker.status()]) {
      const error = await errorOf(operation());
      expect(error.code).toBe('NOT_INITIALIZED');
      expect(error.message).toContain(dir);
    }
    expect(fs.readdirSync(dir)).toEqual(['index.json']);
  });

  it('a store made by jit init (a folder named .jit) opens as before', async () => {
    const { path: jitDir } = initJit(folder());
    expect(path.basename(jitDir)).toBe('.jit');
    await openTracker(jitDir).createIssue({ title: 'fine' });
    expect((await openTracker(jitDir).status()).total).toBe(1);
  });
});
