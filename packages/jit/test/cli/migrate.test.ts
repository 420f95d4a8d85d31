/**
 * `jit migrate` and the detection of the original (Rust) jit's `.jit/`,
 * through the built CLI on a store written by test/support/original-store.ts:
 * the error that names `jit migrate`, a dry run that changes nothing, a
 * migration in place and into a new folder that keeps every field (issues,
 * gates, events, files byte for byte), a clean `jit validate` afterwards, a
 * second run that is a no-op, corrupt sources refused with nothing written,
 * and SIGKILL at random points leaving either the source or the result.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { IDS, KEPT_FILES, ORIGINAL_GATES, writeOriginalStore } from '../support/original-store.js';
import { JIT_BIN, errorOf, holdLock, projectsForThisFile, TEST_LOCK_TIMEOUT_SECONDS, waitersOn } from './helpers.js';

const projects = projectsForThisFile();

/** Every file under `dir` (lock files aside: they are not data) with a hash of its bytes. */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string): void => {
    for (const name of readdirSync(path.join(dir, rel)).sort()) {
      const file = path.join(rel, name);
      if (statSync(path.join(dir, file)).isDirectory()) walk(file);
      else if (!name.endsWith('.lock')) out[file] = createHash('sha256').update(readFileSync(path.join(dir, file))).digest('hex');
    }
  };
  walk('');
  return out;
}

const siblings = (dir: string): string[] => readdirSync(dir).sort();

const STATE_AFTER: Record<string, string> = { open: 'backlog', inprogress: 'in_progress' };

function originalProject(extra = 0): { dir: string; jitDir: string; issues: Record<string, unknown>[]; events: Record<string, unknown>[]; run: ReturnType<typeof projects.empty>['run']; json: ReturnType<typeof projects.empty>['json'] } {
  const project = projects.empty();
  const store = writeOriginalStore(project.dir, extra);
  return { ...project, ...store };
}

describe('an original jit store, not migrated', () => {
  it('is refused with ORIGINAL_JIT_STORE naming `jit migrate`, by readers and writers, and left as it is', async () => {
    const project = originalProject();
    const before = tree(project.jitDir);
    for (const args of [['status'], ['issue', 'list'], ['query', 'ready'], ['issue', 'create', '--title', 'x'], ['validate', '--fix'], ['registry', 'list']]) {
      const run = await project.run(['--json', ...args]);
      expect(run.code, args.join(' ')).toBe(10);
      const error = errorOf(run);
      expect(error.code).toBe('ORIGINAL_JIT_STORE');
      expect(error.suggestions.join(' ')).toContain('jit migrate');
    }
    expect(tree(project.jitDir)).toEqual(before);
  });

  it('our own format-2 manifest (an index.json that only points at index.db) is not taken for the original', async () => {
    const project = projects.empty();
    await project.json(['init']);
    expect(JSON.parse(readFileSync(path.join(project.jitDir, 'index.json'), 'utf8'))).toEqual({ schema_version: 2, index: 'index.db' });
    writeFileSync(path.join(project.jitDir, 'index.json'), JSON.stringify({ schema_version: 2, index: 'index.db' }));
    const run = await project.run(['--json', 'status']);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ total: 0 });
  });
});

