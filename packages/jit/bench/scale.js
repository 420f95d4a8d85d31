#!/usr/bin/env node
// `npm run bench:scale` (not a test): what one operation costs as the store
// grows (issue 13), for this build and, with --baseline, another build side
// by side in one run, under the same load.
//
//   node bench/scale.js [--sizes 1000,10000,50000] [--baseline /other/packages/jit/dist]
//                       [--runs 20] [--cli-runs 10] [--concurrency-size 10000] [--workers 10]
//                       [--updates 20] [--concurrency-rounds 1] [--only concurrency]
//
// For each size and build, a store is made quickly: `jit init`, then the issue
// files written directly in the format of docs/format.md (deterministic ids,
// every third issue waiting for the one before it, a tenth done, a tenth in
// progress), then `jit validate --fix`, which indexes them through the
// build's own store, whatever its index is (index.json, a database...). Then:
//   - in-process: create, update, claim-next, dep add (median of --runs each),
//     in a child process per build, the builds alternating round by round;
//   - real `jit` processes, interleaved with `node -e 0`: status, query ready,
//     query ready --limit 20 (n/a where the build has no --limit), and
//     issue update: wall time and CPU time (user + system; medians of
//     --cli-runs, shown over node -e 0's) and peak RSS (max);
//   - at --concurrency-size: --workers processes updating distinct issues
//     against one process, aggregate updates/s from the first start to the
//     last finish (process start-up excluded): the ratio; --concurrency-rounds
//     runs it that many times, the builds alternating, and also prints the
//     CPU time (user + system, every thread) each update cost and how many
//     CPUs the workers kept busy. --only concurrency skips everything else.
//
// A bound worth knowing: N processes cannot do more than (CPUs / CPU per
// update) updates/s, so where one process's update is mostly CPU (not
// waiting for the disk or a lock) the ratio cannot pass CPUs x wall/CPU.
'use strict';
const { fork, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { performance } = require('node:perf_hooks');

const MAX_RSS = path.join(__dirname, 'max-rss.js');
const CPU_USAGE = path.join(__dirname, 'cpu-usage.js');

// ---------------------------------------------------------------- the store

/** A deterministic UUID v4 for issue number `i`. */
function issueId(i) {
  const hex = (n, width) => n.toString(16).padStart(width, '0').slice(-width);
  const mixed = (i * 2654435761) % 2 ** 32;
  return `${hex(i, 8)}-${hex(mixed >>> 16, 4)}-4${hex(mixed & 0xfff, 3)}-8${hex(i % 4096, 3)}-${hex(mixed, 8)}${hex(i % 65536, 4)}`;
}

const PRIORITIES = ['low', 'normal', 'high', 'critical'];
const STAMP = '2026-01-01T00:00:00.000Z';

/** State of issue `i`: a tenth done, a tenth in progress, every third waiting for its predecessor (backlog unless that is done), the rest ready. */
function issueFile(i) {
  const waits = i % 3 === 2;
  const done = (n) => n % 10 === 0;
  const state = done(i) ? 'done' : i % 10 === 1 ? 'in_progress' : waits && !done(i - 1) ? 'backlog' : 'ready';
  return {
    id: issueId(i),
    title: `Scale benchmark issue ${i}`,
    description: `Filler text for issue ${i}, about as long as a short description.`,
    state,
    priority: PRIORITIES[i % PRIORITIES.length],
    assignee: state === 'in_progress' ? `agent:worker-${i % 7}` : null,
    dependencies: waits ? [issueId(i - 1)] : [],
    gates_required: [],
    gates_status: {},
    labels: [`bench:group-${i % 10}`],
    context: {},
    created_at: STAMP,
    updated_at: STAMP,
  };
}

function runJit(build, cwd, args, env = {}) {
  const result = spawnSync(process.execPath, [build.bin, ...args], { cwd, env: { ...process.env, JIT_LOCK_TIMEOUT: '120', ...env }, encoding: 'utf8', maxBuffer: 1 << 30 });
  return result;
}

function buildStore(build, size, scratch) {
  const project = fs.mkdtempSync(path.join(scratch, `${build.name}-${size}-`));
  const started = performance.now();
  const init = runJit(build, project, ['init']);
  if (init.status !== 0) throw new Error(`${build.name}: jit init exited ${init.status}: ${init.stderr}`);
  const issuesDir = path.join(project, '.jit', 'issues');
  fs.mkdirSync(issuesDir, { recursive: true });
  for (let i = 0; i < size; i++) fs.writeFileSync(path.join(issuesDir, `${issueId(i)}.json`), JSON.stringify(issueFile(i), null, 2) + '\n');
  const written = performance.now();
  const fix = runJit(build, project, ['--json', 'validate', '--fix']);
  if (fix.status !== 0) throw new Error(`${build.name}: jit validate --fix exited ${fix.status}: ${fix.stdout.slice(0, 2000)} ${fix.stderr}`);
  const check = runJit(build, project, ['--json', 'status']);
  const total = check.status === 0 ? JSON.parse(check.stdout).total : undefined;
  if (total !== size) throw new Error(`${build.name}: the store holds ${total} issues after validate --fix, not ${size}: ${check.stderr}`);
  return { project, jitDir: path.join(project, '.jit'), writeMs: written - started, indexMs: performance.now() - written };
}

/** Issue numbers that are ready in a fresh store (for updates), in a fixed order. */
function readyNumbers(size) {
  const numbers = [];
  for (let i = 0; i < size; i++) if (issueFile(i).state === 'ready') numbers.push(i);
  return numbers;
}

// ------------------------------------------------------------- measurements

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? NaN : sorted[Math.floor((sorted.length - 1) / 2)];
};

