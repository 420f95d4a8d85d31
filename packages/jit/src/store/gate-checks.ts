/**
 * Running gate checks: which gates a check runs, trust, and the order of
 * locks around a checker that may run for ten minutes. A checker never runs
 * while a store lock is held:
 *
 *   1. take the run's liveness lock (gate-runs.ts; no store lock waits for it);
 *   2. under the issue's lock and the registry's shared lock: the issue still
 *      requires the gate, the definition is still the one trusted; write the
 *      `running` record, log gate_check_started; release;
 *   3. run the checker (gate-runner.ts);
 *   4. under the issue's lock again: apply the result to the issue as it is
 *      *now* (it may have been updated, reopened, deleted meanwhile), write
 *      the final record (always: the history keeps every run), log
 *      gate_check_finished; release; then release the liveness lock.
 *
 * Two checks of one gate at once are two runs, both recorded; the verdict
 * of the one that ends last is the gate's status.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { JitError } from './errors.js';
import { newUuid } from './ids.js';
import type { GateDefinition, Issue } from './model.js';
import { checkAssignee, checkGateKey } from './rules.js';
import type { IssueTx, Storage } from './storage.js';
import { bare, command } from './suggestions.js';
import { definitionHash, effectiveGate, isAutoCheck, type EffectiveGate } from './gate-defs.js';
import { runChecker, type CheckerOutcome } from './gate-runner.js';
import { holdRun, logPathOf, readRuns, writeRun, type GateRun, type UnreadableRun } from './gate-runs.js';
import { isTrusted, trust, untrustedError } from './gate-trust.js';
import { applyGateVerdict, makeEvent } from './tracker.js';

/** What the tracker lends the gate checks: its store, and changes of one issue under its lock with the state rules' follow-ups done. */
export interface GateCheckHost {
  readonly storage: Storage;
  readonly jitDir: string;
  resolve(idOrPrefix: string): Promise<string>;
  /** Under the issue's exclusive lock and the registry's shared lock; ISSUE_NOT_FOUND when it is gone. */
  changeIssue(id: string, change: (issue: Issue, registry: ReadonlyMap<string, GateDefinition>, tx: IssueTx) => Issue): Promise<Issue>;
}

export interface GateCheckProgress {
  phase: 'started' | 'output' | 'finished';
  run_id: string;
  issue_id: string;
  gate_key: string;
  elapsed_ms: number;
  /** The last non-empty line the checker printed so far. */
  last_line: string;
  status?: GateRun['status'];
}

export interface GateCheckOptions {
  /** Who runs it, kind:name (recorded in the run and as the gate's updated_by). */
  by?: string;
  /** Also write the whole output to gate-runs/<issue>/<run>.log. */
  log?: boolean;
  onProgress?: (progress: GateCheckProgress) => void;
}

/** A gate that was not run, and why. */
export interface GateNotRun {
  issue_id: string;
  gate_key: string;
  reason: 'untrusted';
  command: string;
}

export interface GateCheckReport {
  /** The runs made, in the order they ran. */
  runs: GateRun[];
  /** Gates left alone (check-all and done skip untrusted ones instead of refusing). */
  not_run: GateNotRun[];
  /** Every run passed (true when none ran). */
  passed: boolean;
}

interface Planned {
  issueId: string;
  gate: EffectiveGate;
  hash: string;
}

function report(runs: GateRun[], notRun: GateNotRun[]): GateCheckReport {
  return { runs, not_run: notRun, passed: runs.every((run) => run.status === 'passed') };
}

function noChecker(key: string): JitError {
  return new JitError('INVALID_ARGUMENT', `Gate ${key} has no checker command to run: it is passed or failed by hand.`, {
    suggestions: [bare(command('registry.show', { key }))],
    details: { field: 'key', key },
  });
}

