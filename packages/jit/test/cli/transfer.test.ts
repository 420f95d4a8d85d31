// jit export / jit import (issue 17): files -> PostgreSQL -> files, losing nothing, through the real CLI.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { trackerDatabase } from '../support/postgres.js';
import { errorOf, initializedProject, jitJson, runJit, type TempProject } from './helpers.js';

let source: TempProject;
let scratch: string;
beforeAll(async () => {
  source = await initializedProject();
  scratch = mkdtempSync(path.join(tmpdir(), 'jit-transfer-'));
});
afterAll(() => {
  source.remove();
  rmSync(scratch, { recursive: true, force: true });
});

/** A snapshot's records (its header, which says when and from where, left out). */
const records = (file: string): string[] => readFileSync(file, 'utf8').trim().split('\n').slice(1);

it('a store with dependencies, gates, claims and events goes to PostgreSQL and back unchanged', async () => {
  await source.json(['registry', 'add', 'review', '--title', 'Review']);
  const a = await source.json<{ id: string }>(['issue', 'create', '--title', 'a', '--label', 'type:task', '--context', 'k=v']);
  const b = await source.json<{ id: string }>(['issue', 'create', '--title', 'b', '--dep', a.id, '--gate', 'review', '--priority', 'high']);
  await source.json(['issue', 'claim', a.id, 'agent:x']);
  await source.json(['issue', 'update', b.id, '--description', 'ünïcode ✓']);
  const fromFiles = path.join(scratch, 'files.jsonl');
  expect(await source.json(['export', '--output', fromFiles])).toMatchObject({ issues: 2, gates: 1 });

  const database = { JIT_DATABASE_URL: await trackerDatabase() };
  expect(await jitJson(['import', fromFiles], { cwd: scratch, env: database })).toMatchObject({ issues: 2, gates: 1 });
  const fromDatabase = path.join(scratch, 'db.jsonl');
  await jitJson(['export', '-o', fromDatabase], { cwd: scratch, env: database });
  expect(records(fromDatabase).sort()).toEqual(records(fromFiles).sort());
  expect(records(fromDatabase).filter((r) => r.startsWith('{"event"'))).toEqual(records(fromFiles).filter((r) => r.startsWith('{"event"'))); // events in order
  expect(await jitJson(['issue', 'show', b.id], { cwd: scratch, env: database })).toMatchObject({ state: 'backlog', dependencies: [a.id] });

  const target = await initializedProject();
  try {
    await target.json(['import', fromDatabase]);
    const back = path.join(scratch, 'back.jsonl');
    await target.json(['export', '-o', back]);
    expect(records(back).sort()).toEqual(records(fromFiles).sort());
    expect(await target.json(['validate'])).toMatchObject({ ok: true });
    // An import never merges into a tracker that holds anything.
    const refused = await runJit(['--json', 'import', fromFiles], { cwd: target.dir });
    expect({ code: errorOf(refused).code, exit: refused.code }).toEqual({ code: 'ALREADY_EXISTS', exit: 6 });
  } finally {
    target.remove();
  }
});
