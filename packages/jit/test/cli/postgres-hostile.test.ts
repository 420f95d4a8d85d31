// Hostile input against the PostgreSQL backend and `jit import` (issue 17 review): bad snapshots write nothing,
// anywhere; odd URLs get their documented codes. Real processes, the tests' own PostgreSQL server.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { freshDatabase, trackerDatabase } from '../support/postgres.js';
import { JIT_BIN, errorOf, initializedProject, jitJson, runJit, type JitRun, type TempProject } from './helpers.js';

let source: TempProject;
let scratch: string;
let snapshot: string;
beforeAll(async () => {
  source = await initializedProject();
  scratch = mkdtempSync(path.join(tmpdir(), 'jit-hostile-'));
  await source.json(['issue', 'create', '--title', 'one', '--label', 'type:task']);
  snapshot = path.join(scratch, 'good.jsonl');
  await source.json(['export', '-o', snapshot]);
});
afterAll(() => {
  source.remove();
  rmSync(scratch, { recursive: true, force: true });
});

const lines = (): string[] => readFileSync(snapshot, 'utf8').trim().split('\n');
const issueLine = (): Record<string, any> => JSON.parse(lines().find((l) => l.startsWith('{"issue"'))!);

/** Imports `text` into a new files store and a new database: both refuse it with CORRUPT_FILE and stay empty. */
async function refusedEverywhere(name: string, text: string): Promise<void> {
  const file = path.join(scratch, `${name}.jsonl`);
  writeFileSync(file, text);
  const target = await initializedProject();
  try {
    const run = await runJit(['--json', 'import', file], { cwd: target.dir });
    expect({ code: errorOf(run).code, exit: run.code }, `${name} into files`).toEqual({ code: 'CORRUPT_FILE', exit: 10 });
    expect(await target.json(['issue', 'list']), name).toMatchObject({ count: 0 });
  } finally {
    target.remove();
  }
  const database = { JIT_DATABASE_URL: await trackerDatabase() };
  const run = await runJit(['--json', 'import', file], { cwd: scratch, env: database });
  expect({ code: errorOf(run).code, exit: run.code }, `${name} into PostgreSQL`).toEqual({ code: 'CORRUPT_FILE', exit: 10 });
  expect(await jitJson(['issue', 'list'], { cwd: scratch, env: database }), name).toMatchObject({ count: 0 });
}

it('a snapshot issue whose id is a path writes nothing, inside the store or outside it', async () => {
  const [header, ...rest] = lines();
  const record = issueLine();
  record['issue'].id = '../../../escaped';
  await refusedEverywhere('path-id', [header, JSON.stringify(record), ...rest].join('\n') + '\n');
  expect(existsSync(path.join(scratch, 'escaped.json'))).toBe(false);
});

it('a snapshot with an issue twice, or an issue missing its fields, is refused whole', async () => {
  const [header, ...rest] = lines();
  await refusedEverywhere('duplicate', [header, ...rest, JSON.stringify(issueLine())].join('\n') + '\n');
  const record = issueLine();
  delete record['issue'].state;
  await refusedEverywhere('no-state', [header, JSON.stringify(record)].join('\n') + '\n');
});

it('a bad record after the first import batch (200 records) leaves the target empty', async () => {
  const [header] = lines();
  const template = issueLine();
  const many = Array.from({ length: 250 }, (_, i) => {
    const record = structuredClone(template);
    record['issue'].id = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
    return JSON.stringify(record);
  });
  const bad = structuredClone(template);
  bad['issue'].id = '00000000-0000-4000-8000-999999999999';
  bad['issue'].labels = ['type:\u0000task']; // PostgreSQL text refuses NUL; the rules refuse control characters
  await refusedEverywhere('late-bad', [header, ...many, JSON.stringify(bad)].join('\n') + '\n');
});

it('a URL with a user and no host (the driver\'s socket form user@/db?host=...) is accepted, its password still refused in config.toml', async () => {
  const database = new URL(await freshDatabase());
  const socketForm = `postgresql://${database.username}@${database.pathname}${database.search}`; // postgresql://postgres@/jit_x?host=%2Ftmp...
  await jitJson(['db', 'init'], { cwd: scratch, env: { JIT_DATABASE_URL: socketForm } });
  expect(await jitJson(['status'], { cwd: scratch, env: { JIT_DATABASE_URL: socketForm } })).toMatchObject({ backend: 'postgres' });
  const project = await initializedProject();
  try {
    writeFileSync(path.join(project.dir, '.jit', 'config.toml'), `[storage]\nurl = "${socketForm.replace('@/', ':secret@/')}"\n`);
    const refused = await runJit(['--json', 'status'], { cwd: project.dir });
    expect({ code: errorOf(refused).code, exit: refused.code }).toEqual({ code: 'INVALID_DATABASE_URL', exit: 2 });
    expect(refused.stdout).not.toContain('secret');
  } finally {
    project.remove();
  }
});

