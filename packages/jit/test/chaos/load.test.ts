// Load: 50 processes x 20 mixed operations (create, update one shared issue,
// claim-next, list) at once. Every acknowledged operation is present, no
// duplicates, each claim unique. Reports throughput and the worst latency.
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { assertStoreConsistent, makeProject, report, store } from './support.js';

const PROCESSES = 50;
const FIXTURE = path.join(__dirname, 'fixtures/load-worker.js');
const run = promisify(execFile);

interface WorkerResult {
  acks: ({ op: 'create'; id: string; title: string } | { op: 'label'; label: string } | { op: 'claim'; id: string } | { op: 'list'; count: number } | { op: 'claim-none' })[];
  latencies: number[];
  timeouts: number;
  lockWaits: number[];
}

it(`${PROCESSES} processes x 20 mixed operations lose nothing and never double-claim`, async () => {
  const { project, jitDir } = makeProject('load');
  const tracker = store.openTracker(jitDir);
  const shared = await tracker.createIssue({ title: 'everyone labels me' });
  for (let i = 0; i < 30; i++) await tracker.createIssue({ title: `ready work ${i}` });

  const began = performance.now();
  const results: WorkerResult[] = await Promise.all(
    Array.from({ length: PROCESSES }, async (_, i) => {
      const { stdout } = await run(process.execPath, [FIXTURE, jitDir, `w${i}`, shared.id], { timeout: 120_000 });
      return JSON.parse(stdout) as WorkerResult;
    }),
  );
  const seconds = (performance.now() - began) / 1000;

  const acks = results.flatMap((r) => r.acks);
  const timeouts = results.reduce((n, r) => n + r.timeouts, 0);
  const latencies = results.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const lockWaits = results.flatMap((r) => r.lockWaits).sort((a, b) => a - b);
  expect(acks).toHaveLength(PROCESSES * 20);

  const issues = new Map((await tracker.listIssues()).map((s) => [s.id, s]));
  const creates = acks.filter((a) => a.op === 'create');
  for (const c of creates) expect(issues.get(c.id)?.title).toBe(c.title);
  expect(new Set(creates.map((c) => c.id)).size).toBe(creates.length);

  const labels = acks.flatMap((a) => (a.op === 'label' ? [a.label] : []));
  const sharedNow = await tracker.getIssue(shared.id);
  expect([...sharedNow.labels].sort()).toEqual([...labels].sort());

  const claims = acks.flatMap((a) => (a.op === 'claim' ? [a.id] : []));
  expect(new Set(claims).size).toBe(claims.length);
  const { issues: total } = assertStoreConsistent(project, jitDir);

  const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!.toFixed(1);
  report(
    'load',
    `${PROCESSES} processes x 20 ops (${creates.length} creates, ${labels.length} same-issue updates, ${claims.length} claims, ${acks.filter((a) => a.op === 'list').length} lists)`,
    `all present, no duplicate, claims unique; ${(acks.length / seconds).toFixed(0)} ops/s incl. process start-up (${seconds.toFixed(1)} s); operation latency median ${quantile(latencies, 0.5)} ms, p99 ${quantile(latencies, 0.99)} ms; lock wait (${lockWaits.length} acquisitions) median ${quantile(lockWaits, 0.5)} ms, p99 ${quantile(lockWaits, 0.99)} ms, worst ${quantile(lockWaits, 1)} ms; ${timeouts} LOCK_TIMEOUTs retried; ${total} issues`,
  );
});
