// Labels as the original jit has them: `-l a:b,c:d` is two labels, and a
// `namespace:*` filter matches every label of the namespace (never silently nothing).
import { describe, expect, it } from 'vitest';
import { errorOf, projectsForThisFile } from './helpers.js';

const projects = projectsForThisFile();

const ids = (list: { issues: Array<{ id: string }> }): string[] => list.issues.map((issue) => issue.id);

describe.concurrent('labels', () => {
  it('-l and --remove-label split on commas (create and update)', async () => {
    const p = await projects.initialized();
    const created = await p.json(['issue', 'create', '-t', 'Login API', '-l', 'type:task,epic:auth', '-l', 'area:api']);
    expect(created.labels).toEqual(['type:task', 'epic:auth', 'area:api']);
    const updated = await p.json(['issue', 'update', created.id, '-l', 'milestone:v1, team:core,', '--remove-label', 'area:api,type:task']);
    expect(updated.labels).toEqual(['epic:auth', 'milestone:v1', 'team:core']);
    // One bad label among several refuses them all.
    const bad = await p.run(['--json', 'issue', 'update', created.id, '-l', 'type:bug,nonamespace']);
    expect(bad.code).toBe(2);
    expect(errorOf(bad).message).toContain('nonamespace');
    expect((await p.json(['issue', 'show', created.id])).labels).toEqual(['epic:auth', 'milestone:v1', 'team:core']);
  });

  it('namespace:* matches by namespace in query label, issue list -l and claim-next -l', async () => {
    const p = await projects.initialized();
    const epic = await p.json(['issue', 'create', '-t', 'Auth epic', '-l', 'type:epic,epic:auth']);
    const task = await p.json(['issue', 'create', '-t', 'JWT', '-l', 'type:task,epic:billing', '-p', 'high']);
    const other = await p.json(['issue', 'create', '-t', 'Docs', '-l', 'type:task', '-p', 'critical']);
    expect(ids(await p.json(['query', 'label', 'epic:*']))).toEqual([epic.id, task.id]);
    expect(ids(await p.json(['issue', 'list', '-l', 'epic:*']))).toEqual([epic.id, task.id]);
    expect(ids(await p.json(['issue', 'list', '--label', 'type:*', '-p', 'critical']))).toEqual([other.id]);
    expect(ids(await p.json(['query', 'label', 'epic:auth']))).toEqual([epic.id]);
    // The most urgent issue in the namespace, not the most urgent of all (other is critical but has no epic: label).
    const claimed = await p.json(['issue', 'claim-next', 'agent:w1', '-l', 'epic:*']);
    expect(claimed.id).toBe(task.id);
    // A pattern that is not namespace:*, or several labels in one filter, is refused rather than matching nothing.
    for (const filter of ['epic:a*', '*', 'type:task,epic:auth']) {
      const run = await p.run(['--json', 'query', 'label', filter]);
      expect(run.code, filter).toBe(2);
      expect(errorOf(run).code).toBe('INVALID_ARGUMENT');
    }
  });
});
