// validate --fix racing writers: while `jit validate --fix` rebuilds the index
// of a 20,000-issue store, writers with a short JIT_LOCK_TIMEOUT create, claim
// and update issues (their index step often gives up while validate holds the
// index), and are SIGKILLed at random moments. Every acknowledged operation
// must then be visible through `issue show`, `issue list` and `query ready`:
// a summary may lag its file only while a marker in pending/ names it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect, it, onTestFinished } from 'vitest';
import { JIT_BIN, assertStoreConsistent, jit, jitAsync, makeProject, readJsonLines, report, store } from './support.js';

const ISSUES = 20_000;
const SEEDS = 200;
const WRITERS = 4;
const ROUNDS = 3;
const STALL_MS = 60_000;
const FIXTURE = path.join(__dirname, 'fixtures/race-writer.js');

type Ack = { op: 'create'; id: string; title: string } | { op: 'claim'; id: string; by: string; state: string } | { op: 'label'; id: string; label: string };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A CLI query's JSON, however large (the whole store's list is megabytes). */
function query(project: string, args: string[]): { issues: { id: string; title: string; state: string; assignee: string | null; labels: string[] }[] } {
  const r = spawnSync(process.execPath, [JIT_BIN, '--json', ...args], { cwd: project, encoding: 'utf8', maxBuffer: 1 << 30, timeout: 120_000 });
  if (r.status !== 0) throw new Error(`jit ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

it(`every acknowledged write stays visible while validate --fix rebuilds a ${ISSUES}-issue index`, async () => {
  const { project, jitDir } = makeProject('vrace');
  const tracker = store.openTracker(jitDir);
  const seeds: string[] = [];
  for (let i = 0; i < SEEDS; i++) seeds.push((await tracker.createIssue({ title: `seed ${i}` })).id);

  // A large store, written directly (one real issue file as the template), indexed by validate --fix.
  const template = JSON.parse(fs.readFileSync(path.join(jitDir, 'issues', `${seeds[0]}.json`), 'utf8'));
  for (let i = 0; i < ISSUES; i++) {
    const id = randomUUID();
    fs.writeFileSync(path.join(jitDir, 'issues', `${id}.json`), JSON.stringify({ ...template, id, title: `bulk ${i}` }, null, 2) + '\n');
  }
  const indexed = await tracker.validate({ fix: true });
  expect(indexed.ok).toBe(true);
  expect((await tracker.status()).total).toBe(ISSUES + SEEDS);

  const ackFiles = Array.from({ length: WRITERS }, (_, i) => path.join(project, `acks-${i}.jsonl`));
  const failures: string[] = [];
  const children: ChildProcess[] = [];
  const start = (i: number): void => {
    const child = spawn(process.execPath, [FIXTURE, jitDir, `w${i}`, ackFiles[i]!, JSON.stringify(seeds)], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, JIT_LOCK_TIMEOUT: '0.05' },
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
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  };
  const acked = (i: number): number => (fs.existsSync(ackFiles[i]!) ? fs.readFileSync(ackFiles[i]!, 'utf8').split('\n').length - 1 : 0);
  onTestFinished(() => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  // Every writer is at work (has acknowledged something) before the first rebuild.
  for (let i = 0; i < WRITERS; i++) start(i);
  const deadline = Date.now() + STALL_MS;
  while (ackFiles.some((_, i) => acked(i) === 0)) {
    if (failures.length > 0) throw new Error(failures.join('\n'));
    if (Date.now() > deadline) throw new Error(`a writer acknowledged nothing for ${STALL_MS} ms`);
    await sleep(20);
  }

  const began = Date.now();
  let kills = 0;
  for (let round = 0; round < ROUNDS && failures.length === 0; round++) {
    await sleep(1000); // claims and updates need the index for a moment: let them run, and be under way when the rebuild starts
    const rebuild = jitAsync(project, ['validate', '--fix'], { JIT_LOCK_TIMEOUT: '60' });
    // Kill writers while the rebuild runs: some die waiting for the index lock, some mid-write.
    let finished = false;
    void rebuild.then(() => (finished = true));
    while (!finished) {
      await sleep(500 + Math.random() * 1000);
      if (finished) break;
      const victim = Math.floor(Math.random() * WRITERS);
      await kill(victim);
      kills++;
      start(victim);
    }
    const result = await rebuild;
    expect(result.status, result.stdout + result.stderr).toBe(0);
    expect(result.json.ok).toBe(true);
  }
  for (let i = 0; i < WRITERS; i++) await kill(i);
  const seconds = (Date.now() - began) / 1000;
  expect(failures).toEqual([]);
  const markersLeft = fs.readdirSync(path.join(jitDir, 'pending')).length;

  // Checked through the readers before any writer could heal the index.
  const acks = ackFiles.flatMap((f) => readJsonLines<Ack>(f));
  const summaries = new Map(query(project, ['issue', 'list']).issues.map((s) => [s.id, s]));
  const readyIds = new Set(query(project, ['query', 'ready']).issues.map((s) => s.id));

  const claims = new Map<string, string>();
  const labels = new Map<string, string[]>();
  let found = 0;
  const missing: string[] = [];
  for (const a of acks) {
    const summary = summaries.get(a.id);
    let ok: boolean;
    if (a.op === 'create') ok = summary?.title === a.title;
    else if (a.op === 'claim') {
      expect(claims.get(a.id) ?? a.by, `${a.id} claimed by two writers`).toBe(a.by);
      claims.set(a.id, a.by);
      ok = summary?.assignee === a.by && summary.state === 'in_progress' && !readyIds.has(a.id);
    } else {
      labels.set(a.id, [...(labels.get(a.id) ?? []), a.label]);
      ok = summary?.labels.includes(a.label) === true;
    }
    if (ok) found++;
    else missing.push(`${a.op} ${a.id}: ${JSON.stringify(summary ?? null)}`);
  }
  // issue show: the id lookup reads the index, then the issue file.
  const ackedIds = [...new Set(acks.map((a) => a.id))];
  for (const id of ackedIds) {
    const code = await tracker.getIssue(id).then(
      () => null,
      (e: { code?: string }) => e.code ?? String(e),
    );
    if (code !== null) missing.push(`show ${id}: ${code}`);
  }
  expect(missing.slice(0, 10), `${found} of ${acks.length} acknowledged operations found; ${missing.length} checks failed`).toEqual([]);
  const sample = [...ackedIds].sort(() => Math.random() - 0.5).slice(0, 20);
  for (const id of sample) {
    const show = jit(project, ['issue', 'show', id]);
    expect(show.status, `issue show ${id}: ${show.stdout}`).toBe(0);
  }

  const { issues, recovered } = assertStoreConsistent(project, jitDir);
  const counts = acks.reduce<Record<string, number>>((m, a) => ((m[a.op] = (m[a.op] ?? 0) + 1), m), {});
  report(
    'validate --fix racing writers',
    `${ISSUES} issues, ${ROUNDS} rebuilds, ${WRITERS} writers (JIT_LOCK_TIMEOUT 0.05 s), ${kills} SIGKILLs, ${acks.length} acknowledged ops (${Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(', ')}), ${seconds.toFixed(1)} s`,
    `${found} of ${acks.length} found through issue list / query ready, every one through issue show; ${markersLeft} markers left for readers to overlay; validate clean after (recovered ${recovered}), ${issues} issues`,
  );
  expect(found).toBe(acks.length);
});
