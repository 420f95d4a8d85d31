// batchCreate and updateMatching over both storages: the same answers from files and from memory.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { initJit } from './jit-dir.js';
import { JsonFileStorage } from './json-file-storage.js';
import { InMemoryStorage } from './memory-storage.js';
import type { Storage } from './storage.js';
import { Tracker } from './tracker.js';
import { codeOf } from './test-support.js';

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'jit-batch-contract-'));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));
let stores = 0;
const factories: [string, () => Storage][] = [
  ['memory', () => new InMemoryStorage()],
  [
    'files',
    () => {
      const project = path.join(scratch, `p${++stores}`);
      fs.mkdirSync(project);
      return new JsonFileStorage(initJit(project).path);
    },
  ],
];


describe.each(factories)('batch operations over %s', (_name, makeStorage) => {
  it('batchCreate: refs, states, all or nothing', async () => {
    const t = new Tracker(makeStorage());
    const done = await t.createIssue({ title: 'Done already' });
    await t.updateIssue(done.id, { state: 'done' });
    const result = await t.batchCreate([
      { ref: 'x', title: 'X', dependencies: [done.id] },
      { ref: 'y', title: 'Y', dependencies: ['x'], labels: ['epic:e'] },
    ]);
    expect(result.issues.map((i) => [i.title, i.state])).toEqual([
      ['X', 'ready'],
      ['Y', 'backlog'],
    ]);
    expect((await t.getIssue(result.ids.y!)).dependencies).toEqual([result.ids.x]);
    await t.updateIssue(result.ids.x!, { state: 'done' });
    expect((await t.getIssue(result.ids.y!)).state).toBe('ready');
    expect(await codeOf(t.batchCreate([{ ref: 'a', title: 'A', dependencies: ['b'] }, { ref: 'b', title: 'B', dependencies: ['a'] }]))).toBe('CYCLE');
    expect(await codeOf(t.batchCreate([{ title: 'ok' }, { title: 'bad', gates: ['nope'] }]))).toBe('INVALID_ARGUMENT');
    expect((await t.listIssues()).length).toBe(3);
    expect((await t.validate()).problems).toEqual([]);
  });

  it('updateMatching: changed, unchanged, refused; dry run writes nothing', async () => {
    const t = new Tracker(makeStorage());
    const { ids } = await t.batchCreate([{ ref: 'a', title: 'A', labels: ['team:x'] }, { ref: 'b', title: 'B', labels: ['team:x'], dependencies: ['a'] }, { ref: 'c', title: 'C' }]);
    const dry = await t.updateMatching('label:team:*', { state: 'in_progress' }, { dryRun: true });
    expect(dry.changed.map((o) => o.id).sort()).toEqual([ids.a, ids.b].sort());
    expect((await t.getIssue(ids.a!)).state).toBe('ready');
    const report = await t.updateMatching('label:team:* OR id:' + ids.c!.slice(0, 6), { state: 'in_progress' });
    expect(report.changed.map((o) => o.id).sort()).toEqual([ids.a, ids.c].sort());
    expect(report.refused.map((o) => [o.id, o.error?.code])).toEqual([[ids.b, 'INVALID_TRANSITION']]);
    const again = await t.updateMatching('state:in_progress', { state: 'in_progress' });
    expect(again.unchanged).toHaveLength(2);
    expect(await codeOf(t.updateMatching('state:ready', {}))).toBe('INVALID_ARGUMENT');
  });
});