/** `gate check ID [KEY]`: one gate (with a checker, any mode), or every auto gate of the issue. Untrusted: GATE_UNTRUSTED before anything runs. */
export async function checkIssue(host: GateCheckHost, idOrPrefix: string, key: string | undefined, options: GateCheckOptions = {}): Promise<GateCheckReport> {
  const gateKey = key === undefined ? undefined : checkGateKey(key);
  const by = checkBy(options.by);
  const id = await host.resolve(idOrPrefix);
  const issue = await host.storage.readIssue(id);
  if (!issue) throw new JitError('ISSUE_NOT_FOUND', `No issue with id ${id}.`, { details: { id } });
  const registry = await host.storage.readGates();
  let gates: EffectiveGate[];
  if (gateKey !== undefined) {
    if (!issue.gates_required.includes(gateKey)) {
      throw new JitError('GATE_NOT_FOUND', `Issue ${id.slice(0, 8)} does not require gate ${gateKey}.`, {
        suggestions: [bare(command('gate.add', { id: id.slice(0, 8), key: gateKey }))],
        details: { id, key: gateKey },
      });
    }
    const def = registry.get(gateKey);
    if (!def) throw new JitError('GATE_NOT_FOUND', `Gate ${gateKey} is not in the registry.`, { suggestions: [bare(command('registry.list'))], details: { key: gateKey } });
    const gate = effectiveGate(def);
    if (gate.checker === null) throw noChecker(gateKey);
    gates = [gate];
  } else {
    gates = issue.gates_required
      .map((k) => registry.get(k))
      .filter((def): def is GateDefinition => def !== undefined)
      .map(effectiveGate)
      .filter(isAutoCheck);
  }
  // Prechecks first: they are what work waits for.
  gates.sort((a, b) => (a.stage === b.stage ? 0 : a.stage === 'precheck' ? -1 : 1));
  const planned = gates.map((gate) => ({ issueId: id, gate, hash: definitionHash(gate) }));
  for (const { gate, hash } of planned) if (!isTrusted(host.jitDir, hash)) throw untrustedError(gate.key, gate.checker!.command, hash);
  return runPlanned(host, planned, null, by, options);
}

/** The issue's pending auto postchecks, after `done` left it gated; untrusted ones are reported, not run. */
export async function checkPostchecks(host: GateCheckHost, id: string, options: GateCheckOptions = {}): Promise<GateCheckReport> {
  const by = checkBy(options.by);
  const issue = await host.storage.readIssue(id);
  if (!issue || issue.state !== 'gated') return report([], []);
  const registry = await host.storage.readGates();
  const { planned, notRun } = plan(host.jitDir, issue, registry, (gate) => gate.stage === 'postcheck');
  return runPlanned(host, planned, notRun, by, options);
}

/**
 * `gate check-all`: every pending auto gate of every issue waiting on one:
 * postchecks of gated issues, prechecks of ready and in-progress ones.
 * Untrusted commands are reported, not run.
 */
export async function checkAll(host: GateCheckHost, options: GateCheckOptions = {}): Promise<GateCheckReport> {
  const by = checkBy(options.by);
  const registry = await host.storage.readGates();
  const planned: Planned[] = [];
  const notRun: GateNotRun[] = [];
  for (const issue of await host.storage.readAllIssues({ skipCorrupt: true })) {
    if (issue.gates_required.length === 0) continue;
    const stage = issue.state === 'gated' ? 'postcheck' : issue.state === 'ready' || issue.state === 'in_progress' ? 'precheck' : null;
    if (stage === null) continue;
    const found = plan(host.jitDir, issue, registry, (gate) => gate.stage === stage);
    planned.push(...found.planned);
    notRun.push(...found.notRun);
  }
  return runPlanned(host, planned, notRun, by, options);
}

export async function gateRuns(host: GateCheckHost, idOrPrefix: string, unreadable?: UnreadableRun[]): Promise<GateRun[]> {
  return readRuns(host.jitDir, await host.resolve(idOrPrefix), unreadable);
}

/** `gate trust KEY`: trusts the definition as it is now. */
export async function trustGate(host: GateCheckHost, key: string): Promise<{ key: string; command: string; hash: string; changed: boolean }> {
  const gateKey = checkGateKey(key);
  const def = (await host.storage.readGates()).get(gateKey);
  if (!def) throw new JitError('GATE_NOT_FOUND', `Gate ${gateKey} is not in the registry.`, { suggestions: [bare(command('registry.list'))], details: { key: gateKey } });
  const gate = effectiveGate(def);
  if (gate.checker === null) throw noChecker(gateKey);
  const hash = definitionHash(gate);
  const changed = await trust(host.jitDir, hash, { key: gateKey, command: gate.checker.command, via: 'gate trust' });
  return { key: gateKey, command: gate.checker.command, hash, changed };
}

/** registry add: the definition's command, typed on this machine, is trusted here. No-op without a checker. */
export async function trustDefinition(host: GateCheckHost, def: GateDefinition): Promise<void> {
  const gate = effectiveGate(def);
  if (gate.checker === null) return;
  await trust(host.jitDir, definitionHash(gate), { key: gate.key, command: gate.checker.command, via: 'registry add' });
}

function checkBy(by: string | undefined): string | null {
  return by === undefined ? null : checkAssignee('by', by);
}

