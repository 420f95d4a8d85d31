// Error paths: each failure has its code, its exit code, and either a JSON
// document on stdout and nothing else (--json) or exactly one line on stderr
// (no stack trace unless JIT_DEBUG=1).
import { constants } from 'node:buffer';
import { appendFileSync, existsSync, linkSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { errorOf, type JitRun, projectsForThisFile, runJit, runJitMerged } from './helpers.js';

const projects = projectsForThisFile();
const project = projects.initialized;

/** The --json failure contract: exit code, error code, the JSON error on stdout and nothing on stderr. */
function expectFailure(run: JitRun, exitCode: number, code: string): ReturnType<typeof errorOf> {
  expect(run.code, run.stdout + run.stderr).toBe(exitCode);
  expect(run.stderr).toBe('');
  const error = errorOf(run);
  expect(error.code).toBe(code);
  expect(error.message.length).toBeGreaterThan(0);
  return error;
}

describe.concurrent('jit failures', () => {
  it('with --json a failure prints its JSON error and nothing else, even with stderr merged into stdout', async () => {
    const p = await project();
    const empty = projects.empty();
    const cases: Array<[cwd: string, args: string[], exitCode: number, code: string]> = [
      [p.dir, ['issue', 'show'], 2, 'INVALID_ARGUMENT'], // commander: missing argument
      [p.dir, ['issue'], 2, 'INVALID_ARGUMENT'], // commander: a group without its subcommand (would print its help)
      [p.dir, ['registry'], 2, 'INVALID_ARGUMENT'],
      [p.dir, ['isue', 'list'], 2, 'INVALID_ARGUMENT'], // unknown command
      [p.dir, ['issue', 'list', '--bogus'], 2, 'INVALID_ARGUMENT'], // unknown option
      [p.dir, ['events', 'tail', '-n', 'many'], 2, 'INVALID_ARGUMENT'], // bad option value
      [p.dir, ['issue', 'show', 'ffffffff'], 3, 'ISSUE_NOT_FOUND'], // JitError from the store
      [empty.dir, ['status'], 3, 'NOT_INITIALIZED'], // main.ts's fast path
      [empty.dir, ['issue', 'list'], 3, 'NOT_INITIALIZED'],
    ];
    for (const [cwd, args, exitCode, code] of cases) {
      for (const line of [['--json', ...args], [...args, '--json']]) {
        const run = await runJitMerged(line, { cwd });
        expect(run.code, `jit ${line.join(' ')}: ${run.output}`).toBe(exitCode);
        expect(JSON.parse(run.output), `jit ${line.join(' ')}`).toMatchObject({ error: { code } });
      }
    }
    // validate's report is its data even when problems remain (exit 4): only JSON there too.
    appendFileSync(path.join(p.jitDir, 'events.jsonl'), '{"torn');
    const validate = await runJitMerged(['--json', 'validate'], { cwd: p.dir });
    expect(validate.code).toBe(4);
    expect(JSON.parse(validate.output)).toMatchObject({ ok: false });
  });

  it('missing .jit/ -> exit 3 NOT_INITIALIZED, suggesting jit init', async () => {
    const empty = projects.empty();
    const error = expectFailure(await empty.run(['--json', 'status']), 3, 'NOT_INITIALIZED');
    expect(error.suggestions.join(' ')).toMatch(/jit init/);
    const human = await empty.run(['query', 'ready']);
    expect(human.code).toBe(3);
    expect(human.stdout).toBe('');
    expect(human.stderr).toMatch(/jit init/);
  });

  it('unknown id -> 3, malformed id -> 2, ambiguous prefix -> 2', async () => {
    const p = await project();
    const issue = await p.json(['issue', 'create', '-t', 'Real']);
    expectFailure(await p.run(['--json', 'issue', 'show', issue.id.startsWith('ffff') ? '0000' : 'ffff']), 3, 'ISSUE_NOT_FOUND');
    expectFailure(await p.run(['--json', 'issue', 'show', '../../etc/passwd']), 2, 'INVALID_ID');
    expectFailure(await p.run(['--json', 'issue', 'show', 'abc']), 2, 'INVALID_ID');

    // A second issue sharing the first 5 characters, written in the .jit format by hand (the index notices the new file).
    const twinId = issue.id.slice(0, 5) + (issue.id[5] === '0' ? '1' : '0') + issue.id.slice(6);
    const issuesDir = path.join(p.jitDir, 'issues');
    writeFileSync(path.join(issuesDir, `${twinId}.json`), JSON.stringify({ ...issue, id: twinId, title: 'Twin' }, null, 2));

    const error = expectFailure(await p.run(['--json', 'issue', 'show', issue.id.slice(0, 5)]), 2, 'AMBIGUOUS_ID');
    expect(error.suggestions.join(' ')).toMatch(/more characters/);
    expect((await p.json(['issue', 'show', twinId.slice(0, 6)])).title).toBe('Twin');
  });

  it('bad state name -> 2 INVALID_ARGUMENT naming the accepted states', async () => {
    const p = await project();
    const issue = await p.json(['issue', 'create', '-t', 'Stateful']);
    const error = expectFailure(await p.run(['--json', 'issue', 'update', issue.id, '--state', 'finished']), 2, 'INVALID_ARGUMENT');
    expect(error.suggestions.join(' ')).toMatch(/in_progress/);
    expect((await p.json(['issue', 'show', issue.id])).state).toBe('ready');
  });

  it('a dependency cycle -> 4 CYCLE naming the issues', async () => {
    const p = await project();
    const a = await p.json(['issue', 'create', '-t', 'A']);
    const b = await p.json(['issue', 'create', '-t', 'B', '--dep', a.id]);
    const error = expectFailure(await p.run(['--json', 'dep', 'add', a.id, b.id]), 4, 'CYCLE');
    expect(error.message).toContain(a.id.slice(0, 8));
    expect(error.message).toContain(b.id.slice(0, 8));
    expectFailure(await p.run(['--json', 'dep', 'add', a.id, a.id]), 4, 'CYCLE');
    expect((await p.json(['issue', 'show', a.id])).dependencies).toEqual([]);
  });

  it('claims, duplicates and empty queues: 6 ALREADY_CLAIMED, 6 ALREADY_EXISTS, 3 NO_READY_ISSUE, 3 GATE_NOT_FOUND', async () => {
    const p = await project();
    const issue = await p.json(['issue', 'create', '-t', 'Contested']);
    await p.json(['issue', 'claim', issue.id, 'agent:first']);
    expectFailure(await p.run(['--json', 'issue', 'claim', issue.id, 'agent:second']), 6, 'ALREADY_CLAIMED');
    expectFailure(await p.run(['--json', 'issue', 'claim-next', 'agent:second']), 3, 'NO_READY_ISSUE');
    await p.json(['registry', 'add', 'lint', '-t', 'Lint']);
    expectFailure(await p.run(['--json', 'registry', 'add', 'lint', '-t', 'Again']), 6, 'ALREADY_EXISTS');
    expectFailure(await p.run(['--json', 'gate', 'add', issue.id, 'nope']), 3, 'GATE_NOT_FOUND');
    expectFailure(await p.run(['--json', 'registry', 'show', 'nope']), 3, 'GATE_NOT_FOUND');
  });

  it('a corrupt issue file -> 10 CORRUPT_FILE naming the file; nothing is overwritten', async () => {
    const p = await project();
    const issue = await p.json(['issue', 'create', '-t', 'Will be corrupted']);
    const file = path.join(p.jitDir, 'issues', `${issue.id}.json`);
    writeFileSync(file, '{"id": "truncated');
    const error = expectFailure(await p.run(['--json', 'issue', 'show', issue.id]), 10, 'CORRUPT_FILE');
    expect(error.message).toContain(`${issue.id}.json`);
    expectFailure(await p.run(['--json', 'issue', 'update', issue.id, '-t', 'x']), 10, 'CORRUPT_FILE');
    expect(readFileSync(file, 'utf8')).toBe('{"id": "truncated');
    const validate = await p.run(['--json', 'validate']);
    expect(validate.code).toBe(4);
    expect(JSON.parse(validate.stdout).problems).toEqual(
      expect.arrayContaining([expect.objectContaining({ kind: 'corrupt_file' })]),
    );
  });

  it('an issue file too large to be text (over V8\'s string limit) -> 10 CORRUPT_FILE, also listed by validate, never INTERNAL', async () => {
    const p = await project();
    const issue = await p.json(['issue', 'create', '-t', 'Will be blown up']);
    const file = path.join(p.jitDir, 'issues', `${issue.id}.json`);
    truncateSync(file, constants.MAX_STRING_LENGTH + 1); // sparse: no disk is used
    try {
      const error = expectFailure(await p.run(['--json', 'issue', 'show', issue.id]), 10, 'CORRUPT_FILE');
      expect(error.message).toContain(`${issue.id}.json`);
      const validate = await p.run(['--json', 'validate']);
      expect(validate.code, validate.stdout + validate.stderr).toBe(4);
      expect(JSON.parse(validate.stdout).problems).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'corrupt_file', fixable: false })]));
      expect(statSync(file).size).toBe(constants.MAX_STRING_LENGTH + 1);
    } finally {
      truncateSync(file, 0);
    }
  });

  it('gate fail on a done issue is refused with exit 4 and says to reopen it', async () => {
    const p = await project();
    await p.json(['registry', 'add', 'tests', '-t', 'Tests']);
    const issue = await p.json(['issue', 'create', '-t', 'A', '-g', 'tests']);
    await p.json(['gate', 'pass', issue.id, 'tests']);
    await p.json(['issue', 'update', issue.id, '--state', 'done']);
    const run = await p.run(['--json', 'gate', 'fail', issue.id, 'tests']);
    expect(run.code).toBe(4);
    expect(errorOf(run)).toMatchObject({ code: 'INVALID_TRANSITION', suggestions: [`jit issue update ${issue.id.slice(0, 8)} --state in_progress`] });
    expect((await p.json(['issue', 'show', issue.id])).gates_status.tests.status).toBe('passed');
  });

  it('a whole last event without its final newline survives validate --fix (the newline is appended)', async () => {
    const p = await project();
    await p.json(['issue', 'create', '-t', 'A']);
    await p.json(['issue', 'create', '-t', 'B']);
    const file = path.join(p.jitDir, 'events.jsonl');
    const whole = readFileSync(file, 'utf8');
    writeFileSync(file, whole.replace(/\n$/, ''));
    const report = await p.run(['--json', 'validate']);
    expect(report.code).toBe(4);
    expect(JSON.parse(report.stdout).problems).toEqual([expect.objectContaining({ kind: 'missing_final_newline', fixable: true })]);
    expect((await p.run(['validate', '--fix'])).code).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(whole);
    const tail = await p.json(['events', 'tail']);
    expect(tail.events.map((event: { title?: string }) => event.title)).toEqual(['A', 'B']);
  });

  it('a torn last events line is skipped by readers, reported by validate (exit 4) and repaired by --fix', async () => {
    const p = await project();
    await p.json(['issue', 'create', '-t', 'Before the crash']);
    appendFileSync(path.join(p.jitDir, 'events.jsonl'), '{"type":"issue_created","id":"torn');
    const tail = await p.json(['events', 'tail']);
    expect(tail.events.map((event: { type: string }) => event.type)).toEqual(['issue_created']);

    const report = await p.run(['--json', 'validate']);
    expect(report.code).toBe(4);
    expect(JSON.parse(report.stdout)).toMatchObject({ ok: false, problems: [expect.objectContaining({ kind: 'torn_event_line', fixable: true })] });
    expect(report.stderr).toBe('');
    const human = await p.run(['validate']);
    expect(human.code).toBe(4);
    expect(human.stderr).toMatch(/^jit: validate: 1 problem\(s\) remain\. 1 can be repaired with `jit validate --fix`\.\n$/);

    const fixed = await p.run(['--json', 'validate', '--fix']);
    expect(fixed.code).toBe(0);
    expect(JSON.parse(fixed.stdout).fixed.length).toBeGreaterThan(0);
    expect(await p.json(['validate'])).toMatchObject({ ok: true, problems: [] });
  });

  it('a file-system failure outside the store -> 10 IO_ERROR naming the path', async () => {
    const p = await project();
    const target = path.join(p.dir, 'no-such-folder', 'graph.dot');
    const error = expectFailure(await p.run(['--json', 'graph', 'export', '--format', 'dot', '--output', target]), 10, 'IO_ERROR');
    expect(error.message).toContain(target);
  });

  it('graph export -o refuses .jit/ (also through a symlinked folder) and a symlink at the target; writes atomically', async () => {
    const p = await project();
    const issue = await p.json(['issue', 'create', '-t', 'Exported']);
    const indexPath = path.join(p.jitDir, 'index.json');
    const issuePath = path.join(p.jitDir, 'issues', `${issue.id}.json`);
    const before = { index: readFileSync(indexPath, 'utf8'), issue: readFileSync(issuePath, 'utf8') };
    symlinkSync(p.jitDir, path.join(p.dir, 'store-link'));
    mkdirSync(path.join(p.dir, 'sub'));
    for (const [cwd, target] of [
      [p.dir, '.jit/index.json'],
      [p.dir, `.jit/issues/${issue.id}.json`],
      [p.dir, '.jit'],
      [p.dir, path.join(p.jitDir, 'new-file.dot')],
      [p.dir, 'store-link/index.json'],
      [path.join(p.dir, 'sub'), '../.jit/gates.json'],
    ] as const) {
      const run = await runJit(['--json', 'graph', 'export', '-f', 'mermaid', '-o', target], { cwd });
      const error = expectFailure(run, 2, 'INVALID_ARGUMENT');
      expect(error.message).toMatch(/inside the tracker's own directory/);
      expect(error.suggestions.length).toBeGreaterThan(0);
    }
    expect(readFileSync(indexPath, 'utf8')).toBe(before.index);
    expect(readFileSync(issuePath, 'utf8')).toBe(before.issue);
    expect(existsSync(path.join(p.jitDir, 'new-file.dot'))).toBe(false);
    expect((await p.json(['validate'])).ok).toBe(true);

    // A symlink at the target is refused, not followed.
    writeFileSync(path.join(p.dir, 'victim.txt'), 'keep me');
    symlinkSync('victim.txt', path.join(p.dir, 'link.dot'));
    expectFailure(await p.run(['--json', 'graph', 'export', '-f', 'dot', '-o', 'link.dot']), 10, 'UNSAFE_PATH');
    expect(readFileSync(path.join(p.dir, 'victim.txt'), 'utf8')).toBe('keep me');
    expect(lstatSync(path.join(p.dir, 'link.dot')).isSymbolicLink()).toBe(true);

    // An existing file (here a hard link to a file in .jit/ that jit does not read: a linked
    // index.json would be refused as UNSAFE_PATH) is replaced by a rename, never written through.
    const gitignore = path.join(p.jitDir, '.gitignore');
    const ignored = readFileSync(gitignore, 'utf8');
    linkSync(gitignore, path.join(p.dir, 'hard.dot'));
    const ok = await p.json(['graph', 'export', '-f', 'dot', '-o', 'hard.dot']);
    expect(ok).toMatchObject({ format: 'dot', output: 'hard.dot', nodes: 1, edges: 0 });
    expect(readFileSync(path.join(p.dir, 'hard.dot'), 'utf8')).toMatch(/^digraph jit \{/);
    expect(readFileSync(gitignore, 'utf8')).toBe(ignored);
    expect(readFileSync(indexPath, 'utf8')).toBe(before.index);
    expect(readdirSync(p.dir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('errors the store gives no suggestion get one from the shared hints', async () => {
    const p = await project();
    const a = await p.json(['issue', 'create', '-t', 'A']);
    const b = await p.json(['issue', 'create', '-t', 'B', '--dep', a.id]);
    const hints = async (args: string[], exitCode: number, code: string) => expectFailure(await p.run(['--json', ...args]), exitCode, code).suggestions;
    await p.json(['issue', 'update', b.id, '--state', 'rejected']);
    expect(await hints(['issue', 'claim', b.id, 'agent:late'], 4, 'INVALID_TRANSITION')).toEqual([`\`jit issue show ${b.id.slice(0, 8)}\` shows its state and assignee.`]);
    expect((await hints(['issue', 'update', a.id, '-l', 'c:d, nonamespace'], 2, 'INVALID_ARGUMENT'))[0]).toMatch(/namespace:value.*type:bug/);
    expect((await hints(['query', 'label', 'epic:a*'], 2, 'INVALID_ARGUMENT'))[0]).toMatch(/epic:\*/);
    expect((await hints(['gate', 'add', a.id, 'bad key'], 2, 'INVALID_ARGUMENT'))[0]).toMatch(/jit registry list/);
    expect((await hints(['issue', 'search', ' '], 2, 'INVALID_ARGUMENT'))[0]).toMatch(/jit issue search timeout/);
  });

  it('reserved context keys (__proto__, constructor, prototype) -> 2 INVALID_ARGUMENT, as over MCP', async () => {
    const p = await project();
    for (const key of ['__proto__', 'constructor', 'prototype']) {
      const error = expectFailure(await p.run(['--json', 'issue', 'create', '-t', 'x', '-c', 'branch=main', '-c', `${key}=v`]), 2, 'INVALID_ARGUMENT');
      expect(error.message).toContain(key);
    }
    expect((await p.json(['query', 'all'])).count).toBe(0);
  });

  it('invalid JIT_LOCK_TIMEOUT -> 2 INVALID_ENV', async () => {
    const p = await project();
    const error = expectFailure(await p.run(['--json', 'issue', 'create', '-t', 'x'], { JIT_LOCK_TIMEOUT: 'soon' }), 2, 'INVALID_ENV');
    expect(error.message).toMatch(/JIT_LOCK_TIMEOUT/);
    expect((await p.json(['query', 'all'])).count).toBe(0);
  });

  it('human errors are one line with a hint; JIT_DEBUG=1 adds the stack', async () => {
    const empty = projects.empty();
    const human = await empty.run(['status']);
    expect(human.stdout).toBe('');
    expect(human.stderr).toMatch(/^jit: error: .*Hint: .*jit init.*\[NOT_INITIALIZED\]\n$/);
    // Several suggestions are numbered, and a bare command is quoted like the commands inside sentences.
    expect(human.stderr).toContain('Hint: (1) Run `jit init` in your project folder. (2) Or pass --dir PATH / set JIT_DIR.');
    const p = await project();
    const gate = await p.run(['registry', 'show', 'nope']);
    expect(gate.stderr).toContain('Hint: (1) `jit registry add nope --title "..."` (2) `jit registry list` [GATE_NOT_FOUND]');
    const debug = await empty.run(['status'], { JIT_DEBUG: '1' });
    expect(debug.code).toBe(3);
    expect(debug.stderr).toMatch(/^\s+at /m);
  });
});