describe('jit migrate', () => {
  it('--dry-run says what would change and changes nothing', async () => {
    const project = originalProject();
    const before = tree(project.jitDir);
    const report = await project.json(['migrate', '--dry-run']);
    expect(report).toMatchObject({ dry_run: true, changed: true, in_place: true, issues: 11, gates: 3, deleted_ids: 1, gate_runs: 1, problems: [] });
    expect(report.changes).toEqual(expect.arrayContaining([`issue ${IDS.milestone}: state "open" -> "backlog"`, `issue ${IDS.epic}: state "inprogress" -> "in_progress"`]));
    expect(report.kept).toEqual(expect.arrayContaining(['config.toml', 'gate-runs', 'rules.toml', 'schemas', 'templates.toml', 'invariants.toml']));
    expect(tree(project.jitDir)).toEqual(before);
    expect(siblings(project.dir)).toEqual(['.jit']);
    const human = await project.run(['migrate', '--dry-run']);
    expect(human.stdout).toContain('Nothing was changed (--dry-run).');
  });

  it('in place: every issue, gate, event and file survives, the original is the backup, validate is clean, a second run is a no-op', async () => {
    const project = originalProject();
    const before = tree(project.jitDir);
    const report = await project.json(['migrate']);
    expect(report).toMatchObject({ changed: true, dry_run: false, in_place: true, from: project.jitDir, to: project.jitDir });
    // The backup is the original, byte for byte; nothing else is left beside it.
    expect(siblings(project.dir)).toEqual(['.jit', path.basename(report.backup)].sort());
    expect(tree(report.backup)).toEqual(before);

    // Issues: every field, those this jit does not use included; only the state's spelling changes.
    for (const original of project.issues) {
      const id = original['id'] as string;
      const shown = await project.json(['issue', 'show', id]);
      const expected = { context: {}, gates_status: {}, ...original, state: STATE_AFTER[original['state'] as string] ?? original['state'] };
      expect(shown).toMatchObject(expected);
      const file = JSON.parse(readFileSync(path.join(project.jitDir, 'issues', `${id}.json`), 'utf8'));
      expect(file).toEqual(expected);
    }
    const listed = (await project.json(['issue', 'list'])).issues;
    expect(listed.map((i: { id: string }) => i.id).sort()).toEqual(project.issues.map((i) => i['id']).sort());

    // Gates: this jit's registry, each definition with everything the original had.
    const registry = (await project.json(['registry', 'list'])).gates;
    const byKey = Object.fromEntries((registry as { key: string }[]).map((g) => [g.key, g]));
    expect(byKey['tests']).toEqual(ORIGINAL_GATES.gates.tests);
    expect(byKey['review']).toEqual(ORIGINAL_GATES.gates.review);
    expect(byKey['lint']).toEqual({ ...ORIGINAL_GATES.gates.lint, auto: true });

    // Events: every one, in order; those without an issue got "issue_id": null.
    const events = (await project.json(['events', 'query'])).events;
    expect(events).toEqual(project.events.map((e) => ('issue_id' in e ? e : { ...e, issue_id: null })));

    // Files the original keeps beside its data, byte for byte; its index and gates under original/.
    for (const [name, text] of Object.entries(KEPT_FILES)) expect(readFileSync(path.join(project.jitDir, name), 'utf8')).toBe(text);
    expect(readFileSync(path.join(project.jitDir, 'original', 'index.json'), 'utf8')).toBe(readFileSync(path.join(report.backup, 'index.json'), 'utf8'));
    expect(JSON.parse(readFileSync(path.join(project.jitDir, 'original', 'index.json'), 'utf8')).deleted_ids).toEqual([IDS.deleted]);
    expect(readFileSync(path.join(project.jitDir, 'original', 'gates.json'), 'utf8')).toBe(JSON.stringify(ORIGINAL_GATES, null, 2));

    // The store works: validate finds nothing, the rules apply to migrated issues.
    const validation = await project.json(['validate']);
    expect(validation).toMatchObject({ ok: true, problems: [], recovered: [] });
    const ready = (await project.json(['query', 'ready'])).issues.map((i: { id: string }) => i.id);
    expect(ready).toEqual(expect.arrayContaining([IDS.ready, IDS.legacy]));
    // Passing its last gate completes the gated issue, and the backlog issue waiting for it becomes ready.
    await project.json(['gate', 'pass', IDS.gated, 'review']);
    expect((await project.json(['issue', 'show', IDS.gated])).state).toBe('done');
    expect((await project.json(['issue', 'show', IDS.backlog])).state).toBe('ready');

    // Fields this jit does not use survive its own rewrites: of an issue, of the gate registry.
    await project.json(['issue', 'update', IDS.testsDone, '--priority', 'low']);
    await project.json(['registry', 'add', 'docs', '--title', 'Docs updated']);
    const rewritten = JSON.parse(readFileSync(path.join(project.jitDir, 'issues', `${IDS.testsDone}.json`), 'utf8'));
    const original = project.issues.find((i) => i['id'] === IDS.testsDone)!;
    for (const field of ['documents', 'first_ready_at', 'claimed_at', 'done_at']) expect(rewritten[field], field).toEqual(original[field]);
    const gatesFile = JSON.parse(readFileSync(path.join(project.jitDir, 'gates.json'), 'utf8'));
    expect(gatesFile.gates.tests).toEqual(ORIGINAL_GATES.gates.tests);
    expect(gatesFile.gates.docs).toMatchObject({ key: 'docs', title: 'Docs updated' });

    // Again: nothing to do.
    const again = await project.json(['migrate']);
    expect(again).toMatchObject({ changed: false });
    expect((await project.run(['migrate'])).stdout).toContain('already in this jit');
  }, 240_000); // some 40 CLI runs: minutes on a loaded 2-core machine

  it('--to writes a new store and leaves the source as it is', async () => {
    const project = originalProject();
    const before = tree(project.jitDir);
    const target = path.join(project.dir, 'converted');
    const report = await project.json(['migrate', '--to', target]);
    expect(report).toMatchObject({ changed: true, in_place: false, backup: null, to: path.join(target, '.jit') });
    expect(tree(project.jitDir)).toEqual(before);
    expect(siblings(target)).toEqual(['.jit']);
    const shown = await project.json(['--dir', target, 'issue', 'show', IDS.testsDone]);
    expect(shown.documents).toEqual(project.issues.find((i) => i['id'] === IDS.testsDone)!['documents']);
    expect((await project.json(['--dir', target, 'validate'])).ok).toBe(true);
    const again = await project.run(['--json', 'migrate', '--to', target]);
    expect(errorOf(again).code).toBe('ALREADY_EXISTS');
  });

  it('a corrupt source is refused with the file (and the TOML line) named, and nothing is written', async () => {
    const cases: Array<[string, (jitDir: string) => void, RegExp]> = [
      ['issue', (jitDir) => writeFileSync(path.join(jitDir, 'issues', `${IDS.bug}.json`), '{"id": "'), new RegExp(`${IDS.bug}\\.json`)],
      ['state', (jitDir) => {
        const file = path.join(jitDir, 'issues', `${IDS.bug}.json`);
        writeFileSync(file, readFileSync(file, 'utf8').replace('"in_progress"', '"someday"'));
      }, /unknown state "someday"/],
      ['config', (jitDir) => writeFileSync(path.join(jitDir, 'config.toml'), '[validation]\nstrictness = "loose\n'), /config\.toml: not valid TOML at line 2, column \d+/],
      ['gates', (jitDir) => writeFileSync(path.join(jitDir, 'gates.json'), '{"gates": {"tests": 7}}'), /gates\.json has a gate tests/],
    ];
    for (const [name, damage, message] of cases) {
      const project = originalProject();
      damage(project.jitDir);
      const before = tree(project.jitDir);
      const run = await project.run(['--json', 'migrate']);
      expect(run.code, name).toBe(10);
      expect(errorOf(run).code, name).toBe('CORRUPT_FILE');
      expect(errorOf(run).message, name).toMatch(message);
      expect(tree(project.jitDir), name).toEqual(before);
      expect(siblings(project.dir), name).toEqual(['.jit']);
    }
  });

  it("what the source had wrong is listed by migrate and by validate afterwards, and nothing else", async () => {
    const project = originalProject();
    // A lost issue file that another issue waits for, and a line that is no event.
    rmSync(path.join(project.jitDir, 'issues', `${IDS.archivedDone}.json`));
    appendFileSync(path.join(project.jitDir, 'events.jsonl'), 'not json\n');
    const report = await project.json(['migrate']);
    expect(report.problems).toEqual([
      `the original index lists issue ${IDS.archivedDone}, but issues/${IDS.archivedDone}.json does not exist`,
      `issue ${IDS.bug} waits for ${IDS.archivedDone}, which has no issue file`,
      `${path.join(project.jitDir, 'events.jsonl')} line ${project.events.length + 1} is not valid JSON; kept as it is (readers skip it)`,
    ]);
    const validation = await project.run(['--json', 'validate']);
    expect(validation.code).toBe(4);
    const problems = JSON.parse(validation.stdout).problems as { kind: string; issue_id?: string }[];
    expect(problems.map((p) => [p.kind, p.issue_id ?? null])).toEqual([
      ['torn_event_line', null],
      ['dangling_dependency', IDS.bug],
    ]);
  });

  it('SIGKILL at a random point leaves the source intact or the complete result', async () => {
    // A bigger store, so that a kill lands inside the migration, not only before or after it.
    const extra = 200;
    const timed = originalProject(extra);
    const pristine = tree(timed.jitDir);
    const start = Date.now();
    await timed.json(['migrate']);
    const full = Date.now() - start;
    const outcomes = { source: 0, result: 0, rolledForward: 0 };
    for (let round = 0; round < 6; round++) {
      const project = originalProject(extra);
      const child = spawn(process.execPath, [JIT_BIN, 'migrate'], { cwd: project.dir, env: { ...process.env, JIT_LOCK_TIMEOUT: TEST_LOCK_TIMEOUT_SECONDS }, stdio: 'ignore' });
      const closed = new Promise((resolve) => child.on('close', resolve));
      // Up to half again as long as a whole run takes: some kills land before, some inside, some after.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * full * 1.5));
      child.kill('SIGKILL');
      await closed;
      const backups = siblings(project.dir).filter((name) => name.startsWith('.jit-original-'));
      const journal = existsSync(path.join(project.dir, '.jit-migrate', 'journal.json'));
      if (!journal && backups.length === 0) {
        // Killed before the commit point: the source is as it was, and the leftovers are no obstacle.
        expect(tree(project.jitDir)).toEqual(pristine);
        outcomes.source++;
        await project.json(['migrate']);
      } else if (journal) {
        // Killed after it: the next migrate (or, between the renames, any command) finishes the swap.
        outcomes.rolledForward++;
        await project.json(['migrate']);
      } else outcomes.result++;
      // Either way, now: the complete result, and the original as its backup.
      const status = await project.json(['status']);
      expect(status).toBeTruthy();
      const [backup] = siblings(project.dir).filter((name) => name.startsWith('.jit-original-'));
      expect(tree(path.join(project.dir, backup!))).toEqual(pristine);
      expect(siblings(project.dir)).toEqual(['.jit', backup!].sort());
      expect((await project.json(['issue', 'list'])).count).toBe(11 + extra);
      expect((await project.json(['validate'])).ok).toBe(true);
    }
    console.log(`migrate of ${11 + extra} issues: ${full} ms; kills: ${JSON.stringify(outcomes)}`);
  }, 300_000);

  it('a kill after the commit point is rolled forward: by the next command (between the renames) or the next migrate', async () => {
    // The states a kill leaves after journal.json is written, made from a finished migration.
    const betweenRenames = originalProject();
    const report = await betweenRenames.json(['migrate']);
    const staging = path.join(betweenRenames.dir, '.jit-migrate');
    mkdirSync(staging);
    renameSync(betweenRenames.jitDir, path.join(staging, '.jit'));
    writeFileSync(path.join(staging, 'journal.json'), JSON.stringify({ from: betweenRenames.jitDir, to: betweenRenames.jitDir, backup: report.backup }));
    // Any command finds the store where it belongs, not the walk up to another one.
    expect((await betweenRenames.json(['issue', 'list'])).count).toBe(11);
    expect(siblings(betweenRenames.dir)).toEqual(['.jit', path.basename(report.backup)].sort());

    const beforeSwap = originalProject();
    const pristine = tree(beforeSwap.jitDir);
    const converted = path.join(beforeSwap.dir, 'converted');
    await beforeSwap.json(['migrate', '--to', converted]);
    const stagingDir = path.join(beforeSwap.dir, '.jit-migrate');
    mkdirSync(stagingDir);
    renameSync(path.join(converted, '.jit'), path.join(stagingDir, '.jit'));
    rmSync(converted, { recursive: true });
    const backup = path.join(beforeSwap.dir, '.jit-original-killed');
    writeFileSync(path.join(stagingDir, 'journal.json'), JSON.stringify({ from: beforeSwap.jitDir, to: beforeSwap.jitDir, backup }));
    // The source is still in place: readers are told to run migrate, which finishes the swap.
    expect(errorOf(await beforeSwap.run(['--json', 'status'])).code).toBe('ORIGINAL_JIT_STORE');
    expect(await beforeSwap.json(['migrate'])).toMatchObject({ changed: false });
    expect(tree(backup)).toEqual(pristine);
    expect(siblings(beforeSwap.dir)).toEqual(['.jit', '.jit-original-killed']);
    expect((await beforeSwap.json(['validate'])).ok).toBe(true);
  });
});

