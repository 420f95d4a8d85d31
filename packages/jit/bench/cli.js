#!/usr/bin/env node
// `npm run bench:cli`: wall time of `jit status` and `jit query ready` on a
// store of 1,000 issues, next to `node -e 0` (Node's own start-up, the floor).
// The store is filled in-process through the store API (the CLI would spend
// minutes on start-ups); the timed runs are real `node bin/jit.js` processes.
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
const { initJit, openTracker } = require(path.join(root, 'dist', 'store', 'index.js'));

async function fillStore(projectDir) {
  const { path: jitDir } = initJit(projectDir);
  const tracker = openTracker(jitDir);
  const priorities = ['low', 'normal', 'high', 'critical'];
  let previous = null;
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
  }
  return jitDir;
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
      const result = spawnSync(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (result.status !== 0) throw new Error(`${name} exited ${result.status}: ${result.stderr}`);
      if (round >= WARMUP) samples[i].push(ms);
    });
  }
  return samples.map((runs) => {
    runs.sort((a, b) => a - b);
    const at = (q) => runs[Math.min(runs.length - 1, Math.ceil(q * runs.length) - 1)];
    return { median: at(0.5), p95: at(0.95), min: runs[0] };
  });
}

async function main() {
  const projectDir = mkdtempSync(path.join(os.tmpdir(), 'jit-bench-cli-'));
  try {
    const filling = Date.now();
    await fillStore(projectDir);
    const [load1] = os.loadavg();
    console.log(
      `Store with ${ISSUES} issues filled in ${((Date.now() - filling) / 1000).toFixed(1)} s; ${RUNS} timed runs each ` +
        `(after ${WARMUP} warm-up runs), interleaved; load average ${load1.toFixed(2)} on ${os.cpus().length} CPUs at the start.\n`,
    );
    const cases = [
      ['node -e 0', ['-e', '0']],
      ['jit --version', [jitBin, '--version']],
      ['jit status', [jitBin, 'status']],
      ['jit --json status', [jitBin, '--json', 'status']],
      ['jit query ready', [jitBin, 'query', 'ready']],
      ['jit --json query ready', [jitBin, '--json', 'query', 'ready']],
    ];
    const rows = timeInterleaved(cases, projectDir).map((stats, i) => ({ name: cases[i][0], ...stats }));
    const floor = rows[0].median;
    const width = Math.max(...rows.map((row) => row.name.length));
    console.log(`${'command'.padEnd(width)}  median ms  p95 ms  min ms  over node -e 0`);
    for (const row of rows) {
      const over = row === rows[0] ? '' : `+${(row.median - floor).toFixed(1)}`;
      console.log(
        `${row.name.padEnd(width)}  ${row.median.toFixed(1).padStart(9)}  ${row.p95.toFixed(1).padStart(6)}  ${row.min.toFixed(1).padStart(6)}  ${over.padStart(14)}`,
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
