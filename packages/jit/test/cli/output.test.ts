// Output goes out with plain fd writes (src/cli/output.ts writeOut), not
// process.stdout: big outputs must arrive whole through a slow pipe, and a
// reader that goes away early must not turn into a crash.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openTracker } from '../../src/store/index.js';
import { JIT_BIN, projectsForThisFile, type TempProject } from './helpers.js';

const projects = projectsForThisFile();
const ISSUES = 300; // about 100 KB of JSON: more than a pipe holds (64 KB on Linux)

let shared: Promise<TempProject> | undefined;
/** One store of ISSUES issues, filled once for both tests. */
const bigProject = (): Promise<TempProject> => (shared ??= fill());

async function fill(): Promise<TempProject> {
  const project = await projects.initialized();
  const tracker = openTracker(project.jitDir);
  for (let i = 0; i < ISSUES; i++) await tracker.createIssue({ title: `Issue number ${i} with a title long enough to fill lines` });
  return project;
}

/** Runs a bash pipeline around jit (bash reports jit's own exit status with PIPESTATUS). */
function bash(script: string, cwd: string, args: readonly string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', script, 'pipe-test', process.execPath, JIT_BIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', () => resolve({ stdout, stderr }));
  });
}

/**
 * Runs jit with its stdout or stderr (`fd`) on a FIFO whose reader has gone before jit writes a byte: every write
 * there fails with EPIPE, whatever the timing (help fits in a pipe's buffer, so `| head` could not show it reliably).
 */
async function runToGoneReader(fifo: string, cwd: string, args: readonly string[], fd: 1 | 2): Promise<{ code: number | null; stderr: string }> {
  const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  const writer = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
  closeSync(reader);
  try {
    const stdio: ('ignore' | 'pipe' | number)[] = ['ignore', 'pipe', 'pipe'];
    stdio[fd] = writer;
    return await new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [JIT_BIN, ...args], { cwd, stdio });
      let stderr = '';
      child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.stdout?.resume();
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stderr }));
    });
  } finally {
    closeSync(writer);
  }
}

/** A FIFO in a folder of its own, removed after `use`. */
async function withFifo(use: (fifo: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'jit-epipe-'));
  try {
    const fifo = path.join(dir, 'out');
    const made = spawnSync('mkfifo', [fifo], { encoding: 'utf8' });
    expect(made.status, made.stderr).toBe(0);
    await use(fifo);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('output through pipes', () => {
  it('a slow reader gets all of a large --json document, intact', async () => {
    const project = await bigProject();
    // The reader sleeps before reading anything, so jit finds the pipe full (64 KB) and has to wait.
    const script = 'node="$1"; bin="$2"; shift 2; "$node" "$bin" "$@" | (sleep 0.5; cat) > out.json; echo "${PIPESTATUS[0]}"';
    const run = await bash(script, project.dir, ['--json', 'query', 'all']);
    expect(run.stderr).toBe('');
    expect(run.stdout.trim(), 'exit status of jit').toBe('0');
    const text = readFileSync(path.join(project.dir, 'out.json'), 'utf8');
    expect(text.length).toBeGreaterThan(65536);
    const document = JSON.parse(text) as { count: number; issues: unknown[] };
    expect(document.count).toBe(ISSUES);
    expect(document.issues).toHaveLength(ISSUES);
  });

  it('a reader that stops early (`| head -c 10`) ends jit quietly with exit 0', async () => {
    const project = await bigProject();
    for (const args of [['--json', 'query', 'all'], ['query', 'all']]) {
      const script = 'node="$1"; bin="$2"; shift 2; "$node" "$bin" "$@" | head -c 10 >/dev/null; echo "${PIPESTATUS[0]}"';
      const run = await bash(script, project.dir, args);
      expect(run.stderr, `jit ${args.join(' ')}`).toBe('');
      expect(run.stdout.trim(), `exit status of jit ${args.join(' ')}`).toBe('0');
    }
  });

  it.runIf(process.platform !== 'win32')('help written to a reader that is already gone (EPIPE) ends jit quietly with exit 0', async () => {
    const project = await projects.initialized();
    await withFifo(async (fifo) => {
      for (const args of [['--help'], ['issue', '--help'], ['help', 'issue', 'create'], ['query', 'all']]) {
        const run = await runToGoneReader(fifo, project.dir, args, 1);
        expect(run.stderr, `jit ${args.join(' ')}`).toBe('');
        expect(run.code, `exit status of jit ${args.join(' ')}`).toBe(0);
      }
    });
  });

  // A failure's exit code must survive its report going nowhere: `jit … 2>&1 | logger` with the logger gone, under
  // `set -o pipefail`, must not read as success. The code with a reader still there is the one expected.
  it.runIf(process.platform !== 'win32')('a failure reported to a reader that is already gone (EPIPE) keeps its exit code', async () => {
    const project = await projects.initialized();
    await withFifo(async (fifo) => {
      const failures: [args: string[], fd: 1 | 2][] = [
        [['issue'], 2], // a group without its subcommand: commander's help, to stderr
        [['bogus'], 2],
        [['issue', 'show', '0000aaaa'], 2],
        [['--json', 'issue', 'show', '0000aaaa'], 1], // --json: the error document goes to stdout
        [['--json', 'bogus'], 1],
      ];
      for (const [args, fd] of failures) {
        const expected = spawnSync(process.execPath, [JIT_BIN, ...args], { cwd: project.dir, encoding: 'utf8' });
        expect(expected.status, `jit ${args.join(' ')} with its reader there`).toBeGreaterThan(0);
        const run = await runToGoneReader(fifo, project.dir, args, fd);
        expect(run.code, `exit status of jit ${args.join(' ')} writing to a gone reader on fd ${fd}`).toBe(expected.status);
      }
    });
  });
});
