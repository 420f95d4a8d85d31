#!/usr/bin/env node
// `npm run bench:events` (not a test): the event log at 1 M and 5 M events
// (about 190 MB and 950 MB). Each log is written directly (appending millions
// of events through jit would only time the fill); the timed runs are real
// `node bin/jit.js --json` processes, each with its peak resident memory
// (bench/max-rss.js). Sizes: BENCH_EVENTS=1000000,5000000 (the default).
// BENCH_BASELINE=/other/checkout/packages/jit/bin/jit.js times that build on
// the same logs too, a row of its own under each of this build's.
'use strict';
const { spawnSync } = require('node:child_process');
const { randomUUID } = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const jitBin = path.join(root, 'bin', 'jit.js');
const baselineBin = process.env.BENCH_BASELINE ? path.resolve(process.env.BENCH_BASELINE) : null;
const { initJit } = require(path.join(root, 'dist', 'store', 'index.js'));
const SIZES = (process.env.BENCH_EVENTS || '1000000,5000000').split(',').map(Number);
const BLOCK = 50_000;
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'jit-bench-events-'));

/** A block of BLOCK ordinary events over 1,000 issues, written again and again up to `count`. */
function writeLog(file, count) {
  const issues = Array.from({ length: 1000 }, () => randomUUID());
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  const lines = [];
  for (let i = 0; i < BLOCK; i++) {
    const base = { id: randomUUID(), issue_id: issues[i % issues.length], timestamp: new Date(t0 + i).toISOString() };
    const kind = i % 5;
    const event =
      kind === 0 ? { type: 'issue_created', ...base, title: `Benchmark issue ${i} with an ordinary title`, state: 'ready' }
      : kind === 1 ? { type: 'issue_claimed', ...base, assignee: 'agent:worker-7' }
      : kind === 2 ? { type: 'issue_state_changed', ...base, from: 'ready', to: 'in_progress' }
      : kind === 3 ? { type: 'issue_updated', ...base, fields: ['title', 'labels'] }
      : { type: 'issue_completed', ...base };
    lines.push(JSON.stringify(event) + '\n');
  }
  const block = Buffer.from(lines.join(''));
  const fd = fs.openSync(file, 'w');
  for (let written = 0; written < count; written += BLOCK) fs.writeSync(fd, written + BLOCK <= count ? block : Buffer.from(lines.slice(0, count - written).join('')));
  fs.closeSync(fd);
  return issues;
}

/** One `jit --json` run: wall time (ms) and peak RSS (MiB). */
function measure(cwd, args, bin = jitBin) {
  const rssFile = path.join(scratch, `rss-${randomUUID()}`);
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, ['-r', path.join(__dirname, 'max-rss.js'), bin, '--json', ...args], {
    cwd,
    env: { ...process.env, JIT_MAX_RSS_FILE: rssFile },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0) throw new Error(`jit ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  const rssMiB = Number(fs.readFileSync(rssFile, 'utf8').trim()) / 1024;
  fs.rmSync(rssFile);
  return { ms, rssMiB };
}

/** The median of `runs` runs (time), with the largest peak RSS seen. */
function measureRuns(cwd, args, runs, bin) {
  const results = Array.from({ length: runs }, () => measure(cwd, args, bin)).sort((a, b) => a.ms - b.ms);
  return { ms: results[Math.floor(runs / 2)].ms, rssMiB: Math.max(...results.map((r) => r.rssMiB)) };
}

const cell = ({ ms, rssMiB }) => `${ms < 10_000 ? ms.toFixed(0) + ' ms' : (ms / 1000).toFixed(1) + ' s'} / ${rssMiB.toFixed(0)} MiB`;

function main() {
  console.log(`jit event log benchmark — Node ${process.version}, ${os.cpus().length} cores, ${os.platform()}, load ${os.loadavg()[0].toFixed(1)}; logs in ${scratch}\n`);
  console.log('Real `jit --json` processes; time (median of 5, validate once) / peak RSS.\n');
  console.log('| events | events.jsonl | `events tail` (20) | `events query --issue P --limit 10` | `events query --issue P` (no limit; 1 in 1,000 match) | `events query --type T` (no limit; 1 in 5 match) | `validate` |');
  console.log('|---|---|---|---|---|---|---|');
  const baseline = measureRuns(scratch, ['--version'], 5);
  for (const count of SIZES) {
    const project = fs.mkdtempSync(path.join(scratch, 'p-'));
    const { path: jitDir } = initJit(project);
    const file = path.join(jitDir, 'events.jsonl');
    const issues = writeLog(file, count);
    const size = fs.statSync(file).size;
    for (const [name, bin] of [['', jitBin], ...(baselineBin ? [[' (baseline)', baselineBin]] : [])]) {
      const tail = measureRuns(project, ['events', 'tail'], 5, bin);
      const query = measureRuns(project, ['events', 'query', '--issue', issues[1].slice(0, 8), '--limit', '10'], 5, bin);
      const oneIssue = measureRuns(project, ['events', 'query', '--issue', issues[1].slice(0, 8)], 3, bin);
      const all = measureRuns(project, ['events', 'query', '--type', 'issue_completed'], 1, bin);
      const validate = measureRuns(project, ['validate'], 1, bin);
      console.log(`| ${count.toLocaleString('en-US')}${name} | ${(size / 2 ** 20).toFixed(0)} MiB | ${cell(tail)} | ${cell(query)} | ${cell(oneIssue)} | ${cell(all)} | ${cell(validate)} |`);
    }
    fs.rmSync(project, { recursive: true, force: true });
  }
  console.log(`\nFor scale: \`jit --version\` (start-up alone) ${cell(baseline)}.`);
}

try {
  main();
} finally {
  fs.rmSync(scratch, { recursive: true, force: true });
}
