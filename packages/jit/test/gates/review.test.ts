// Adversarial review of gate checks, with the built `jit` and real files:
// a run record corrupted by hand, a checker whose folder is missing.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { errorOf, JIT_BIN, projectsForThisFile, runJitOnTty } from '../cli/helpers.js';

const projects = projectsForThisFile();
const node = JSON.stringify(process.execPath);
const js = (code: string): string => `${node} -e ${JSON.stringify(code)}`;

describe.concurrent('gate checks under abuse', () => {
  it('a run record corrupted by hand: issue show still works, gate runs lists the readable runs and names the unreadable file', async () => {
    const p = await projects.initialized();
    await p.json(['registry', 'add', 'tests', '-t', 'Tests', '--checker', js('console.log("ok")')]);
    const id = (await p.json(['issue', 'create', '-t', 'Work', '-g', 'tests'])).id;
    await p.json(['gate', 'check', id, 'tests']);
    await p.json(['gate', 'check', id, 'tests']);
    const dir = path.join(p.jitDir, 'gate-runs', id);
    const broken = path.join(dir, readdirSync(dir).filter((name) => name.endsWith('.json'))[0]!);
    writeFileSync(broken, '{"run_id": ');
    const shown = await p.json(['issue', 'show', id]);
    expect(shown.last_runs.tests.status).toBe('passed');
    const history = await p.json(['gate', 'runs', id]);
    expect(history.count).toBe(1);
    expect(history.unreadable).toEqual([expect.objectContaining({ path: broken, code: 'CORRUPT_FILE' })]);
    const text = await p.run(['gate', 'runs', id]);
    expect(text.code).toBe(0);
    expect(text.stdout + text.stderr).toContain(broken);
    // JSON that is no run record at all (an array, a number) is unreadable too, not a crash.
    writeFileSync(broken, '[1, 2]');
    expect((await p.json(['gate', 'runs', id])).unreadable).toEqual([expect.objectContaining({ path: broken })]);
    // A record (they are committed: a pull brings them) whose ids are not its own path is not followed anywhere.
    const good = JSON.parse(readFileSync(path.join(dir, readdirSync(dir).find((name) => name.endsWith('.json') && path.join(dir, name) !== broken)!), 'utf8'));
    writeFileSync(broken, JSON.stringify({ ...good, run_id: '../../../outside', status: 'running' }));
    expect((await p.json(['gate', 'runs', id])).unreadable).toEqual([expect.objectContaining({ path: broken })]);
  });

  it('a checker whose working directory is missing fails with spawn_error naming the folder, not "command not found"', async () => {
    const p = await projects.initialized();
    await p.json(['registry', 'add', 'm', '-t', 'M', '--checker', js('process.exit(0)'), '--cwd', 'nowhere']);
    const id = (await p.json(['issue', 'create', '-t', 'Work', '-g', 'm'])).id;
    const result = await p.run(['--json', 'gate', 'check', id, 'm']);
    expect(result.code).toBe(4);
    const run = JSON.parse(result.stdout).runs[0];
    expect(run).toMatchObject({ status: 'failed', reason: 'spawn_error' });
    expect(run.message).toContain(path.join(p.dir, 'nowhere'));
  });

  it('a trust file that came through git (force-added, so a pull delivers it) or that other users can write trusts nothing', async () => {
    const p = await projects.initialized();
    const marker = path.join(p.dir, 'ran');
    await p.json(['registry', 'add', 'evil', '-t', 'Evil', '--checker', js(`require("fs").writeFileSync(${JSON.stringify(marker)}, "x")`)]);
    const id = (await p.json(['issue', 'create', '-t', 'Work', '-g', 'evil'])).id;
    const trustFile = path.join(p.jitDir, 'local', 'trusted-gates.json');
    const git = (...args: string[]): string => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: p.dir, encoding: 'utf8' });
    git('init', '-q');
    git('add', '-A');
    git('add', '-f', trustFile);
    git('commit', '-qm', 'gates and, on purpose, the trust that makes them run');
    const refused = await p.run(['--json', 'gate', 'check', id, 'evil']);
    expect(refused.code).toBe(5);
    expect(errorOf(refused)).toMatchObject({ code: 'GATE_UNTRUSTED' });
    expect(errorOf(refused).message).toContain('git');
    expect(existsSync(marker)).toBe(false);
    git('rm', '-q', '--cached', trustFile);
    chmodSync(trustFile, 0o666);
    const shared = await p.run(['--json', 'gate', 'check', id, 'evil']);
    expect(shared.code).toBe(5);
    expect(errorOf(shared).message).toContain('other users');
    expect(existsSync(marker)).toBe(false);
    chmodSync(trustFile, 0o644);
    expect((await p.json(['gate', 'check', id, 'evil'])).passed).toBe(true);
    expect(existsSync(marker)).toBe(true);
  });

  it('a hand-edited checker: a timeout past the 24.8-day timer limit is no instant timeout; a NUL in its env is a recorded spawn_error, not INTERNAL', async () => {
    const p = await projects.initialized();
    await p.json(['registry', 'add', 'long', '-t', 'Long', '--checker', js('process.exit(0)')]);
    const id = (await p.json(['issue', 'create', '-t', 'Work', '-g', 'long'])).id;
    const gatesFile = path.join(p.jitDir, 'gates.json');
    const edit = (change: (checker: Record<string, unknown>) => void): void => {
      const data = JSON.parse(readFileSync(gatesFile, 'utf8'));
      change(data.gates.long.checker);
      writeFileSync(gatesFile, JSON.stringify(data, null, 2));
    };
    edit((checker) => (checker['timeout_seconds'] = 3_000_000)); // the original jit's files allow it
    await p.json(['gate', 'trust', 'long']);
    const slow = await p.json(['gate', 'check', id, 'long']);
    expect(slow.runs[0]).toMatchObject({ status: 'passed', reason: 'exit' });
    edit((checker) => (checker['env'] = { A: 'x\u0000y' }));
    await p.json(['gate', 'trust', 'long']);
    const bad = await p.run(['--json', 'gate', 'check', id, 'long']);
    expect(bad.code).toBe(4);
    expect(JSON.parse(bad.stdout).runs[0]).toMatchObject({ status: 'failed', reason: 'spawn_error' });
    expect((await p.json(['gate', 'runs', id])).runs[0]).toMatchObject({ status: 'failed', reason: 'spawn_error' });
  });

  it('--timeout that is no decimal number of seconds is refused quoting what was typed (not "null"), before anything is defined', async () => {
    const p = await projects.initialized();
    for (const text of ['abc', '1e400', '0x10', '5s', '']) {
      const result = await p.run(['--json', 'registry', 'add', 'g', '-t', 'G', '--checker', 'true', '--timeout', text]);
      expect(result.code).toBe(2);
      expect(errorOf(result)).toMatchObject({ code: 'INVALID_ARGUMENT' });
      expect(errorOf(result).message).toContain(JSON.stringify(text));
    }
    expect((await p.json(['registry', 'list'])).gates).toEqual([]);
  });

  it('a checker that deletes the whole .jit/ while it runs: NOT_INITIALIZED naming the gate and its result, no "rebuild the index" advice, nothing recreated', async () => {
    const p = await projects.initialized();
    await p.json(['registry', 'add', 'wipe', '-t', 'Wipe', '--checker', js('require("fs").rmSync(".jit", { recursive: true, force: true })')]);
    const id = (await p.json(['issue', 'create', '-t', 'Work', '-g', 'wipe'])).id;
    const result = await p.run(['--json', 'gate', 'check', id, 'wipe']);
    expect(result.code).toBe(3);
    const error = errorOf(result);
    expect(error).toMatchObject({ code: 'NOT_INITIALIZED' });
    expect(error.message).toContain('wipe');
    expect(error.message).toContain('passed');
    expect(JSON.stringify(error)).not.toContain('validate');
    expect(existsSync(p.jitDir)).toBe(false);
  });

  it('terminal escape sequences in checker output or a pulled run record are shown inert (no title change, no screen clear)', async () => {
    const p = await projects.initialized();
    const hostile = 'ok \u001b]0;HACKED\u0007\u001b[2J\u009b2J';
    await p.json(['registry', 'add', 'esc', '-t', 'Esc', '--checker', js(`console.log(${JSON.stringify(hostile)}); setTimeout(() => process.exit(1), 700)`)]);
    const id = (await p.json(['issue', 'create', '-t', 'Work', '-g', 'esc'])).id;
    const piped = await p.run(['gate', 'check', id, 'esc']);
    expect(piped.code).toBe(4);
    expect(piped.stdout).toContain('ok');
    expect(piped.stdout).not.toMatch(/[\u001b\u0007\u009b]/);
    const tty = await runJitOnTty(['gate', 'check', id, 'esc'], { cwd: p.dir });
    expect(tty.stdout).toContain('ok');
    expect(tty.stdout).not.toContain('\u001b]0;');
    expect(tty.stdout).not.toContain('\u001b[2J');
    // Run records are committed: one edited upstream is read here.
    const dir = path.join(p.jitDir, 'gate-runs', id);
    const file = path.join(dir, readdirSync(dir).filter((name) => name.endsWith('.json'))[0]!);
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), message: 'fine\u001b]0;PWN\u0007' }));
    const history = await p.run(['gate', 'runs', id]);
    expect(history.stdout).toContain('fine');
    expect(history.stdout).not.toMatch(/[\u001b\u0007]/);
  });

  it('under umask 000 the trust jit writes is still trusted (the folder it creates is not left world-writable)', async () => {
    const p = projects.empty();
    const jit = (args: string): string =>
      execFileSync('sh', ['-c', `umask 000; exec ${JSON.stringify(process.execPath)} ${JSON.stringify(JIT_BIN)} --json ${args}`], { cwd: p.dir, encoding: 'utf8', env: { ...process.env, JIT_TRUST_ALL_GATES: '' } });
    jit('init');
    jit(`registry add t -t T --checker ${JSON.stringify(js('process.exit(0)')).replace(/\$/g, '\\$')}`);
    const id = JSON.parse(jit('issue create -t W -g t')).id;
    expect(JSON.parse(jit(`gate check ${id} t`)).passed).toBe(true);
  });

  it('check-all: a gate redefined by hand while an earlier check ran is listed in not_run; the runs already made are still reported', async () => {
    const p = await projects.initialized();
    const gatesFile = path.join(p.jitDir, 'gates.json');
    const swap = `const f = ${JSON.stringify(gatesFile)}; const d = JSON.parse(require("fs").readFileSync(f, "utf8")); d.gates.b.checker.command = "echo swapped"; require("fs").writeFileSync(f, JSON.stringify(d))`;
    await p.json(['registry', 'add', 'a', '-t', 'A', '--checker', js(swap)]);
    await p.json(['registry', 'add', 'b', '-t', 'B', '--checker', js('process.exit(0)')]);
    const id = (await p.json(['issue', 'create', '-t', 'Work', '-g', 'a', '-g', 'b'])).id;
    await p.json(['issue', 'update', id, '--state', 'done', '--no-run']);
    const result = await p.run(['--json', 'gate', 'check-all']);
    const report = JSON.parse(result.stdout);
    expect(report.runs).toEqual([expect.objectContaining({ gate_key: 'a', status: 'passed' })]);
    expect(report.not_run).toEqual([expect.objectContaining({ gate_key: 'b', reason: 'untrusted', command: 'echo swapped' })]);
  });
});

