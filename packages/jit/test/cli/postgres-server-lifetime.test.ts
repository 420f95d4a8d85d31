// The tests' PostgreSQL server (test/support/postgres-server.mts) must not outlive a vitest run that is killed
// before its global teardown: real vitest runs (test/cli/fixtures/postgres-lifetime.config.mts) that start the
// server and are SIGKILLed. Its watchdog stops it; when the watchdog was killed too, the next run's setup does.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, it, onTestFinished } from 'vitest';
import { STALE_RECORDS, type ServerRecord } from '../support/postgres-context.js';
import { REPO } from './helpers.js';

const VITEST = path.join(path.dirname(require.resolve('vitest/package.json')), 'vitest.mjs');
const CONFIG = path.join(__dirname, 'fixtures/postgres-lifetime.config.mts');
/** A bound for a hung server or watchdog, not a speed goal (initdb alone takes seconds on a loaded machine). */
const BOUND_MS = 120_000;

const scratch = mkdtempSync(path.join(tmpdir(), 'jit-pg-lifetime-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Whether a process runs (a zombie no longer does: a container's pid 1 may never reap the server). */
function running(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]![0] !== 'Z';
  } catch {
    return false;
  }
}

interface Run {
  child: ChildProcess;
  exited: Promise<void>;
  output: () => string;
}

function startRun(out: string): Run {
  const env: NodeJS.ProcessEnv = { ...process.env, JIT_LIFETIME_OUT: out };
  delete env['JIT_TEST_DATABASE_URL']; // the embedded server: the one whose lifetime is at stake
  for (const key of Object.keys(env)) if (key.startsWith('VITEST')) delete env[key]; // this worker's, not the run's
  const child = spawn(process.execPath, [VITEST, 'run', '--config', CONFIG], { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (output += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (output += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { child, exited, output: () => output };
}

interface Server {
  folder: string;
  postmaster: number;
  recordFile: string;
  record: ServerRecord;
}

/** The server a run started, once its test holds it. */
async function serverOf(run: Run, out: string): Promise<Server> {
  for (const deadline = Date.now() + BOUND_MS; !existsSync(out) || readFileSync(out, 'utf8') === ''; await sleep(100)) {
    if (run.child.exitCode !== null || Date.now() > deadline) throw new Error(`the vitest run did not start its server:\n${run.output()}`);
  }
  const socket = new URL(readFileSync(out, 'utf8')).searchParams.get('host')!;
  const folder = path.dirname(socket);
  const postmaster = Number(readFileSync(path.join(folder, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
  const recordFile = readdirSync(STALE_RECORDS)
    .map((name) => path.join(STALE_RECORDS, name))
    .find((file) => readFileSync(file, 'utf8').includes(JSON.stringify(folder)))!; // other runs' records may be half written
  expect(recordFile, `no record of ${folder} in ${STALE_RECORDS}`).toBeDefined();
  return { folder, postmaster, recordFile, record: JSON.parse(readFileSync(recordFile, 'utf8')) as ServerRecord };
}

async function untilStopped(pid: number): Promise<number> {
  const began = Date.now();
  while (running(pid) && Date.now() - began < BOUND_MS) await sleep(100);
  return (Date.now() - began) / 1000;
}

it('a SIGKILLed vitest run leaves no PostgreSQL behind: its watchdog stops it, or the next run when the watchdog died too', async () => {
  const servers: Server[] = [];
  const runs: Run[] = [];
  onTestFinished(() => {
    for (const run of runs) if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
    // A server this test orphaned and did not see stopped: an immediate shutdown, as pg_ctl -m immediate sends.
    for (const server of servers) if (running(server.postmaster)) process.kill(server.postmaster, 'SIGQUIT');
  });

  // Run 1: vitest and the watchdog killed at once; nothing of that run is left to stop the server.
  const out1 = path.join(scratch, 'run1.url');
  runs.push(startRun(out1));
  const first = await serverOf(runs[0]!, out1);
  servers.push(first);
  process.kill(first.record.watchdog!, 'SIGKILL');
  runs[0]!.child.kill('SIGKILL');
  await runs[0]!.exited;
  await sleep(1000);
  expect(running(first.postmaster), 'the orphaned server of run 1').toBe(true);

  // Run 2: its setup stops run 1's server (its owner is gone) before it starts its own.
  const out2 = path.join(scratch, 'run2.url');
  runs.push(startRun(out2));
  const second = await serverOf(runs[1]!, out2);
  servers.push(second);
  expect({ running: running(first.postmaster), folder: existsSync(first.folder), record: existsSync(first.recordFile) }).toEqual({ running: false, folder: false, record: false });

  // Run 2 killed alone: its watchdog stops its server and removes its folder and record.
  runs[1]!.child.kill('SIGKILL');
  await runs[1]!.exited;
  const seconds = await untilStopped(second.postmaster);
  expect(running(second.postmaster), `run 2's server ${seconds} s after the kill`).toBe(false);
  // The watchdog removes the folder and the record, then exits: on a loaded machine that last step can lag.
  const leftover = () => existsSync(second.folder) || existsSync(second.recordFile) || running(second.record.watchdog!);
  for (const deadline = Date.now() + BOUND_MS; leftover() && Date.now() < deadline; ) await sleep(100);
  expect({ folder: existsSync(second.folder), record: existsSync(second.recordFile), watchdog: running(second.record.watchdog!) }).toEqual({ folder: false, record: false, watchdog: false });
  console.log(`[postgres server lifetime] server of a SIGKILLed vitest run stopped by its watchdog ${seconds.toFixed(1)} s after the kill`);
});
