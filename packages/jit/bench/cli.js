#!/usr/bin/env node
// `npm run bench:cli`: start-up of the `jit` command on a store of 1,000
// issues, next to `node -e 0` (Node's own start-up, the floor): wall time and
// CPU time (user + system) of real `node bin/jit.js` processes, median of
// interleaved runs. The store is filled in-process through the store API (the
// CLI would spend minutes on start-ups).
//
// BENCH_BASELINE=/other/checkout/packages/jit/bin/jit.js times that build's
// jit too, interleaved with this one: before and after a change, under the
// same load.
'use strict';
const { spawnSync } = require('node:child_process');
const { mkdtempSync, rmSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ISSUES = Number(process.env.BENCH_ISSUES || 1000);
const RUNS = Number(process.env.BENCH_RUNS || 20);
const WARMUP = 3;
const root = path.resolve(__dirname, '..');
const jitBin = path.join(root, 'bin', 'jit.js');
const baselineBin = process.env.BENCH_BASELINE ? path.resolve(process.env.BENCH_BASELINE) : null;
const cpuUsage = path.join(__dirname, 'cpu-usage.js');
const { initJit, openTracker } = require(path.join(root, 'dist', 'store', 'index.js'));

async function fillStore(projectDir) {
  const { path: jitDir } = initJit(projectDir);
  const tracker = openTracker(jitDir);
  const priorities = ['low', 'normal', 'high', 'critical'];
  let previous = null;
  let first = null;
  for (let i = 0; i < ISSUES; i++) {
    // Every third issue waits for the one before, so ready and blocked both have members.
    const issue = await tracker.createIssue({
      title: `Benchmark issue ${i}`,
      description: `Filler text for issue ${i}.`,
      priority: priorities[i % priorities.length],
      labels: [`bench:group-${i % 10}`],
      dependencies: i % 3 === 2 && previous ? [previous] : [],
    });
    previous = issue.id;
    first ??= issue.id;
  }
  return { jitDir, someId: first };
}

/**
 * Runs every case once per round, round after round, so that a change in the
 * machine's load hits all cases alike instead of skewing one of them.
 */
function timeInterleaved(cases, cwd) {
  const samples = cases.map(() => []);
  for (let round = 0; round < WARMUP + RUNS; round++) {
    cases.forEach(([name, args], i) => {
      const started = process.hrtime.bigint();
      const result = spawnSync(process.execPath, ['--require', cpuUsage, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (result.status !== 0) throw new Error(`${name} exited ${result.status}: ${result.stderr}`);
      if (round >= WARMUP) samples[i].push({ wall: ms, cpu: Number(String(result.output[3]).trim()) });
    });
  }
  return samples.map((runs) => {
    const sorted = (key) => runs.map((run) => run[key]).sort((a, b) => a - b);
    const at = (values, q) => values[Math.min(values.length - 1, Math.ceil(q * values.length) - 1)];
    const wall = sorted('wall');
    const cpu = sorted('cpu');
    return { median: at(wall, 0.5), p95: at(wall, 0.95), cpu: at(cpu, 0.5) };
  });
}

async function main() {
  const projectDir = mkdtempSync(path.join(os.tmpdir(), 'jit-bench-cli-'));
  try {
    const filling = Date.now();
    const { someId } = await fillStore(projectDir);
    const [load1] = os.loadavg();
    console.log(
      `Store with ${ISSUES} issues filled in ${((Date.now() - filling) / 1000).toFixed(1)} s; ${RUNS} timed runs each ` +
        `(after ${WARMUP} warm-up runs), interleaved; load average ${load1.toFixed(2)} on ${os.cpus().length} CPUs at the start.\n`,
    );
    const lines = [
      ['--version'],
      ['status'],
      ['--json', 'status'],
      ['query', 'ready'],
      ['--json', 'query', 'ready'],
      ['--json', 'issue', 'show', someId], // the commander path: commander, one command group, the store
      ['help', 'issue'],
      ['--help'], // every command group
    ];
    const label = (args) => `jit ${args.map((arg) => (arg === someId ? 'ID' : arg)).join(' ')}`;
    const cases = [['node -e 0', ['-e', '0']]];
    for (const args of lines) {
      if (baselineBin) cases.push([`${label(args)} (baseline)`, [baselineBin, ...args]]);
      cases.push([label(args), [jitBin, ...args]]);
    }
    const rows = timeInterleaved(cases, projectDir).map((stats, i) => ({ name: cases[i][0], ...stats }));
    const floor = rows[0];
    const width = Math.max(...rows.map((row) => row.name.length));
    const over = (row, key) => (row === floor ? '' : `+${(row[key] - floor[key]).toFixed(1)}`);
    console.log(`${'command'.padEnd(width)}  wall median  p95 ms  over node   cpu median  over node`);
    for (const row of rows) {
      console.log(
        `${row.name.padEnd(width)}  ${row.median.toFixed(1).padStart(11)}  ${row.p95.toFixed(1).padStart(6)}  ${over(row, 'median').padStart(9)}` +
          `  ${row.cpu.toFixed(1).padStart(10)}  ${over(row, 'cpu').padStart(9)}`,
      );
    }
    console.log(`\nLoad average at the end: ${os.loadavg()[0].toFixed(2)} (numbers above ~1 per CPU mean other work shared the machine).`);
  } finally {
    rmSync(projectDir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
