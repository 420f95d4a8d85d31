// The PostgreSQL backend (issue 17) through the real `jit` command: several processes on one database, as
// agents on several machines would be. The server is the tests' own (test/support/postgres-server.mts).
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PG_SCHEMA_VERSION } from '../../src/store/pg-schema.js';
import { databaseUrl, freshDatabase, postgresUrl, trackerDatabase } from '../support/postgres.js';
import { errorOf, jitJson, runJit, type JitRun } from './helpers.js';

let cwd: string;
let url: string;
const env = (): NodeJS.ProcessEnv => ({ JIT_DATABASE_URL: url });
const jit = (args: string[], extra: NodeJS.ProcessEnv = {}): Promise<JitRun> => runJit(['--json', ...args], { cwd, env: { ...env(), ...extra } });
const json = <T = any>(args: string[]): Promise<T> => jitJson<T>(args, { cwd, env: env() });

async function sql<T extends pg.QueryResultRow = any>(text: string, params: unknown[] = [], database = url): Promise<T[]> {
  const client = new pg.Client({ connectionString: database });
  await client.connect();
  try {
    return (await client.query<T>(text, params)).rows;
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  cwd = mkdtempSync(path.join(tmpdir(), 'jit-pg-cli-')); // no .jit/: JIT_DATABASE_URL alone chooses the store
  url = await freshDatabase();
  expect(await json(['db', 'init'])).toMatchObject({ schema: 'jit', from: null, to: PG_SCHEMA_VERSION, changed: true });
});
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

