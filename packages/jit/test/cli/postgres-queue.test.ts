// The PostgreSQL backend as a work queue (issue 17): claim-next takes candidates FOR UPDATE SKIP LOCKED (a row
// another transaction holds is passed over, not waited for, unless every candidate is held), and the schema's
// version 2 (per-state counters for `status`) reached by `jit db migrate` from a version-1 database.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS, PG_SCHEMA_VERSION } from '../../src/store/pg-schema.js';
import { freshDatabase } from '../support/postgres.js';
import { errorOf, jitJson, runJit, type JitRun } from './helpers.js';

let cwd: string;
let url: string;
const env = (): NodeJS.ProcessEnv => ({ JIT_DATABASE_URL: url });
const jit = (args: string[], extra: NodeJS.ProcessEnv = {}): Promise<JitRun> => runJit(['--json', ...args], { cwd, env: { ...env(), ...extra } });
const json = <T = any>(args: string[], extra: NodeJS.ProcessEnv = {}): Promise<T> => jitJson<T>(args, { cwd, env: { ...env(), ...extra } });
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function sql<T extends pg.QueryResultRow = any>(text: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text, params)).rows;
  } finally {
    await client.end();
  }
}

/** A transaction in another connection holding `id`'s row FOR UPDATE until release(). */
async function holdRow(id: string): Promise<{ release(): Promise<void> }> {
  const holder = new pg.Client({ connectionString: url });
  await holder.connect();
  await holder.query('BEGIN');
  await holder.query('SELECT 1 FROM jit.issues WHERE id = $1 FOR UPDATE', [id]);
  return {
    release: async () => {
      await holder.query('ROLLBACK');
      await holder.end();
    },
  };
}

/** Until `run` has ended or one of jit's connections waits for a row lock; whether it waited. */
async function endsOrWaits(run: Promise<JitRun>): Promise<boolean> {
  let ended = false;
  void run.finally(() => (ended = true));
  for (;;) {
    if (ended) return false;
    const waiting = await sql(`SELECT 1 FROM pg_stat_activity WHERE application_name = 'jit' AND wait_event_type = 'Lock'`);
    if (waiting.length > 0) return true;
    await sleep(50);
  }
}

beforeAll(async () => {
  cwd = mkdtempSync(path.join(tmpdir(), 'jit-pg-queue-'));
  url = await freshDatabase();
  expect(await json(['db', 'init'])).toMatchObject({ to: PG_SCHEMA_VERSION, changed: true });
});
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

describe('claim-next on PostgreSQL: FOR UPDATE SKIP LOCKED', () => {
  it('passes over the most urgent issue while another transaction holds its row, and claims the next', async () => {
    const label = `queue:skip${Date.now()}`;
    const urgent = await json<{ id: string }>(['issue', 'create', '--title', 'urgent', '--priority', 'critical', '--label', label]);
    const next = await json<{ id: string }>(['issue', 'create', '--title', 'next', '--priority', 'low', '--label', label]);
    const held = await holdRow(urgent.id);
    const run = jit(['issue', 'claim-next', 'agent:skipper', '--label', label]);
    try {
      // Waiting for the held row (the old way) would claim `urgent` once it is released here.
      await endsOrWaits(run);
    } finally {
      await held.release();
    }
    const claimed = await run;
    expect(claimed.code, claimed.stderr).toBe(0);
    expect(JSON.parse(claimed.stdout)).toMatchObject({ id: next.id, assignee: 'agent:skipper', state: 'in_progress' });
    expect(await json(['issue', 'show', urgent.id])).toMatchObject({ state: 'ready', assignee: null });
  });

  it('when every candidate is held, waits for them rather than saying there is no ready issue', async () => {
    const label = `queue:all-held${Date.now()}`;
    const only = await json<{ id: string }>(['issue', 'create', '--title', 'only', '--label', label]);
    const held = await holdRow(only.id);
    const run = jit(['issue', 'claim-next', 'agent:patient', '--label', label]);
    let waited: boolean;
    try {
      waited = await endsOrWaits(run);
    } finally {
      await held.release();
    }
    const claimed = await run;
    expect(waited, claimed.stdout).toBe(true);
    expect(claimed.code, claimed.stderr).toBe(0);
    expect(JSON.parse(claimed.stdout)).toMatchObject({ id: only.id, assignee: 'agent:patient' });
  });

  it('a candidate with no free row left is NO_READY_ISSUE as before', async () => {
    const label = `queue:none${Date.now()}`;
    const run = await jit(['issue', 'claim-next', 'agent:late', '--label', label]);
    expect({ exit: run.code, code: errorOf(run).code }).toEqual({ exit: 3, code: 'NO_READY_ISSUE' });
  });
});

