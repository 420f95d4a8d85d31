// Kill storm on PostgreSQL (issue 17): writers in separate processes do mixed operations through the Tracker
// on one database and are SIGKILLed at random moments, then restarted. Nothing acknowledged may be lost, no
// issue claimed twice, and the server must drop every dead writer's backend, row locks and advisory locks.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, expect, it } from 'vitest';
import { PgStorage } from '../../src/store/pg-storage.js';
import { Tracker } from '../../src/store/tracker.js';
import { countOps, expectAcknowledged, runKillStorm } from '../support/kill-storm.js';
import { trackerDatabase } from '../support/postgres.js';
import { jitJson, TEST_LOCK_TIMEOUT_SECONDS } from './helpers.js';

const WRITERS = 6;
const KILLS = 60;
/** A bound for a hung writer or server, not a speed goal. */
const STALL_MS = 60_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const scratch = mkdtempSync(path.join(tmpdir(), 'jit-pg-storm-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

it(`survives ${KILLS} SIGKILLs of ${WRITERS} writers on PostgreSQL: every acknowledged operation kept, no claim twice, no lock or backend left`, async () => {
  const url = await trackerDatabase();
  const setup = new PgStorage(url);
  const tracker = new Tracker(setup);
  await tracker.addGateDefinition({ key: 'review', title: 'Review' });
  const shared: string[] = [];
  for (let i = 0; i < 4; i++) shared.push((await tracker.createIssue({ title: `shared ${i}` })).id);
  await setup.close(); // from here on the database's only clients are the writers

  const { acks, kills, seconds } = await runKillStorm({
    store: url,
    writers: WRITERS,
    kills: KILLS,
    ackDir: scratch,
    shared,
    stallMs: STALL_MS,
    env: { JIT_LOCK_TIMEOUT: TEST_LOCK_TIMEOUT_SECONDS },
  });
  expect(kills).toBe(KILLS);

  // The server notices each dead client (its socket closed) and ends that backend, rolling its transaction back
  // and releasing its row and advisory locks. Bounded wait: a backend waiting for a lock notices only once it is granted.
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  let leftover: { backends: unknown[]; locks: unknown[] };
  const noticedBy = Date.now();
  try {
    for (const deadline = Date.now() + STALL_MS; ; await sleep(100)) {
      const backends = (await admin.query(`SELECT pid, state, xact_start, query FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`)).rows;
      const locks = (
        await admin.query(
          `SELECT l.locktype, l.mode, l.pid, l.relation::regclass::text AS relation FROM pg_locks l
           WHERE l.pid <> pg_backend_pid() AND (l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
             OR l.pid IN (SELECT pid FROM pg_stat_activity WHERE datname = current_database()))`,
        )
      ).rows;
      leftover = { backends, locks };
      if ((backends.length === 0 && locks.length === 0) || Date.now() > deadline) break;
    }
  } finally {
    await admin.end();
  }
  const cleanupSeconds = (Date.now() - noticedBy) / 1000;
  expect(leftover, 'backends or locks of killed writers still in the server').toEqual({ backends: [], locks: [] });

  // validate (the real CLI) finishes the follow-ups killed writers left, and finds nothing else.
  const validated = await jitJson<{ ok: boolean; problems: unknown[]; recovered: string[] }>(['validate'], { cwd: scratch, env: { JIT_DATABASE_URL: url } });
  expect(validated.problems).toEqual([]);
  const again = await jitJson<{ ok: boolean; problems: unknown[]; recovered: string[] }>(['validate'], { cwd: scratch, env: { JIT_DATABASE_URL: url } });
  expect({ problems: again.problems, recovered: again.recovered }).toEqual({ problems: [], recovered: [] });

  // Every acknowledged operation is true of the database.
  const reader = new PgStorage(url);
  const check = new Tracker(reader);
  try {
    const ids = (await check.listIssues()).map((s) => s.id);
    const full = new Map((await Promise.all(ids.map((id) => check.getIssue(id)))).map((i) => [i.id, i]));
    // validate above finished the follow-ups of writers killed before theirs.
    expectAcknowledged(acks, full);
    console.log(
      `[postgres kill storm] ${WRITERS} writers, ${KILLS} SIGKILLs, ${acks.length} acknowledged ops (${countOps(acks)}), ${seconds.toFixed(1)} s; ${full.size} issues; dead backends gone ${cleanupSeconds.toFixed(1)} s after the last kill; validate recovered ${validated.recovered.length}`,
    );
    // Each restarted writer acknowledged at least once before its next kill.
    expect(acks.length).toBeGreaterThanOrEqual(KILLS - WRITERS);
  } finally {
    await reader.close();
  }
});
