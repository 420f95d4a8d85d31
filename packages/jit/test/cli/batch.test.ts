// Issue 16, bulk and batch: issue batch-create (one transaction, all or nothing), issue update --filter,
// and the commands that take several targets.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { JIT_BIN, TEST_LOCK_TIMEOUT_SECONDS, errorOf, holdLock, projectsForThisFile, waitersOn, type TempProject } from './helpers.js';

const projects = projectsForThisFile();

async function batch(p: TempProject, entries: unknown): Promise<ReturnType<TempProject['run']> extends Promise<infer R> ? R : never> {
  const file = path.join(p.dir, `batch-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(entries));
  return p.run(['--json', 'issue', 'batch-create', '--from-json', file]);
}

const count = async (p: TempProject): Promise<number> => (await p.json(['issue', 'list'])).issues.length;

describe.concurrent('issue batch-create', () => {
  it('creates issues with local refs, existing dependencies, gates and labels; maps each key to its id', async () => {
    const p = await projects.initialized();
    await p.json(['registry', 'add', 'review', '-t', 'Code review']);
    const base = await p.json(['issue', 'create', '-t', 'Base']);
    const run = await batch(p, {
      issues: [
        { ref: 'api', title: 'API', labels: ['epic:auth', 'type:task'], dependencies: [base.id.slice(0, 8)], gates: ['review'] },
        { ref: 'ui', title: 'UI', priority: 'high', dependencies: ['api'], context: { area: 'web' } },
        { title: 'Docs', dependencies: ['ui', 'api'], assignee: 'agent:w1' },
      ],
    });
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.created).toBe(3);
    expect(Object.keys(result.ids)).toEqual(['api', 'ui', '[2]']);
    const api = await p.json(['issue', 'show', result.ids.api]);
    expect(api).toMatchObject({ title: 'API', state: 'backlog', dependencies: [base.id], gates_required: ['review'], labels: ['epic:auth', 'type:task'] });
    const ui = await p.json(['issue', 'show', result.ids.ui]);
    expect(ui).toMatchObject({ priority: 'high', state: 'backlog', dependencies: [result.ids.api], context: { area: 'web' } });
    const docs = await p.json(['issue', 'show', result.ids['[2]']]);
    expect(docs).toMatchObject({ dependencies: [result.ids.ui, result.ids.api], assignee: 'agent:w1' });
    // Finishing the existing dependency promotes the batch's first issue.
    await p.json(['issue', 'update', base.id, '--state', 'done']);
    expect((await p.json(['issue', 'show', result.ids.api])).state).toBe('ready');
    expect((await p.run(['validate'])).code).toBe(0);
    // Standard input, with -.
    const piped = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const child = spawn(process.execPath, [JIT_BIN, '--json', 'issue', 'batch-create', '--from-json', '-'], { cwd: p.dir, env: { ...process.env, JIT_LOCK_TIMEOUT: TEST_LOCK_TIMEOUT_SECONDS } });
      let stdout = '';
      child.stdout.on('data', (chunk) => (stdout += chunk));
      child.on('close', (code) => resolve({ code, stdout }));
      child.stdin.end(JSON.stringify([{ title: 'From stdin' }]));
    });
    expect(piped.code).toBe(0);
    expect(JSON.parse(piped.stdout).issues[0]).toMatchObject({ title: 'From stdin', state: 'ready' });
  }, 180_000);

  it('refuses bad input naming the entry and field, and creates nothing', async () => {
    const p = await projects.initialized();
    const cases: Array<[unknown, number, string, string]> = [
      [[{ title: 'ok' }, { description: 'no title' }], 2, 'INVALID_ARGUMENT', '[1]'],
      [[{ title: 'ok', priority: 'urgent' }], 2, 'INVALID_ARGUMENT', '[0] priority'],
      [[{ title: 'ok', labels: ['nonamespace'] }], 2, 'INVALID_ARGUMENT', '[0] labels'],
      [[{ title: 'ok', colour: 'red' }], 2, 'INVALID_ARGUMENT', '[0]'],
      [[{ ref: 'a', title: 'a' }, { ref: 'a', title: 'b' }], 2, 'INVALID_ARGUMENT', 'already the key of entry [0]'],
      [[{ title: 'a', dependencies: ['nosuchref'] }], 2, 'INVALID_ID', 'entry [0] dependency "nosuchref"'],
      [[{ title: 'a', dependencies: ['abcd1234'] }], 3, 'DEPENDENCY_NOT_FOUND', 'entry [0]'],
      [[{ title: 'a', gates: ['nosuchgate'] }], 2, 'INVALID_ARGUMENT', '[0] gates'],
      [[{ ref: 'a', title: 'a', dependencies: ['c'] }, { ref: 'b', title: 'b', dependencies: ['a'] }, { ref: 'c', title: 'c', dependencies: ['b'] }], 4, 'CYCLE', 'a -> c -> b -> a'],
      [[{ ref: 'a', title: 'a', dependencies: ['a'] }], 4, 'CYCLE', 'a -> a'],
      [[], 2, 'INVALID_ARGUMENT', 'batch'],
      [{ issue: [] }, 2, 'INVALID_ARGUMENT', 'batch'],
    ];
    const runs = await Promise.all(cases.map(([input]) => batch(p, input)));
    for (const [i, [input, code, errorCode, words]] of cases.entries()) {
      const run = runs[i]!;
      expect(run.code, JSON.stringify(input)).toBe(code);
      expect(errorOf(run).code, JSON.stringify(input)).toBe(errorCode);
      expect(errorOf(run).message, JSON.stringify(input)).toContain(words);
    }
    const notJson = path.join(p.dir, 'bad.json');
    writeFileSync(notJson, '[{"title": ');
    const run = await p.run(['--json', 'issue', 'batch-create', '--from-json', notJson]);
    expect(run.code).toBe(2);
    expect(errorOf(run).message).toContain('is not JSON');
    expect(await count(p)).toBe(0);
    expect(readdirSync(path.join(p.jitDir, 'pending'))).toEqual([]);
  }, 180_000);

  it('an entry of the wrong shape names it in details.entry, as every batch entry error does (docs/errors.md)', async () => {
    const p = await projects.initialized();
    for (const input of [[{ title: 'ok' }, { title: 5 }], { issues: [{ title: 'ok' }, { title: 'b', labels: 'type:bug' }] }, [{ title: 'ok' }, null]]) {
      const run = await batch(p, input);
      expect(run.code, JSON.stringify(input)).toBe(2);
      expect(errorOf(run).details, JSON.stringify(input)).toMatchObject({ entry: 1, field: expect.stringMatching(/^\[1\]/) });
    }
    expect(await count(p)).toBe(0);
  }, 180_000);

  it('a ref that is the full id of an existing issue is refused as ambiguous; a shorter ref wins over an id prefix', async () => {
    const p = await projects.initialized();
    const existing = (await p.json(['issue', 'create', '-t', 'Existing'])).id as string;
    for (const key of [existing, existing.toUpperCase()]) {
      const run = await batch(p, [{ ref: key, title: 'Shadow' }, { title: 'Waits', dependencies: [key] }]);
      expect(run.code, `${key}: ${run.stdout}`).toBe(2);
      expect(errorOf(run)).toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: '[1].dependencies', entry: 1 } });
      expect(errorOf(run).message).toContain(existing);
    }
    expect(await count(p)).toBe(1);
    // Numeric or hex refs ("1001") often spell some issue's prefix in a big store: the batch's own ref is meant.
    const key = existing.slice(0, 4);
    const run = await batch(p, [{ ref: key, title: 'Local' }, { title: 'Waits', dependencies: [key] }]);
    expect(run.code, run.stdout).toBe(0);
    const made = JSON.parse(run.stdout);
    expect(made.issues[1].dependencies).toEqual([made.ids[key]]);
  }, 180_000);

  it('a ref spelled like the key of an entry without one ("[0]") is refused: every new issue keeps its key in ids', async () => {
    const p = await projects.initialized();
    const run = await batch(p, [{ title: 'No ref' }, { ref: '[0]', title: 'Ref [0]' }]);
    expect(run.code, run.stdout).toBe(2);
    expect(errorOf(run)).toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: '[1].ref', entry: 1 } });
    expect(await count(p)).toBe(0);
    // Other bracketed refs are fine.
    const ok = await batch(p, [{ title: 'No ref' }, { ref: '[x]', title: 'Ref [x]' }]);
    expect(ok.code, ok.stdout).toBe(0);
    expect(Object.keys(JSON.parse(ok.stdout).ids)).toEqual(['[0]', '[x]']);
  }, 180_000);

  it('control characters from the input (a ref in a cycle) reach the error line escaped, never raw to the terminal', async () => {
    const p = await projects.initialized();
    const file = path.join(p.dir, 'escape.json');
    writeFileSync(file, JSON.stringify([{ ref: 'a\u001b[31mRED', title: 'A', dependencies: ['b'] }, { ref: 'b', title: 'B', dependencies: ['a\u001b[31mRED'] }]));
    const run = await p.run(['issue', 'batch-create', '--from-json', file]);
    expect(run.code).toBe(4);
    expect(run.stderr).not.toContain('\u001b');
    expect(run.stderr).toContain('a\\x1b[31mRED -> b');
  }, 180_000);

  it('a batch killed at any point leaves all of it or none of it (a reader completes a dead writer\'s batch)', async () => {
    const p = await projects.initialized();
    const size = 300;
    for (const [round, delay] of [50, 200, 400, 700, 1000, 1400, 2000].entries()) {
      const entries = Array.from({ length: size }, (_, i) => ({ ref: `k${i}`, title: `r${round} #${i}`, labels: [`round:${round}`], dependencies: i > 0 ? [`k${i - 1}`] : [] }));
      const file = path.join(p.dir, `kill-${round}.json`);
      writeFileSync(file, JSON.stringify(entries));
      const child = spawn(process.execPath, [JIT_BIN, 'issue', 'batch-create', '--from-json', file], { cwd: p.dir, env: { ...process.env, JIT_LOCK_TIMEOUT: TEST_LOCK_TIMEOUT_SECONDS }, stdio: 'ignore' });
      // Listened for from the start: a batch that ends before the kill has closed already (awaiting it then never resolved).
      const closed = new Promise((resolve) => child.once('close', resolve));
      await new Promise((resolve) => setTimeout(resolve, delay));
      child.kill('SIGKILL');
      await closed;
      const made = (await p.json(['issue', 'list', '-l', `round:${round}`])).issues as Array<{ id: string; dependencies: string[] }>;
      expect([0, size], `round ${round} (killed after ${delay} ms)`).toContain(made.length);
      // Whatever exists has its whole chain (no dependency on an issue that was never written).
      const ids = new Set(made.map((issue) => issue.id));
      for (const issue of made) for (const d of issue.dependencies) expect(ids.has(d)).toBe(true);
    }
    const validate = await p.run(['--json', 'validate']);
    expect(validate.code, validate.stdout).toBe(0);
  }, 300_000);
});