function plan(jitDir: string, issue: Issue, registry: ReadonlyMap<string, GateDefinition>, wanted: (gate: EffectiveGate) => boolean): { planned: Planned[]; notRun: GateNotRun[] } {
  const planned: Planned[] = [];
  const notRun: GateNotRun[] = [];
  for (const key of issue.gates_required) {
    const def = registry.get(key);
    if (!def || issue.gates_status[key]?.status === 'passed') continue;
    const gate = effectiveGate(def);
    if (!isAutoCheck(gate) || !wanted(gate)) continue;
    const hash = definitionHash(gate);
    if (isTrusted(jitDir, hash)) planned.push({ issueId: issue.id, gate, hash });
    else notRun.push({ issue_id: issue.id, gate_key: key, reason: 'untrusted', command: gate.checker!.command });
  }
  return { planned, notRun };
}

/** `notRun` null: an explicit check, where a gate redefined before its turn is an error; else it is listed there, and the runs made so far are kept. */
async function runPlanned(host: GateCheckHost, planned: Planned[], notRun: GateNotRun[] | null, by: string | null, options: GateCheckOptions): Promise<GateCheckReport> {
  const runs: GateRun[] = [];
  for (const item of planned) {
    let run: GateRun | null;
    try {
      run = await runOne(host, item, by, options);
    } catch (error) {
      if (!(error instanceof GateRedefined)) throw error;
      if (notRun === null) {
        throw new JitError('GATE_UNTRUSTED', `Gate ${item.gate.key} was redefined while its check was starting: nothing ran. Check it again.`, { details: { key: item.gate.key } });
      }
      notRun.push({ issue_id: item.issueId, gate_key: item.gate.key, reason: 'untrusted', command: error.command ?? item.gate.checker!.command });
      continue;
    }
    if (run) runs.push(run);
  }
  return report(runs, notRun ?? []);
}

/** One run (steps 1-4 of the header); null when the issue no longer wants it (deleted, gate dropped) before it started. */
async function runOne(host: GateCheckHost, { issueId, gate, hash }: Planned, by: string | null, options: GateCheckOptions): Promise<GateRun | null> {
  const checker = gate.checker!;
  const runId = newUuid();
  const projectDir = path.dirname(host.jitDir);
  const cwd = checker.working_dir === null ? projectDir : path.resolve(projectDir, checker.working_dir);
  const held = holdRun(host.jitDir, issueId, runId);
  try {
    let started: GateRun | undefined;
    let context: Issue | undefined;
    try {
      await host.changeIssue(issueId, (issue, registry, tx) => {
        if (!issue.gates_required.includes(gate.key)) throw new GateGone();
        const def = registry.get(gate.key);
        if (!def || definitionHash(effectiveGate(def)) !== hash) throw new GateRedefined(def ? (effectiveGate(def).checker?.command ?? null) : null);
        started = {
          schema_version: 1,
          run_id: runId,
          gate_key: gate.key,
          stage: gate.stage,
          issue_id: issueId,
          status: 'running',
          reason: null,
          command: checker.command,
          working_dir: cwd,
          timeout_seconds: checker.timeout_seconds,
          definition_hash: hash,
          by,
          runner_pid: process.pid,
          checker_pid: null,
          started_at: new Date().toISOString(),
          completed_at: null,
          duration_ms: null,
          exit_code: null,
          signal: null,
          output: '',
          output_bytes: 0,
          output_truncated: false,
          log_path: options.log ? logPathOf(issueId, runId) : null,
          applied: null,
          message: null,
        };
        context = issue;
        writeRun(host.jitDir, started);
        tx.event(makeEvent('gate_check_started', issueId, { gate: gate.key, run_id: runId, stage: gate.stage, command: checker.command, by }));
        return issue;
      });
    } catch (error) {
      if (error instanceof GateGone || (error instanceof JitError && error.code === 'ISSUE_NOT_FOUND')) return null;
      throw error;
    }
    const run = started!;
    const begin = performance.now();
    let lastLine = '';
    let pending = '';
    const progress = (phase: GateCheckProgress['phase'], status?: GateRun['status']): void =>
      options.onProgress?.({ phase, run_id: runId, issue_id: issueId, gate_key: gate.key, elapsed_ms: Math.round(performance.now() - begin), last_line: lastLine, ...(status ? { status } : {}) });
    progress('started');
    const outcome = await runChecker(
      {
        command: checker.command,
        cwd,
        env: { ...process.env, ...checker.env, JIT_ISSUE_ID: issueId, JIT_GATE_KEY: gate.key, JIT_GATE_STAGE: gate.stage, JIT_RUN_ID: runId, JIT_DIR: host.jitDir },
        timeoutMs: checker.timeout_seconds * 1000,
        ...(checker.pass_context ? { stdin: JSON.stringify(context) + '\n' } : {}),
        ...(run.log_path ? { logPath: path.join(host.jitDir, run.log_path) } : {}),
      },
      {
        // Who to look for if this runner dies: the checker's process (group).
        onSpawn: (pid) => {
          try {
            writeRun(host.jitDir, { ...run, checker_pid: pid });
          } catch {
            // Only a detail of a running record: the check goes on, and its result is written in full.
          }
        },
        onOutput: (chunk) => {
          // Only the tail of a chunk can hold the last line: never split megabytes into lines.
          const lines = (pending + chunk.subarray(Math.max(0, chunk.length - 4096)).toString('utf8')).split(/\r?\n|\r/);
          pending = lines.pop() ?? '';
          const last = [...lines, pending].reverse().find((line) => line.trim() !== '');
          if (last !== undefined) lastLine = last.slice(0, 500);
          if (pending.length > 4096) pending = pending.slice(-4096);
          progress('output');
        },
      },
    );
    const finished = finalRecord(run, outcome);
    // A checker can delete the store it was judged for (rm -rf .jit): say so, rather than "the index is missing".
    if (!existsSync(host.jitDir)) throw storeGone(host.jitDir, finished);
    try {
      await host.changeIssue(issueId, (issue, _registry, tx) => {
        let next = issue;
        if (!issue.gates_required.includes(gate.key)) finished.applied = 'gate_not_required';
        else if (!outcome.passed && issue.state === 'done') finished.applied = 'issue_done';
        else {
          next = applyGateVerdict(issue, gate.key, outcome.passed ? 'passed' : 'failed', by, tx);
          finished.applied = 'recorded';
        }
        writeRun(host.jitDir, finished);
        tx.event(
          makeEvent('gate_check_finished', issueId, {
            gate: gate.key,
            run_id: runId,
            status: finished.status,
            reason: finished.reason,
            exit_code: finished.exit_code,
            duration_ms: finished.duration_ms,
            applied: finished.applied,
          }),
        );
        return next;
      });
    } catch (error) {
      if (!(error instanceof JitError && error.code === 'ISSUE_NOT_FOUND')) {
        // The record was written inside the transaction that failed (rolled back): it must not say the verdict was recorded.
        const why = error instanceof Error ? error.message.split('\n')[0] : String(error);
        try {
          writeRun(host.jitDir, { ...finished, applied: null, message: `${finished.message} The result was not applied to the issue: ${why}` });
        } catch {
          // The error below says what failed; the record is only a detail of the history.
        }
        throw error;
      }
      // Deleted while it ran: the run stays in the history all the same.
      finished.applied = 'issue_deleted';
      writeRun(host.jitDir, finished);
    }
    progress('finished', finished.status);
    return finished;
  } finally {
    held.release();
  }
}

