#!/usr/bin/env node
// `npm run bench:store` (not a test): the issue store's throughput.
//  1. One process: create, update, load (get) and list with JsonFileStorage,
//     and the same work with a no-op locker, to show what the locks cost.
//  2. Ten processes creating at once, and ten processes each updating its own
//     issue, against one process doing the same: does independent work scale?
//  3. `query ready` and `status` on 10,000 issues, in-process (cold and warm).
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { performance } = require('node:perf_hooks');

const root = path.resolve(__dirname, '..');
const store = require(path.join(root, 'dist', 'store', 'index.js'));
const { fileLocker } = require(path.join(root, 'dist', 'store', 'locker.js'));

const OPS = Number(process.env.BENCH_OPS || 200);
const PROCS = 10;
const PER_PROC = Number(process.env.BENCH_PER_PROC || 40);
const BIG = Number(process.env.BENCH_ISSUES || 10000);
// Made by the main process only (children get their store's path as an argument).
const scratch = process.argv[2] === '--child' ? null : fs.mkdtempSync(path.join(os.tmpdir(), 'jit-bench-store-'));

/** Same work, no locks: only this benchmark uses it, to price the locking. */
const noLocks = {
  async lockAll() {
    return { release() {} };
  },
  tryLock() {
    return { release() {} };
  },
};

/** The real locks, with a stopwatch around every call into them. */
const lockClock = { ms: 0 };
const timedLocks = {
  async lockAll(requests) {
    const started = performance.now();
    const held = await fileLocker.lockAll(requests);
    lockClock.ms += performance.now() - started;
    return {
      release() {
        const releasing = performance.now();
        held.release();
        lockClock.ms += performance.now() - releasing;
      },
    };
  },
  tryLock(...args) {
    const started = performance.now();
    const held = fileLocker.tryLock(...args);
    lockClock.ms += performance.now() - started;
    return held && {
      release() {
        const releasing = performance.now();
        held.release();
        lockClock.ms += performance.now() - releasing;
      },
    };
  },
};

let projects = 0;
function freshStore() {
  const project = path.join(scratch, `p${++projects}`);
  fs.mkdirSync(project);
  return store.initJit(project).path;
}

async function timed(count, fn) {
  lockClock.ms = 0;
  const started = performance.now();
  for (let i = 0; i < count; i++) await fn(i);
  return { msPerOp: (performance.now() - started) / count, lockMsPerOp: lockClock.ms / count };
}

async function singleProcess(locker) {
  const tracker = new store.Tracker(new store.JsonFileStorage(freshStore(), { locker }));
  const ids = [];
  const create = await timed(OPS, async (i) => ids.push((await tracker.createIssue({ title: `issue ${i}`, labels: ['bench:x'] })).id));
  const update = await timed(OPS, (i) => tracker.updateIssue(ids[i], { title: `issue ${i} v2`, addLabels: ['bench:y'] }));
  const load = await timed(OPS, (i) => tracker.getIssue(ids[i]));
  const list = await timed(OPS, () => tracker.listIssues());
  return { create, update, load, list };
}

/** Alternates locked and unlocked rounds and keeps each one's best: the machine's noise only ever adds time. */
async function singleProcessRounds(rounds) {
  const best = { locked: {}, unlocked: {} };
  for (let round = 0; round < rounds; round++) {
    for (const [name, locker] of [['locked', timedLocks], ['unlocked', noLocks]]) {
      const result = await singleProcess(locker);
      for (const [op, r] of Object.entries(result)) if (!best[name][op] || r.msPerOp < best[name][op].msPerOp) best[name][op] = r;
    }
  }
  return best;
}

// ------------------------------------------------------------- children

/**
 * Child mode: `store.js --child <jitDir> create|update|fsync <count> [id]`; prints its own
 * start/end (epoch ms). `fsync` is the disk's own baseline: write + fsync a small file and
 * fsync its folder, as every store write does several times, without any jit code.
 */
