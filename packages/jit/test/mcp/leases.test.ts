// The lease tools of `jit mcp` against a real server: a server run as an agent (JIT_AGENT_ID) claims
// bound to itself with its id as the default assignee; agents_list and query_claims show it; issue_renew
// refuses a non-holder; issue_evict frees and logs; a second server as the same agent is refused at start.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JIT_BIN, childEnv, connectMcp, fails, makeProject, ok, runJit, type McpSession } from './helpers.js';

const execFileAsync = promisify(execFile);

describe('jit mcp leases', () => {
  let project: { dir: string; cleanup(): void };
  let session: McpSession;

  beforeAll(async () => {
    project = await makeProject('leases');
    session = await connectMcp(project.dir, { env: { JIT_AGENT_ID: 'agent:served' } });
  });

  afterAll(async () => {
    await session?.close();
    project?.cleanup();
  });

  it('claims as its agent, bound to its life; agents_list and query_claims show it', async () => {
    const created = await ok(session.client, 'issue_create', { title: 'served work' });
    const claimed = await ok(session.client, 'issue_claim_next', {});
    expect(claimed).toMatchObject({ id: created.id, assignee: 'agent:served', lease: { holder: 'agent:served', agent: 'agent:served', expires_at: null } });
    const { agents } = await ok(session.client, 'agents_list');
    expect(agents).toEqual([expect.objectContaining({ id: 'agent:served', live: true, claims: [expect.objectContaining({ id: created.id, lapsed: null })] })]);
    const claims = await ok(session.client, 'query_claims', {});
    expect(claims.issues).toEqual([expect.objectContaining({ id: created.id, lapsed: null })]);
    expect((await ok(session.client, 'query_claims', { lapsed: true })).count).toBe(0);
  });

  it('issue_renew: the holder only; issue_evict frees the claim and logs who and why', async () => {
    const created = await ok(session.client, 'issue_create', { title: 'leased work' });
    const claimed = await ok(session.client, 'issue_claim', { id: created.id, assignee: 'agent:other', ttl: '10m' });
    expect(claimed.lease).toMatchObject({ holder: 'agent:other', agent: 'agent:served' });
    await fails(session.client, 'issue_renew', { id: created.id }, 'NOT_LEASE_HOLDER');
    const renewed = await ok(session.client, 'issue_renew', { id: created.id, assignee: 'agent:other', ttl: 3600 });
    expect(Date.parse(renewed.lease.expires_at)).toBeGreaterThan(Date.parse(claimed.lease.expires_at));
    await fails(session.client, 'issue_claim', { id: created.id, ttl: 'soon' }, 'INVALID_ARGUMENT');
    const evicted = await ok(session.client, 'issue_evict', { id: created.id, reason: 'reassigning' });
    expect(evicted).toMatchObject({ state: 'ready', assignee: null });
    const events = await runJit(project.dir, ['events', 'query', '--type', 'claim_evicted']);
    expect(events.json.events).toEqual([expect.objectContaining({ issue_id: created.id, holder: 'agent:other', reason: 'reassigning', by: 'agent:served' })]);
  });

  it('a second server as the same agent refuses to start, naming the first', async () => {
    const second = await execFileAsync(process.execPath, [JIT_BIN, '--json', 'mcp', '--agent', 'agent:served'], { cwd: project.dir, env: childEnv() }).catch(
      (error: { code: number; stdout: string }) => error,
    );
    expect((second as { code: number }).code).toBe(6);
    expect(JSON.parse((second as { stdout: string }).stdout).error.code).toBe('AGENT_ALREADY_RUNNING');
  });
});