describe('schema version 2: status from per-state counters', () => {
  it('jit db migrate brings a version-1 database to the current version; status then counts what was there', async () => {
    // A version-1 schema ("old") holding the issues of the current one, as an older jit left it.
    const parked = await json<{ id: string }>(['issue', 'create', '--title', 'backlog one']);
    await json(['issue', 'update', parked.id, '--state', 'backlog']);
    const claimed = await json<{ id: string }>(['issue', 'create', '--title', 'to claim']);
    await json(['issue', 'claim', claimed.id, 'agent:x']);
    const finished = await json<{ id: string }>(['issue', 'create', '--title', 'to finish']);
    await json(['issue', 'update', finished.id, '--state', 'done']);
    const current = await json<{ total: number; by_state: Record<string, number>; ready: number; blocked: number }>(['status']);

    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query('BEGIN');
      await client.query('CREATE SCHEMA old');
      await client.query('SET LOCAL search_path = old');
      await client.query(MIGRATIONS[0]!);
      await client.query(`INSERT INTO jit_meta (key, value) VALUES ('schema_version', '1')`);
      await client.query('INSERT INTO old.issues SELECT * FROM jit.issues');
      await client.query('INSERT INTO old.events (type, issue_id, event) SELECT type, issue_id, event FROM jit.events ORDER BY seq');
      await client.query('COMMIT');
    } finally {
      await client.end();
    }
    const old = { JIT_DATABASE_SCHEMA: 'old' };
    const refused = await jit(['status'], old);
    expect({ exit: refused.code, code: errorOf(refused).code }).toEqual({ exit: 10, code: 'UNSUPPORTED_SCHEMA' });
    expect(await json(['db', 'migrate'], old)).toMatchObject({ schema: 'old', from: 1, to: PG_SCHEMA_VERSION, changed: true });
    expect(await json(['status'], old)).toMatchObject({ total: current.total, by_state: current.by_state, ready: current.ready, blocked: current.blocked });

    // The counters follow every later change, as a full count would.
    await json(['issue', 'claim-next', 'agent:after'], old);
    await json(['issue', 'create', '--title', 'after migrate'], old);
    const [recount] = await sql<{ total: number; in_progress: number }>(
      `SELECT count(*)::int AS total, (count(*) FILTER (WHERE state = 'in_progress'))::int AS in_progress FROM old.issues`,
    );
    const after = await json<{ total: number; by_state: Record<string, number> }>(['status'], old);
    expect({ total: after.total, in_progress: after.by_state['in_progress'] }).toEqual(recount);
  });

  it('status counts ready and blocked issues exactly (waiting for work, strategic types, gated)', async () => {
    const schema = { JIT_DATABASE_SCHEMA: `counts${Date.now()}` };
    await json(['db', 'init'], schema);
    const first = await json<{ id: string }>(['issue', 'create', '--title', 'first'], schema);
    const waiting = await json<{ id: string }>(['issue', 'create', '--title', 'waits', '--dep', first.id], schema);
    await json(['issue', 'create', '--title', 'an epic', '--type', 'epic'], schema);
    const gated = await json<{ id: string }>(['issue', 'create', '--title', 'gated'], schema);
    await json(['registry', 'add', 'review', '--title', 'Review'], schema);
    await json(['gate', 'add', gated.id, 'review'], schema);
    await json(['issue', 'update', gated.id, '--state', 'gated'], schema);
    expect(await json(['issue', 'show', waiting.id], schema)).toMatchObject({ state: 'backlog' });
    const report = await json<{ total: number; by_state: Record<string, number>; ready: number; blocked: number }>(['status'], schema);
    expect(report).toMatchObject({ total: 4, ready: 1, blocked: 2 });
    expect(report.by_state).toMatchObject({ ready: 2, backlog: 1, gated: 1 });
  });
});
