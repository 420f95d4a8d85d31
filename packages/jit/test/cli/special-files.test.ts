// Files in .jit/ that are not what jit wrote there: FIFOs, sockets and
// devices never block a command (UNSAFE_PATH at once, naming the path).
import { spawn, spawnSync } from 'node:child_process';
import { linkSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { callTool, connectMcp } from '../mcp/helpers.js';
import { JIT_BIN, projectsForThisFile, type TempProject } from './helpers.js';

const projects = projectsForThisFile();
const posix = process.platform !== 'win32';
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** Far beyond any honest run on a loaded machine, so a kill here means "it hung". */
const HANG_MS = 20_000;

interface Outcome {
  code: number | null;
  hung: boolean;
  json: any;
  stderr: string;
}

/** Runs `jit --json ...`; a run still going after HANG_MS is killed and reported as hung. */
function runWithDeadline(project: TempProject, args: readonly string[]): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [JIT_BIN, '--json', ...args], {
      cwd: project.dir,
      env: { ...Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('JIT_'))), JIT_LOCK_TIMEOUT: '60' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let hung = false;
    const timer = setTimeout(() => ((hung = true), child.kill('SIGKILL')), HANG_MS);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      let json: unknown;
      try {
        json = JSON.parse(stdout);
      } catch {
        json = undefined;
      }
      resolve({ code, hung, json, stderr });
    });
  });
}

function expectUnsafe(outcome: Outcome, file: string): void {
  expect(outcome.hung, `jit hung on ${file}`).toBe(false);
  expect(outcome.code, outcome.stderr).toBe(10);
  expect(outcome.json.error.code).toBe('UNSAFE_PATH');
  expect(outcome.json.error.message).toContain(file);
}

function mkfifo(file: string): void {
  rmSync(file, { force: true });
  const made = spawnSync('mkfifo', [file], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`mkfifo ${file} failed: ${made.stderr}`);
}

async function projectWithIssue(): Promise<{ p: TempProject; id: string }> {
  const p = await projects.initialized();
  const issue = await p.json(['issue', 'create', '-t', 'kept']);
  await p.json(['registry', 'add', 'tests', '--title', 'Tests pass']);
  return { p, id: issue.id };
}

describe.skipIf(!posix)('FIFOs, sockets and devices in .jit/ never block', () => {
  it('a FIFO at index.json, gates.json, events.jsonl or an issue file: every reader and writer refuses at once', async () => {
    const { p, id } = await projectWithIssue();
    const cases: [string, string[][]][] = [
      ['index.json', [['status'], ['issue', 'list'], ['query', 'ready'], ['validate'], ['issue', 'create', '-t', 'x']]],
      ['gates.json', [['registry', 'list'], ['validate']]],
      ['events.jsonl', [['events', 'tail'], ['validate'], ['issue', 'create', '-t', 'x']]],
      [`issues/${id}.json`, [['issue', 'show', id], ['validate'], ['issue', 'update', id, '-t', 'y']]],
    ];
    for (const [name, commands] of cases) {
      const file = path.join(p.jitDir, name);
      const saved = await p.run(['--json', 'validate']); // the store is whole before each case
      expect(saved.code, saved.stdout).toBe(0);
      const original = readFileSync(file);
      mkfifo(file);
      const outcomes = await Promise.all(commands.map((args) => runWithDeadline(p, args)));
      outcomes.forEach((outcome) => expectUnsafe(outcome, file));
      rmSync(file);
      writeFileSync(file, original);
    }
    // validate let go of the index lock when it refused: a writer gets through at once.
    expect((await runWithDeadline(p, ['issue', 'create', '-t', 'after'])).code).toBe(0);
  });

  it('a FIFO, a socket or a directory at a lock file is UNSAFE_PATH, not a silent lock on it', async () => {
    const { p, id } = await projectWithIssue();
    const lockFile = path.join(p.jitDir, '.index.lock');
    mkfifo(lockFile);
    expectUnsafe(await runWithDeadline(p, ['status']), lockFile);
    rmSync(lockFile);
    const server = net.createServer().listen(lockFile);
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      expectUnsafe(await runWithDeadline(p, ['status']), lockFile);
    } finally {
      server.close();
    }
    rmSync(lockFile, { force: true });
    const issueLock = path.join(p.jitDir, 'issues', `${id}.lock`);
    mkfifo(issueLock);
    expectUnsafe(await runWithDeadline(p, ['issue', 'show', id]), issueLock);
    rmSync(issueLock);
    mkdirSync(issueLock);
    expectUnsafe(await runWithDeadline(p, ['issue', 'show', id]), issueLock);
  });

  it('a socket at gates.json and (as root) a character device at events.jsonl are refused too', async () => {
    const { p } = await projectWithIssue();
    const gates = path.join(p.jitDir, 'gates.json');
    rmSync(gates);
    const server = net.createServer().listen(gates);
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      expectUnsafe(await runWithDeadline(p, ['registry', 'list']), gates);
    } finally {
      server.close();
    }
    if (!isRoot) return; // mknod needs root; the FIFO and socket cases above cover the rest
    const events = path.join(p.jitDir, 'events.jsonl');
    rmSync(events);
    const made = spawnSync('mknod', [events, 'c', '1', '3'], { encoding: 'utf8' }); // like /dev/null
    expect(made.status, made.stderr).toBe(0);
    expectUnsafe(await runWithDeadline(p, ['events', 'tail']), events);
  });

  it('jit mcp answers UNSAFE_PATH for a FIFO at index.json and keeps serving', async () => {
    const { p } = await projectWithIssue();
    const index = path.join(p.jitDir, 'index.json');
    const original = readFileSync(index);
    mkfifo(index);
    const session = await connectMcp(p.dir);
    try {
      const deadline = <T>(work: Promise<T>): Promise<T> =>
        Promise.race([work, new Promise<T>((_, reject) => setTimeout(() => reject(new Error('jit mcp hung')), HANG_MS))]);
      const status = await deadline(callTool(session.client, 'status'));
      expect(status.isError).toBe(true);
      expect(status.structuredContent).toMatchObject({ error: { code: 'UNSAFE_PATH' } });
      expect(JSON.stringify(status.structuredContent)).toContain(index);
      rmSync(index);
      writeFileSync(index, original);
      const again = await deadline(callTool(session.client, 'status'));
      expect(again.isError).toBeFalsy();
    } finally {
      await session.close();
    }
  });
});