it('two imports of one snapshot into one empty database at once: one imports, the other is refused, no event twice', async () => {
  const [header] = lines();
  const template = issueLine();
  const events = lines().filter((l) => l.startsWith('{"event"'));
  const many = Array.from({ length: 50 }, (_, i) => {
    const record = structuredClone(template);
    record['issue'].id = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
    return JSON.stringify(record);
  });
  const file = path.join(scratch, 'twice.jsonl');
  writeFileSync(file, [header, ...many, ...events].join('\n') + '\n');
  const database = { JIT_DATABASE_URL: await trackerDatabase() };
  const runs = await Promise.all([1, 2, 3].map(() => runJit(['--json', 'import', file], { cwd: scratch, env: database })));
  expect(runs.map((run) => (run.code === 0 ? 'imported' : `${errorOf(run).code} ${run.code}`)).sort()).toEqual(['ALREADY_EXISTS 6', 'ALREADY_EXISTS 6', 'imported']);
  const exported = path.join(scratch, 'twice-back.jsonl');
  expect(await jitJson(['export', '-o', exported], { cwd: scratch, env: database })).toMatchObject({ issues: 50, events: events.length });
});

it('a URL naming a TLS file that does not exist is INVALID_DATABASE_URL (exit 2), not a server to retry', async () => {
  const database = await freshDatabase();
  const run = await runJit(['--json', 'status'], { cwd: scratch, env: { JIT_DATABASE_URL: `${database}&sslcert=${path.join(scratch, 'missing.crt')}` } });
  expect({ code: errorOf(run).code, exit: run.code }).toEqual({ code: 'INVALID_DATABASE_URL', exit: 2 });
  expect(errorOf(run).message).toContain('missing.crt');
});