/** Child: N timed operations of each kind in one process, through the build's store API. */
async function inProcessChild({ dist, jitDir, size, runs, round }) {
  const { openTracker } = require(path.join(dist, 'store', 'index.js'));
  const tracker = openTracker(jitDir);
  const ready = readyNumbers(size);
  const times = { create: [], update: [], claimNext: [], depAdd: [] };
  const timed = async (kind, op) => {
    const started = performance.now();
    await op();
    times[kind].push(performance.now() - started);
  };
  await tracker.status(); // the first read of a process (the index), not a write's cost
  for (let n = 0; n < runs + 1; n++) {
    const k = round * (runs + 1) + n; // distinct issues in every round
    await timed('create', () => tracker.createIssue({ title: `created ${k}`, labels: ['bench:new'] }));
    await timed('update', () => tracker.updateIssue(issueId(ready[(k * 7) % ready.length]), { title: `updated ${k}` }));
    await timed('claimNext', () => tracker.claimNext(`agent:bench-${k}`));
    // From a later issue to an earlier one: the existing edges point the same way, so no cycle.
    const from = ready[ready.length - 1 - ((k * 5) % Math.floor(ready.length / 2))];
    await timed('depAdd', () => tracker.addDependency(issueId(from), issueId(k % Math.floor(size / 4))));
  }
  for (const kind of Object.keys(times)) times[kind].shift(); // the first of each warms the code up
  return times;
}

/** Child: one worker of the concurrency run: warms up, waits for "go", then `count` updates of its own issue. */
async function concurrencyChild({ dist, jitDir, id, count }) {
  const { openTracker } = require(path.join(dist, 'store', 'index.js'));
  const tracker = openTracker(jitDir);
  await tracker.updateIssue(id, { title: 'warm-up' });
  await new Promise((resolve) => {
    process.once('message', resolve);
    process.send({ ready: true });
  });
  const start = performance.timeOrigin + performance.now();
  const cpu = process.cpuUsage();
  for (let n = 0; n < count; n++) await tracker.updateIssue(id, { title: `concurrent update ${n}` });
  const used = process.cpuUsage(cpu);
  return { start, end: performance.timeOrigin + performance.now(), cpuMs: (used.user + used.system) / 1000 };
}

