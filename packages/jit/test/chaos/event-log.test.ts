// An event log past 512 MiB (about 2.8 million events), where reading it
// whole fails for good ("Cannot create a string longer than ...") and used to
// take over 1 GB: events tail, a filtered query that has to go back to the
// first line, and validate --fix (with a torn last line to repair) all work,
// and each stays within a small, fixed amount of memory. src/store/event-log.test.ts
// proves the bounded window with small chunks; this is the real size.
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect, it } from 'vitest';
import { JIT_BIN, ROOT, makeProject, report } from './support.js';

const TARGET_BYTES = 560 * 1024 * 1024;
const MAX_RSS_KIB = 256 * 1024;

/** One `jit --json` run with its peak memory (KiB) and wall time. */
function measured(cwd: string, args: string[]): { status: number | null; json: any; stderr: string; rssKiB: number; seconds: number } {
  const rssFile = path.join(cwd, `rss-${randomUUID()}`);
  const began = performance.now();
  const run = spawnSync(process.execPath, ['-r', path.join(ROOT, 'bench/max-rss.js'), JIT_BIN, '--json', ...args], {
    cwd,
    env: { ...process.env, JIT_MAX_RSS_FILE: rssFile, JIT_LOCK_TIMEOUT: '60' },
    encoding: 'utf8',
    timeout: 240_000,
  });
  const seconds = (performance.now() - began) / 1000;
  const rssKiB = Number(fs.readFileSync(rssFile, 'utf8').trim());
  return { status: run.status, json: run.stdout ? JSON.parse(run.stdout) : undefined, stderr: run.stderr, rssKiB, seconds };
}

it('events tail, query and validate --fix on a log past 512 MiB, in bounded memory', () => {
  const { project, jitDir } = makeProject('big-log');
  const file = path.join(jitDir, 'events.jsonl');
  const issue = randomUUID();
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  const line = (type: string, i: number, extra: object = {}): string =>
    JSON.stringify({ type, id: randomUUID(), issue_id: issue, timestamp: new Date(t0 + i).toISOString(), ...extra }) + '\n';
  // A block of ordinary events written over and over: quick to make, realistic to read.
  const block = Buffer.from(Array.from({ length: 10_000 }, (_, i) => line(i % 2 ? 'issue_updated' : 'issue_claimed', i, { fields: ['title'], title: `Filler event ${i}` })).join(''));
  const fd = fs.openSync(file, 'w');
  fs.writeSync(fd, line('gate_failed', 0, { gate: 'first' }));
  let events = 1;
  for (let size = 0; size < TARGET_BYTES; size += block.length, events += 10_000) fs.writeSync(fd, block);
  const last = [line('gate_failed', 1, { gate: 'last' }), line('issue_completed', 2), line('issue_created', 3, { title: 'The very last' })];
  fs.writeSync(fd, last.join('') + '{"type":"issue_created","id":"torn');
  fs.closeSync(fd);
  events += last.length;
  const bytes = fs.statSync(file).size;
  expect(bytes).toBeGreaterThan(512 * 1024 * 1024);

  const tail = measured(project, ['events', 'tail', '-n', '3']);
  expect(tail.status, tail.stderr).toBe(0);
  expect(tail.json.events.map((e: { type: string }) => e.type)).toEqual(['gate_failed', 'issue_completed', 'issue_created']);

  // Only two events match, one on the first line: the query reads the whole log back to it.
  const query = measured(project, ['events', 'query', '--type', 'gate_failed', '--limit', '5']);
  expect(query.status, query.stderr).toBe(0);
  expect(query.json.events.map((e: { gate: string }) => e.gate)).toEqual(['first', 'last']);

  const validate = measured(project, ['validate', '--fix']);
  expect(validate.status, validate.stderr).toBe(0);
  expect(validate.json.problems).toEqual([expect.objectContaining({ kind: 'torn_event_line', fixable: true })]);
  expect(validate.json.fixed).toEqual([expect.stringMatching(/^truncated the torn last line/)]);
  expect(fs.statSync(file).size).toBe(bytes - '{"type":"issue_created","id":"torn'.length);

  for (const run of [tail, query, validate]) expect(run.rssKiB).toBeLessThan(MAX_RSS_KIB);
  const mib = (kib: number): string => `${(kib / 1024).toFixed(0)} MiB`;
  report(
    'event log past 512 MiB',
    `${(bytes / 2 ** 20).toFixed(0)} MiB, ${events} events`,
    `tail ${tail.seconds.toFixed(1)} s / ${mib(tail.rssKiB)}; query (whole log) ${query.seconds.toFixed(1)} s / ${mib(query.rssKiB)}; ` +
      `validate --fix ${validate.seconds.toFixed(1)} s / ${mib(validate.rssKiB)}`,
  );
});
