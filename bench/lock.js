#!/usr/bin/env node
// `npm run bench:lock`: jit-lock side by side with C calling flock(2)
// directly (the physical limit) and the Node peers fs-native-extensions,
// fs-ext and proper-lockfile, in one table.
//
// Uncontended: one cycle = take a free lock on a path and release it (for
// the fd-based peers: open + lock + unlock + close, as jit-lock does). Every
// cycle is timed on its own; the libraries take turns in blocks of cycles,
// so a busy machine slows them alike.
// Hand-off: this process holds the lock, a waiter process waits for it, this
// process releases. Latency = the waiter's clock right after its lock call
// returned (for async APIs: in the continuation, when its JavaScript resumed)
// minus ours right before the release. Both read CLOCK_MONOTONIC
// (process.hrtime.bigint() in Node, clock_gettime in C), one clock for every
// process on the machine. The release happens once the kernel lists the
// waiter as blocked on the file (/proc/locks), or after a fixed pause where
// it cannot (proper-lockfile polls; other systems).
// - warm: one waiter process takes the lock round after round (20 warm-up
//   rounds are discarded);
// - cold: a fresh waiter process each round, whose first lock call this is.
// Each library hands off to itself: the holder uses the same library (on
// Linux fs-native-extensions takes fcntl OFD locks, which flock(2) holders
// do not exclude; the interop line below checks it on this machine).
'use strict';
const { execFileSync, fork, spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { performance } = require('node:perf_hooks');
const readline = require('node:readline');

const root = path.resolve(__dirname, '..');
const JIT = path.join(root, 'dist', 'index.js');

const CYCLES = Number(process.env.BENCH_LOCK_CYCLES || 20000); // uncontended cycles per library
const HANDOFFS = Number(process.env.BENCH_LOCK_HANDOFFS || 200); // warm hand-offs per library
const COLD = Number(process.env.BENCH_LOCK_COLD || 30); // cold hand-offs per library
const WARMUP = 20;
const BLOCK = 500; // uncontended cycles per turn
const SETTLE_MS = 3; // after the waiter blocks, before the release (warm)
const COLD_SETTLE_MS = 20; // the same for a fresh process
const PROPER_POLL_MS = 10;
// proper-lockfile waits by retrying: every 10 ms here (its default backoff
// waits a second and more between tries).
const PROPER_OPTIONS = { retries: { retries: 100_000, factor: 1, minTimeout: PROPER_POLL_MS, maxTimeout: PROPER_POLL_MS }, stale: 60_000 };

// ---- one lock call per library, as each is meant to be used ------------------

/** acquire(path) -> release(); async where the library's wait is. */
const waiters = {
  'jit-lock': () => {
    const jit = require(JIT);
    return async (p) => {
      const held = await jit.lock(p, { timeoutMs: 120_000 });
      return () => held.release();
    };
  },
  'jit-lock-sync': () => {
    const jit = require(JIT);
    return async (p) => {
      const held = jit.lockSync(p, { timeoutMs: 120_000 });
      return () => held.release();
    };
  },
  'fs-ext': () => {
    const fsExt = require('fs-ext');
    return (p) =>
      new Promise((resolve, reject) => {
        const fd = fs.openSync(p, 'r+');
        fsExt.flock(fd, 'ex', (error) => {
          if (error) return reject(error);
          resolve(() => {
            fsExt.flockSync(fd, 'un');
            fs.closeSync(fd);
          });
        });
      });
  },
  'fs-native-extensions': () => {
    const fsne = require('fs-native-extensions');
    return async (p) => {
      const fd = fs.openSync(p, 'r+');
      await fsne.waitForLock(fd);
      return () => {
        fsne.unlock(fd);
        fs.closeSync(fd);
      };
    };
  },
  'proper-lockfile': () => {
    const properLockfile = require('proper-lockfile');
    return (p) => properLockfile.lock(p, PROPER_OPTIONS);
  },
};

/** The holder side: take the lock now (it is free), return release(). */
const holders = {
  'jit-lock': () => {
    const jit = require(JIT);
    return (p) => {
      const held = jit.tryLock(p);
      return () => held.release();
    };
  },
  'fs-ext': () => {
    const fsExt = require('fs-ext');
    return (p) => {
      const fd = fs.openSync(p, 'r+');
      fsExt.flockSync(fd, 'exnb');
      return () => {
        fsExt.flockSync(fd, 'un');
        fs.closeSync(fd);
      };
    };
  },
  'fs-native-extensions': () => {
    const fsne = require('fs-native-extensions');
    return (p) => {
      const fd = fs.openSync(p, 'r+');
      if (!fsne.tryLock(fd)) throw new Error('fs-native-extensions: the lock is not free');
      return () => {
        fsne.unlock(fd);
        fs.closeSync(fd);
      };
    };
  },
  'proper-lockfile': () => {
    const properLockfile = require('proper-lockfile');
    return (p) => {
      const release = properLockfile.lockSync(p, { stale: 60_000 });
      return () => release();
    };
  },
};
holders['jit-lock-sync'] = holders['jit-lock'];

// ---- waiter processes ------------------------------------------------------------

/** A warm waiter: takes the lock each time it is told to, and reports when it got it. */
async function warmWaiterMain(kind, lockPath) {
  const acquire = waiters[kind]();
  process.on('message', async (message) => {
    if (message !== 'go') return process.exit(0);
    fs.writeSync(1, 'waiting\n'); // synchronous: lockSync may block the loop next
    const release = await acquire(lockPath);
    const acquired = process.hrtime.bigint();
    await release();
    fs.writeSync(1, `acquired ${acquired}\n`);
  });
}

/** A cold waiter: a fresh process that loads one library and waits once. */
async function coldWaiterMain(kind, lockPath) {
  const acquire = waiters[kind]();
  fs.writeSync(1, 'waiting\n');
  const release = await acquire(lockPath);
  const acquired = process.hrtime.bigint();
  await release();
  fs.writeSync(1, `acquired ${acquired}\n`);
}

/** Uncontended cycles in a separate process, with or without a metrics subscriber on every jit-lock channel. */
function metricsProbeMain(subscribed, lockPath, cycles) {
  const jit = require(JIT);
  if (subscribed === 'yes') {
    const diagnostics = require('node:diagnostics_channel');
    let heard = 0;
    for (const name of Object.values(jit.LOCK_CHANNELS)) diagnostics.subscribe(name, () => heard++);
  }
  const samples = timeCycles(() => jit.tryLock(lockPath).release(), cycles, 1000);
  process.stdout.write(JSON.stringify(samples));
}

// ---- measuring ------------------------------------------------------------------

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

function summarize(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return { median: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), n: sorted.length };
}