async function child([jitDir, op, count, id]) {
  const tracker = store.openTracker(jitDir);
  await tracker.status(); // warm up (module loading, first index parse) before the clock starts
  const start = performance.timeOrigin + performance.now();
  for (let i = 0; i < Number(count); i++) {
    if (op === 'create') await tracker.createIssue({ title: `p${process.pid}-${i}` });
    else if (op === 'update') await tracker.updateIssue(id, { title: `v${i}` });
    else fsyncOnce(path.join(jitDir, `raw-${process.pid}-${i}`));
  }
  process.stdout.write(JSON.stringify({ start, end: performance.timeOrigin + performance.now() }) + '\n');
}

function fsyncOnce(file) {
  const fd = fs.openSync(file, 'w');
  fs.writeSync(fd, 'x'.repeat(300));
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  const dir = fs.openSync(path.dirname(file), 'r');
  fs.fsyncSync(dir);
  fs.closeSync(dir);
}

function runChild(args) {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [__filename, '--child', ...args], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, JIT_LOCK_TIMEOUT: '120' } });
    let out = '';
    proc.stdout.on('data', (d) => (out += d));
    proc.on('close', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`child exited ${code}`))));
  });
}

/** Aggregate ops/s over the span from the first child's start to the last child's end. */
async function parallel(argsList, opsEach) {
  const spans = await Promise.all(argsList.map(runChild));
  const ms = Math.max(...spans.map((s) => s.end)) - Math.min(...spans.map((s) => s.start));
  return (argsList.length * opsEach * 1000) / ms;
}

async function multiProcess() {
  const fsyncDir = freshStore();
  const fsyncOne = await parallel([[fsyncDir, 'fsync', String(PER_PROC)]], PER_PROC);
  const fsyncTen = await parallel(Array.from({ length: PROCS }, () => [fsyncDir, 'fsync', String(PER_PROC)]), PER_PROC);
  const createOne = await parallel([[freshStore(), 'create', String(PER_PROC)]], PER_PROC);
  const createDir = freshStore();
  const createTen = await parallel(Array.from({ length: PROCS }, () => [createDir, 'create', String(PER_PROC)]), PER_PROC);

  const updateDir = freshStore();
  const tracker = store.openTracker(updateDir);
  const ids = [];
  for (let i = 0; i < PROCS; i++) ids.push((await tracker.createIssue({ title: `own ${i}` })).id);
  const updateOne = await parallel([[updateDir, 'update', String(PER_PROC), ids[0]]], PER_PROC);
  const updateTen = await parallel(ids.map((id) => [updateDir, 'update', String(PER_PROC), id]), PER_PROC);
  return { fsyncOne, fsyncTen, createOne, createTen, updateOne, updateTen };
}

// ------------------------------------------------------------- 10,000 issues

