// Shared plumbing for the chaos suite: temp projects, the built CLI, the
// compiled store, and one summary line per scenario for the table in docs/benchmarks.md.
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll } from 'vitest';
import { indexRows } from '../support/index-db.js';

export const ROOT = path.resolve(__dirname, '../..');
export const JIT_BIN = path.join(ROOT, 'bin/jit.js');
const requireDist = createRequire(path.join(ROOT, 'dist/'));

/** The compiled store and lock toolkit, the same code the CLI and fixtures run. */
export const store = requireDist('./store/index.js') as typeof import('../../src/store/index.js');
export const locks = requireDist('./lock/index.js') as typeof import('../../src/lock/index.js');
export const cli = requireDist('./cli/exit-codes.js') as typeof import('../../src/cli/exit-codes.js');

// Every temp folder a test file made goes when the file is done (after the
// file's own afterAll hooks, which unmount what they mounted there).
const madeHere: string[] = [];
afterAll(() => {
  for (const dir of madeHere) {
    try {
      fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      // still mounted or busy: leave it rather than fail the suite
    }
  }
});

export function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `jit-chaos-${prefix}-`));
  madeHere.push(dir);
  return dir;
}

/** A project folder with an initialised `.jit/`; returns [projectDir, jitDir]. */
export function makeProject(prefix: string, parent?: string): { project: string; jitDir: string } {
  const project = parent ? fs.mkdtempSync(path.join(parent, 'p-')) : tempDir(prefix);
  const { path: jitDir } = store.initJit(project);
  return { project, jitDir };
}

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
  json: any;
}

function toResult(r: SpawnSyncReturns<string>): CliResult {
  let json: unknown;
  try {
    json = JSON.parse(r.stdout);
  } catch {
    json = undefined;
  }
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, json };
}

/** Runs the built `jit` synchronously with --json. */
export function jit(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}, uid?: number, timeoutMs = 180_000): CliResult {
  const r = spawnSync(process.execPath, [JIT_BIN, '--json', ...args], {
    cwd,
    env: { ...process.env, NO_COLOR: '1', JIT_LOCK_TIMEOUT: '120', ...env },
    encoding: 'utf8',
    timeout: timeoutMs,
    ...(uid === undefined ? {} : { uid, gid: uid }),
  });
  return toResult(r);
}

/** Runs the built `jit` asynchronously with --json (for many at once). */
export function jitAsync(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [JIT_BIN, '--json', ...args], {
      cwd,
      env: { ...process.env, NO_COLOR: '1', JIT_LOCK_TIMEOUT: '120', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => resolve(toResult({ status, stdout, stderr } as SpawnSyncReturns<string>)));
  });
}

/** A stack trace in output means an error escaped the error handling. */
export function hasStackTrace(text: string): boolean {
  return /^\s+at .+[:(]\d+/m.test(text);
}

/** Every error code the CLI documents, and the exit code each maps to. */
export const DOCUMENTED_EXIT_CODES = new Set([0, 1, 2, 3, 4, 5, 6, 10, 75]);

/** Lines of a JSON-lines file; a torn last line (a writer killed mid-append) is dropped. */
export function readJsonLines<T>(file: string): T[] {
  if (!fs.existsSync(file)) return [];
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const out: T[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      out.push(JSON.parse(line) as T);
    } catch (error) {
      if (i < lines.length - 1 && lines.slice(i + 1).some((l) => l.trim() !== '')) throw error;
    }
  });
  return out;
}

/** Every file below `dir` with its size and mtime, to prove nothing outside .jit/ changed. */
export function snapshot(dir: string, skip?: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string): void => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, entry.name);
      if (skip && full === skip) continue;
      const st = fs.lstatSync(full);
      out.set(full, `${st.mode}:${st.size}:${st.mtimeMs}`);
      if (entry.isDirectory()) walk(full);
    }
  };
  walk(dir);
  return out;
}

/** Each scenario reports one row: `CHAOS | scenario | volume | result`. */
export function report(scenario: string, volume: string, result: string): void {
  const line = `CHAOS | ${scenario} | ${volume} | ${result}`;
  process.stdout.write(line + '\n');
  const file = process.env.JIT_CHAOS_REPORT;
  if (file) fs.appendFileSync(file, line + '\n');
}

/** The whole-store checks every scenario ends with. */
export function assertStoreConsistent(project: string, jitDir: string): { issues: number; recovered: number } {
  const validate = jit(project, ['validate']);
  if (validate.status !== 0) throw new Error(`validate not clean: ${validate.stdout} ${validate.stderr}`);
  const issueDir = path.join(jitDir, 'issues');
  const files = fs.readdirSync(issueDir).filter((f) => f.endsWith('.json') && !f.startsWith('.'));
  const index = { issues: indexRows(jitDir) as Record<string, any> };
  const indexed = Object.keys(index.issues).sort();
  const onDisk = files.map((f) => f.slice(0, -'.json'.length)).sort();
  if (JSON.stringify(indexed) !== JSON.stringify(onDisk)) throw new Error('index.db and issue files disagree');
  for (const f of files) {
    const issue = JSON.parse(fs.readFileSync(path.join(issueDir, f), 'utf8'));
    const summary = index.issues[issue.id];
    for (const key of ['title', 'state', 'priority', 'assignee', 'updated_at'] as const) {
      if (JSON.stringify(summary[key]) !== JSON.stringify(issue[key])) {
        throw new Error(`index summary of ${issue.id} has stale ${key}`);
      }
    }
  }
  for (const lockFile of listLockFiles(jitDir)) {
    const state = locks.probeLock(lockFile);
    if (state !== 'unlocked') throw new Error(`${lockFile} is still held (${state})`);
  }
  return { issues: files.length, recovered: validate.json.recovered.length };
}

export function listLockFiles(jitDir: string): string[] {
  const top = fs.readdirSync(jitDir).filter((f) => f.endsWith('.lock')).map((f) => path.join(jitDir, f));
  const issues = fs
    .readdirSync(path.join(jitDir, 'issues'))
    .filter((f) => f.endsWith('.lock'))
    .map((f) => path.join(jitDir, 'issues', f));
  return [...top, ...issues];
}

export const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
export const isLinux = process.platform === 'linux';

export function canMount(): boolean {
  if (!isLinux || !isRoot) return false;
  const dir = tempDir('mountprobe');
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir]);
  if (r.status !== 0) return false;
  spawnSync('umount', [dir]);
  return true;
}
