// Kill storm on PostgreSQL (issue 17): writers in separate processes do mixed operations through the Tracker
// on one database and are SIGKILLed at random moments, then restarted. Nothing acknowledged may be lost, no
// issue claimed twice, and the server must drop every dead writer's backend, row locks and advisory locks.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, expect, it, onTestFinished } from 'vitest';
import { PgStorage } from '../../src/store/pg-storage.js';
import { Tracker } from '../../src/store/tracker.js';
import { trackerDatabase } from '../support/postgres.js';
import { jitJson, TEST_LOCK_TIMEOUT_SECONDS } from './helpers.js';

const WRITERS = 6;
const KILLS = 60;
/** A bound for a hung writer or server, not a speed goal. */
const STALL_MS = 60_000;
const FIXTURE = path.join(__dirname, 'fixtures/pg-storm-writer.js');

type Ack =
  | { op: 'create'; id: string; title: string }
  | { op: 'label'; id: string; label: string }
  | { op: 'dep'; from: string; to: string }
  | { op: 'claim'; id: string; by: string }
  | { op: 'gate'; id: string }
  | { op: 'done'; id: string }
  | { op: 'gated'; id: string };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const scratch = mkdtempSync(path.join(tmpdir(), 'jit-pg-storm-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function readAcks(file: string): Ack[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  // Only complete lines: a writer killed inside its append acknowledged nothing.
  return text.split('\n').slice(0, -1).map((line) => JSON.parse(line) as Ack);
}

it(`survives ${KILLS} SIGKILLs of ${WRITERS} writers on PostgreSQL: every acknowledged operation kept, no claim twice, no lock or backend left`, async () => {
  const url = await trackerDatabase();
  const setup = new PgStorage(url);
  const tracker = new Tracker(setup);
  await tracker.addGateDefinition({ key: 'review', title: 'Review' });
  const shared: string[] = [];
  for (let i = 0; i < 4; i++) shared.push((await tracker.createIssue({ title: `shared ${i}` })).id);
  await setup.close(); // from here on the database's only clients are the writers

  const ackFiles = Array.from({ length: WRITERS }, (_, i) => path.join(scratch, `acks-${i}.jsonl`));
  const failures: string[] = [];
  const children: ChildProcess[] = [];
  const start = (i: number): void => {
    const child = spawn(process.execPath, [FIXTURE, url, `w${i}`, ackFiles[i]!, JSON.stringify(shared)], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, JIT_LOCK_TIMEOUT: TEST_LOCK_TIMEOUT_SECONDS },
    });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') failures.push(`writer w${i} exited on its own (${code} ${signal}): ${stderr}`);
    });
    children[i] = child;
  };
  const kill = async (i: number): Promise<void> => {
    const child = children[i]!;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  };
  // A writer is a fair victim once it has acknowledged something since its last start: every kill then
  // interrupts real work (a transaction, a commit, a follow-up), not Node's start-up, however slow the machine.
  const acked = (i: number): number => readAcks(ackFiles[i]!).length;
  const ackedAtStart: number[] = [];
  const restart = (i: number): void => {
    ackedAtStart[i] = acked(i);
    start(i);
  };
  const nextVictim = async (): Promise<number> => {
    const deadline = Date.now() + STALL_MS;
    for (;;) {
      const ready = [...Array(WRITERS).keys()].filter((i) => acked(i) > ackedAtStart[i]!);
      if (ready.length > 0) return ready[Math.floor(Math.random() * ready.length)]!;
      if (failures.length > 0) throw new Error(failures.join('\n'));
      if (Date.now() > deadline) throw new Error(`no writer acknowledged anything for ${STALL_MS} ms`);
      await sleep(5);
    }
  };

  const began = Date.now();
  onTestFinished(() => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  for (let i = 0; i < WRITERS; i++) restart(i);
  // Random kills with restarts; the last WRITERS kills stop every writer for good.
  let kills = 0;
  for (; kills < KILLS - WRITERS && failures.length === 0; kills++) {
    const victim = await nextVictim();
    await sleep(Math.random() * 40); // somewhere inside its next operation(s)
    await kill(victim);
    restart(victim);
  }
  for (let i = 0; i < WRITERS; i++, kills++) {
    await sleep(5 + Math.random() * 60);
    await kill(i);
  }
  const seconds = (Date.now() - began) / 1000;
  expect(failures).toEqual([]);
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
    const acks = ackFiles.flatMap(readAcks);
    const ids = (await check.listIssues()).map((s) => s.id);
    const full = new Map((await Promise.all(ids.map((id) => check.getIssue(id)))).map((i) => [i.id, i]));
    const claimed = new Map<string, string>();
    for (const a of acks) {
      switch (a.op) {
        case 'create':
          expect(full.get(a.id)?.title, `create ${a.id}`).toBe(a.title);
          break;
        case 'label':
          expect(full.get(a.id)?.labels, `label ${a.label}`).toContain(a.label);
          break;
        case 'dep':
          expect(full.get(a.from)?.dependencies, `dep ${a.from} -> ${a.to}`).toContain(a.to);
          break;
        case 'claim':
          expect(claimed.get(a.id), `issue ${a.id} acknowledged as claimed by two writers`).toBeUndefined();
          claimed.set(a.id, a.by);
          expect(full.get(a.id)?.assignee, `claim of ${a.id}`).toBe(a.by);
          break;
        case 'gate':
          expect(full.get(a.id)?.gates_status['review']?.status, `gate of ${a.id}`).toBe('passed');
          break;
        case 'done':
          expect(full.get(a.id)?.state, `done ${a.id}`).toBe('done');
          break;
        case 'gated':
          expect(['gated', 'done'], `gated ${a.id}`).toContain(full.get(a.id)?.state);
          break;
      }
    }
    // Nobody parks issues here, so readiness must follow the dependencies exactly, also for dependents of
    // issues finished by a writer killed before its follow-up (validate above finished those).
    const terminal = (id: string) => ['done', 'rejected'].includes(full.get(id)?.state ?? 'done');
    for (const issue of full.values()) {
      const waiting = issue.dependencies.some((d) => !terminal(d));
      if (issue.state === 'ready') expect(waiting, `${issue.id} is ready but waits`).toBe(false);
      if (issue.state === 'backlog') expect(waiting, `${issue.id} is in backlog with every dependency finished`).toBe(true);
    }
    const counts = acks.reduce<Record<string, number>>((m, a) => ((m[a.op] = (m[a.op] ?? 0) + 1), m), {});
    console.log(
      `[postgres kill storm] ${WRITERS} writers, ${KILLS} SIGKILLs, ${acks.length} acknowledged ops (${Object.entries(counts)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}), ${seconds.toFixed(1)} s; ${full.size} issues; dead backends gone ${cleanupSeconds.toFixed(1)} s after the last kill; validate recovered ${validated.recovered.length}`,
    );
    // Each restarted writer acknowledged at least once before its next kill.
    expect(acks.length).toBeGreaterThanOrEqual(KILLS - WRITERS);
  } finally {
    await reader.close();
  }
});
