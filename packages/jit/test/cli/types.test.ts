// Issue types and hierarchy (issue 16) through the real command: config.toml,
// --type, strategic issues as containers, the new queries, labels, reject.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { errorOf, projectsForThisFile } from './helpers.js';

const projects = projectsForThisFile();

const ids = (list: { issues: Array<{ id: string }> }): string[] => list.issues.map((issue) => issue.id);

describe.concurrent('issue types and hierarchy', () => {
  it('init --hierarchy-template writes a config.toml jit reads; it refuses to overwrite one unless --force', async () => {
    const p = projects.empty();
    const init = await p.json(['init', '--hierarchy-template', 'minimal']);
    expect(init.config).toEqual({ path: path.join(p.jitDir, 'config.toml'), template: 'minimal' });
    expect(fs.readFileSync(path.join(p.jitDir, 'config.toml'), 'utf8')).toContain('types = { epic = 1, task = 2, bug = 2 }');
    const again = await p.run(['--json', 'init', '--hierarchy-template', 'default']);
    expect(again.code).toBe(6);
    expect(errorOf(again).code).toBe('ALREADY_EXISTS');
    expect(errorOf(again).suggestions.join(' ')).toContain('--force');
    expect((await p.json(['init', '--hierarchy-template', 'default', '--force'])).config.template).toBe('default');
    expect(fs.readFileSync(path.join(p.jitDir, 'config.toml'), 'utf8')).toContain('milestone = 1');
    const unknown = await p.run(['--json', 'init', '--hierarchy-template', 'nope']);
    expect(unknown.code).toBe(2);
    expect(errorOf(unknown).message).toContain('nope');
  });

  it('an epic created before its tasks is not claimable work: query ready/available, status and claim-next skip it unless asked for by type', async () => {
    const p = await projects.initialized();
    const epic = await p.json(['issue', 'create', '-t', 'Auth', '--type', 'epic', '-p', 'critical']);
    expect(epic.labels).toEqual(['type:epic']);
    const task = await p.json(['issue', 'create', '-t', 'Login', '--type', 'task', '-l', 'epic:auth']);
    expect(ids(await p.json(['query', 'ready']))).toEqual([task.id]);
    expect(ids(await p.json(['query', 'available']))).toEqual([task.id]);
    expect(ids(await p.json(['query', 'available', '--type', 'epic']))).toEqual([epic.id]);
    expect(ids(await p.json(['query', 'ready', '-l', 'epic:*', '--limit', '1']))).toEqual([task.id]);
    expect((await p.json(['status'])).ready).toBe(1);
    expect(ids(await p.json(['query', 'strategic']))).toEqual([epic.id]);
    expect((await p.json(['issue', 'claim-next', 'agent:w1'])).id).toBe(task.id);
    const none = await p.run(['--json', 'issue', 'claim-next', 'agent:w1']);
    expect(none.code).toBe(3);
    expect((await p.json(['issue', 'claim-next', 'agent:lead', '--type', 'epic'])).id).toBe(epic.id);
  });

  it('strict config: an unknown type is INVALID_ARGUMENT listing the known ones; a task waiting for an epic is HIERARCHY_VIOLATION (exit 4); loose saves it with a warning', async () => {
    const p = await projects.initialized();
    fs.writeFileSync(path.join(p.jitDir, 'config.toml'), '[validation]\nstrictness = "strict"\n');
    const unknown = await p.run(['--json', 'issue', 'create', '-t', 'x', '--type', 'chore']);
    expect(unknown.code).toBe(2);
    expect(errorOf(unknown)).toMatchObject({ code: 'INVALID_ARGUMENT', details: { choices: ['milestone', 'epic', 'story', 'task', 'bug'] } });
    expect(errorOf(unknown).suggestions.join(' ')).toContain('milestone, epic, story, task, bug');
    const epic = await p.json(['issue', 'create', '-t', 'Epic', '--type', 'epic']);
    const task = await p.json(['issue', 'create', '-t', 'Task', '--type', 'task']);
    const wrong = await p.run(['--json', 'dep', 'add', task.id, epic.id]);
    expect(wrong.code).toBe(4);
    expect(errorOf(wrong).code).toBe('HIERARCHY_VIOLATION');
    expect((await p.json(['issue', 'show', task.id])).dependencies).toEqual([]);
    // The right direction: the epic waits for its task.
    expect((await p.json(['dep', 'add', epic.id, task.id])).warnings).toBeUndefined();

    fs.writeFileSync(path.join(p.jitDir, 'config.toml'), '[validation]\nstrictness = "loose"\n');
    const other = await p.json(['issue', 'create', '-t', 'Other', '--type', 'story']);
    const warned = await p.run(['dep', 'add', other.id, epic.id]);
    expect(warned.code).toBe(0);
    expect(warned.stdout).toContain('Warning:');
    const report = await p.run(['--json', 'validate']);
    expect(report.code).not.toBe(0);
    expect(JSON.parse(report.stdout).problems).toEqual([expect.objectContaining({ kind: 'hierarchy', issue_id: other.id })]);
  });

  it('a bad config.toml is a clear CORRUPT_FILE naming what to fix, never a crash', async () => {
    const p = await projects.initialized();
    const config = path.join(p.jitDir, 'config.toml');
    for (const [text, says] of [
      ['[validation]\nstrictness = "sloppy"\n', 'strictness'],
      ['[type_hierarchy]\ntypes = { epic = "one" }\n', 'types.epic'],
      ['[type_hierarchy]\ntypes = { epic = 1 }\nstrategic_types = ["theme"]\n', 'theme'],
      ['[type_hierarchy\n', 'line 1'],
    ]) {
      fs.writeFileSync(config, text!);
      const run = await p.run(['--json', 'issue', 'create', '-t', 'x', '--type', 'task']);
      expect(run.code, text).toBe(10);
      expect(errorOf(run).code).toBe('CORRUPT_FILE');
      expect(errorOf(run).message).toContain(says);
      expect(errorOf(run).message).toContain(config);
    }
  });

  it('issue update --type replaces the type; query closed; issue reject records why and frees its dependents', async () => {
    const p = await projects.initialized();
    await p.json(['registry', 'add', 'review', '--title', 'Review']);
    const a = await p.json(['issue', 'create', '-t', 'A', '--type', 'story', '-g', 'review']);
    const b = await p.json(['issue', 'create', '-t', 'B', '--dep', a.id]);
    expect((await p.json(['issue', 'update', a.id, '--type', 'bug'])).labels).toEqual(['type:bug']);
    const rejected = await p.json(['issue', 'reject', a.id.slice(0, 8), '--reason', 'duplicate of #12']);
    expect(rejected).toMatchObject({ state: 'rejected', changed: true, context: { rejection_reason: 'duplicate of #12' } });
    expect((await p.json(['issue', 'show', b.id])).state).toBe('ready');
    expect(ids(await p.json(['query', 'closed']))).toEqual([a.id]);
    expect(ids(await p.json(['query', 'closed', '--type', 'story']))).toEqual([]);
    const events = await p.json(['events', 'query', '--issue', a.id, '--type', 'issue_state_changed']);
    expect(events.events.at(-1)).toMatchObject({ to: 'rejected', reason: 'duplicate of #12' });
    const noReason = await p.run(['--json', 'issue', 'reject', b.id]);
    expect(noReason.code).toBe(2);
    // A blank reason: the hint fits a rejection (not release's "given back").
    const blank = await p.run(['--json', 'issue', 'reject', b.id, '--reason', '   ']);
    expect(blank.code).toBe(2);
    expect(errorOf(blank)).toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'reason' } });
    expect(errorOf(blank).suggestions.join(' ')).not.toContain('given back');
    expect((await p.json(['issue', 'show', b.id])).state).toBe('ready');
  });

  it('label namespaces and label values NS', async () => {
    const p = await projects.initialized();
    await p.json(['issue', 'create', '-t', 'a', '-l', 'type:task,epic:auth']);
    await p.json(['issue', 'create', '-t', 'b', '-l', 'type:bug,epic:auth']);
    expect((await p.json(['label', 'namespaces'])).namespaces).toEqual([
      { namespace: 'epic', values: 1, issues: 2 },
      { namespace: 'type', values: 2, issues: 2 },
    ]);
    const values = await p.json(['label', 'values', 'type']);
    expect(values).toEqual({ namespace: 'type', count: 2, values: [{ label: 'type:bug', value: 'bug', issues: 1 }, { label: 'type:task', value: 'task', issues: 1 }] });
    const text = await p.run(['label', 'values', 'epic']);
    expect(text.stdout).toContain('epic:auth');
  });

  it('--type finds a type config.toml spells in capitals (the label keeps its spelling): it is not refused, and the strategic one is found by query and claim-next', async () => {
    const p = await projects.initialized();
    fs.writeFileSync(path.join(p.jitDir, 'config.toml'), '[type_hierarchy]\ntypes = { Epic = 1, Task = 2 }\nstrategic_types = ["Epic"]\n[validation]\nstrictness = "strict"\n');
    const epic = await p.json(['issue', 'create', '-t', 'Auth', '--type', 'Epic']);
    expect(epic.labels).toEqual(['type:Epic']);
    expect((await p.json(['issue', 'create', '-t', 'Login', '--type', 'task'])).labels).toEqual(['type:Task']);
    expect(ids(await p.json(['query', 'ready', '--type', 'epic']))).toEqual([epic.id]);
    expect(ids(await p.json(['query', 'strategic']))).toEqual([epic.id]);
    expect((await p.json(['issue', 'claim-next', 'agent:lead', '--type', 'EPIC'])).id).toBe(epic.id);
  });

  it('strategic_types = [] says no type is a container: an epic is then ready work like any other', async () => {
    const p = await projects.initialized();
    fs.writeFileSync(path.join(p.jitDir, 'config.toml'), '[type_hierarchy]\ntypes = { epic = 1, task = 2 }\nstrategic_types = []\n');
    const epic = await p.json(['issue', 'create', '-t', 'Auth', '--type', 'epic']);
    expect(ids(await p.json(['query', 'ready']))).toEqual([epic.id]);
    expect((await p.json(['status'])).ready).toBe(1);
    expect(ids(await p.json(['query', 'strategic']))).toEqual([]);
  });

  it('label values answers for every namespace label namespaces lists, those of labels written by hand (área, "a b") included', async () => {
    const p = await projects.initialized();
    const issue = await p.json(['issue', 'create', '-t', 'a', '-l', 'x:y']);
    const file = path.join(p.jitDir, 'issues', `${issue.id}.json`);
    // Written as git writes (a new file renamed over): the summary cache sees the folder change.
    fs.writeFileSync(`${file}.tmp`, fs.readFileSync(file, 'utf8').replace('"x:y"', '"área:x", "a b:c"'));
    fs.renameSync(`${file}.tmp`, file);
    const listed = (await p.json(['label', 'namespaces'])).namespaces.map((n: { namespace: string }) => n.namespace);
    expect(listed).toEqual(['a b', 'área']);
    for (const namespace of listed) {
      expect((await p.json(['label', 'values', namespace])).values, namespace).toEqual([expect.objectContaining({ issues: 1 })]);
    }
    for (const bad of ['', ' ', 'a:b', ':']) {
      const run = await p.run(['--json', 'label', 'values', bad]);
      expect(run.code, bad).toBe(2);
      expect(errorOf(run)).toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'namespace' } });
    }
  });

  it('batch-create keeps the hierarchy rules as create does: strict refuses the whole batch (nothing written), loose creates it with warnings', async () => {
    const p = await projects.initialized();
    const epic = await p.json(['issue', 'create', '-t', 'Auth', '--type', 'epic']);
    const file = path.join(p.dir, 'batch.json');
    fs.writeFileSync(file, JSON.stringify([
      { ref: 'task', title: 'Login', labels: ['type:task'], dependencies: [epic.id] },
      { ref: 'epic2', title: 'Billing', labels: ['type:epic'], dependencies: ['milestone'] },
      { ref: 'milestone', title: 'v1', labels: ['type:milestone'] },
    ]));
    fs.writeFileSync(path.join(p.jitDir, 'config.toml'), '[validation]\nstrictness = "strict"\n');
    const strict = await p.run(['--json', 'issue', 'batch-create', '--from-json', file]);
    expect(strict.code).toBe(4);
    expect(errorOf(strict).code).toBe('HIERARCHY_VIOLATION');
    expect((await p.json(['issue', 'list'])).issues.map((i: { id: string }) => i.id)).toEqual([epic.id]);
    fs.writeFileSync(path.join(p.jitDir, 'config.toml'), '[validation]\nstrictness = "loose"\n');
    const loose = await p.json(['issue', 'batch-create', '--from-json', file]);
    expect(loose.created).toBe(3);
    expect(loose.warnings.map((w: { rule: string; issue_id: string }) => [w.rule, w.issue_id])).toEqual([
      ['wrong_direction', loose.ids.task],
      ['wrong_direction', loose.ids.epic2],
    ]);
    fs.writeFileSync(file, JSON.stringify([{ title: 'Signup', labels: ['type:task'], dependencies: [epic.id] }]));
    expect((await p.run(['issue', 'batch-create', '--from-json', file])).stdout).toContain('Warning: ');
  });
});
