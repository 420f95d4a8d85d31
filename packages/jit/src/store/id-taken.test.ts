// A new issue whose random id is already taken is refused and writes over nothing (tracker.ts, idTaken).
// ids.ts reads no repeating bytes from the OS (test/cli/id-random-source.test.ts), so a repeat is made here:
// newIssueId is replaced by one that hands out the ids this test queues; the store is real files.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { initJit } from './jit-dir.js';
import { JsonFileStorage } from './json-file-storage.js';
import { Tracker } from './tracker.js';
import { codeOf } from './test-support.js';

const queued: string[] = [];
vi.mock('./ids.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('./ids.js')>();
  return { ...actual, newIssueId: () => queued.shift() ?? actual.newIssueId() };
});

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'jit-id-taken-'));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));


describe('a new id that is already taken', () => {
  it('is refused by create and batch create, and the issue that has it is kept as it was', async () => {
    fs.mkdirSync(path.join(scratch, 'p'));
    const t = new Tracker(new JsonFileStorage(initJit(path.join(scratch, 'p')).path));
    const one = await t.getIssue((await t.createIssue({ title: 'one' })).id);
    queued.push(one.id);
    expect(await codeOf(t.createIssue({ title: 'two' }))).toBe('INTERNAL');
    // A batch whose ids repeat one another (one pool) or an existing issue's.
    const fresh = '0f0f0f0f-0000-4000-8000-000000000001';
    queued.push(fresh, fresh);
    expect(await codeOf(t.batchCreate([{ title: 'three' }, { title: 'four' }]))).toBe('INTERNAL');
    queued.push(fresh, one.id);
    expect(await codeOf(t.batchCreate([{ title: 'three' }, { title: 'four' }]))).toBe('INTERNAL');
    expect(queued).toEqual([]);
    expect((await t.listIssues()).map((issue) => issue.title)).toEqual(['one']);
    expect(await t.getIssue(one.id)).toEqual(one);
    expect((await t.validate()).ok).toBe(true);
  });
});
