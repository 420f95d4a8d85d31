// Issue types and hierarchy (issue 16) through a real MCP client: strategic
// issues as containers, the new queries, labels, reject, strictness.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMcp, fails, makeProject, ok } from './helpers.js';
import type { McpSession } from './helpers.js';

const ids = (list: { issues: { id: string }[] }): string[] => list.issues.map((issue) => issue.id);

describe('jit mcp: types and hierarchy', () => {
  let project: { dir: string; cleanup(): void };
  let session: McpSession;

  beforeAll(async () => {
    project = await makeProject('types');
    session = await connectMcp(project.dir);
  });

  afterAll(async () => {
    await session?.close();
    project?.cleanup();
  });

  it('strategic issues stay out of query_ready and issue_claim_next unless asked for by type; query_strategic, query_closed, labels, reject', async () => {
    const { client } = session;
    const epic = await ok(client, 'issue_create', { title: 'Auth epic', type: 'epic', priority: 'critical' });
    expect(epic.labels).toEqual(['type:epic']);
    const task = await ok(client, 'issue_create', { title: 'Login', type: 'task', labels: ['epic:auth'] });
    expect(ids(await ok(client, 'query_ready'))).toEqual([task.id]);
    expect(ids(await ok(client, 'query_ready', { type: 'epic' }))).toEqual([epic.id]);
    expect(ids(await ok(client, 'query_strategic'))).toEqual([epic.id]);
    expect((await ok(client, 'status')).ready).toBe(1);
    expect((await ok(client, 'issue_claim_next', { assignee: 'agent:w1' })).id).toBe(task.id);
    await fails(client, 'issue_claim_next', { assignee: 'agent:w1' }, 'NO_READY_ISSUE');
    expect((await ok(client, 'issue_claim_next', { assignee: 'agent:lead', type: 'epic' })).id).toBe(epic.id);

    expect((await ok(client, 'label_namespaces')).namespaces).toEqual([
      { namespace: 'epic', values: 1, issues: 1 },
      { namespace: 'type', values: 2, issues: 2 },
    ]);
    expect((await ok(client, 'label_values', { namespace: 'epic' })).values).toEqual([{ label: 'epic:auth', value: 'auth', issues: 1 }]);

    const rejected = await ok(client, 'issue_reject', { id: task.id, reason: 'out of scope' });
    expect(rejected).toMatchObject({ state: 'rejected', context: { rejection_reason: 'out of scope' } });
    expect(ids(await ok(client, 'query_closed'))).toEqual([task.id]);
  });

  it('hierarchy: loose returns a warning, strict refuses with HIERARCHY_VIOLATION', async () => {
    const { client } = session;
    const epic = await ok(client, 'issue_create', { title: 'Epic 2', type: 'epic' });
    const task = await ok(client, 'issue_create', { title: 'Task 2', type: 'task' });
    const warned = await ok(client, 'dep_add', { from: task.id, to: epic.id });
    expect(warned.warnings).toEqual([expect.objectContaining({ rule: 'wrong_direction' })]);
    writeFileSync(join(project.dir, '.jit', 'config.toml'), '[validation]\nstrictness = "strict"\n');
    const other = await ok(client, 'issue_create', { title: 'Task 3', type: 'task' });
    await fails(client, 'dep_add', { from: other.id, to: epic.id }, 'HIERARCHY_VIOLATION');
    await fails(client, 'issue_update', { id: other.id, type: 'chore' }, 'INVALID_ARGUMENT');
  });

  it('label_values names the namespace as the CLI does: "type:*" and " type " are the namespace type', async () => {
    const { client } = session;
    await ok(client, 'issue_create', { title: 'Typed', type: 'bug' });
    for (const given of ['type:*', ' type ', 'type:']) {
      const values = await ok(client, 'label_values', { namespace: given });
      expect(values.namespace, given).toBe('type');
      expect(values.values, given).toContainEqual(expect.objectContaining({ label: 'type:bug' }));
    }
  });
});