describe('jit migrate, adversarial sources', () => {
  it('an events.jsonl with a byte order mark and CRLF line endings loses no event to readers', async () => {
    const project = originalProject();
    const file = path.join(project.jitDir, 'events.jsonl');
    // Written by an editor on Windows: BOM, then CRLF between lines.
    writeFileSync(file, '\ufeff' + project.events.map((e) => JSON.stringify(e) + '\r\n').join(''));
    const report = await project.json(['migrate']);
    expect(report.events).toBe(project.events.length);
    expect(report.problems).toEqual([]);
    expect(report.changes).toEqual(expect.arrayContaining(['events: the byte order mark at the start of events.jsonl was dropped']));
    const validation = await project.run(['--json', 'validate']);
    expect(validation.code, validation.stdout).toBe(0);
    const first = project.events[0]!;
    const history = await project.json(['events', 'query', '--issue', String(first['issue_id'])]);
    expect(JSON.stringify(history)).toContain(String(first['id']));
  });

  it('dependency cycles and self-dependencies of the source are listed by migrate, as validate lists them afterwards', async () => {
    const project = originalProject();
    const edit = (id: string, change: (issue: Record<string, unknown>) => void): void => {
      const file = path.join(project.jitDir, 'issues', `${id}.json`);
      const issue = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
      change(issue);
      writeFileSync(file, JSON.stringify(issue, null, 2));
    };
    // backlog waits for gated; gated now waits for backlog (a ring), and rejected waits for itself.
    edit(IDS.gated, (issue) => (issue['dependencies'] = [IDS.backlog]));
    edit(IDS.rejected, (issue) => (issue['dependencies'] = [IDS.rejected]));
    const report = await project.json(['migrate']);
    expect(report.problems).toHaveLength(2);
    expect(report.problems.join('\n')).toContain(`dependency cycle: ${IDS.rejected} -> ${IDS.rejected}`);
    expect(report.problems.join('\n')).toMatch(new RegExp(`dependency cycle: .*${IDS.gated}.*${IDS.backlog}|dependency cycle: .*${IDS.backlog}.*${IDS.gated}`));
    const problems = JSON.parse((await project.run(['--json', 'validate'])).stdout).problems as { kind: string }[];
    expect(problems.map((p) => p.kind)).toEqual(['cycle', 'cycle']);
  });

  it('an issue file whose id the original lists as deleted is kept, and named', async () => {
    const project = originalProject();
    const indexFile = path.join(project.jitDir, 'index.json');
    const index = JSON.parse(readFileSync(indexFile, 'utf8')) as { deleted_ids: string[] };
    index.deleted_ids.push(IDS.legacy);
    writeFileSync(indexFile, JSON.stringify(index));
    const report = await project.json(['migrate']);
    expect(report.changes).toContain(`issue ${IDS.legacy}: the original lists it as deleted, but its file exists; kept as an issue (delete it if it should be gone)`);
    expect((await project.json(['issue', 'show', IDS.legacy])).id).toBe(IDS.legacy);
  });

  it('--from a file, and --to inside the source, are refused with a clear error and nothing written', async () => {
    const project = originalProject();
    const before = tree(project.jitDir);
    const fromFile = await project.run(['--json', 'migrate', '--from', path.join(project.jitDir, 'index.json')]);
    expect(fromFile.code, fromFile.stdout).toBe(2);
    expect(errorOf(fromFile)).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(errorOf(fromFile).message).toContain('is a file');
    for (const to of [path.join(project.jitDir, 'converted'), path.join(project.jitDir, 'issues', 'x', '.jit')]) {
      const inside = await project.run(['--json', 'migrate', '--to', to]);
      expect(inside.code, inside.stdout).toBe(2);
      expect(errorOf(inside)).toMatchObject({ code: 'INVALID_ARGUMENT' });
      expect(errorOf(inside).message).toContain('inside the store it migrates');
    }
    expect(tree(project.jitDir)).toEqual(before);
    expect(siblings(project.dir)).toEqual(['.jit']);
  });
});

