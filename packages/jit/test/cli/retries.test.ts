// Agents retry. A command whose effect already holds exits 0 and says so
// (`"changed": false`); a change that was saved exits 0 (update --state done
// with pending gates: the issue is gated, the gates are listed); every
// assignee is kind:name.
import { describe, expect, it } from 'vitest';
import { errorOf, projectsForThisFile } from './helpers.js';

const projects = projectsForThisFile();

describe.concurrent('retried commands', () => {
  it('a retry whose effect already holds exits 0 with "changed": false, and logs nothing', async () => {
    const p = await projects.initialized();
    await p.json(['registry', 'add', 'tests', '-t', 'Tests pass']);
    const a = await p.json(['issue', 'create', '-t', 'A']);
    const b = await p.json(['issue', 'create', '-t', 'B']);
    const unrelated = await p.json(['issue', 'create', '-t', 'C']);
    const eventCount = async (): Promise<number> => (await p.json(['events', 'query'])).count;

    // Each first run changes something; the same command again changes nothing and succeeds.
    const commands: string[][] = [
      ['dep', 'add', b.id, a.id],
      ['dep', 'rm', unrelated.id, a.id], // never there: already so
      ['gate', 'add', a.id, 'tests'],
      ['gate', 'pass', a.id, 'tests', '--by', 'agent:ci'],
      ['issue', 'update', a.id, '-l', 'type:task', '-c', 'branch=main', '-p', 'high'],
      ['issue', 'assign', a.id, 'agent:w1'],
      ['issue', 'claim', a.id, 'agent:w1'],
      ['issue', 'release', a.id, 'lunch'],
      ['issue', 'unassign', a.id],
      ['registry', 'add', 'review', '-t', 'Review'],
    ];
    for (const command of commands) {
      const first = await p.run(['--json', ...command]);
      expect(first.code, `${command.join(' ')}: ${first.stdout}`).toBe(0);
      const before = await eventCount();
      const retry = await p.run(['--json', ...command]);
      expect(retry.code, `retry of ${command.join(' ')}: ${retry.stdout}`).toBe(0);
      expect(JSON.parse(retry.stdout).changed, command.join(' ')).toBe(false);
      expect(await eventCount(), `events after retry of ${command.join(' ')}`).toBe(before);
    }
    // The dep rm above removed nothing; the first dep rm of a real edge does, its retry does not.
    expect((await p.json(['dep', 'rm', b.id, a.id])).changed).toBe(true);
    expect((await p.json(['dep', 'rm', b.id, a.id])).changed).toBe(false);
    // People are told too.
    const human = await p.run(['dep', 'rm', b.id, a.id]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^No change \(already so\): /);
    // A registry add that differs from the definition is a conflict, not a retry.
    const conflict = await p.run(['--json', 'registry', 'add', 'review', '-t', 'Another title']);
    expect(conflict.code).toBe(6);
    expect(errorOf(conflict).code).toBe('ALREADY_EXISTS');
  });

  it('an update to done with pending gates saves it as gated and exits 0, listing the pending gates', async () => {
    const p = await projects.initialized();
    await p.json(['registry', 'add', 'tests', '-t', 'Tests pass']);
    await p.json(['registry', 'add', 'review', '-t', 'Review']);
    const issue = await p.json(['issue', 'create', '-t', 'Gated', '-g', 'tests', '-g', 'review']);
    await p.json(['gate', 'pass', issue.id, 'tests']);
    const run = await p.run(['--json', 'issue', 'update', issue.id, '--state', 'done', '-t', 'Renamed']);
    expect(run.code, run.stdout).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ id: issue.id, state: 'gated', title: 'Renamed', changed: true, pending_gates: ['review'] });
    const retry = await p.json(['issue', 'update', issue.id, '--state', 'done', '-t', 'Renamed']);
    expect(retry).toMatchObject({ state: 'gated', changed: false, pending_gates: ['review'] });
    const human = await p.run(['issue', 'update', issue.id, '--state', 'done']);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('review');
    expect(human.stdout).toContain(`jit gate pass ${issue.id.slice(0, 8)} review`);
    expect((await p.json(['gate', 'pass', issue.id, 'review'])).state).toBe('done');
  });

  it('every assignee is kind:name: claim-next, claim, assign, create, query assignee, issue list -a, gate --by', async () => {
    const p = await projects.initialized();
    await p.json(['registry', 'add', 'tests', '-t', 'Tests pass']);
    const issue = await p.json(['issue', 'create', '-t', 'Work', '-g', 'tests']);
    for (const args of [
      ['issue', 'claim-next', 'bob'],
      ['issue', 'claim', issue.id, 'bob'],
      ['issue', 'assign', issue.id, 'bob'],
      ['issue', 'assign', issue.id, ':bob'],
      ['issue', 'assign', issue.id, 'agent:'],
      ['issue', 'create', '-t', 'x', '-a', 'bob'],
      ['query', 'assignee', 'bob'],
      ['issue', 'list', '-a', 'bob'],
      ['gate', 'pass', issue.id, 'tests', '--by', 'bob'],
      ['gate', 'fail', issue.id, 'tests', '--by', 'bob'],
    ]) {
      const run = await p.run(['--json', ...args]);
      expect(run.code, args.join(' ')).toBe(2);
      expect(errorOf(run), args.join(' ')).toMatchObject({ code: 'INVALID_ARGUMENT', suggestions: [expect.stringMatching(/kind:name/)] });
    }
    const after = await p.json(['issue', 'show', issue.id]);
    expect(after).toMatchObject({ assignee: null, state: 'ready', gates_status: { tests: { status: 'pending' } } });
    expect((await p.json(['query', 'all'])).count).toBe(1);
    expect((await p.json(['issue', 'claim-next', 'human:bob'])).assignee).toBe('human:bob');
  });
});
