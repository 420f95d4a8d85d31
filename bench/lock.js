#!/usr/bin/env node
// `npm run bench:lock`: what a lock costs, next to the physical limit (C
// calling flock directly) and the common npm alternative (proper-lockfile).
//
// Uncontended: cycles per second of acquire + release on a free lock file.
// Hand-off: process A holds the lock, process B waits for it, A releases.
// Latency = B's clock right after its lock call returned (for async: in the
// continuation after `await`, i.e. when B's JavaScript resumed) minus A's
// clock right before release. Both read CLOCK_MONOTONIC
// (process.hrtime.bigint() in Node, clock_gettime in C): one clock shared by
// every process on the machine, so the difference is sound across processes.
// A lets B settle into its wait (3 ms; 2 ms in C) before each release, and
// the messages that pace the rounds travel outside the timed window. Warm-up
// rounds are discarded.
'use strict';
const { fork, spawnSync, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');

const root = path.resolve(__dirname, '..');
const jit = require(path.join(root, 'dist', 'index.js'));
const properLockfile = require('proper-lockfile');

const UNCONTENDED = Number(process.env.BENCH_LOCK_CYCLES || 20000);
const HANDOFFS = Number(process.env.BENCH_LOCK_HANDOFFS || 300);
const WARMUP = 20;
const SETTLE_MS = 3;
// proper-lockfile's retry options: its backoff default (first retry after 1 s),
// and a tuned 10 ms poll.
const PROPER_RETRIES = {
  default: { retries: { retries: 20 }, stale: 60_000 },
  poll10: { retries: { retries: 10_000, factor: 1, minTimeout: 10, maxTimeout: 10 }, stale: 60_000 },
};

// ---- waiter role (a child process) ---------------------------------------

async function waiterMain(kind, lockPath) {
  const acquire = {
    'jit-async': async () => {
      const held = await jit.lock(lockPath, { timeoutMs: 60_000 });
      return () => held.release();
    },
    'jit-sync': async () => {
      const held = jit.lockSync(lockPath, { timeoutMs: 60_000 });
      return () => held.release();
    },
    'proper-default': () => properLockfile.lock(lockPath, PROPER_RETRIES.default),
    'proper-poll10': () => properLockfile.lock(lockPath, PROPER_RETRIES.poll10),
  }[kind];
  process.on('message', async (message) => {
    if (message !== 'go') return process.exit(0);
    fs.writeSync(1, 'waiting\n'); // synchronous: lockSync may block the loop next
    const release = await acquire();
    const acquired = process.hrtime.bigint();
    await release();
    fs.writeSync(1, `acquired ${acquired}\n`);
  });
}

// ---- holder role (this process) ---------------------------------------------

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

function summarize(nanoseconds) {
  const ms = nanoseconds.map((ns) => Number(ns) / 1e6).sort((a, b) => a - b);
  return { median: percentile(ms, 0.5), p99: percentile(ms, 0.99), n: ms.length };
}

function perCycleMicros(cycles, body) {
  for (let i = 0; i < Math.min(1000, cycles); i++) body();
  const start = process.hrtime.bigint();
  for (let i = 0; i < cycles; i++) body();
  return Number(process.hrtime.bigint() - start) / 1e3 / cycles;
}

async function handoff(kind, lockPath, rounds, hold, warmup = WARMUP) {
  const child = fork(__filename, ['--waiter', kind, lockPath], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const lines = readline.createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const nextLine = async () => {
    const { value, done } = await lines.next();
    if (done) throw new Error(`${kind} waiter exited`);
    return value;
  };
  const samples = [];
  for (let i = 0; i < warmup + rounds; i++) {
    const release = await hold();
    child.send('go');
    if ((await nextLine()) !== 'waiting') throw new Error('protocol');
    await sleep(SETTLE_MS);
    const released = process.hrtime.bigint();
    await release();
    const acquired = BigInt((await nextLine()).split(' ')[1]);
    if (i >= warmup) samples.push(acquired - released);
  }
  child.send('stop');
  await new Promise((resolve) => child.once('exit', resolve));
  return summarize(samples);
}

function holdJit(lockPath) {
  return async () => {
    const held = jit.lockSync(lockPath, { timeoutMs: 60_000 });
    return () => held.release();
  };
}

function holdProper(lockPath) {
  return async () => properLockfile.lock(lockPath, PROPER_RETRIES.poll10);
}

function buildC(outDir) {
  const binary = path.join(outDir, 'flock-bench');
  execFileSync('cc', ['-O2', '-Wall', '-Wextra', '-o', binary, path.join(__dirname, 'flock-bench.c')], { stdio: 'inherit' });
  return binary;
}

function runC(binary, args) {
  const result = spawnSync(binary, args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`flock-bench ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout.trim().split('\n');
}

const fmt = (value, digits) => (value === undefined ? '—' : value.toFixed(digits));

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jit-bench-lock-'));
  try {
    const file = (name) => {
      const p = path.join(dir, name);
      fs.writeFileSync(p, '');
      return p;
    };
    const rows = [];

    // jit
    const jitPath = file('jit.lock');
    const tryUs = perCycleMicros(UNCONTENDED, () => jit.tryLock(jitPath).release());
    const syncUs = perCycleMicros(UNCONTENDED, () => jit.lockSync(jitPath).release());
    const jitAsync = await handoff('jit-async', jitPath, HANDOFFS, holdJit(jitPath));
    const jitSync = await handoff('jit-sync', jitPath, HANDOFFS, holdJit(jitPath));
    rows.push(['jit: tryLock; async lock() waiter', tryUs, undefined, jitAsync]);
    rows.push(['jit: lockSync; lockSync waiter', undefined, syncUs, jitSync]);

    // C
    const binary = buildC(dir);
    const cPath = file('c.lock');
    const c = Object.fromEntries(runC(binary, ['uncontended', cPath, String(UNCONTENDED * 5)]).map((l) => l.split(' ')));
    const cHandoff = summarize(runC(binary, ['handoff', cPath, String(HANDOFFS)]).map(BigInt));
    rows.push(['C flock: open+lock+unlock+close', Number(c.open_lock_unlock_close_us), undefined, cHandoff]);
    rows.push(['C flock: lock+unlock on an open fd', Number(c.lock_unlock_us), undefined, undefined]);

    // proper-lockfile (mkdir-based, polls with retries)
    const properPath = file('proper');
    const properUs = perCycleMicros(Math.min(UNCONTENDED, 2000), () => properLockfile.lockSync(properPath)());
    const properPoll = await handoff('proper-poll10', properPath, Math.min(HANDOFFS, 100), holdProper(properPath));
    const properDefault = await handoff('proper-default', properPath, 5, holdProper(properPath), 1); // ~1 s each
    rows.push(['proper-lockfile, retries every 10 ms', undefined, properUs, properPoll]);
    rows.push(['proper-lockfile, default retry backoff', undefined, properUs, properDefault]);

    const header = ['', 'tryLock+release µs', 'lockSync+release µs', 'hand-off median ms', 'hand-off p99 ms', 'hand-offs'];
    const table = [header, ...rows.map(([name, tryLock, lockSync, h]) => [
      name,
      fmt(tryLock, 2),
      fmt(lockSync, 2),
      fmt(h?.median, 3),
      fmt(h?.p99, 3),
      h ? String(h.n) : '—',
    ])];
    const widths = header.map((_, i) => Math.max(...table.map((row) => row[i].length)));
    const line = (row) => `| ${row.map((cell, i) => cell.padEnd(widths[i])).join(' | ')} |`;
    console.log(`\nlock benchmark — ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'}), Node ${process.version}, ${os.platform()} ${os.release()}`);
    console.log(line(table[0]));
    console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
    for (const row of table.slice(1)) console.log(line(row));
    console.log('\nhand-off: holder releases -> waiter resumes, CLOCK_MONOTONIC in both processes. Target for jit async: median < 0.25 ms.');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--waiter') {
  waiterMain(process.argv[3], process.argv[4]);
} else {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
