/**
 * List tools answer one page at a time: a default and a maximum count, a cap
 * on the page's size, and `total` / `next_offset` to read on. Without it a
 * big store's list was one message larger than MCP clients accept (the
 * TypeScript SDK's limit is 10 MB): the client dropped the connection.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PAGE_CHARS, PAGE_DEFAULT, PAGE_MAX } from '../../src/mcp/tools.js';
import { callTool, connectMcp, fails, makeProject, ok } from './helpers.js';
import type { McpSession } from './helpers.js';

const ISSUES = PAGE_DEFAULT + 12;

/** Every page of `tool` read through next_offset: the ids in order, and each page's count. */
async function readAllPages(session: McpSession, tool: string, args: Record<string, unknown> = {}): Promise<{ ids: string[]; counts: number[]; totals: (number | undefined)[] }> {
  const ids: string[] = [];
  const counts: number[] = [];
  const totals: (number | undefined)[] = [];
  let offset: number | undefined = 0;
  while (offset !== undefined) {
    const page = await ok(session.client, tool, { ...args, offset });
    ids.push(...page.issues.map((issue: { id: string }) => issue.id));
    counts.push(page.count);
    totals.push(page.total);
    expect(page.count).toBe(page.issues.length);
    offset = page.next_offset;
    expect(counts.length, 'pages never end').toBeLessThan(ISSUES + 2);
  }
  return { ids, counts, totals };
}

describe('jit mcp list tools are paged', () => {
  let project: { dir: string; cleanup(): void };
  let session: McpSession;
  let created: string[];

  beforeAll(async () => {
    project = await makeProject('paging');
    session = await connectMcp(project.dir);
    const priorities = ['low', 'normal', 'high', 'critical'];
    const batch = await ok(session.client, 'issue_batch_create', {
      issues: Array.from({ length: ISSUES }, (_, i) => ({ title: `Paged issue ${i}`, priority: priorities[i % 4], labels: ['area:paging'] })),
    });
    created = batch.issues.map((issue: { id: string }) => issue.id);
    expect(created).toHaveLength(ISSUES);
  });

  afterAll(async () => {
    await session?.close();
    project?.cleanup();
  });

  it('gives the first PAGE_DEFAULT by default, the total, and where the next page starts', async () => {
    const first = await ok(session.client, 'issue_list');
    expect(first.count).toBe(PAGE_DEFAULT);
    expect(first.total).toBe(ISSUES);
    expect(first.next_offset).toBe(PAGE_DEFAULT);
    const last = await ok(session.client, 'issue_list', { offset: PAGE_DEFAULT });
    expect(last.count).toBe(ISSUES - PAGE_DEFAULT);
    expect(last).not.toHaveProperty('next_offset');
    // The text a person reads says so too.
    const text = (await callTool(session.client, 'issue_list')).content[0];
    expect(text).toMatchObject({ type: 'text' });
    expect((text as { text: string }).text).toContain(`${PAGE_DEFAULT} of ${ISSUES} issues`);
  });

  it('pages through every issue exactly once, in the order of one big page', async () => {
    const whole = await ok(session.client, 'issue_list', { limit: PAGE_MAX });
    expect(whole.count).toBe(ISSUES);
    const paged = await readAllPages(session, 'issue_list', { limit: 7 });
    expect(paged.ids).toEqual(whole.issues.map((issue: { id: string }) => issue.id));
    expect(new Set(paged.ids)).toEqual(new Set(created));
    expect(paged.totals.every((total) => total === ISSUES)).toBe(true);
    // query_ready keeps its urgency order across pages (the limit goes to the store for the first page).
    const ready = await ok(session.client, 'query_ready', { limit: PAGE_MAX });
    expect(ready.count).toBe(ISSUES);
    expect(ready.total).toBe(ISSUES);
    const readyPages = await readAllPages(session, 'query_ready', { limit: 9 });
    expect(readyPages.ids).toEqual(ready.issues.map((issue: { id: string }) => issue.id));
    // A query the store cuts short knows its total only on the last page.
    expect(readyPages.totals.slice(0, -1).every((total) => total === undefined)).toBe(true);
    expect(readyPages.totals.at(-1)).toBe(ISSUES);
    expect((await readAllPages(session, 'issue_search', { query: 'Paged issue', limit: 11 })).ids).toHaveLength(ISSUES);
  });

  it('refuses a limit above PAGE_MAX or below 1 and a negative offset, with INVALID_ARGUMENT', async () => {
    await fails(session.client, 'issue_list', { limit: PAGE_MAX + 1 }, 'INVALID_ARGUMENT');
    await fails(session.client, 'query_ready', { limit: 0 }, 'INVALID_ARGUMENT');
    await fails(session.client, 'query_closed', { offset: -1 }, 'INVALID_ARGUMENT');
  });

  it('an offset past the end is an empty page with the total, on every list tool (the store-limited ones too, at any offset)', async () => {
    // query_ready, query_closed and query_strategic asked the store for offset + limit + 1: past 1,000,000 the
    // store refused that limit (INVALID_ARGUMENT naming a `limit` the caller never passed) where issue_list answered.
    for (const offset of [ISSUES, 999_950, 2 ** 53 - 1]) {
      for (const tool of ['issue_list', 'query_ready', 'query_closed', 'query_strategic', 'query_blocked', 'query_claims']) {
        const page = await ok(session.client, tool, { offset });
        expect({ tool, offset, count: page.count, next: page.next_offset }).toEqual({ tool, offset, count: 0, next: undefined });
        expect(page.total, `${tool} at ${offset}`).toBeTypeOf('number');
      }
    }
  });

  it('ends a page of long issues before it outgrows what a client reads, and the connection stays up', async () => {
    // 120 issues of 90,000 characters (the most a description may have is 100,000): 10.8 MB of JSON,
    // sent twice (structured and as text). Created in batches of 30 so that no request is near the limit itself.
    const long = 'x'.repeat(90_000);
    for (let batch = 0; batch < 4; batch++) {
      await ok(session.client, 'issue_batch_create', {
        issues: Array.from({ length: 30 }, (_, i) => ({ title: `Long issue ${batch * 30 + i}`, description: `needle ${long}` })),
      });
    }
    const page = await ok(session.client, 'issue_search', { query: 'needle', limit: PAGE_MAX });
    expect(page.total).toBe(120);
    expect(page.count).toBeGreaterThanOrEqual(1);
    expect(page.count).toBeLessThanOrEqual(Math.ceil(PAGE_CHARS / 90_000));
    expect(page.next_offset).toBe(page.count);
    const all = await readAllPages(session, 'issue_search', { query: 'needle', limit: PAGE_MAX });
    expect(all.ids).toHaveLength(120);
    expect(new Set(all.ids).size).toBe(120);
    // Still connected: a plain call answers.
    expect((await ok(session.client, 'status')).total).toBe(ISSUES + 120);
  });
});
