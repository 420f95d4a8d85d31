// Gates that check for themselves, end to end with the built `jit` and real
// checker processes: pass and fail, prechecks that block claims, postchecks
// that complete an issue on done, trust (a hand-edited gates.json is refused
// until trusted), two checks of one gate at once, a runner killed with
// SIGKILL (its run reads abandoned, no lock stays held), bad definitions
// refused before anything runs, and the original jit's gate entries.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { errorOf, JIT_BIN, projectsForThisFile, runJitOnTty, TEST_LOCK_TIMEOUT_SECONDS, type TempProject } from '../cli/helpers.js';

const projects = projectsForThisFile();
const node = JSON.stringify(process.execPath);

/** A checker command: a node one-liner (no shell syntax that differs between platforms). */
const js = (code: string): string => `${node} -e ${JSON.stringify(code)}`;

async function issueWith(p: TempProject, ...gates: string[]): Promise<string> {
  return (await p.json(['issue', 'create', '-t', 'Work', ...gates.flatMap((gate) => ['-g', gate])])).id;
}

async function waitFor(condition: () => boolean, what: string, withinMs = 60_000): Promise<void> {
  const until = Date.now() + withinMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function processState(pid: number): 'gone' | 'zombie' | 'alive' {
  try {
    process.kill(pid, 0);
  } catch {
    return 'gone';
  }
  try {
    return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8')) ? 'zombie' : 'alive';
  } catch {
    return 'gone';
  }
}

describe.concurrent('gate checks', () => {
  it('a passing checker passes the gate, a failing one fails it (exit 4); every run is in the history, newest first', async () => {
    const p = await projects.initialized();
    await p.json(['registry', 'add', 'tests', '-t', 'Tests', '--checker', js('console.log("all green")')]);
    await p.json(['registry', 'add', 'lint', '-t', 'Lint', '--checker', js('console.error("3 problems"); process.exit(2)')]);
    const id = await issueWith(p, 'tests', 'lint');
    const pass = await p.json(['gate', 'check', id, 'tests']);
    expect(pass).toMatchObject({ passed: true, not_run: [], runs: [{ gate_key: 'tests', status: 'passed', reason: 'exit', exit_code: 0, applied: 'recorded' }] });
    expect(pass.runs[0].output).toContain('all green');
    const fail = await p.run(['--json', 'gate', 'check', id, 'lint']);
    expect(fail.code).toBe(4);
    expect(JSON.parse(fail.stdout)).toMatchObject({ passed: false, runs: [{ gate_key: 'lint', status: 'failed', exit_code: 2 }] });
    const issue = await p.json(['issue', 'show', id]);
    expect(issue.gates_status.tests.status).toBe('passed');
    expect(issue.gates_status.lint.status).toBe('failed');
    const history = await p.json(['gate', 'runs', id]);
    expect(history.runs.map((run: { gate_key: string }) => run.gate_key)).toEqual(['lint', 'tests']);
    const events = (await p.json(['events', 'query', '--issue', id])).events.map((event: { type: string }) => event.type);
    expect(events.filter((type: string) => type === 'gate_check_started')).toHaveLength(2);
    expect(events.filter((type: string) => type === 'gate_check_finished')).toHaveLength(2);
    expect((await p.json(['validate'])).ok).toBe(true);
  });

  it.skipIf(process.platform === 'win32')('on a terminal a running check shows its gate, elapsed time and last output line; piped output shows none of it', async () => {
    const p = await projects.initialized();
    await p.json(['registry', 'add', 'tests', '-t', 'Tests', '--checker', js('console.log("compiling module 7"); setTimeout(() => {}, 1500)')]);
    const id = await issueWith(p, 'tests');
    const tty = await runJitOnTty(['gate', 'check', id], { cwd: p.dir });
    expect(tty.code).toBe(0);
    const text = tty.stdout.replace(/\u001b\[[0-9;]*[A-Za-z]/g, '');
    expect(text).toMatch(/tests on [0-9a-f]{8} \d+s compiling module 7/);
    expect(text).toMatch(/passed tests on/);
    const piped = await p.run(['gate', 'check', id]);
    expect(piped.stderr).toBe('');
    expect(piped.stdout).not.toContain('compiling');
  });

  it('the checker gets the issue id and gate key in its environment, and the issue on stdin with pass_context', async () => {
    const p = await projects.initialized();
    const code = 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => { const issue = JSON.parse(s); ' +
      'const ok = issue.id === process.env.JIT_ISSUE_ID && process.env.JIT_GATE_KEY === "review" && issue.title === "Work" && process.env.EXTRA === "x=y"; process.exit(ok ? 0 : 1) })';
    await p.json(['registry', 'add', 'review', '-t', 'Review', '--checker', js(code), '--pass-context', '--env', 'EXTRA=x=y']);
    const id = await issueWith(p, 'review');
    expect((await p.json(['gate', 'check', id])).runs[0]).toMatchObject({ status: 'passed' });
  });

  it('a precheck blocks claim, claim-next and in-progress (GATES_PENDING, exit 4) until it passes', async () => {
    const p = await projects.initialized();
    const marker = path.join(p.dir, 'ready-to-start');
    await p.json(['registry', 'add', 'spec', '-t', 'Spec exists', '--stage', 'precheck', '--checker', js(`process.exit(require("fs").existsSync(${JSON.stringify(marker)}) ? 0 : 1)`)]);
    const id = await issueWith(p, 'spec');
    const claim = await p.run(['--json', 'issue', 'claim', id, 'agent:a']);
    expect(claim.code).toBe(4);
    expect(errorOf(claim)).toMatchObject({ code: 'GATES_PENDING', details: { prechecks: ['spec'] } });
    expect(errorOf(claim).suggestions[0]).toBe(`jit gate check ${id.slice(0, 8)}`);
    expect((await p.run(['--json', 'issue', 'update', id, '--state', 'in-progress'])).code).toBe(4);
    const next = await p.run(['--json', 'issue', 'claim-next', 'agent:a']);
    expect(next.code).toBe(3);
    expect(errorOf(next)).toMatchObject({ code: 'NO_READY_ISSUE', details: { waiting_for_prechecks: 1 } });
    // check-all runs the pending precheck of the ready issue: it fails while the spec is missing...
    expect((await p.run(['gate', 'check-all'])).code).toBe(4);
    expect((await p.json(['issue', 'show', id])).state).toBe('ready');
    // ...and passes once it exists; then work may start.
    writeFileSync(marker, '');
    expect((await p.json(['gate', 'check-all'])).runs).toMatchObject([{ gate_key: 'spec', status: 'passed' }]);
    expect(await p.json(['issue', 'claim-next', 'agent:a'])).toMatchObject({ id, state: 'in_progress', assignee: 'agent:a' });
  });

  it('done runs the auto postchecks and completes the issue when they pass; --no-run leaves it gated', async () => {
    const p = await projects.initialized();
    await p.json(['registry', 'add', 'tests', '-t', 'Tests', '--checker', js('process.exit(0)')]);
    const id = await issueWith(p, 'tests');
    const gated = await p.json(['issue', 'update', id, '--state', 'done', '--no-run']);
    expect(gated).toMatchObject({ state: 'gated', pending_gates: ['tests'] });
    expect((await p.json(['gate', 'runs', id])).count).toBe(0);
    const done = await p.json(['issue', 'update', id, '--state', 'done']);
    expect(done).toMatchObject({ state: 'done', gate_runs: [{ gate_key: 'tests', status: 'passed' }] });
    expect(done.pending_gates).toBeUndefined();
    // A gate check of a gated issue completes it too.
    const other = await issueWith(p, 'tests');
    await p.json(['issue', 'update', other, '--state', 'done', '--no-run']);
    await p.json(['gate', 'check', other]);
    expect((await p.json(['issue', 'show', other])).state).toBe('done');
  });

  it('a checker command changed by hand in gates.json is refused (GATE_UNTRUSTED, exit 5, nothing runs) until trusted', async () => {
    const p = await projects.initialized();
    const ran = path.join(p.dir, 'ran');
    await p.json(['registry', 'add', 'tests', '-t', 'Tests', '--checker', js('process.exit(0)')]);
    const id = await issueWith(p, 'tests');
    // As a pull would: the committed file now runs another command.
    const gatesPath = path.join(p.jitDir, 'gates.json');
    const gates = JSON.parse(readFileSync(gatesPath, 'utf8'));
    const swapped = js(`require("fs").writeFileSync(${JSON.stringify(ran)}, "")`);
    gates.gates.tests.checker.command = swapped;
    writeFileSync(gatesPath, JSON.stringify(gates, null, 2));
    const refused = await p.run(['--json', 'gate', 'check', id]);
    expect(refused.code).toBe(5);
    expect(errorOf(refused)).toMatchObject({ code: 'GATE_UNTRUSTED', details: { key: 'tests', command: swapped } });
    expect(errorOf(refused).message).toContain(swapped);
    expect(errorOf(refused).suggestions).toContain('jit gate trust tests');
    // done and check-all do not run it either: they list it as not run.
    const done = await p.json(['issue', 'update', id, '--state', 'done']);
    expect(done).toMatchObject({ state: 'gated', gates_not_run: [{ gate_key: 'tests', reason: 'untrusted' }] });
    expect((await p.json(['gate', 'check-all'])).not_run).toHaveLength(1);
    expect(existsSync(ran)).toBe(false);
    expect((await p.json(['gate', 'runs', id])).count).toBe(0);
    // Trusted after reading it: now it runs (and passing completes the gated issue).
    expect(await p.json(['gate', 'trust', 'tests'])).toMatchObject({ key: 'tests', command: swapped, changed: true });
    expect((await p.json(['gate', 'check', id])).runs[0].status).toBe('passed');
    expect(existsSync(ran)).toBe(true);
    expect((await p.json(['issue', 'show', id])).state).toBe('done');
    // The trust file is this machine's: git ignores it.
    expect(readFileSync(path.join(p.jitDir, 'local', '.gitignore'), 'utf8')).toMatch(/^\*$/m);
  });

  it('JIT_TRUST_ALL_GATES=1 runs an untrusted command (CI)', async () => {
    const p = await projects.initialized();
    await p.json(['registry', 'add', 'tests', '-t', 'Tests']);
    const gatesPath = path.join(p.jitDir, 'gates.json');
    const gates = JSON.parse(readFileSync(gatesPath, 'utf8'));
    // The original jit's entry, as it writes it (a priority, no pass_context, null working_dir).
    gates.gates.tests = { version: 1, key: 'tests', title: 'Tests', description: '', stage: 'postcheck', mode: 'auto', priority: 5, auto: true, checker: { type: 'exec', command: js('process.exit(0)'), timeout_seconds: 60, working_dir: null, env: {} } };
    writeFileSync(gatesPath, JSON.stringify(gates, null, 2));
    const id = await issueWith(p, 'tests');
    expect((await p.run(['gate', 'check', id])).code).toBe(5);
    expect((await p.json(['gate', 'check', id], { JIT_TRUST_ALL_GATES: '1' })).runs[0].status).toBe('passed');
    // Read as it is, and its fields kept when jit rewrites the registry.
    await p.json(['registry', 'add', 'other', '-t', 'Other']);
    expect(JSON.parse(readFileSync(gatesPath, 'utf8')).gates.tests).toMatchObject({ version: 1, priority: 5, stage: 'postcheck' });
  });

  it('bad definitions and arguments are INVALID_ARGUMENT (exit 2) before anything runs', async () => {
    const p = await projects.initialized();
    const bad: string[][] = [
      ['registry', 'add', 't1', '-t', 'T', '--checker', 'true', '--timeout', 'abc'],
      ['registry', 'add', 't2', '-t', 'T', '--checker', 'true', '--timeout', '0'],
      ['registry', 'add', 't3', '-t', 'T', '--checker', 'true', '--env', '1BAD=x'],
      ['registry', 'add', 't4', '-t', 'T', '--checker', 'true', '--env', 'NOEQUALS'],
      ['registry', 'add', 't5', '-t', 'T', '--timeout', '5'],
      ['registry', 'add', 't6', '-t', 'T', '--checker', 'true', '--stage', 'sometime'],
      ['registry', 'add', 'bad key!', '-t', 'T', '--checker', 'true'],
    ];
    for (const args of bad) {
      const run = await p.run(['--json', ...args]);
      expect(run.code, args.join(' ')).toBe(2);
      expect(errorOf(run).code).toBe('INVALID_ARGUMENT');
    }
    expect((await p.json(['registry', 'list'])).count).toBe(0);
    expect(existsSync(path.join(p.jitDir, 'local', 'trusted-gates.json'))).toBe(false);
    await p.json(['registry', 'add', 'manual', '-t', 'Manual']);
    const id = await issueWith(p, 'manual');
    expect((await p.run(['--json', 'gate', 'check', id, 'bad key!'])).code).toBe(2);
    // A gate without a checker has nothing to run.
    expect(errorOf(await p.run(['--json', 'gate', 'check', id, 'manual'])).code).toBe('INVALID_ARGUMENT');
  });

  it('a checker that does not exist fails with reason not_found; a timeout fails with reason timeout', async () => {
    const p = await projects.initialized();
    await p.json(['registry', 'add', 'missing', '-t', 'Missing', '--checker', 'jit-no-such-checker-here --now']);
    await p.json(['registry', 'add', 'slow', '-t', 'Slow', '--checker', js('setTimeout(() => {}, 600000)'), '--timeout', '1']);
    const id = await issueWith(p, 'missing', 'slow');
    const run = await p.run(['--json', 'gate', 'check', id]);
    expect(run.code).toBe(4);
    const runs = JSON.parse(run.stdout).runs;
    expect(runs.find((r: { gate_key: string }) => r.gate_key === 'missing')).toMatchObject({ status: 'failed', reason: process.platform === 'win32' ? 'exit' : 'not_found' });
    expect(runs.find((r: { gate_key: string }) => r.gate_key === 'slow')).toMatchObject({ status: 'failed', reason: 'timeout' });
  });

  it('two checks of one gate at once: both runs recorded, the store consistent', async () => {
    const p = await projects.initialized();
    const dir = JSON.stringify(p.dir);
    // Each run waits until both have started, so they really overlap.
    const code = `const fs = require("fs"), path = require("path"); fs.writeFileSync(path.join(${dir}, "started-" + process.env.JIT_RUN_ID), ""); const t = setInterval(() => { if (fs.readdirSync(${dir}).filter((n) => n.startsWith("started-")).length >= 2) { clearInterval(t); process.exit(0); } }, 20);`;
    await p.json(['registry', 'add', 'tests', '-t', 'Tests', '--checker', js(code), '--timeout', '120']);
    const id = await issueWith(p, 'tests');
    await p.json(['issue', 'update', id, '--state', 'done', '--no-run']);
    const [a, b] = await Promise.all([p.json(['gate', 'check', id]), p.json(['gate', 'check', id])]);
    expect(a.runs[0].status).toBe('passed');
    expect(b.runs[0].status).toBe('passed');
    expect(a.runs[0].run_id).not.toBe(b.runs[0].run_id);
    const history = await p.json(['gate', 'runs', id]);
    expect(history.runs.map((run: { status: string }) => run.status)).toEqual(['passed', 'passed']);
    expect(await p.json(['issue', 'show', id])).toMatchObject({ state: 'done', gates_status: { tests: { status: 'passed' } } });
    const events = (await p.json(['events', 'query', '--issue', id])).events.map((event: { type: string }) => event.type);
    expect(events.filter((type: string) => type === 'gate_check_finished')).toHaveLength(2);
    expect(events.filter((type: string) => type === 'issue_completed')).toHaveLength(1);
    expect((await p.json(['validate'])).ok).toBe(true);
  });

  it('the result applies to the issue as it is when the run ends: deleted meanwhile, the run is still recorded; changed meanwhile, the verdict applies to the change', async () => {
    const p = await projects.initialized();
    const go = path.join(p.dir, 'go');
    const started = path.join(p.dir, 'started');
    // Starts, then waits for the test to change the issue, then fails.
    const code = `const fs = require("fs"); fs.writeFileSync(${JSON.stringify(started)} + process.env.JIT_ISSUE_ID.slice(0, 8), ""); const t = setInterval(() => { if (fs.existsSync(${JSON.stringify(go)})) { clearInterval(t); process.exit(1); } }, 50);`;
    await p.json(['registry', 'add', 'tests', '-t', 'Tests', '--checker', js(code), '--timeout', '120']);
    const doomed = await issueWith(p, 'tests');
    const kept = await issueWith(p, 'tests');
    const first = p.run(['--json', 'gate', 'check', doomed]);
    const second = p.run(['--json', 'gate', 'check', kept]);
    await waitFor(() => existsSync(started + doomed.slice(0, 8)) && existsSync(started + kept.slice(0, 8)), 'both checkers to start');
    // No lock is held while they run: both changes go through at once.
    await p.json(['issue', 'delete', doomed], { JIT_LOCK_TIMEOUT: '5' });
    await p.json(['issue', 'update', kept, '--title', 'Renamed while checked'], { JIT_LOCK_TIMEOUT: '5' });
    writeFileSync(go, '');
    const [gone, renamed] = await Promise.all([first, second]);
    expect(JSON.parse(gone.stdout).runs[0]).toMatchObject({ status: 'failed', applied: 'issue_deleted' });
    expect(existsSync(path.join(p.jitDir, 'gate-runs', doomed))).toBe(true);
    expect(JSON.parse(renamed.stdout).runs[0]).toMatchObject({ status: 'failed', applied: 'recorded' });
    expect(await p.json(['issue', 'show', kept])).toMatchObject({ title: 'Renamed while checked', gates_status: { tests: { status: 'failed' } }, last_runs: { tests: { status: 'failed' } } });
    expect((await p.json(['validate'])).ok).toBe(true);
  });

  it.skipIf(process.platform === 'win32')('a runner killed with SIGKILL: its run reads abandoned, no lock stays held, the checker ends unreaped by nobody', async () => {
    const p = await projects.initialized();
    const pidFile = path.join(p.dir, 'checker.pid');
    // The checker outlives its runner by a few seconds, then exits by itself.
    await p.json(['registry', 'add', 'slow', '-t', 'Slow', '--checker', js(`require("fs").writeFileSync(${JSON.stringify(pidFile)}, String(process.pid)); setTimeout(() => {}, 3000)`)]);
    const id = await issueWith(p, 'slow');
    const runner = spawn(process.execPath, [JIT_BIN, 'gate', 'check', id], { cwd: p.dir, env: { ...process.env, JIT_LOCK_TIMEOUT: TEST_LOCK_TIMEOUT_SECONDS }, stdio: 'ignore' });
    const exited = new Promise((resolve) => runner.on('exit', resolve));
    await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8') !== '', 'the checker to start');
    const checker = Number(readFileSync(pidFile, 'utf8'));
    // While it runs, the run reads running (its runner holds the run's lock)...
    expect((await p.json(['gate', 'runs', id])).runs[0]).toMatchObject({ status: 'running', runner_pid: runner.pid });
    runner.kill('SIGKILL');
    await exited;
    // ...and once the runner is gone, abandoned: never running forever.
    expect((await p.json(['gate', 'runs', id])).runs[0]).toMatchObject({ status: 'abandoned', reason: 'abandoned' });
    // No store lock stays held: a change of the issue goes through at once (a 5 s lock timeout would fail it).
    expect((await p.json(['issue', 'update', id, '--title', 'Still writable'], { JIT_LOCK_TIMEOUT: '5' })).title).toBe('Still writable');
    expect((await p.json(['issue', 'show', id])).gates_status.slow.status).toBe('pending');
    // The orphaned checker finishes on its own and is reaped (by init): no zombie left behind.
    await waitFor(() => processState(checker) === 'gone', 'the orphaned checker to be gone');
    // A new check runs normally.
    expect((await p.json(['gate', 'check', id])).runs[0].status).toBe('passed');
  });
});