describe('jit migrate, values this jit cannot keep', () => {
  it('a key named __proto__ (in context, gates_status or the gate registry) is refused by name, not dropped', async () => {
    const cases: Array<[string, (jitDir: string) => void, RegExp]> = [
      ['context', (jitDir) => {
        const file = path.join(jitDir, 'issues', `${IDS.bug}.json`);
        writeFileSync(file, readFileSync(file, 'utf8').replace('"context": {}', '"context": {"__proto__": "kept?", "k": "v"}'));
      }, new RegExp(`${IDS.bug}\\.json .*context`)],
      ['gates_status', (jitDir) => {
        const file = path.join(jitDir, 'issues', `${IDS.bug}.json`);
        writeFileSync(file, readFileSync(file, 'utf8').replace('"gates_status": {}', '"gates_status": {"__proto__": {"status": "passed", "updated_by": null, "updated_at": "2025-11-03T09:00:00Z"}}'));
      }, new RegExp(`${IDS.bug}\\.json .*gates_status`)],
      ['registry', (jitDir) => {
        const gates = JSON.parse(readFileSync(path.join(jitDir, 'gates.json'), 'utf8')) as { gates: Record<string, unknown> };
        const text = JSON.stringify(gates).replace('"gates":{', '"gates":{"__proto__":{"key":"__proto__","title":"P","description":"","auto":false},');
        writeFileSync(path.join(jitDir, 'gates.json'), text);
      }, /gates\.json .*__proto__/],
    ];
    for (const [name, damage, message] of cases) {
      const project = originalProject();
      damage(project.jitDir);
      const before = tree(project.jitDir);
      const run = await project.run(['--json', 'migrate']);
      expect(run.code, `${name}: ${run.stdout}`).toBe(10);
      expect(errorOf(run).code, name).toBe('CORRUPT_FILE');
      expect(errorOf(run).message, name).toMatch(message);
      expect(tree(project.jitDir), name).toEqual(before);
      expect(siblings(project.dir), name).toEqual(['.jit']);
    }
  });
});