describe.concurrent('batch-create and file descriptors', () => {
  // New issues take no lock each, and their files are written at most 64 at a time: a big batch fits a small limit.
  it.skipIf(process.platform === 'win32')('1,000 issues under ulimit -n 128', async () => {
    const p = await projects.initialized();
    const file = path.join(p.dir, 'big.json');
    writeFileSync(file, JSON.stringify(Array.from({ length: 1000 }, (_, i) => ({ ref: `k${i}`, title: `Issue ${i}`, dependencies: i > 0 ? [`k${i - 1}`] : [] }))));
    const run = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn('sh', ['-c', `ulimit -n 128 && exec "$0" "$@"`, process.execPath, JIT_BIN, '--json', 'issue', 'batch-create', '--from-json', file], {
        cwd: p.dir,
        env: { ...process.env, JIT_LOCK_TIMEOUT: TEST_LOCK_TIMEOUT_SECONDS },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk) => (stdout += chunk));
      child.stderr.on('data', (chunk) => (stderr += chunk));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).created).toBe(1000);
    expect(await count(p)).toBe(1000);
  }, 180_000);
});

describe.concurrent('a batch left by a killed writer', () => {
  it('is completed by the next reader from pending/batch.*.json, then cleared by validate', async () => {
    const p = await projects.initialized();
    const made = JSON.parse((await batch(p, [{ ref: 'a', title: 'A' }, { ref: 'b', title: 'B', dependencies: ['a'] }, { ref: 'c', title: 'C', dependencies: ['b'] }])).stdout).ids;
    const issues = ['a', 'b', 'c'].map((ref) => JSON.parse(readFileSync(path.join(p.jitDir, 'issues', `${made[ref]}.json`), 'utf8')));
    // As a writer killed after its rows and part of its files leaves it: the batch file, one issue file of three.
    writeFileSync(path.join(p.jitDir, 'pending', 'batch.999999.1.json'), JSON.stringify(issues));
    for (const ref of ['b', 'c']) rmSync(path.join(p.jitDir, 'issues', `${made[ref]}.json`));
    const listed = (await p.json(['issue', 'list'])).issues.map((issue: { id: string }) => issue.id);
    expect(listed.sort()).toEqual([made.a, made.b, made.c].sort());
    expect(existsSync(path.join(p.jitDir, 'issues', `${made.c}.json`))).toBe(true);
    expect((await p.json(['issue', 'show', made.c])).dependencies).toEqual([made.b]);
    const validate = await p.run(['--json', 'validate']);
    expect(validate.code, validate.stdout).toBe(0);
    expect(readdirSync(path.join(p.jitDir, 'pending'))).toEqual([]);
  }, 180_000);
});