class GateGone extends Error {}

/** The definition changed between planning and starting (a checker before it may have edited gates.json). */
class GateRedefined extends Error {
  constructor(readonly command: string | null) {
    super('gate redefined');
  }
}

function storeGone(jitDir: string, run: GateRun): JitError {
  return new JitError(
    'NOT_INITIALIZED',
    `The store ${jitDir} was deleted while gate ${run.gate_key} ran (by its checker?): its result (${run.status}: ${run.message}) could not be recorded.`,
    { suggestions: ['Restore .jit/ from version control, or check what the command deletes before running it again.'], details: { path: jitDir, gate: run.gate_key, status: run.status } },
  );
}

function finalRecord(run: GateRun, outcome: CheckerOutcome): GateRun {
  const message =
    outcome.reason === 'timeout'
      ? `Killed after its timeout of ${run.timeout_seconds} s (with every process it started).`
      : outcome.reason === 'not_found'
        ? `The command was not found${outcome.error ? `: ${outcome.error}` : ''}.`
        : outcome.reason === 'spawn_error'
          ? `The command could not be started: ${outcome.error ?? 'unknown error'}.`
          : outcome.reason === 'signal'
            ? `Ended by signal ${outcome.signal}.`
            : outcome.passed
              ? 'Exited 0.'
              : `Exited ${outcome.exit_code}.`;
  return {
    ...run,
    status: outcome.passed ? 'passed' : 'failed',
    reason: outcome.reason,
    checker_pid: outcome.pid,
    completed_at: new Date().toISOString(),
    duration_ms: outcome.duration_ms,
    exit_code: outcome.exit_code,
    signal: outcome.signal,
    output: outcome.output,
    output_bytes: outcome.output_bytes,
    output_truncated: outcome.output_truncated,
    message,
  };
}
