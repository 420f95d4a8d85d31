// Kill storm: 8 writers doing mixed operations are SIGKILLed at random
// moments, 200 times in all, and restarted. Nothing acknowledged may be lost,
// nothing may be corrupt, no lock may stay held.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect, it, onTestFinished } from 'vitest';
import { assertStoreConsistent, makeProject, readJsonLines, report, store, jit } from './support.js';

const WRITERS = 8;
const KILLS = 200;
const STALL_MS = 30_000;
const FIXTURE = path.join(__dirname, 'fixtures/storm-writer.js');

type Ack =
  | { op: 'create'; id: string; title: string }
  | { op: 'label'; id: string; label: string }
  | { op: 'dep'; from: string; to: string }
  | { op: 'claim'; id: string; by: string }
  | { op: 'gate'; id: string }
  | { op: 'done'; id: string }
  | { op: 'gated'; id: string };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

it(`survives ${KILLS} SIGKILLs of ${WRITERS} concurrent writers without losing an acknowledged operation`, async () => {
  const { project, jitDir } = makeProject('storm');
  const tracker = store.openTracker(jitDir);
  await tracker.addGateDefinition({ key: 'review', title: 'Review' });
  const shared: string[] = [];
  for (let i = 0; i < 4; i++) shared.push((await tracker.createIssue({ title: `shared ${i}` })).id);

  const ackFiles = Array.from({ length: WRITERS }, (_, i) => path.join(project, `acks-${i}.jsonl`));
  const failures: string[] = [];
  const children: ChildProcess[] = [];

  const start = (i: number): void => {
    const child = spawn(process.execPath, [FIXTURE, jitDir, `w${i}`, ackFiles[i]!, JSON.stringify(shared)], {
      stdio: ['ignore', 'ignore', 'pipe'],
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
  // A writer is a fair victim once it has acknowledged something since its
  // last start: every kill then interrupts real work, not Node's start-up,
  // however slow the machine is.
  const acked = (i: number): number => {
    try {
      return fs.readFileSync(ackFiles[i]!, 'utf8').split('\n').length - 1;
    } catch {
      return 0;
    }
  };
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
      await sleep(2);
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

  // The store as a whole.
  const { issues, recovered } = assertStoreConsistent(project, jitDir);

  // Every acknowledged operation is there.
  const acks = ackFiles.flatMap((f) => readJsonLines<Ack>(f));
  const all = new Map((await tracker.listIssues()).map((s) => [s.id, s]));
  const full = new Map((await Promise.all([...all.keys()].map((id) => tracker.getIssue(id)))).map((i) => [i.id, i]));
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
        expect(claimed.has(a.id), `issue ${a.id} claimed twice`).toBe(false);
        claimed.set(a.id, a.by);
        expect(full.get(a.id)?.assignee).toBe(a.by);
        break;
      case 'gate':
        expect(full.get(a.id)?.gates_status.review?.status).toBe('passed');
        break;
      case 'done':
        expect(full.get(a.id)?.state).toBe('done');
        break;
      case 'gated':
        expect(['gated', 'done']).toContain(full.get(a.id)?.state);
        break;
    }
  }
  // Nobody parks issues here, so readiness must follow the dependencies exactly,
  // even for dependents of issues finished by a writer killed before its follow-up.
  const terminal = (id: string) => ['done', 'rejected'].includes(full.get(id)?.state ?? 'done');
  for (const issue of full.values()) {
    const waiting = issue.dependencies.some((d) => !terminal(d));
    if (issue.state === 'ready') expect(waiting, `${issue.id} is ready but waits`).toBe(false);
    if (issue.state === 'backlog') expect(waiting, `${issue.id} is in backlog with every dependency finished`).toBe(true);
  }
  const events = jit(project, ['events', 'tail', '-n', '5']);
  expect(events.status).toBe(0);

  const counts = acks.reduce<Record<string, number>>((m, a) => ((m[a.op] = (m[a.op] ?? 0) + 1), m), {});
  report(
    'kill storm',
    `${WRITERS} writers, ${KILLS} SIGKILLs, ${acks.length} acknowledged ops (${Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(', ')}), ${seconds.toFixed(1)} s`,
    `all acknowledged ops present, ${issues} issues, validate clean (after recovering ${recovered} crash leftovers), no lock held`,
  );
  // Each restarted writer acknowledged at least once before its next kill.
  expect(acks.length).toBeGreaterThanOrEqual(KILLS - WRITERS);
});