describe.skipIf(!posix)('store files with other hard links', () => {
  it('events.jsonl, index.json, gates.json or an issue file hard-linked to a file outside .jit/ is refused, and the outside file is untouched', async () => {
    const { p, id } = await projectWithIssue();
    const outside = path.join(p.dir, 'outside');
    mkdirSync(outside);
    const cases: [string, string[][]][] = [
      ['events.jsonl', [['events', 'tail'], ['issue', 'create', '-t', 'x'], ['issue', 'update', id, '-t', 'y']]],
      ['index.json', [['status'], ['issue', 'list'], ['issue', 'create', '-t', 'x']]],
      ['gates.json', [['registry', 'list'], ['registry', 'add', 'lint', '--title', 'Lint']]],
      [`issues/${id}.json`, [['issue', 'show', id], ['issue', 'update', id, '-t', 'y']]],
    ];
    for (const [name, commands] of cases) {
      const file = path.join(p.jitDir, name);
      const twin = path.join(outside, path.basename(name));
      linkSync(file, twin);
      const before = readFileSync(twin);
      for (const args of commands) {
        const outcome = await runWithDeadline(p, args);
        expectUnsafe(outcome, file);
        expect(outcome.json.error.message).toMatch(/hard link/);
      }
      expect(readFileSync(twin)).toEqual(before);
      expect(statSync(twin).nlink).toBe(2); // never replaced behind the other name's back either
      rmSync(twin);
    }
    expect((await runWithDeadline(p, ['validate'])).code).toBe(0);
  });
});

describe('bytes that are not UTF-8', () => {
  it('an issue file with invalid UTF-8 is reported by validate and never rewritten with U+FFFD', async () => {
    const { p, id } = await projectWithIssue();
    const file = path.join(p.jitDir, 'issues', `${id}.json`);
    // "café" written as Latin-1 by some other tool: the é is the single byte 0xE9.
    const latin1 = Buffer.from(readFileSync(file, 'utf8').replace('"title": "kept"', '"title": "caf\u00e9"'), 'latin1');
    writeFileSync(file, latin1);

    const validate = await runWithDeadline(p, ['validate']);
    expect(validate.code).toBe(4);
    expect(validate.json.problems).toEqual([expect.objectContaining({ kind: 'corrupt_file', path: file, issue_id: id, fixable: false })]);
    expect(validate.json.problems[0].message).toMatch(/UTF-8/);

    const show = await runWithDeadline(p, ['issue', 'show', id]);
    expect(show.code).toBe(10);
    expect(show.json.error).toMatchObject({ code: 'CORRUPT_FILE' });
    expect(show.json.error.message).toContain(file);
    for (const args of [['issue', 'update', id, '--priority', 'high'], ['issue', 'claim', id, 'agent:a'], ['validate', '--fix']]) {
      const run = await runWithDeadline(p, args);
      expect(run.code, `${args.join(' ')}: ${run.stderr}`).not.toBe(0);
    }
    expect(readFileSync(file)).toEqual(latin1);
  });

  it('gates.json and index.json with invalid UTF-8 are CORRUPT_FILE, and --fix leaves their bytes alone', async () => {
    const { p } = await projectWithIssue();
    const gates = path.join(p.jitDir, 'gates.json');
    const goodGates = readFileSync(gates);
    const badGates = Buffer.concat([goodGates.subarray(0, -3), Buffer.from([0xff, 0x0a, 0x7d, 0x0a])]);
    writeFileSync(gates, badGates);
    for (const args of [['registry', 'list'], ['registry', 'add', 'lint', '--title', 'Lint']]) {
      const run = await runWithDeadline(p, args);
      expect(run.code).toBe(10);
      expect(run.json.error).toMatchObject({ code: 'CORRUPT_FILE' });
      expect(run.json.error.message).toContain(gates);
    }
    expect(readFileSync(gates)).toEqual(badGates);
    writeFileSync(gates, goodGates); // whole again: validate reads the registry too

    const index = path.join(p.jitDir, 'index.json');
    const badIndex = Buffer.concat([readFileSync(index), Buffer.from([0xc3, 0x28])]);
    writeFileSync(index, badIndex);
    expect((await runWithDeadline(p, ['status'])).json.error).toMatchObject({ code: 'CORRUPT_FILE' });
    const fix = await runWithDeadline(p, ['validate', '--fix']);
    expect(fix.code).toBe(4);
    expect(fix.json.problems).toEqual(expect.arrayContaining([expect.objectContaining({ path: index, fixable: false })]));
    expect(readFileSync(index)).toEqual(badIndex);
  });
});