describe('jit migrate, racing', () => {
  it('two migrations --to the same folder: one writes it, the other is refused ALREADY_EXISTS and leaves nothing behind', async () => {
    const project = originalProject();
    const target = path.join(project.dir, 'converted');
    const lockPath = path.join(project.jitDir, '.index.lock');
    // Both pass the early "target exists?" check while the source is locked, then run one after the other.
    const holder = await holdLock(lockPath);
    const runs = [project.run(['--json', 'migrate', '--to', target]), project.run(['--json', 'migrate', '--to', target])];
    await waitersOn(lockPath, 2);
    await holder.release();
    const [a, b] = await Promise.all(runs);
    const outcomes = [a!, b!].map((run) => (run.code === 0 ? 'migrated' : errorOf(run).code)).sort();
    expect(outcomes, a!.stdout + b!.stdout).toEqual(['ALREADY_EXISTS', 'migrated']);
    expect(siblings(target)).toEqual(['.jit']);
    expect((await project.json(['--dir', target, 'validate'])).ok).toBe(true);
  }, 120_000);

  it('a committed --to migration that lost the race for its target (another source got there first) is dropped, not retried forever', async () => {
    const project = originalProject();
    const target = path.join(project.dir, 'converted');
    await project.json(['migrate', '--to', target]);
    // What the loser of two migrations from different sources into one target leaves: its staged copy and journal.
    const staging = path.join(target, '.jit-migrate');
    mkdirSync(staging);
    const other = originalProject();
    await other.json(['migrate', '--to', path.join(staging, 'x')]);
    renameSync(path.join(staging, 'x', '.jit'), path.join(staging, '.jit'));
    rmSync(path.join(staging, 'x'), { recursive: true });
    writeFileSync(path.join(staging, 'journal.json'), JSON.stringify({ from: other.jitDir, to: path.join(target, '.jit'), backup: null }));
    const before = tree(path.join(target, '.jit'));
    const again = await project.run(['--json', '--dir', target, 'migrate']);
    expect(again.code, again.stdout).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ changed: false });
    expect(siblings(target)).toEqual(['.jit']);
    expect(tree(path.join(target, '.jit'))).toEqual(before);
  });
});