describe.concurrent('issue update --filter', () => {
  it('updates every match under its own rules: changed, unchanged and refused (exit 4); --dry-run writes nothing', async () => {
    const p = await projects.initialized();
    const made = JSON.parse(
      (
        await batch(p, [
          { ref: 'a', title: 'Auth API', labels: ['epic:auth'] },
          { ref: 'b', title: 'Auth UI', labels: ['epic:auth'], dependencies: ['a'] },
          { ref: 'c', title: 'Billing', labels: ['epic:billing'], priority: 'high' },
        ])
      ).stdout,
    ).ids;
    const dry = await p.json(['issue', 'update', '--filter', 'label:epic:auth OR priority:high', '--state', 'in_progress', '--dry-run']);
    expect(dry).toMatchObject({ dry_run: true, matched: 3 });
    expect(dry.changed.map((o: { id: string }) => o.id).sort()).toEqual([made.a, made.b, made.c].sort());
    expect((await p.json(['issue', 'show', made.a])).state).toBe('ready');

    const run = await p.run(['--json', 'issue', 'update', '--filter', 'label:epic:auth OR priority:high', '--state', 'in_progress']);
    expect(run.code).toBe(4);
    const report = JSON.parse(run.stdout);
    expect(report.changed.map((o: { id: string }) => o.id).sort()).toEqual([made.a, made.c].sort());
    expect(report.changed[0].fields).toEqual(['state']);
    expect(report.refused).toEqual([expect.objectContaining({ id: made.b, error: expect.objectContaining({ code: 'INVALID_TRANSITION' }) })]);

    const again = await p.run(['--json', 'issue', 'update', '--filter', 'state:in_progress AND NOT label:epic:billing', '--state', 'in_progress', '-l', 'team:core']);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ matched: 1, changed: [{ id: made.a, fields: ['labels'] }], refused: [] });
    const none = await p.json(['issue', 'update', '--filter', 'state:done', '-p', 'low']);
    expect(none).toMatchObject({ matched: 0, changed: [], unchanged: [], refused: [] });
  }, 180_000);

  it('bad filters and arguments: INVALID_ARGUMENT (exit 2) with the column', async () => {
    const p = await projects.initialized();
    const bad = await p.run(['--json', 'issue', 'update', '--filter', 'state:ready AND (label:x:y', '-p', 'low']);
    expect(bad.code).toBe(2);
    expect(errorOf(bad)).toMatchObject({ code: 'INVALID_ARGUMENT', details: { column: 27 } });
    const human = await p.run(['issue', 'update', '--filter', 'state:ready OR', '-p', 'low']);
    expect(human.stderr).toContain('column 15');
    expect(human.stderr).toContain('state:ready OR^');
    for (const args of [['--filter', 'state:ready'], ['abcd1234', '--filter', 'state:ready', '-p', 'low'], ['-p', 'low'], ['abcd1234', '--dry-run', '-p', 'low']]) {
      const run = await p.run(['--json', 'issue', 'update', ...args]);
      expect(run.code, args.join(' ')).toBe(2);
      expect(errorOf(run).code).toBe('INVALID_ARGUMENT');
    }
  }, 180_000);

  it('re-checks the filter under each issue\'s lock: an issue claimed after the match is left alone, not given back', async () => {
    const p = await projects.initialized();
    const id = (await p.json(['issue', 'create', '-t', 'Soon claimed'])).id as string;
    const lockPath = path.join(p.jitDir, 'issues', `${id}.lock`);
    const holder = await holdLock(lockPath);
    // The update lists the issue as ready, then waits for its lock ...
    const pending = p.run(['--json', 'issue', 'update', '--filter', 'state:ready', '--state', 'backlog']);
    await waitersOn(lockPath, 1);
    // ... while another agent claims it (as a writer does, under the lock, with a marker).
    const file = path.join(p.jitDir, 'issues', `${id}.json`);
    const claimed = { ...JSON.parse(readFileSync(file, 'utf8')), state: 'in_progress', assignee: 'agent:w1' };
    writeFileSync(path.join(p.jitDir, 'pending', `${id}.999999.1`), '');
    writeFileSync(file, JSON.stringify(claimed, null, 2) + '\n');
    await holder.release();
    const run = await pending;
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ matched: 0, changed: [], unchanged: [], refused: [] });
    expect(await p.json(['issue', 'show', id])).toMatchObject({ state: 'in_progress', assignee: 'agent:w1' });
  }, 180_000);

  it('an issue deleted after the match no longer matches: left out, not refused (exit 0)', async () => {
    const p = await projects.initialized();
    const id = (await p.json(['issue', 'create', '-t', 'Soon deleted'])).id as string;
    const lockPath = path.join(p.jitDir, 'issues', `${id}.lock`);
    const holder = await holdLock(lockPath);
    const pending = p.run(['--json', 'issue', 'update', '--filter', 'state:ready', '-p', 'low']);
    await waitersOn(lockPath, 1);
    // Deleted meanwhile, as a writer does it: under the lock, with a marker.
    writeFileSync(path.join(p.jitDir, 'pending', `${id}.999999.1`), '');
    rmSync(path.join(p.jitDir, 'issues', `${id}.json`));
    await holder.release();
    const run = await pending;
    expect(run.code, run.stdout).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ matched: 0, changed: [], unchanged: [], refused: [] });
  }, 180_000);

  it('a filter nested too deep (parentheses, NOT) is INVALID_ARGUMENT with the column, not a stack overflow', async () => {
    const p = await projects.initialized();
    const deep = ['('.repeat(50_000) + 'state:ready' + ')'.repeat(50_000), 'NOT '.repeat(20_000) + 'state:ready', '! '.repeat(40_000) + 'state:ready'];
    for (const filter of deep) {
      const run = await p.run(['--json', 'issue', 'update', '--filter', filter, '-p', 'low']);
      expect(run.code, run.stdout.slice(0, 300)).toBe(2);
      expect(errorOf(run)).toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'filter', column: expect.any(Number) } });
      expect(errorOf(run).message).toContain('nested');
    }
    // Nesting within the limit still works.
    const fine = await p.run(['--json', 'issue', 'update', '--filter', '('.repeat(50) + 'NOT NOT state:ready' + ')'.repeat(50), '-p', 'low']);
    expect(fine.code, fine.stdout).toBe(0);
  }, 180_000);
});