describe('jit on PostgreSQL', () => {
  it('db init is idempotent; status says which backend', async () => {
    expect(await json(['db', 'init'])).toMatchObject({ from: PG_SCHEMA_VERSION, to: PG_SCHEMA_VERSION, changed: false });
    expect(await json(['db', 'migrate'])).toMatchObject({ changed: false });
    expect(await json(['status'])).toMatchObject({ backend: 'postgres' });
    const human = await runJit(['status'], { cwd, env: env() });
    expect(human.stdout).toMatch(/^backend:\s+PostgreSQL at postgresql:\/\//m);
  });

  it('config.toml [storage] chooses the database for a .jit/ store; a password in it is refused', async () => {
    const project = mkdtempSync(path.join(tmpdir(), 'jit-pg-config-'));
    try {
      mkdirSync(path.join(project, '.jit'));
      writeFileSync(path.join(project, '.jit', 'config.toml'), `[storage]\nbackend = "postgres"\nurl = "${url}"\n`);
      const created = await jitJson<{ id: string }>(['issue', 'create', '--title', 'via config'], { cwd: project });
      expect(await json(['issue', 'show', created.id])).toMatchObject({ title: 'via config' }); // the same database through the env
      const withPassword = new URL(url);
      withPassword.password = 'secret';
      writeFileSync(path.join(project, '.jit', 'config.toml'), `[storage]\nurl = "${withPassword.toString()}"\n`);
      const refused = await runJit(['--json', 'status'], { cwd: project });
      expect(refused.code).toBe(2);
      expect(errorOf(refused).code).toBe('INVALID_DATABASE_URL');
      expect(refused.stdout).not.toContain('secret');
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  });

  it('bad URL, missing database, unreachable server, no schema, newer schema: each its own code and exit', async () => {
    const cases: [NodeJS.ProcessEnv, string, number][] = [
      [{ JIT_DATABASE_URL: 'mysql://x@y/z' }, 'INVALID_DATABASE_URL', 2],
      [{ JIT_DATABASE_URL: databaseUrl(postgresUrl(), 'no_such_database') }, 'DATABASE_NOT_FOUND', 3],
      [{ JIT_DATABASE_URL: 'postgresql://jit@localhost/x?host=/nonexistent-socket-dir' }, 'DATABASE_UNREACHABLE', 75],
      [{ JIT_DATABASE_URL: await freshDatabase() }, 'NOT_INITIALIZED', 3],
    ];
    for (const [extra, code, exit] of cases) {
      const run = await jit(['status'], extra);
      expect({ code: errorOf(run).code, exit: run.code }, JSON.stringify(extra)).toEqual({ code, exit });
    }
    const newer = await trackerDatabase();
    await sql(`UPDATE jit.jit_meta SET value = '99' WHERE key = 'schema_version'`, [], newer);
    const refused = await jit(['status'], { JIT_DATABASE_URL: newer });
    expect({ code: errorOf(refused).code, exit: refused.code }).toEqual({ code: 'UNSUPPORTED_SCHEMA', exit: 10 });
    expect(errorOf(await jit(['db', 'migrate'], { JIT_DATABASE_URL: newer })).code).toBe('UNSUPPORTED_SCHEMA');
  });

  it('a row another transaction holds: JIT_LOCK_TIMEOUT expires as LOCK_TIMEOUT, exit 75, nothing written', async () => {
    const issue = await json<{ id: string }>(['issue', 'create', '--title', 'held']);
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM jit.issues WHERE id = $1 FOR UPDATE', [issue.id]);
      const run = await jit(['issue', 'update', issue.id, '--title', 'changed'], { JIT_LOCK_TIMEOUT: '0.5' });
      expect({ code: errorOf(run).code, exit: run.code }).toEqual({ code: 'LOCK_TIMEOUT', exit: 75 });
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }
    expect(await json(['issue', 'show', issue.id])).toMatchObject({ title: 'held' });
  });

  it('20 claim-next processes on 8 ready issues: each issue claimed exactly once', async () => {
    const label = `race:claims${Date.now()}`;
    const created: string[] = [];
    for (let i = 0; i < 8; i++) created.push((await json<{ id: string }>(['issue', 'create', '--title', `work ${i}`, '--label', label])).id);
    const runs = await Promise.all(Array.from({ length: 20 }, (_, i) => jit(['issue', 'claim-next', `agent:r${i}`, '--label', label])));
    const winners = runs.filter((run) => run.code === 0).map((run) => JSON.parse(run.stdout) as { id: string; assignee: string });
    const losers = runs.filter((run) => run.code !== 0);
    expect(winners.map((w) => w.id).sort()).toEqual([...created].sort());
    expect(losers.map((run) => errorOf(run).code)).toEqual(Array(12).fill('NO_READY_ISSUE'));
    for (const winner of winners) expect(await json(['issue', 'show', winner.id])).toMatchObject({ state: 'in_progress', assignee: winner.assignee });
  });

  it('racing `dep add A B` / `dep add B A`: never a cycle, exactly one of each pair wins', async () => {
    const pairs: [string, string][] = [];
    for (let i = 0; i < 5; i++) {
      const a = (await json<{ id: string }>(['issue', 'create', '--title', `a${i}`])).id;
      const b = (await json<{ id: string }>(['issue', 'create', '--title', `b${i}`])).id;
      pairs.push([a, b]);
    }
    const runs = await Promise.all(pairs.flatMap(([a, b]) => [jit(['dep', 'add', a, b]), jit(['dep', 'add', b, a])]));
    for (let i = 0; i < pairs.length; i++) {
      const outcomes = [runs[2 * i]!, runs[2 * i + 1]!].map((run) => (run.code === 0 ? 'added' : errorOf(run).code)).sort();
      expect(outcomes).toEqual(['CYCLE', 'added']);
    }
    const edges = await sql<{ id: string; dependencies: string[] }>('SELECT id, dependencies FROM jit.issues WHERE id = ANY ($1::text[])', [pairs.flat()]);
    const waitsFor = new Map(edges.map((e) => [e.id, e.dependencies]));
    for (const [a, b] of pairs) expect(waitsFor.get(a)!.includes(b) && waitsFor.get(b)!.includes(a)).toBe(false);
  });

  it('20 processes each add a label to one issue: no update is lost', async () => {
    const issue = await json<{ id: string }>(['issue', 'create', '--title', 'shared']);
    const runs = await Promise.all(Array.from({ length: 20 }, (_, i) => jit(['issue', 'update', issue.id, '--label', `racer:r${i}`])));
    expect(runs.map((run) => run.code)).toEqual(Array(20).fill(0));
    const labels = (await json<{ labels: string[] }>(['issue', 'show', issue.id])).labels;
    expect(labels.sort()).toEqual(Array.from({ length: 20 }, (_, i) => `racer:r${i}`).sort());
    const events = await sql<{ n: number }>(`SELECT count(*)::int AS n FROM jit.events WHERE issue_id = $1 AND type = 'issue_updated'`, [issue.id]);
    expect(events[0]!.n).toBe(20);
  });
});