it('a password in the URL\'s query (?password=, which the driver reads) is never printed, and refused in config.toml like one before the @', async () => {
  const database = await trackerDatabase(); // trust auth on the test server: the password is accepted and ignored
  const withPassword = `${database}&password=hunter2`;
  const status = await runJit(['--json', 'status'], { cwd: scratch, env: { JIT_DATABASE_URL: withPassword } });
  expect(status.code).toBe(0);
  expect(status.stdout + status.stderr).not.toContain('hunter2');
  // serve --json names the store it serves: the URL, masked.
  const serve = spawn(process.execPath, [JIT_BIN, '--json', 'serve', '--port', '0'], { cwd: scratch, env: { ...process.env, JIT_DATABASE_URL: withPassword }, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    let served = '';
    serve.stdout.setEncoding('utf8');
    for await (const chunk of serve.stdout) {
      served += chunk as string;
      if (served.trimEnd().endsWith('}')) break;
    }
    expect(JSON.parse(served)).toMatchObject({ store: expect.stringContaining('password=***') });
    expect(served).not.toContain('hunter2');
  } finally {
    serve.kill();
  }
  const missing = new URL(withPassword);
  missing.pathname = '/jit_no_such_database';
  const refused = await runJit(['--json', 'status'], { cwd: scratch, env: { JIT_DATABASE_URL: missing.toString() } });
  expect(errorOf(refused).code).toBe('DATABASE_NOT_FOUND');
  expect(refused.stdout + refused.stderr).not.toContain('hunter2');
  const project = await initializedProject();
  try {
    writeFileSync(path.join(project.dir, '.jit', 'config.toml'), `[storage]\nurl = "${withPassword}"\n`);
    const inConfig = await runJit(['--json', 'status'], { cwd: project.dir });
    expect({ code: errorOf(inConfig).code, exit: inConfig.code }).toEqual({ code: 'INVALID_DATABASE_URL', exit: 2 });
    expect(inConfig.stdout).not.toContain('hunter2');
  } finally {
    project.remove();
  }
});

/**
 * Runs `command` and cuts its connection (pg_terminate_backend) while it is inside a transaction that updates an issue:
 * a test-only trigger holds the update on an advisory lock this test holds. The trigger is gone afterwards.
 */
async function cutWhileUpdating(database: string, command: () => Promise<JitRun>): Promise<JitRun> {
  const admin = new pg.Client({ connectionString: database });
  await admin.connect();
  try {
    await admin.query(`CREATE FUNCTION jit.hold() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_advisory_lock(4343); PERFORM pg_advisory_unlock(4343); RETURN NEW; END $$`);
    await admin.query('CREATE TRIGGER hold BEFORE UPDATE ON jit.issues FOR EACH ROW EXECUTE FUNCTION jit.hold()');
    await admin.query('SELECT pg_advisory_lock(4343)');
    const running = command();
    let waiting: number | undefined;
    for (let waited = 0; waiting === undefined; waited += 50) {
      const { rows } = await admin.query<{ pid: number }>(
        `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objid = 4343 AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      );
      waiting = rows[0]?.pid;
      if (waiting === undefined && waited > 120_000) throw new Error('the update never reached its trigger');
      if (waiting === undefined) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await admin.query('SELECT pg_terminate_backend($1)', [waiting]);
    await admin.query('SELECT pg_advisory_unlock(4343)');
    const run = await running;
    await admin.query('DROP TRIGGER hold ON jit.issues');
    return run;
  } finally {
    await admin.end();
  }
}

it('a connection cut in the middle of a transaction (pg_terminate_backend) is DATABASE_UNREACHABLE (exit 75), not a crash, and changes nothing', async () => {
  const database = await trackerDatabase();
  const env = { JIT_DATABASE_URL: database };
  const { id } = await jitJson<{ id: string }>(['issue', 'create', '--title', 'cut off'], { cwd: scratch, env });
  const run = await cutWhileUpdating(database, () => runJit(['--json', 'issue', 'update', id, '--priority', 'high'], { cwd: scratch, env }));
  expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace
  expect({ code: errorOf(run).code, exit: run.code }).toEqual({ code: 'DATABASE_UNREACHABLE', exit: 75 });
  expect(await jitJson(['issue', 'show', id], { cwd: scratch, env })).toMatchObject({ priority: 'normal' });
});

it('a gate check whose verdict\'s transaction is cut off does not record the run as applied', async () => {
  const database = await trackerDatabase();
  const project = await initializedProject();
  try {
    const env = { JIT_DATABASE_URL: database };
    const options = { cwd: project.dir, env };
    await jitJson(['registry', 'add', 'tests', '-t', 'Tests', '--checker', `"${process.execPath}" -e 0`], options);
    const { id } = await jitJson<{ id: string }>(['issue', 'create', '--title', 'checked', '--gate', 'tests'], options);
    const run = await cutWhileUpdating(database, () => runJit(['--json', 'gate', 'check', id, 'tests'], options));
    expect({ code: errorOf(run).code, exit: run.code }).toEqual({ code: 'DATABASE_UNREACHABLE', exit: 75 });
    expect(await jitJson(['issue', 'show', id], options)).toMatchObject({ gates_status: { tests: { status: 'pending' } } });
    const { runs } = await jitJson<{ runs: { status: string; applied: string | null; message: string }[] }>(['gate', 'runs', id], options);
    expect(runs).toEqual([expect.objectContaining({ status: 'passed', applied: null })]);
    expect(runs[0]!.message).toContain('not applied to the issue');
  } finally {
    project.remove();
  }
});

it('a server that accepts the connection and never answers is DATABASE_UNREACHABLE after PGCONNECT_TIMEOUT, for status and serve, not a hang', async () => {
  const sockets: net.Socket[] = [];
  const silent = net.createServer((socket) => void sockets.push(socket)).listen(0, '127.0.0.1');
  await once(silent, 'listening');
  try {
    const { port } = silent.address() as net.AddressInfo;
    for (const args of [['--json', 'status'], ['--json', 'serve', '--port', '0']]) {
      // Killed after a minute (far beyond the 1 s asked for): a hang fails the test instead of stalling it.
      const child = spawn(process.execPath, [JIT_BIN, ...args], {
        cwd: scratch,
        env: { ...process.env, JIT_DATABASE_URL: `postgres://nobody@127.0.0.1:${port}/db`, PGCONNECT_TIMEOUT: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 60_000,
      });
      let stdout = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      const [code] = (await once(child, 'close')) as [number | null];
      expect({ args, code }).toEqual({ args, code: 75 });
      expect(errorOf({ code, signal: null, stdout, stderr: '' })).toMatchObject({ code: 'DATABASE_UNREACHABLE' });
    }
  } finally {
    for (const socket of sockets) socket.destroy();
    silent.close();
  }
});
