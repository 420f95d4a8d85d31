/**
 * Runs the built `jit` (node bin/jit.js) as a real process in a temporary
 * project, the way agents and people run it.
 */
import { spawn, type SpawnOptions } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll } from 'vitest';
import type { Issue } from '../../src/store/model.js';
import { summarize } from '../../src/store/schema.js';
import type { IssueSummary } from '../../src/store/tracker-api.js';
import { writeIndexDb } from '../support/index-db.js';

export const REPO = path.resolve(__dirname, '..', '..');
export const JIT_BIN = path.join(REPO, 'bin', 'jit.js');

/** Longer than any test may run: a lock wait in a test never times out by accident. */
export const TEST_LOCK_TIMEOUT_SECONDS = '120';

export interface JitRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * The environment of a run: nothing inherited that would change jit's behaviour.
 * Lock waits get a generous timeout: tests assert correctness, and on a loaded
 * machine racing processes can wait far longer than the 5 s default. A test
 * about timeouts passes its own JIT_LOCK_TIMEOUT.
 */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of ['JIT_DIR', 'JIT_DATABASE_URL', 'JIT_DATABASE_SCHEMA', 'JIT_LOCK_TIMEOUT', 'JIT_DEBUG', 'JIT_AGENT_ID', 'JIT_LEASE_TTL', 'JIT_TRUST_ALL_GATES', 'JIT_CLI_BUNDLE', 'NO_COLOR', 'FORCE_COLOR']) delete env[key];
  return { ...env, JIT_LOCK_TIMEOUT: TEST_LOCK_TIMEOUT_SECONDS, ...extra };
}