/** Times `count` cycles one by one (after `warmup` untimed ones); microseconds. */
function timeCycles(body, count, warmup = 0) {
  for (let i = 0; i < warmup; i++) body();
  const samples = new Array(count);
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    body();
    samples[i] = (performance.now() - start) * 1000;
  }
  return samples;
}

function cBinary(dir) {
  const binary = path.join(dir, 'flock-bench');
  execFileSync('cc', ['-O2', '-Wall', '-Wextra', '-o', binary, path.join(__dirname, 'flock-bench.c')], { stdio: 'inherit' });
  return binary;
}

function runC(binary, args) {
  const result = spawnSync(binary, args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`flock-bench ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout.trim().split('\n');
}

/** Resolves once the kernel lists a blocked lock request on this file; false where /proc/locks does not exist. */
async function blockedOn(lockPath, limitMs = 30_000) {
  if (!fs.existsSync('/proc/locks')) return false;
  const ino = fs.statSync(lockPath).ino;
  const waiting = new RegExp(`-> .*:${ino} `);
  const started = Date.now();
  while (Date.now() - started < limitMs) {
    if (waiting.test(fs.readFileSync('/proc/locks', 'utf8'))) return true;
    await sleep(0.2);
  }
  throw new Error(`no waiter blocked on ${lockPath} within ${limitMs} ms`);
}

/**
 * Waits until the waiter waits: the kernel lists it as blocked (except
 * proper-lockfile, which polls), then `pauseMs` more, so that its event loop
 * is idle again too, as it would be in a real wait.
 */
async function settled(kind, lockPath, pauseMs) {
  if (kind !== 'proper-lockfile') await blockedOn(lockPath);
  await sleep(pauseMs);
}

function lineReader(stream, who) {
  const lines = readline.createInterface({ input: stream })[Symbol.asyncIterator]();
  return async () => {
    const { value, done } = await lines.next();
    if (done) throw new Error(`${who} ended early`);
    return value;
  };
}

/** A warm waiter process and its holder: handOff() times one round. */
async function warmSession(kind, lockPath) {
  const hold = holders[kind]();
  const child = fork(__filename, ['--warm-waiter', kind, lockPath], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const nextLine = lineReader(child.stdout, `${kind} waiter`);
  return {
    async handOff() {
      const release = hold(lockPath);
      child.send('go');
      if ((await nextLine()) !== 'waiting') throw new Error('protocol');
      await settled(kind, lockPath, SETTLE_MS);
      const released = process.hrtime.bigint();
      release();
      const acquired = BigInt((await nextLine()).split(' ')[1]);
      return Number(acquired - released) / 1e6;
    },
    async close() {
      child.send('stop');
      await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}

async function coldHandoff(command, args, kind, lockPath, hold) {
  const release = hold(lockPath);
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const nextLine = lineReader(child.stdout, `cold ${kind} waiter`);
  if ((await nextLine()) !== 'waiting') throw new Error('protocol');
  await settled(kind, lockPath, COLD_SETTLE_MS);
  const released = process.hrtime.bigint();
  release();
  const acquired = BigInt((await nextLine()).split(' ')[1]);
  await exited;
  return Number(acquired - released) / 1e6;
}

/** Does a flock(2) holder keep fs-native-extensions out? (On Linux it takes fcntl OFD locks: no.) */
function interopCheck(dir) {
  const jit = require(JIT);
  const fsne = require('fs-native-extensions');
  const lockPath = path.join(dir, 'interop.lock');
  const held = jit.tryLock(lockPath);
  const fd = fs.openSync(lockPath, 'r+');
  try {
    const fsneGotIt = fsne.tryLock(fd);
    if (fsneGotIt) fsne.unlock(fd);
    return fsneGotIt;
  } finally {
    fs.closeSync(fd);
    held.release();
  }
}

function machine() {
  const cpus = os.cpus();
  return (
    `${cpus.length} CPUs (${cpus[0]?.model.trim() ?? 'unknown'}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ` +
    `${os.type()} ${os.release()} ${os.arch()}, Node ${process.version}`
  );
}

const loadavg = () => os.loadavg().map((l) => l.toFixed(2)).join(' ');

function printTable(header, rows) {
  const table = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...table.map((row) => row[i].length)));
  const line = (row) => `| ${row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
  for (const row of rows) console.log(line(row));
}

const fmt = (value, digits) => (value === undefined ? '—' : value.toFixed(digits));
const pair = (s, digits) => (s ? `${fmt(s.median, digits)} / ${fmt(s.p99, digits)}` : '—');

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jit-bench-lock-'));
  const loadBefore = loadavg();
  try {
    const file = (name) => {
      const p = path.join(dir, name);
      fs.writeFileSync(p, '');
      return p;
    };
    const binary = cBinary(dir);
    const jit = require(JIT);
    const fsExt = require('fs-ext');
    const fsne = require('fs-native-extensions');
    const properLockfile = require('proper-lockfile');

    // Uncontended, interleaved.
    const cycles = {
      'fs-native-extensions': () => {
        const p = file('fsne.lock');
        return () => {
          const fd = fs.openSync(p, 'r+');
          fsne.tryLock(fd);
          fsne.unlock(fd);
          fs.closeSync(fd);
        };
      },
      'fs-ext': () => {
        const p = file('fs-ext.lock');
        return () => {
          const fd = fs.openSync(p, 'r+');
          fsExt.flockSync(fd, 'exnb');
          fsExt.flockSync(fd, 'un');
          fs.closeSync(fd);
        };
      },
      'proper-lockfile': () => {
        const p = file('proper');
        return () => properLockfile.lockSync(p, { stale: 60_000 })();
      },
      'jit-lock': () => {
        const p = file('jit.lock');
        return () => jit.tryLock(p).release();
      },
      'jit-lock-sync': () => {
        const p = file('jit-sync.lock');
        return () => jit.lockSync(p).release();
      },
    };
    const bodies = Object.fromEntries(Object.entries(cycles).map(([kind, make]) => [kind, make()]));
    const uncontended = Object.fromEntries([['c', []], ...Object.keys(bodies).map((kind) => [kind, []])]);
    const cPath = file('c.lock');
    for (const body of Object.values(bodies)) timeCycles(body, 0, 2000); // warm up (and optimize)
    const turns = Object.entries(bodies);
    for (let done = 0, turn = 0; done < CYCLES; done += BLOCK, turn++) {
      uncontended.c.push(...runC(binary, ['uncontended', cPath, String(BLOCK)]).map((ns) => Number(ns) / 1000));
      // A different order each round, and untimed cycles first: none always follows proper-lockfile's garbage.
      for (let i = 0; i < turns.length; i++) {
        const [kind, body] = turns[(turn + i) % turns.length];
        // proper-lockfile is ~100x slower (mkdir, stat, rmdir): a tenth of the cycles.
        if (kind === 'proper-lockfile' && turn % 10 !== 0) continue;
        uncontended[kind].push(...timeCycles(body, BLOCK, 50));
      }
    }

    // The metrics hook: the same cycle in two fresh processes, taking turns.
    const probe = (subscribed) => {
      const out = execFileSync(process.execPath, [__filename, '--metrics-probe', subscribed, file(`probe-${subscribed}.lock`), '5000'], { encoding: 'utf8' });
      return JSON.parse(out);
    };
    const metrics = { no: [], yes: [] };
    for (let i = 0; i < Math.max(1, Math.round(CYCLES / 5000)); i++) {
      metrics.no.push(...probe('no'));
      metrics.yes.push(...probe('yes'));
    }

    // Hand-offs.
    const kinds = ['fs-native-extensions', 'fs-ext', 'proper-lockfile', 'jit-lock', 'jit-lock-sync'];
    // Warm hand-offs, the libraries taking turns round by round (C in runs of 10).
    const sessions = {};
    for (const kind of kinds) sessions[kind] = await warmSession(kind, file(`warm-${kind}.lock`));
    const warmSamples = Object.fromEntries([['c', []], ...kinds.map((kind) => [kind, []])]);
    const cHandoffPath = file('c-handoff.lock');
    for (let round = 0; round < WARMUP + HANDOFFS; round++) {
      if (round % 10 === 0 && round >= WARMUP) warmSamples.c.push(...runC(binary, ['handoff', cHandoffPath, '10']).map((ns) => Number(ns) / 1e6));
      for (const kind of kinds) {
        // proper-lockfile polls every 10 ms: every other round is plenty.
        if (kind === 'proper-lockfile' && round % 2 === 1) continue;
        const ms = await sessions[kind].handOff();
        if (round >= WARMUP) warmSamples[kind].push(ms);
      }
    }
    for (const session of Object.values(sessions)) await session.close();
    const warm = Object.fromEntries(Object.entries(warmSamples).map(([kind, samples]) => [kind, summarize(samples)]));
    const coldSamples = Object.fromEntries([['c', []], ...kinds.map((kind) => [kind, []])]);
    const cHold = holders['fs-ext']();
    const holdFor = Object.fromEntries(kinds.map((kind) => [kind, holders[kind]()]));
    for (let i = 0; i < COLD; i++) {
      const cColdPath = file('c-cold.lock');
      coldSamples.c.push(await coldHandoff(binary, ['wait', cColdPath, '0'], 'c', cColdPath, cHold));
      for (const kind of kinds) {
        const lockPath = file(`cold-${kind}.lock`);
        coldSamples[kind].push(await coldHandoff(process.execPath, [__filename, '--cold-waiter', kind, lockPath], kind, lockPath, holdFor[kind]));
      }
    }
    const cold = Object.fromEntries(Object.entries(coldSamples).map(([kind, samples]) => [kind, summarize(samples)]));

    const fsneExcluded = process.platform === 'linux' ? !interopCheck(dir) : undefined;
    const loadAfter = loadavg();

    const names = {
      c: 'C flock(2) (bench/flock-bench.c)',
      'fs-native-extensions': 'fs-native-extensions (waitForLock)',
      'fs-ext': 'fs-ext (flock, async)',
      'proper-lockfile': `proper-lockfile (retries every ${PROPER_POLL_MS} ms)`,
      'jit-lock': 'jit-lock (tryLock; lock() waiter)',
      'jit-lock-sync': 'jit-lock (lockSync; lockSync waiter)',
    };
    console.log(`\nlock benchmark: ${machine()}`);
    console.log(`load average (1, 5, 15 min): ${loadBefore} before, ${loadAfter} after\n`);
    printTable(
      ['', 'uncontended cycle µs (median / p99)', 'warm hand-off ms (median / p99)', 'cold hand-off ms (median / p99)'],
      ['c', ...kinds].map((kind) => [names[kind], pair(uncontended[kind].length ? summarize(uncontended[kind]) : undefined, 2), pair(warm[kind], 3), pair(cold[kind], 3)]),
    );
    console.log(
      `\nsamples: uncontended ${CYCLES} cycles per library (proper-lockfile ${CYCLES / 10}), each timed alone; ` +
        `warm ${HANDOFFS} hand-offs (proper-lockfile half) after ${WARMUP} discarded, the libraries taking turns; cold ${COLD} fresh processes per library, taking turns.`,
    );
    console.log(
      'a cycle: open + lock + unlock + close of a free lock file (jit-lock: tryLock(path) + release(); proper-lockfile: lockSync + release).',
    );
    console.log('hand-off: holder releases -> the waiter\'s code runs (CLOCK_MONOTONIC in both processes).');
    const noSub = summarize(metrics.no);
    const sub = summarize(metrics.yes);
    console.log(
      `\nmetrics hook (jit-lock tryLock + release, fresh processes taking turns): no subscriber ${pair(noSub, 2)} µs; ` +
        `a subscriber on all three channels ${pair(sub, 2)} µs (median / p99).`,
    );
    if (fsneExcluded !== undefined) {
      console.log(
        `interop: while jit-lock holds a flock(2) lock, fs-native-extensions' tryLock on the same file ${fsneExcluded ? 'fails (excluded)' : 'succeeds: fcntl OFD locks do not exclude flock(2) holders'}.`,
      );
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const [mode, ...args] = process.argv.slice(2);
if (mode === '--warm-waiter') warmWaiterMain(...args);
else if (mode === '--cold-waiter') coldWaiterMain(...args);
else if (mode === '--metrics-probe') metricsProbeMain(args[0], args[1], Number(args[2]));
else {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