/** Writes BIG issue files directly (creating them one by one would only time the fill), then rebuilds the index. */
async function bigStore() {
  const jitDir = freshStore();
  const priorities = ['low', 'normal', 'high', 'critical'];
  const ids = [];
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  for (let i = 0; i < BIG; i++) {
    const id = require('node:crypto').randomUUID();
    const at = new Date(t0 + i * 1000).toISOString();
    // Every third issue waits for the one before it; every fifth is done.
    const dependencies = i % 3 === 2 ? [ids[i - 1]] : [];
    const state = i % 5 === 0 ? 'done' : dependencies.length && (i - 1) % 5 !== 0 ? 'backlog' : 'ready';
    ids.push(id);
    const issue = {
      id, title: `Benchmark issue ${i}`, description: `Filler ${i}`, state, priority: priorities[i % 4], assignee: null,
      dependencies, gates_required: [], gates_status: {}, labels: [`bench:group-${i % 10}`], context: {}, created_at: at, updated_at: at,
    };
    fs.writeFileSync(path.join(jitDir, 'issues', `${id}.json`), JSON.stringify(issue));
  }
  const report = await store.openTracker(jitDir).validate({ fix: true });
  if (!report.ok) throw new Error(`the generated store is not valid: ${JSON.stringify(report.problems.slice(0, 3))}`);
  // A parse of an index written less than 2 s before is never reused (see readIndex): let "warm" mean warm.
  await new Promise((resolve) => setTimeout(resolve, 2100));
  return jitDir;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function queries(jitDir) {
  const result = {};
  for (const name of ['queryReady', 'status']) {
    const cold = [];
    const warm = [];
    for (let run = 0; run < 10; run++) {
      const tracker = store.openTracker(jitDir); // a new storage: nothing cached
      let t = performance.now();
      await tracker[name]();
      cold.push(performance.now() - t);
      for (let i = 0; i < 3; i++) {
        t = performance.now();
        await tracker[name]();
        warm.push(performance.now() - t);
      }
    }
    result[name] = { cold: median(cold), warm: median(warm) };
  }
  result.readyCount = (await store.openTracker(jitDir).queryReady()).length;
  result.indexBytes = fs.statSync(path.join(jitDir, 'index.json')).size;
  return result;
}

// ------------------------------------------------------------- main

const f = (n, digits = 1) => n.toFixed(digits);

async function main() {
  console.log(`jit store benchmark — Node ${process.version}, ${os.cpus().length} cores, ${os.platform()}; store in ${scratch}\n`);
  const { locked, unlocked } = await singleProcessRounds(3);
  console.log(`1. One process, ${OPS} operations each, best of 3 alternating rounds (JsonFileStorage; every write fsyncs)`);
  console.log('| operation | with OS locks | of which in lock calls | no-op locker | difference |');
  console.log('|---|---|---|---|---|');
  for (const op of ['create', 'update', 'load', 'list']) {
    const a = locked[op];
    const b = unlocked[op];
    const share = (a.lockMsPerOp / a.msPerOp) * 100;
    console.log(
      `| ${op} | ${f(1000 / a.msPerOp, 0)} ops/s (${f(a.msPerOp, 3)} ms) | ${f(a.lockMsPerOp, 3)} ms (${f(share)} %) | ` +
        `${f(1000 / b.msPerOp, 0)} ops/s (${f(b.msPerOp, 3)} ms) | ${f(((a.msPerOp - b.msPerOp) / b.msPerOp) * 100)} % |`,
    );
  }

  const multi = await multiProcess();
  console.log(`\n2. ${PROCS} processes at once, ${PER_PROC} operations each (aggregate, start-up excluded)`);
  console.log('| workload | 1 process | 10 processes | scaling |');
  console.log('|---|---|---|---|');
  console.log(`| baseline: write + fsync + folder fsync, no jit | ${f(multi.fsyncOne, 0)} ops/s | ${f(multi.fsyncTen, 0)} ops/s | x${f(multi.fsyncTen / multi.fsyncOne, 2)} |`);
  console.log(`| create (shared index) | ${f(multi.createOne, 0)} ops/s | ${f(multi.createTen, 0)} ops/s | x${f(multi.createTen / multi.createOne, 2)} |`);
  console.log(`| update own issue | ${f(multi.updateOne, 0)} ops/s | ${f(multi.updateTen, 0)} ops/s | x${f(multi.updateTen / multi.updateOne, 2)} |`);

  const big = await queries(await bigStore());
  console.log(`\n3. ${BIG} issues in-process (index.json ${f(big.indexBytes / 1e6, 2)} MB, ${big.readyCount} ready), median ms`);
  console.log('| query | cold (new storage, parses index.json) | warm (index unchanged) |');
  console.log('|---|---|---|');
  console.log(`| query ready | ${f(big.queryReady.cold, 2)} ms | ${f(big.queryReady.warm, 2)} ms |`);
  console.log(`| status | ${f(big.status.cold, 2)} ms | ${f(big.status.warm, 2)} ms |`);
}

if (process.argv[2] === '--child') {
  child(process.argv.slice(3)).catch((error) => {
    console.error(error);
    process.exit(1);
  });
} else {
  main()
    .catch((error) => {
      console.error(error);
      process.exitCode = 1;
    })
    .finally(() => fs.rmSync(scratch, { recursive: true, force: true }));
}
