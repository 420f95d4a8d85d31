// The kill storm, for any backend: writers (storm-writer.js) in separate
// processes do mixed operations and are SIGKILLed at random moments, then
// restarted; the last kills stop them for good. What each writer acknowledged
// (after the store returned) is then checked against the store.
// Used by test/chaos/kill-storm.test.ts (files) and
// test/cli/postgres-storm.test.ts (PostgreSQL).
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, onTestFinished } from 'vitest';
import type { Issue } from '../../src/store/model.js';

const WRITER = path.join(__dirname, 'storm-writer.js');

export type StormAck =
  | { op: 'create'; id: string; title: string }
  | { op: 'label'; id: string; label: string }
  | { op: 'dep'; from: string; to: string }
  | { op: 'claim'; id: string; by: string }
  | { op: 'gate'; id: string }
  | { op: 'done'; id: string }
  | { op: 'gated'; id: string };

export interface StormOptions {
  /** A .jit directory or a postgres:// URL: what the writers open. */
  store: string;
  writers: number;
  kills: number;
  /** Where the writers' ack files go (acks-N.jsonl). */
  ackDir: string;
  /** Issues every writer labels (storm-writer.js). */
  shared: readonly string[];
  /** A bound for a hung writer or store, not a speed goal. */
  stallMs: number;
  env?: NodeJS.ProcessEnv;
}

export interface StormResult {
  acks: StormAck[];
  kills: number;
  seconds: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The acknowledged operations in one ack file: complete lines only (a writer killed inside its append acknowledged nothing). */
export function readAcks(file: string): StormAck[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text.split('\n').slice(0, -1).map((line) => JSON.parse(line) as StormAck);
}

/** Runs the storm; throws if a writer exits on its own or none acknowledges anything for `stallMs`. */
export async function runKillStorm(options: StormOptions): Promise<StormResult> {
  const { writers, kills: total, stallMs } = options;
  const ackFiles = Array.from({ length: writers }, (_, i) => path.join(options.ackDir, `acks-${i}.jsonl`));
  const failures: string[] = [];
  const children: ChildProcess[] = [];
  const start = (i: number): void => {
    const child = spawn(process.execPath, [WRITER, options.store, `w${i}`, ackFiles[i]!, JSON.stringify(options.shared)], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, ...options.env },
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
  // interrupts real work (a transaction, its fsyncs or commit, a follow-up), not Node's start-up, however
  // slow the machine.
  const acked = (i: number): number => readAcks(ackFiles[i]!).length;
  const ackedAtStart: number[] = [];
  const restart = (i: number): void => {
    ackedAtStart[i] = acked(i);
    start(i);
  };
  const nextVictim = async (): Promise<number> => {
    const deadline = Date.now() + stallMs;
    for (;;) {
      const ready = [...Array(writers).keys()].filter((i) => acked(i) > ackedAtStart[i]!);
      if (ready.length > 0) return ready[Math.floor(Math.random() * ready.length)]!;
      if (failures.length > 0) throw new Error(failures.join('\n'));
      if (Date.now() > deadline) throw new Error(`no writer acknowledged anything for ${stallMs} ms`);
      await sleep(2);
    }
  };

  const began = Date.now();
  onTestFinished(() => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  for (let i = 0; i < writers; i++) restart(i);
  let kills = 0;
  for (; kills < total - writers && failures.length === 0; kills++) {
    const victim = await nextVictim();
    await sleep(Math.random() * 40); // somewhere inside its next operation(s)
    await kill(victim);
    restart(victim);
  }
  for (let i = 0; i < writers; i++, kills++) {
    await sleep(5 + Math.random() * 60);
    await kill(i);
  }
  expect(failures).toEqual([]);
  return { acks: ackFiles.flatMap(readAcks), kills, seconds: (Date.now() - began) / 1000 };
}

/**
 * Every acknowledged operation is true of the store (`issues`: every issue, read in full), no issue was
 * acknowledged as claimed by two writers, and readiness follows the dependencies exactly (nobody parks
 * issues in the storm, so this holds also for dependents of issues finished by a writer killed before its
 * follow-up, once something has finished that).
 */
export function expectAcknowledged(acks: readonly StormAck[], issues: ReadonlyMap<string, Issue>): void {
  const claimed = new Map<string, string>();
  for (const a of acks) {
    switch (a.op) {
      case 'create':
        expect(issues.get(a.id)?.title, `create ${a.id}`).toBe(a.title);
        break;
      case 'label':
        expect(issues.get(a.id)?.labels, `label ${a.label}`).toContain(a.label);
        break;
      case 'dep':
        expect(issues.get(a.from)?.dependencies, `dep ${a.from} -> ${a.to}`).toContain(a.to);
        break;
      case 'claim':
        expect(claimed.get(a.id), `issue ${a.id} acknowledged as claimed by two writers`).toBeUndefined();
        claimed.set(a.id, a.by);
        expect(issues.get(a.id)?.assignee, `claim of ${a.id}`).toBe(a.by);
        break;
      case 'gate':
        expect(issues.get(a.id)?.gates_status['review']?.status, `gate of ${a.id}`).toBe('passed');
        break;
      case 'done':
        expect(issues.get(a.id)?.state, `done ${a.id}`).toBe('done');
        break;
      case 'gated':
        expect(['gated', 'done'], `gated ${a.id}`).toContain(issues.get(a.id)?.state);
        break;
    }
  }
  const terminal = (id: string) => ['done', 'rejected'].includes(issues.get(id)?.state ?? 'done');
  for (const issue of issues.values()) {
    const waiting = issue.dependencies.some((d) => !terminal(d));
    if (issue.state === 'ready') expect(waiting, `${issue.id} is ready but waits`).toBe(false);
    if (issue.state === 'backlog') expect(waiting, `${issue.id} is in backlog with every dependency finished`).toBe(true);
  }
}

/** "create 12, label 30, ..." */
export function countOps(acks: readonly StormAck[]): string {
  const counts = acks.reduce<Record<string, number>>((m, a) => ((m[a.op] = (m[a.op] ?? 0) + 1), m), {});
  return Object.entries(counts)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
}
