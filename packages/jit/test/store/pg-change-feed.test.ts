// The change feed on PostgreSQL (issue 18): `jit serve` hears of a change another process commits, through
// LISTEN/NOTIFY, and reads just its rows. The writers here are real `jit` processes on the tests' server
// (test/support/postgres-server.mts); the fallback check is set far beyond the waits where a test must prove that
// NOTIFY, not the check, delivered a change.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ChangeBatch, ChangeSource, JitEvent } from '../../src/store/index.js';
import { PgStorage } from '../../src/store/pg-storage.js';
import { jitJson } from '../cli/helpers.js';
import { freshDatabase, freshSchema } from '../support/postgres.js';

/** A bound for a hung test, not a speed goal. */
const WAIT_MS = 120_000;
/** Longer than any wait below: a change reported within the wait came from NOTIFY. */
const NO_FALLBACK_MS = 3_600_000;

let cwd: string;
let url: string;
let schema: string;
let storage: PgStorage;
const feeds: ChangeSource[] = [];

const env = (target = schema): NodeJS.ProcessEnv => ({ JIT_DATABASE_URL: url, JIT_DATABASE_SCHEMA: target });
const jit = <T = any>(args: string[], target = schema): Promise<T> => jitJson<T>(['--json', ...args], { cwd, env: env(target) });

async function sql<T extends pg.QueryResultRow = any>(text: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text, params)).rows;
  } finally {
    await client.end();
  }
}

/** Every batch a feed reports, and a wait for the first one (reported already, or to come) that passes a test. */
function record(feed: ChangeSource): { batches: ChangeBatch[]; until(test: (batch: ChangeBatch) => boolean, what: string): Promise<ChangeBatch> } {
  const batches: ChangeBatch[] = [];
  const waiters = new Set<(batch: ChangeBatch) => void>();
  feed.onChange((batch) => {
    batches.push(batch);
    for (const waiter of waiters) waiter(batch);
  });
  return {
    batches,
    until: (test, what) =>
      new Promise((resolve, reject) => {
        const already = batches.find(test);
        if (already) return resolve(already);
        const timer = setTimeout(() => reject(new Error(`No batch with ${what} within ${WAIT_MS} ms; got ${JSON.stringify(batches)}`)), WAIT_MS);
        const waiter = (batch: ChangeBatch): void => {
          if (!test(batch)) return;
          clearTimeout(timer);
          waiters.delete(waiter);
          resolve(batch);
        };
        waiters.add(waiter);
      }),
  };
}

const has = (type: string, match: (event: JitEvent) => boolean) => (batch: ChangeBatch) => batch.events.some((event) => event.type === type && match(event));
const allEvents = (batches: ChangeBatch[]): JitEvent[] => batches.flatMap((batch) => batch.events);

async function watch(pollMs = NO_FALLBACK_MS): Promise<ChangeSource> {
  const feed = await storage.watchChanges({ pollMs });
  feeds.push(feed);
  return feed;
}

beforeAll(async () => {
  cwd = mkdtempSync(path.join(tmpdir(), 'jit-pg-feed-'));
  url = await freshDatabase();
  schema = freshSchema();
  await jit(['db', 'init']);
  storage = new PgStorage(url, { schema });
});
afterEach(() => {
  for (const feed of feeds.splice(0)) feed.close();
});
afterAll(async () => {
  await storage?.close();
  rmSync(cwd, { recursive: true, force: true });
});