const isLinuxRoot = process.platform === 'linux' && typeof process.getuid === 'function' && process.getuid() === 0;

describe.skipIf(!isLinuxRoot)('jit migrate from a source the user may only read', () => {
  it('--to works (the source is only read), with or without the lock files a fresh clone lacks; in place is refused clearly', async () => {
    for (const withoutLockFiles of [false, true]) {
      const project = originalProject();
      if (withoutLockFiles) for (const name of ['.index.lock', '.gates.lock', '.events.lock']) rmSync(path.join(project.jitDir, name));
      const target = path.join(project.dir, 'out');
      mkdirSync(target);
      chmodSync(target, 0o777);
      chmodSync(project.dir, 0o755);
      chmodSync(path.dirname(project.dir), 0o755);
      const before = tree(project.jitDir);
      const asNobody = { uid: 65534, gid: 65534 };
      const run = (args: string[]): Promise<{ code: number | null; stdout: string }> =>
        new Promise((resolve, reject) => {
          const child = spawn(process.execPath, [JIT_BIN, '--json', ...args], { cwd: project.dir, env: { ...process.env, JIT_LOCK_TIMEOUT: TEST_LOCK_TIMEOUT_SECONDS }, stdio: ['ignore', 'pipe', 'inherit'], ...asNobody });
          let stdout = '';
          child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
          child.on('error', reject);
          child.on('close', (code) => resolve({ code, stdout }));
        });
      const converted = await run(['migrate', '--to', target]);
      expect(converted.code, `${withoutLockFiles}: ${converted.stdout}`).toBe(0);
      expect(JSON.parse(converted.stdout)).toMatchObject({ changed: true, issues: 11 });
      expect((await project.json(['--dir', target, 'validate'])).ok).toBe(true);
      const inPlace = await run(['migrate']);
      expect(inPlace.code, inPlace.stdout).toBe(5);
      expect(JSON.parse(inPlace.stdout).error.code).toBe('PERMISSION_DENIED');
      expect(tree(project.jitDir)).toEqual(before);
    }
  });
});
