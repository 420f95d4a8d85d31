// Removing gates: the registry refuses to drop a gate issues still require
// (naming them) unless asked to drop the requirements too, and `gate remove`
// frees one issue of a gate, with the state rules of a pass.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { errorOf, projectsForThisFile } from './helpers.js';

const projects = projectsForThisFile();

describe.concurrent('removing gates', () => {
  it('registry remove of a gate issues require exits 4 GATE_IN_USE naming them, and changes nothing', async () => {
    const p = await projects.initialized();
    await p.json(['registry', 'add', 'review', '-t', 'Review']);
    const a = await p.json(['issue', 'create', '-t', 'A', '-g', 'review']);
    const b = await p.json(['issue', 'create', '-t', 'B', '-g', 'review']);
    const refused = await p.run(['--json', 'registry', 'remove', 'review']);
    expect(refused.code).toBe(4);
    const error = errorOf(refused);
    expect(error.code).toBe('GATE_IN_USE');
    expect(error.message).toContain(a.id.slice(0, 8));
    expect(error.message).toContain(b.id.slice(0, 8));
    expect(error.details).toMatchObject({ key: 'review', issues: expect.arrayContaining([a.id, b.id]) });
    expect(error.suggestions[0]).toBe('jit registry remove review --drop-requirements');
    expect(error.suggestions).toContain(`jit gate remove ${a.id.slice(0, 8)} review`);
    expect((await p.json(['registry', 'list'])).count).toBe(1);
    expect((await p.json(['validate'])).ok).toBe(true);
    const human = await p.run(['registry', 'remove', 'review']);
    expect(human.stderr).toMatch(/^jit: error: Gate review is still required by 2 issues: .*\[GATE_IN_USE\]\n$/);
  });

  it('registry remove --drop-requirements drops the gate everywhere: a gated issue whose last pending gate it was is done', async () => {
    const p = await projects.initialized();
    await p.json(['registry', 'add', 'review', '-t', 'Review']);
    await p.json(['registry', 'add', 'tests', '-t', 'Tests']);
    const gated = await p.json(['issue', 'create', '-t', 'Gated', '-g', 'review', '-g', 'tests']);
    await p.json(['gate', 'pass', gated.id, 'tests']);
    expect(await p.json(['issue', 'update', gated.id, '--state', 'done'])).toMatchObject({ state: 'gated', pending_gates: ['review'] });
    const dependent = await p.json(['issue', 'create', '-t', 'After', '--dep', gated.id]);
    const open = await p.json(['issue', 'create', '-t', 'Open', '-g', 'review']);
    const removed = await p.json(['registry', 'remove', 'review', '--drop-requirements']);
    expect(removed).toMatchObject({ key: 'review', changed: true });
    expect([...removed.requirements_dropped].sort()).toEqual([gated.id, open.id].sort());
    expect(await p.json(['issue', 'show', gated.id])).toMatchObject({ state: 'done', gates_required: ['tests'] });
    expect((await p.json(['issue', 'show', gated.id])).gates_status.review).toBeUndefined();
    expect(await p.json(['issue', 'show', dependent.id])).toMatchObject({ state: 'ready' });
    expect(await p.json(['issue', 'show', open.id])).toMatchObject({ state: 'ready', gates_required: [] });
    const removals = await p.json(['events', 'query', '--type', 'gate_removed']);
    expect(removals.events.map((event: { issue_id: string; gate: string }) => [event.issue_id, event.gate]).sort()).toEqual(
      [[gated.id, 'review'], [open.id, 'review']].sort(),
    );
    expect((await p.json(['registry', 'list'])).gates.map((gate: { key: string }) => gate.key)).toEqual(['tests']);
    expect((await p.json(['validate'])).ok).toBe(true);
    // Gone from the registry and from every issue: removing it again names nothing.
    expect((await p.run(['--json', 'registry', 'remove', 'review', '--drop-requirements'])).code).toBe(3);
  });

  it('gate remove frees one issue of a gate (also one the registry lost), so validate passes again', async () => {
    const p = await projects.initialized();
    await p.json(['registry', 'add', 'review', '-t', 'Review']);
    const issue = await p.json(['issue', 'create', '-t', 'Stuck', '-g', 'review']);
    expect(await p.json(['issue', 'update', issue.id, '--state', 'done'])).toMatchObject({ state: 'gated' });
    // A registry that lost the gate (removed by an older jit, or by hand): validate fails until the issue is freed.
    const gatesPath = path.join(p.jitDir, 'gates.json');
    const gates = JSON.parse(readFileSync(gatesPath, 'utf8'));
    delete gates.gates.review;
    writeFileSync(gatesPath, JSON.stringify(gates));
    const report = await p.run(['--json', 'validate']);
    expect(report.code).toBe(4);
    const problem = JSON.parse(report.stdout).problems[0];
    expect(problem).toMatchObject({ kind: 'unknown_gate', issue_id: issue.id });
    expect(problem.message).toContain(`jit gate remove ${issue.id.slice(0, 8)} review`);

    const freed = await p.json(['gate', 'remove', issue.id, 'review']);
    expect(freed).toMatchObject({ state: 'done', gates_required: [], changed: true });
    expect((await p.json(['validate'])).ok).toBe(true);
    const retry = await p.json(['gate', 'rm', issue.id, 'review']);
    expect(retry).toMatchObject({ state: 'done', changed: false });
    expect((await p.run(['gate', 'remove', issue.id, 'review'])).stdout).toMatch(/^No change \(already so\): /);
    expect((await p.run(['--json', 'gate', 'remove', 'ffffffff', 'review'])).code).toBe(3);
    const types = (await p.json(['events', 'query', '--issue', issue.id])).events.map((event: { type: string }) => event.type);
    expect(types.slice(-3)).toEqual(['gate_removed', 'issue_state_changed', 'issue_completed']);
  });

  it('racing gate adds never slip past a registry remove: whatever wins, validate stays clean', async () => {
    const p = await projects.initialized();
    await p.json(['registry', 'add', 'review', '-t', 'Review']);
    const issues = await Promise.all(Array.from({ length: 6 }, (_, i) => p.json(['issue', 'create', '-t', `Racer ${i}`])));
    const env = { JIT_LOCK_TIMEOUT: '60' };
    const [removal, ...adds] = await Promise.all([
      p.run(['--json', 'registry', 'remove', 'review'], env),
      ...issues.map((issue) => p.run(['--json', 'gate', 'add', issue.id, 'review'], env)),
    ]);
    for (const add of adds) expect([0, 3], add.stdout).toContain(add.code); // added, or GATE_NOT_FOUND once it was gone
    const required = (await Promise.all(issues.map((issue) => p.json(['issue', 'show', issue.id])))).filter((issue) => issue.gates_required.includes('review'));
    if (removal.code === 0) expect(required).toEqual([]);
    else {
      // Refused: the issues it names required the gate then, and still do. Adds that finish after the
      // refusal are legitimate (the gate still exists), so the list is not all that end up requiring it.
      const error = errorOf(removal);
      expect(error.code).toBe('GATE_IN_USE');
      const named = (error.details as { issues: string[] }).issues;
      expect(named.length).toBeGreaterThan(0);
      expect(required.map((issue) => issue.id)).toEqual(expect.arrayContaining(named));
      expect((await p.json(['registry', 'list'])).gates.map((gate: { key: string }) => gate.key)).toContain('review');
    }
    expect((await p.json(['validate'])).ok).toBe(true);
  });

  it('gate remove keeps a gated issue gated while other gates are pending', async () => {
    const p = await projects.initialized();
    await p.json(['registry', 'add', 'review', '-t', 'Review']);
    await p.json(['registry', 'add', 'tests', '-t', 'Tests']);
    const issue = await p.json(['issue', 'create', '-t', 'Two gates', '-g', 'review', '-g', 'tests']);
    await p.json(['issue', 'update', issue.id, '--state', 'done']);
    expect(await p.json(['gate', 'remove', issue.id, 'review'])).toMatchObject({ state: 'gated', gates_required: ['tests'] });
    expect((await p.json(['gate', 'pass', issue.id, 'tests'])).state).toBe('done');
  });
});