describe.concurrent('several targets and script output', () => {
  it('dep add FROM TO..., gate add ID KEY..., issue show ID..., --field/--fields, create --quiet', async () => {
    const p = await projects.initialized();
    await p.json(['registry', 'add', 'tests', '-t', 'Tests']);
    await p.json(['registry', 'add', 'review', '-t', 'Review']);
    const quiet = await p.run(['issue', 'create', '-t', 'Quiet one', '--quiet']);
    expect(quiet.code).toBe(0);
    expect(quiet.stdout).toMatch(/^[0-9a-f-]{36}\n$/);
    const a = quiet.stdout.trim();
    const b = (await p.run(['issue', 'create', '-t', 'B', '-q'])).stdout.trim();
    const c = (await p.run(['issue', 'create', '-t', 'C', '-q'])).stdout.trim();
    const dep = await p.json(['dep', 'add', a, b, c]);
    expect(dep).toMatchObject({ id: a, dependencies: [b, c], changed: true, state: 'backlog' });
    expect((await p.json(['dep', 'add', a, b, c])).changed).toBe(false);
    const cycle = await p.run(['--json', 'dep', 'add', c, b, a]);
    expect(cycle.code).toBe(4); // c -> b added, c -> a closes a cycle: refused, named
    expect(errorOf(cycle).code).toBe('CYCLE');
    const gates = await p.json(['gate', 'add', a, 'tests', 'review']);
    expect(gates).toMatchObject({ gates_required: ['tests', 'review'], changed: true });
    const shown = await p.json(['issue', 'show', a, b.slice(0, 8)]);
    expect(shown.map((issue: { id: string }) => issue.id)).toEqual([a, b]);
    expect((await p.json(['issue', 'show', a])).id).toBe(a); // one id: the object, as before
    expect((await p.run(['issue', 'show', a, '--field', 'state'])).stdout).toBe('backlog\n');
    expect((await p.run(['issue', 'show', a, b, '--fields', 'id,state,dependencies'])).stdout).toBe(`${a}\tbacklog\t${JSON.stringify([b, c])}\n${b}\tready\t[]\n`);
    expect(await p.json(['issue', 'show', a, '--fields', 'title,state'])).toEqual({ title: 'Quiet one', state: 'backlog' });
    const unknown = await p.run(['--json', 'issue', 'show', a, '--field', 'colour']);
    expect(unknown.code).toBe(2);
    expect(errorOf(unknown).message).toContain('colour');
  }, 180_000);
});
