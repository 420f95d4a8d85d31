#!/usr/bin/env node
// `npm run bench:batch`: issue 16's bulk commands through real `jit`
// processes. batch-create: 1,000 issues with 2,000 dependencies in one call,
// each run on a fresh store (median of BENCH_RUNS); next to it, what one
// single `issue create` costs (so ~1,000 separate calls, the way before).
// update --filter: 1,000 matching issues changed in one call (a priority
// flipped between high and low, so every run changes every issue), and its
// --dry-run. Wall and CPU time; the machine's load average is printed with
// the figures, since on a shared 2-core machine it moves them most.
'use strict';
const { spawnSync } = require('node:child_process');
const { mkdtempSync, rmSync, writeFileSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ISSUES = Number(process.env.BENCH_ISSUES || 1000);
const RUNS = Number(process.env.BENCH_RUNS || 5);
const root = path.resolve(__dirname, '..');
const jitBin = path.join(root, 'bin', 'jit.js');
const cpuUsage = path.join(__dirname, 'cpu-usage.js');

/** 1,000 issues, 2,000 dependencies (1,997 for 1,000): each waits for the one before and for one about half as far back. */
function batchInput() {
  const entries = [];
  let edges = 0;
  for (let i = 0; i < ISSUES; i++) {
    const dependencies = [];
    if (i > 0) dependencies.push(`k${i - 1}`);
    if (i > 1 && Math.floor(i / 2) - 1 !== i - 1) dependencies.push(`k${Math.floor(i / 2) - 1}`);
    else if (i > 2) dependencies.push(`k${i - 2}`);
    edges += dependencies.length;
    entries.push({ ref: `k${i}`, title: `Batch issue ${i}`, labels: ['bench:all', `bench:group-${i % 10}`], priority: 'normal', dependencies });
  }
  return { entries, edges };
}

function jit(cwd, args) {
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, ['--require', cpuUsage, jitBin, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
  const wall = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0 && result.status !== 4) throw new Error(`jit ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  return { wall, cpu: Number(String(result.output[3]).trim()), stdout: String(result.stdout) };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const fmt = (samples) => `${median(samples.map((s) => s.wall)).toFixed(0)} ms wall, ${median(samples.map((s) => s.cpu)).toFixed(0)} ms CPU`;

function nodeFloor() {
  const runs = Array.from({ length: 5 }, () => {
    const started = process.hrtime.bigint();
    spawnSync(process.execPath, ['-e', '0']);
    return Number(process.hrtime.bigint() - started) / 1e6;
  });
  return median(runs);
}

const work = mkdtempSync(path.join(os.tmpdir(), 'jit-bench-batch-'));
try {
  const { entries, edges } = batchInput();
  const input = path.join(work, 'batch.json');
  writeFileSync(input, JSON.stringify(entries));
  console.log(`load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} on ${os.cpus().length} cores; node -e 0: ${nodeFloor().toFixed(0)} ms`);

  const creates = [];
  const singles = [];
  let store = null;
  for (let run = 0; run < RUNS; run++) {
    const dir = mkdtempSync(path.join(work, 'store-'));
    jit(dir, ['init']);
    const timed = jit(dir, ['--json', 'issue', 'batch-create', '--from-json', input]);
    if (JSON.parse(timed.stdout).created !== ISSUES) throw new Error('batch-create made the wrong number of issues');
    creates.push(timed);
    singles.push(jit(dir, ['--json', 'issue', 'create', '-t', 'One more', '-l', 'bench:single']));
    if (store) rmSync(store, { recursive: true, force: true });
    store = dir;
  }
  console.log(`batch-create ${ISSUES} issues + ${edges} dependencies, one call: ${fmt(creates)}`);
  console.log(`one issue create on that store: ${fmt(singles)} (x${ISSUES} separate calls: ~${((median(singles.map((s) => s.wall)) * ISSUES) / 1000).toFixed(0)} s)`);

  const dry = [];
  const updates = [];
  for (let run = 0; run < RUNS; run++) {
    dry.push(jit(store, ['--json', 'issue', 'update', '--filter', 'label:bench:all', '-p', run % 2 === 0 ? 'high' : 'low', '--dry-run']));
    const timed = jit(store, ['--json', 'issue', 'update', '--filter', 'label:bench:all', '-p', run % 2 === 0 ? 'high' : 'low']);
    if (JSON.parse(timed.stdout).changed.length !== ISSUES) throw new Error('update --filter changed the wrong number of issues');
    updates.push(timed);
  }
  console.log(`update --filter over ${ISSUES} matches (each changed): ${fmt(updates)}`);
  console.log(`update --filter --dry-run over ${ISSUES} matches: ${fmt(dry)}`);
  console.log(`load average after: ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