export function runJit(args: readonly string[], options: RunOptions): Promise<JitRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [JIT_BIN, ...args], { cwd: options.cwd, env: cleanEnv(options.env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/**
 * Runs jit with stderr merged into stdout (`2>&1`), as harnesses that read
 * one stream do: `output` is everything the process wrote, in order.
 */
export function runJitMerged(args: readonly string[], options: RunOptions): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', 'exec "$0" "$@" 2>&1', process.execPath, JIT_BIN, ...args], {
      cwd: options.cwd,
      env: cleanEnv(options.env),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

/** Runs jit on a pseudo-terminal (util-linux `script`), to see what a person at a terminal sees. */
export function runJitOnTty(args: readonly string[], options: RunOptions): Promise<JitRun> {
  const quoted = [process.execPath, JIT_BIN, ...args].map((arg) => `'${arg.replace(/'/g, `'\\''`)}'`).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', `exec ${quoted}`, '/dev/null'], { cwd: options.cwd, env: cleanEnv(options.env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr: '' }));
  });
}

/** What `runCollected` saw: the exit code, stderr, and stdout parsed as JSON (undefined when it is not JSON). */
export interface CollectedRun {
  code: number | null;
  json: any;
  stderr: string;
}

/**
 * Runs `command args` (jit itself, or jit behind a wrapper such as unshare)
 * with stdout and stderr piped, and collects them: for tests whose process
 * needs spawn options of its own (another uid, a mount namespace).
 */
export function runCollected(command: string, args: readonly string[], options: SpawnOptions): Promise<CollectedRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      let json: unknown;
      try {
        json = JSON.parse(stdout);
      } catch {
        json = undefined;
      }
      resolve({ code, json, stderr });
    });
  });
}

/** Runs `jit --json ...`, expects exit 0 and returns the parsed stdout. */
export async function jitJson<T = any>(args: readonly string[], options: RunOptions): Promise<T> {
  const run = await runJit(['--json', ...args], options);
  if (run.code !== 0) {
    throw new Error(`jit ${args.join(' ')} exited ${run.code}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`);
  }
  return JSON.parse(run.stdout) as T;
}

/** Parses a failed --json run: the error document on stdout, nothing on stderr. */
export function errorOf(run: JitRun): { code: string; message: string; suggestions: string[]; details?: Record<string, unknown> } {
  const document = JSON.parse(run.stdout) as { error: { code: string; message: string; suggestions: string[] } };
  return document.error;
}

export interface TempProject {
  dir: string;
  jitDir: string;
  run(args: readonly string[], env?: NodeJS.ProcessEnv): Promise<JitRun>;
  json<T = any>(args: readonly string[], env?: NodeJS.ProcessEnv): Promise<T>;
  remove(): void;
}

export function tempProject(): TempProject {
  const dir = mkdtempSync(path.join(tmpdir(), 'jit-cli-test-'));
  return {
    dir,
    jitDir: path.join(dir, '.jit'),
    run: (args, env) => runJit(args, { cwd: dir, env }),
    json: (args, env) => jitJson(args, { cwd: dir, env }),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A project with `jit init` already run. */
export async function initializedProject(): Promise<TempProject> {
  const project = tempProject();
  await project.json(['init']);
  return project;
}

/** Temp projects for one test file, all removed when the file is done. */
export function projectsForThisFile(): { initialized: () => Promise<TempProject>; empty: () => TempProject } {
  const projects: TempProject[] = [];
  afterAll(() => projects.forEach((project) => project.remove()));
  const track = (project: TempProject): TempProject => (projects.push(project), project);
  return {
    initialized: async () => track(await initializedProject()),
    empty: () => track(tempProject()),
  };
}

/**
 * Writes a dependency chain of `length` issues straight into `jitDir`, as jit
 * writes them (creating them one by one would take hours): issue i waits for
 * issue i - 1, so the first is the only root and the last the only top.
 * index.db lists them all; `withFiles` picks which issue files exist (all
 * by default; graph queries read only the index). Returns the ids in order.
 */
export function writeChainStore(jitDir: string, length: number, withFiles: (i: number) => boolean = () => true): string[] {
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  const ids: string[] = [];
  const summaries: IssueSummary[] = [];
  for (let i = 0; i < length; i++) {
    const id = randomUUID();
    const at = new Date(t0 + i * 1000).toISOString();
    const issue: Issue = {
      id, title: `Link ${i}`, description: '', state: i === 0 ? 'ready' : 'backlog', priority: 'normal', assignee: null,
      dependencies: i === 0 ? [] : [ids[i - 1]!], gates_required: [], gates_status: {}, labels: [], context: {}, created_at: at, updated_at: at,
    };
    ids.push(id);
    if (withFiles(i)) {
      writeFileSync(path.join(jitDir, 'issues', `${id}.json`), JSON.stringify(issue, null, 2) + '\n');
      writeFileSync(path.join(jitDir, 'issues', `${id}.lock`), ''); // as jit leaves it: locking it later changes nothing in issues/
    }
    summaries.push(summarize(issue));
  }
  writeIndexDb(jitDir, summaries);
  return ids;
}

/** A child process holding `lockPath` exclusively until `release()` (test/cli/fixtures/hold-lock.js). */
export async function holdLock(lockPath: string): Promise<{ release(): Promise<void> }> {
  const child = spawn(process.execPath, [path.join(__dirname, 'fixtures', 'hold-lock.js'), lockPath], { stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`lock holder exited ${code}`)));
  });
  return { release: () => new Promise((resolve) => (child.once('exit', () => resolve()), child.stdin.end())) };
}

/** Until `count` processes wait for the lock file (Linux: its blocked entries in /proc/locks; elsewhere a generous pause). */
export async function waitersOn(lockPath: string, count: number): Promise<void> {
  if (process.platform !== 'linux') return void (await sleep(5000));
  const inode = `:${statSync(lockPath).ino} `;
  for (;;) {
    const waiting = readFileSync('/proc/locks', 'utf8').split('\n').filter((line) => line.includes('->') && line.includes(inode));
    if (waiting.length >= count) return;
    await sleep(50);
  }
}