describe('the PostgreSQL change feed', () => {
  it('reports an issue another process creates, after its commit, once, and nothing from before it started', async () => {
    const before = await jit<{ id: string }>(['issue', 'create', '--title', 'before the feed']);
    const feed = record(await watch());
    const created = await jit<{ id: string }>(['issue', 'create', '--title', 'seen live']);
    const batch = await feed.until(has('issue_created', (e) => e.issue_id === created.id), 'the issue_created event');
    expect(batch.reset).toBe(false);
    expect(batch.events.find((e) => e.type === 'issue_created')).toMatchObject({ issue_id: created.id, title: 'seen live' });
    const updated = await jit(['issue', 'update', created.id, '--priority', 'high']);
    expect(updated).toMatchObject({ priority: 'high' });
    await feed.until(has('issue_updated', (e) => e.issue_id === created.id), 'the issue_updated event');
    const seen = allEvents(feed.batches);
    expect(seen.filter((e) => e.type === 'issue_created').map((e) => e.issue_id)).toEqual([created.id]);
    expect(seen.some((e) => e.issue_id === before.id)).toBe(false);
    expect(new Set(seen.map((e) => e.id)).size).toBe(seen.length);
  });

  it('reports the gate registry\'s changes (registry add / remove by the CLI), which name no issue', async () => {
    const feed = record(await watch());
    await jit(['registry', 'add', 'live-review', '--title', 'Live review']);
    const defined = await feed.until(has('gate_definition_created', (e) => e['gate_key'] === 'live-review'), 'gate_definition_created');
    expect(defined.events.find((e) => e.type === 'gate_definition_created')).toMatchObject({ issue_id: null, gate_key: 'live-review', title: 'Live review' });
    await jit(['registry', 'remove', 'live-review']);
    const removed = await feed.until(has('gate_definition_removed', (e) => e['gate_key'] === 'live-review'), 'gate_definition_removed');
    expect(removed.events.find((e) => e.type === 'gate_definition_removed')).toMatchObject({ issue_id: null, requirements_dropped: [] });
  });

  it('ignores another schema\'s writes in the same database', async () => {
    const other = freshSchema();
    await jit(['db', 'init'], other);
    const feed = record(await watch());
    const elsewhere = await jit<{ id: string }>(['issue', 'create', '--title', 'in another schema'], other);
    const here = await jit<{ id: string }>(['issue', 'create', '--title', 'in ours']);
    // Notifications come in commit order: by the time ours is reported, the other schema's was heard and dropped.
    await feed.until(has('issue_created', (e) => e.issue_id === here.id), 'our issue_created');
    expect(allEvents(feed.batches).some((e) => e.issue_id === elsewhere.id)).toBe(false);
  });

  it('reports a transaction that commits after a later one (seq order is not commit order)', async () => {
    // A test-only trigger holds the insert of the issue titled "slow" on an advisory lock this test holds: its
    // events have their seq, but it commits only after "fast" (a higher seq) has committed and been reported.
    await sql(`CREATE FUNCTION ${schema}.hold_slow() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.event->>'title' = 'slow' THEN PERFORM pg_advisory_lock(4242); PERFORM pg_advisory_unlock(4242); END IF;
        RETURN NEW;
      END $$`);
    await sql(`CREATE TRIGGER hold_slow AFTER INSERT ON ${schema}.events FOR EACH ROW EXECUTE FUNCTION ${schema}.hold_slow()`);
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock(4242)');
      const feed = record(await watch());
      const slow = jit<{ id: string }>(['issue', 'create', '--title', 'slow']);
      // Deterministic, not a sleep: the slow transaction is waiting on the lock (its events inserted) before "fast" starts.
      for (let waited = 0; ; waited += 50) {
        const [row] = await sql<{ n: number }>(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242 AND NOT granted`);
        if (row!.n > 0) break;
        if (waited > WAIT_MS) throw new Error('the slow transaction never reached its trigger');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const fast = await jit<{ id: string }>(['issue', 'create', '--title', 'fast']);
      await feed.until(has('issue_created', (e) => e.issue_id === fast.id), 'the fast issue');
      await holder.query('SELECT pg_advisory_unlock(4242)');
      const slowId = (await slow).id;
      await feed.until(has('issue_created', (e) => e.issue_id === slowId), 'the slow issue, committed later with a lower seq');
      const [order] = await sql<{ slow: string; fast: string }>(
        `SELECT (SELECT seq FROM ${schema}.events WHERE type = 'issue_created' AND issue_id = $1) AS slow, (SELECT seq FROM ${schema}.events WHERE type = 'issue_created' AND issue_id = $2) AS fast`,
        [slowId, fast.id],
      );
      expect(Number(order!.slow)).toBeLessThan(Number(order!.fast)); // the case this test is about did happen
    } finally {
      await holder.end();
      await sql(`DROP TRIGGER hold_slow ON ${schema}.events`);
    }
  });

  it('a log replaced by one whose seqs start over (schema dropped, db init, new writes) is a reset, never skipped as already seen', async () => {
    const own = freshSchema();
    await jit(['db', 'init'], own);
    const ownStorage = new PgStorage(url, { schema: own });
    try {
      // Notifications only: a check between the drop and the new db init would see the table missing (a reset anyway).
      const watching = await ownStorage.watchChanges({ pollMs: NO_FALLBACK_MS });
      feeds.push(watching);
      const feed = record(watching);
      const first = await jit<{ id: string }>(['issue', 'create', '--title', 'in the first log'], own);
      await feed.until(has('issue_created', (e) => e.issue_id === first.id), 'the first log\'s issue');
      const resets = feed.batches.filter((batch) => batch.reset).length;
      // Replaced at once (between two of the feed's checks): its seqs start at 1 again, as the first log's did.
      await sql(`DROP SCHEMA ${own} CASCADE`);
      await jit(['db', 'init'], own);
      const second = await jit<{ id: string }>(['issue', 'create', '--title', 'in the new log'], own);
      await feed.until(
        (batch) => feed.batches.filter((b) => b.reset).length > resets || has('issue_created', (e) => e.issue_id === second.id)(batch),
        'a reset, or the new log\'s issue',
      );
    } finally {
      await ownStorage.close();
    }
  });

  it('events that vanish are a reset; a lost connection comes back with a reset and goes on reporting', async () => {
    const feed = record(await watch(200));
    const created = await jit<{ id: string }>(['issue', 'create', '--title', 'then emptied']);
    await feed.until(has('issue_created', (e) => e.issue_id === created.id), 'the issue_created event');
    await sql(`DELETE FROM ${schema}.events`);
    await feed.until((batch) => batch.reset && batch.events.length === 0, 'a reset after the events vanished');

    const resets = feed.batches.filter((batch) => batch.reset).length;
    const [database] = await sql<{ name: string }>('SELECT current_database() AS name');
    const ended = await sql<{ ended: boolean }>(
      `SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity WHERE application_name = 'jit-serve' AND datname = $1`,
      [database!.name],
    );
    expect(ended.map((row) => row.ended)).toEqual([true]);
    await feed.until(() => feed.batches.filter((batch) => batch.reset).length > resets, 'a reset after the reconnect');
    const after = await jit<{ id: string }>(['issue', 'create', '--title', 'after the reconnect']);
    await feed.until(has('issue_created', (e) => e.issue_id === after.id), 'an issue created after the reconnect');
  });
});