function runChild(task) {
  return new Promise((resolve, reject) => {
    const child = fork(__filename, ['--child'], { env: { ...process.env, JIT_LOCK_TIMEOUT: '120' }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.on('message', (message) => {
      if (message.result !== undefined) resolve(message.result);
    });
    child.on('exit', (code) => code !== 0 && reject(new Error(`benchmark child exited ${code}`)));
    child.send(task);
  });
}

async function inProcess(builds, stores, size, runs) {
  const rounds = 3;
  const perRound = Math.max(1, Math.ceil(runs / rounds));
  const samples = builds.map(() => ({ create: [], update: [], claimNext: [], depAdd: [] }));
  for (let round = 0; round < rounds; round++) {
    for (let b = 0; b < builds.length; b++) {
      const times = await runChild({ kind: 'inprocess', dist: builds[b].dist, jitDir: stores[b].jitDir, size, runs: perRound, round });
      for (const kind of Object.keys(times)) samples[b][kind].push(...times[kind]);
    }
  }
  return samples.map((s) => Object.fromEntries(Object.entries(s).map(([kind, values]) => [kind, median(values)])));
}

async function concurrency(build, store, size, workers, count) {
  const ready = readyNumbers(size);
  const run = async (processes) => {
    const children = [];
    const results = [];
    for (let p = 0; p < processes; p++) {
      const id = issueId(ready[(ready.length - 1 - p * 13) % ready.length]);
      const child = fork(__filename, ['--child'], { env: { ...process.env, JIT_LOCK_TIMEOUT: '120' }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      children.push(
        new Promise((resolve, reject) => {
          child.on('message', (message) => {
            if (message.ready) resolve(child);
            if (message.result !== undefined) results.push(message.result);
          });
          child.on('exit', (code) => (code !== 0 ? reject(new Error(`worker exited ${code}`)) : undefined));
        }),
      );
      child.send({ kind: 'concurrency', dist: build.dist, jitDir: store.jitDir, id, count });
    }
    const ready_ = await Promise.all(children);
    const exited = ready_.map((child) => new Promise((resolve) => child.on('exit', resolve)));
    for (const child of ready_) child.send('go');
    await Promise.all(exited);
    const span = Math.max(...results.map((r) => r.end)) - Math.min(...results.map((r) => r.start));
    const cpuMs = results.reduce((sum, r) => sum + r.cpuMs, 0);
    return { rate: (processes * count) / (span / 1000), cpuPerUpdate: cpuMs / (processes * count), busyCpus: cpuMs / span };
  };
  const one = await run(1);
  const many = await run(workers);
  return { one: one.rate, many: many.rate, ratio: many.rate / one.rate, cpu: { one, many } };
}

/** --concurrency-rounds rounds of the concurrency run, the builds alternating; one line per run, then the medians. */
async function concurrencyRounds(builds, stores, size, opts, load) {
  const runs = builds.map(() => []);
  console.log(`\n${opts.workers} processes vs 1 updating distinct issues, ${opts.updates} updates each, ${size.toLocaleString('en-US')} issues\n`);
  console.log('| round | build | 1 process | its CPU per update | ' + `${opts.workers} processes | their CPU per update, CPUs busy | ratio | load average |`);
  console.log('|---|---|---|---|---|---|---|---|');
  for (let round = 1; round <= opts.concurrencyRounds; round++) {
    for (let b = 0; b < builds.length; b++) {
      const c = await concurrency(builds[b], stores[b], size, opts.workers, opts.updates);
      runs[b].push(c);
      console.log(
        `| ${round} | ${builds[b].name} | ${c.one.toFixed(0)}/s | ${c.cpu.one.cpuPerUpdate.toFixed(2)} ms | ${c.many.toFixed(0)}/s | ` +
          `${c.cpu.many.cpuPerUpdate.toFixed(2)} ms, ${c.cpu.many.busyCpus.toFixed(2)} | x${c.ratio.toFixed(2)} | ${load()} |`,
      );
    }
  }
  console.log('');
  builds.forEach((build, b) => {
    const m = (pick) => median(runs[b].map(pick));
    console.log(`${build.name}: median x${m((c) => c.ratio).toFixed(2)} (${m((c) => c.one).toFixed(0)} -> ${m((c) => c.many).toFixed(0)} updates/s; CPU per update ${m((c) => c.cpu.one.cpuPerUpdate).toFixed(2)} -> ${m((c) => c.cpu.many.cpuPerUpdate).toFixed(2)} ms)`);
  });
}

/** Real `jit` processes, every case once per round, round after round. */
function cliRuns(builds, stores, size, runs) {
  const ready = readyNumbers(size);
  const cases = [{ name: 'node -e 0', args: ['-e', '0'] }];
  builds.forEach((build, b) => {
    const inStore = (args, extra = {}) => ({ build: b, cwd: stores[b].project, args: [build.bin, ...args], ...extra });
    const limit = runJit(build, stores[b].project, ['--json', 'query', 'ready', '--limit', '20']);
    cases.push({ name: 'status', ...inStore(['--json', 'status']) });
    cases.push({ name: 'query ready', ...inStore(['--json', 'query', 'ready']) });
    cases.push({ name: 'query ready --limit 20', ...inStore(['--json', 'query', 'ready', '--limit', '20']), skip: limit.status !== 0 });
    cases.push({ name: 'issue update', ...inStore(['--json', 'issue', 'update', 'ID', '--title', 'renamed']), update: true });
  });
  const samples = cases.map(() => ({ wall: [], cpu: [], rss: [] }));
  const rssFile = path.join(os.tmpdir(), `jit-bench-scale-rss-${process.pid}`);
  for (let round = 0; round < runs + 1; round++) {
    cases.forEach((c, i) => {
      if (c.skip) return;
      const args = c.update ? c.args.map((arg) => (arg === 'ID' ? issueId(ready[(round * 11) % ready.length]) : arg)) : c.args;
      fs.rmSync(rssFile, { force: true });
      const started = performance.now();
      const result = spawnSync(process.execPath, ['--require', MAX_RSS, '--require', CPU_USAGE, ...args], {
        cwd: c.cwd ?? os.tmpdir(),
        env: { ...process.env, JIT_LOCK_TIMEOUT: '120', JIT_MAX_RSS_FILE: rssFile },
        stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
        maxBuffer: 1 << 30,
      });
      const wall = performance.now() - started;
      if (result.status !== 0) throw new Error(`${c.name} exited ${result.status}: ${result.stderr}`);
      if (round === 0) return; // warm-up: the disk cache, and the update's first lock files
      samples[i].wall.push(wall);
      samples[i].cpu.push(Number(String(result.output[3]).trim()));
      samples[i].rss.push(Number(fs.readFileSync(rssFile, 'utf8').trim()) / 1024);
    });
  }
  fs.rmSync(rssFile, { force: true });
  return cases.map((c, i) => ({ ...c, wall: median(samples[i].wall), cpu: median(samples[i].cpu), rss: Math.max(...samples[i].rss) }));
}

// ------------------------------------------------------------------- report

function options(argv) {
  const read = (name, fallback) => {
    const at = argv.indexOf(`--${name}`);
    return at === -1 ? fallback : argv[at + 1];
  };
  const baseline = read('baseline', process.env.BENCH_BASELINE_DIST);
  return {
    sizes: String(read('sizes', process.env.BENCH_SIZES || '1000,10000,50000')).split(',').map(Number),
    baseline: baseline ? path.resolve(baseline) : null,
    runs: Number(read('runs', 20)),
    cliRuns: Number(read('cli-runs', 10)),
    concurrencySize: Number(read('concurrency-size', 10000)),
    workers: Number(read('workers', 10)),
    updates: Number(read('updates', 20)),
    concurrencyRounds: Number(read('concurrency-rounds', 1)),
    only: read('only', null),
  };
}

const ms = (value) => (Number.isNaN(value) ? 'n/a' : value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${value.toFixed(value < 10 ? 2 : 1)} ms`);

async function main() {
  const opts = options(process.argv.slice(2));
  const here = path.resolve(__dirname, '..', 'dist');
  const buildOf = (name, dist) => ({ name, dist, bin: path.join(dist, '..', 'bin', 'jit.js') });
  const builds = [...(opts.baseline ? [buildOf('baseline', opts.baseline)] : []), buildOf('this build', here)];
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'jit-bench-scale-'));
  const load = () => os.loadavg().map((l) => l.toFixed(2)).join(' ');
  console.log(`jit scale benchmark: Node ${process.version}, ${os.cpus().length} CPUs, ${os.platform()}; load average ${load()} at the start`);
  for (const build of builds) console.log(`  ${build.name}: ${build.dist}`);
  console.log(`  in-process: median of ${opts.runs} per operation (3 alternating rounds); CLI: median wall of ${opts.cliRuns} interleaved runs, peak RSS the max\n`);
  const summary = [];
  try {
    for (const size of opts.sizes) {
      const stores = builds.map((build) => buildStore(build, size, scratch));
      stores.forEach((store, b) => console.log(`${size.toLocaleString('en-US')} issues, ${builds[b].name}: files written in ${ms(store.writeMs)}, indexed by validate --fix in ${ms(store.indexMs)}`));
      if (opts.only === 'concurrency') {
        if (size === opts.concurrencySize) await concurrencyRounds(builds, stores, size, opts, load);
        for (const store of stores) fs.rmSync(store.project, { recursive: true, force: true });
        continue;
      }
      const inproc = await inProcess(builds, stores, size, opts.runs);
      const cli = cliRuns(builds, stores, size, opts.cliRuns);
      const floor = cli[0];
      const conc = size === opts.concurrencySize ? [] : null;
      if (conc) for (let b = 0; b < builds.length; b++) conc.push(await concurrency(builds[b], stores[b], size, opts.workers, opts.updates));
      const rows = [
        ['in-process create', (b) => ms(inproc[b].create)],
        ['in-process update', (b) => ms(inproc[b].update)],
        ['in-process claim-next', (b) => ms(inproc[b].claimNext)],
        ['in-process dep add', (b) => ms(inproc[b].depAdd)],
        ...['status', 'query ready', 'query ready --limit 20', 'issue update'].map((name) => [
          `CLI ${name} (over node -e 0)`,
          (b) => {
            const c = cli.find((x) => x.build === b && x.name === name);
            return c.skip ? 'n/a' : `${ms(c.wall)} (+${(c.wall - floor.wall).toFixed(0)}); CPU +${(c.cpu - floor.cpu).toFixed(0)}`;
          },
        ]),
        ['CLI issue update peak RSS', (b) => `${cli.find((x) => x.build === b && x.name === 'issue update').rss.toFixed(0)} MiB`],
        ['CLI status peak RSS', (b) => `${cli.find((x) => x.build === b && x.name === 'status').rss.toFixed(0)} MiB`],
        ...(conc ? [[`${opts.workers} processes vs 1 updating distinct issues`, (b) => `x${conc[b].ratio.toFixed(2)} (${conc[b].one.toFixed(0)} -> ${conc[b].many.toFixed(0)} updates/s)`]] : []),
      ];
      console.log(`\n${size.toLocaleString('en-US')} issues (node -e 0: ${ms(floor.wall)} wall, ${ms(floor.cpu)} CPU, ${floor.rss.toFixed(0)} MiB; load average ${load()})\n`);
      console.log(`| | ${builds.map((b) => b.name).join(' | ')} |`);
      console.log(`|---|${builds.map(() => '---').join('|')}|`);
      for (const [label, cell] of rows) console.log(`| ${label} | ${builds.map((_, b) => cell(b)).join(' | ')} |`);
      console.log('');
      summary.push({ size, inproc, cli, floor, conc });
      for (const store of stores) fs.rmSync(store.project, { recursive: true, force: true });
    }
    if (summary.length > 0) {
      console.log(`Summary (in-process median / CLI wall median; load average ${load()} at the end)\n`);
      console.log('| issues | build | create | update | claim-next | dep add | CLI status | CLI query ready | CLI issue update | its peak RSS | node -e 0 |');
      console.log('|---|---|---|---|---|---|---|---|---|---|---|');
      for (const { size, inproc, cli, floor } of summary) {
        builds.forEach((build, b) => {
          const c = (name) => cli.find((x) => x.build === b && x.name === name);
          console.log(
            `| ${size.toLocaleString('en-US')} | ${build.name} | ${ms(inproc[b].create)} | ${ms(inproc[b].update)} | ${ms(inproc[b].claimNext)} | ${ms(inproc[b].depAdd)} | ` +
              `${ms(c('status').wall)} | ${ms(c('query ready').wall)} | ${ms(c('issue update').wall)} | ${c('issue update').rss.toFixed(0)} MiB | ${ms(floor.wall)} |`,
          );
        });
      }
    }
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

if (require.main !== module) {
  module.exports = { issueId, issueFile, buildStore }; // for one-off measurements on the same stores
} else if (process.argv[2] === '--child') {
  process.once('message', async (task) => {
    try {
      const result = task.kind === 'inprocess' ? await inProcessChild(task) : await concurrencyChild(task);
      process.send({ result }, () => process.exit(0));
    } catch (error) {
      console.error(error);
      process.exit(1);
    }
  });
} else {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
