/**
 * The history of gate checks: one record per run,
 * `.jit/gate-runs/<issue-id>/<run-id>.json`, replaced atomically (never
 * half-written). A run is `running` only while its runner lives: the runner
 * holds an exclusive jit-lock on `<run-id>.lock` from before the record says
 * `running` until after it says how the run ended. A reader that finds the
 * lock free (the runner was killed, the machine rebooted) shows the run as
 * `abandoned`, never as running forever. The lock file is not a store lock:
 * nothing else ever waits for it.
 */
import * as fs from 'node:fs';
import path from 'node:path';
import { tryLock } from 'jit-lock';
import { JitError } from './errors.js';
import { createFileIfMissing, fsError, listDirectory, makeDirectory, readTextIfExists, writeFileAtomic } from './files.js';
import type { GateStage } from './model.js';
import { GATE_RUNS_DIR, GATE_RUNS_GITIGNORE_TEXT } from './layout.js';
import type { CheckerReason } from './gate-runner.js';
import type { HeldLocks } from './locker.js';

export type GateRunStatus = 'running' | 'passed' | 'failed' | 'abandoned';

/** One run of a checker (docs/format.md, gate-runs/). Field names follow the original jit's result.json where it had one. */
export interface GateRun {
  schema_version: 1;
  run_id: string;
  gate_key: string;
  stage: GateStage;
  issue_id: string;
  status: GateRunStatus;
  /** How it ended: exit, timeout, signal, not_found, spawn_error; null while running. */
  reason: CheckerReason | 'abandoned' | null;
  command: string;
  working_dir: string;
  timeout_seconds: number;
  /** The hash of the definition that ran (what trust is keyed by). */
  definition_hash: string;
  by: string | null;
  runner_pid: number;
  checker_pid: number | null;
  started_at: string;
  completed_at: string | null;
  duration_ms: number | null;
  exit_code: number | null;
  signal: string | null;
  /** The last 64 KiB of stdout and stderr together. */
  output: string;
  output_bytes: number;
  output_truncated: boolean;
  /** The full output, when asked for (relative to .jit/). */
  log_path: string | null;
  /** What the result did to the issue, decided under its lock when the run ended. */
  applied: 'recorded' | 'issue_deleted' | 'gate_not_required' | 'issue_done' | null;
  message: string | null;
}

const RUN_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Runs this process is running now: their locks are ours, and jit-lock refuses to take a lock twice in one process. */
const ownRuns = new Set<string>();

export function runsDir(jitDir: string, issueId: string): string {
  return path.join(jitDir, GATE_RUNS_DIR, issueId);
}

export function logPathOf(issueId: string, runId: string): string {
  return path.join(GATE_RUNS_DIR, issueId, `${runId}.log`);
}

/**
 * Takes the run's liveness lock (a fresh file: always free) before anything
 * says the run exists. Release it only after the final record is written.
 */
export function holdRun(jitDir: string, issueId: string, runId: string): HeldLocks {
  const root = path.join(jitDir, GATE_RUNS_DIR);
  makeDirectory(root);
  createFileIfMissing(root, '.gitignore', GATE_RUNS_GITIGNORE_TEXT);
  const dir = runsDir(jitDir, issueId);
  makeDirectory(dir);
  const lockPath = path.join(dir, `${runId}.lock`);
  let held: HeldLocks | null;
  try {
    held = tryLock(lockPath, { mode: 'exclusive', followSymlinks: false });
  } catch (error) {
    throw fsError(error, lockPath, 'lock');
  }
  if (held === null) throw new JitError('INTERNAL', `The lock of the new gate run ${runId} is already held.`);
  ownRuns.add(runId);
  const lock = held;
  return {
    release() {
      ownRuns.delete(runId);
      lock.release();
    },
  };
}

export function writeRun(jitDir: string, run: GateRun): void {
  writeFileAtomic(runsDir(jitDir, run.issue_id), `${run.run_id}.json`, JSON.stringify(run, null, 2) + '\n');
}

/** A `running` record whose runner is gone reads as abandoned. */
function withLiveness(jitDir: string, run: GateRun): GateRun {
  if (run.status !== 'running' || ownRuns.has(run.run_id)) return run;
  const lockPath = path.join(runsDir(jitDir, run.issue_id), `${run.run_id}.lock`);
  let probe: HeldLocks | null;
  try {
    // No lock file at all: no runner ever held one here (a copied store), so none is running.
    probe = fs.existsSync(lockPath) ? tryLock(lockPath, { mode: 'exclusive', followSymlinks: false }) : { release() {} };
  } catch {
    return run; // an unreadable lock: say what the record says
  }
  if (probe === null) return run; // its runner holds it: still running
  probe.release();
  // It may have ended between the read and the probe: the runner writes its result before it lets go.
  let now: GateRun | null;
  try {
    now = readRun(path.join(runsDir(jitDir, run.issue_id), `${run.run_id}.json`));
  } catch {
    now = null; // broken since: say what was read
  }
  if (now && now.status !== 'running') return now;
  return { ...run, status: 'abandoned', reason: 'abandoned', message: 'The process that ran this check ended before it recorded a result.' };
}

function readRun(file: string): GateRun | null {
  const text = readTextIfExists(file);
  if (text === null) return null;
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw corruptRun(file, `not valid JSON (${(error as Error).message})`, error);
  }
  // A hand edit can leave valid JSON that is no run (null, an array): not a record to show or probe.
  const run = data as Partial<GateRun> | null;
  if (typeof run !== 'object' || run === null || Array.isArray(run) || typeof run.run_id !== 'string' || typeof run.issue_id !== 'string' || typeof run.status !== 'string' || typeof run.started_at !== 'string') {
    throw corruptRun(file, 'not a gate run record');
  }
  return run as GateRun;
}

function corruptRun(file: string, what: string, cause?: unknown): JitError {
  return new JitError('CORRUPT_FILE', `Corrupt file ${file}: ${what}.`, {
    suggestions: ['Restore it from version control, or delete it (it is one record of the check history).'],
    details: { path: file },
    ...(cause === undefined ? {} : { cause }),
  });
}

/** A run record that could not be read: the rest of the history is still shown. */
export interface UnreadableRun {
  path: string;
  code: string;
  message: string;
}

/** Every run of an issue, newest first (a missing folder: none); a corrupt record is skipped and added to `unreadable`. */
export function readRuns(jitDir: string, issueId: string, unreadable: UnreadableRun[] = []): GateRun[] {
  const dir = runsDir(jitDir, issueId);
  if (!fs.existsSync(dir)) return [];
  const runs: GateRun[] = [];
  for (const name of listDirectory(dir)) {
    if (!name.endsWith('.json') || !RUN_ID.test(name.slice(0, -5))) continue;
    const file = path.join(dir, name);
    let run: GateRun | null;
    try {
      run = readRun(file);
      // Records are committed, so a pull can bring any: one whose ids are not its own path is not followed (to a lock elsewhere).
      if (run !== null && (run.run_id !== name.slice(0, -5) || run.issue_id !== issueId)) throw corruptRun(file, 'its run_id or issue_id does not match its path');
    } catch (error) {
      if (!(error instanceof JitError)) throw error;
      unreadable.push({ path: file, code: error.code, message: error.message });
      continue;
    }
    if (run === null) continue;
    runs.push(withLiveness(jitDir, run));
  }
  return runs.sort((a, b) => (a.started_at < b.started_at ? 1 : a.started_at > b.started_at ? -1 : a.run_id < b.run_id ? 1 : -1));
}
