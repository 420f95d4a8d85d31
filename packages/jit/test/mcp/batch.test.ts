// Issue 16 through the MCP face: issue_batch_create and issue_update_filter.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMcp, fails, makeProject, ok } from './helpers.js';
import type { McpSession } from './helpers.js';

describe('jit mcp batch tools', () => {
  let project: { dir: string; cleanup(): void };
  let session: McpSession;

  beforeAll(async () => {
    project = await makeProject('batch');
    session = await connectMcp(project.dir);
  });

  afterAll(async () => {
    await session?.close();
    project?.cleanup();
  });

  it('issue_batch_create makes a plan in one call and maps refs to ids; a cycle creates nothing', async () => {
    const { client } = session;
    const made = await ok(client, 'issue_batch_create', {
      issues: [
        { ref: 'docs', title: 'Write docs', dependencies: ['api'] },
        { ref: 'api', title: 'Build API', labels: ['epic:auth'], priority: 'high' },
      ],
    });
    expect(made.created).toBe(2);
    const docs = await ok(client, 'issue_show', { id: made.ids.docs });
    expect(docs).toMatchObject({ state: 'backlog', dependencies: [made.ids.api] });
    const cycle = await fails(client, 'issue_batch_create', { issues: [{ ref: 'a', title: 'A', dependencies: ['b'] }, { ref: 'b', title: 'B', dependencies: ['a'] }] }, 'CYCLE');
    expect(cycle.message).toContain('a -> b -> a');
    const bad = await fails(client, 'issue_batch_create', { issues: [{ title: 'A', priority: 'urgent' }] }, 'INVALID_ARGUMENT');
    expect(bad.message).toContain('[0] priority');
    expect((await ok(client, 'issue_list', {})).count).toBe(2);
  });

  it('issue_update_filter updates the matches and reports refused ones; dry_run writes nothing; a bad filter names the column', async () => {
    const { client } = session;
    const dry = await ok(client, 'issue_update_filter', { filter: 'label:epic:auth OR title:docs', state: 'in_progress', dry_run: true });
    expect(dry).toMatchObject({ dry_run: true, matched: 2 });
    expect(dry.changed).toHaveLength(2);
    const report = await ok(client, 'issue_update_filter', { filter: 'label:epic:auth OR title:docs', state: 'in_progress' });
    expect(report.changed.map((o: { title: string }) => o.title)).toEqual(['Build API']);
    expect(report.refused).toEqual([expect.objectContaining({ title: 'Write docs', error: expect.objectContaining({ code: 'INVALID_TRANSITION' }) })]);
    const error = await fails(client, 'issue_update_filter', { filter: 'state:ready AND', priority: 'low' }, 'INVALID_ARGUMENT');
    expect(error.message).toContain('column 16');
  });
});
