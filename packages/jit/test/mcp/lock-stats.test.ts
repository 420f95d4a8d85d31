/**
 * `jit mcp` keeps running lock figures per lock file and shows them in its
 * status tool, contention from another process included.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMcp, holdLockElsewhere, makeProject, ok, type McpSession } from './helpers.js';

let project: { dir: string; cleanup(): void };
let session: McpSession;

beforeAll(async () => {
  project = await makeProject('lock-stats');
  session = await connectMcp(project.dir);
});
afterAll(async () => {
  await session.close();
  project.cleanup();
});

describe('status: lock_stats', () => {
  it('counts acquisitions per lock file, and the waits for a holder in another process', async () => {
    await ok(session.client, 'issue_create', { title: 'one' });
    const first = await ok(session.client, 'status');
    const index = first.lock_stats.find((lock: any) => lock.lock === '.index.lock');
    expect(index).toMatchObject({ timeouts: 0, errors: 0 });
    expect(index.acquired).toBeGreaterThan(0);

    const holder = await holdLockElsewhere(join(project.dir, '.jit', '.index.lock'));
    const created = ok(session.client, 'issue_create', { title: 'two' });
    await new Promise((resolve) => setTimeout(resolve, 400));
    await holder.release();
    await created;

    const status = await ok(session.client, 'status');
    const after = status.lock_stats.find((lock: any) => lock.lock === '.index.lock');
    expect(after.contended).toBeGreaterThanOrEqual(1);
    expect(after.wait_ms.max).toBeGreaterThanOrEqual(200);
    expect(after.wait_ms.p99).toBeGreaterThan(0);
    expect(status.total).toBe(2); // the tracker's own counts are unchanged
  });
});
