// Claim leases in the tracker (in memory, agents set live or gone by the test):
// TTLs, renew by the holder only, evict, lapsed claims free for claim / claim-next /
// query ready, claim_expired written by the next writer, validate, old claims without a lease.
import { describe, expect, it } from 'vitest';
import { InMemoryStorage } from './memory-storage.js';
import { Tracker } from './tracker.js';
import { parseDuration } from './leases.js';
import type { Issue } from './model.js';
import { codeOf } from './test-support.js';

function setUp(agent?: string): { storage: InMemoryStorage; tracker: Tracker } {
  const storage = new InMemoryStorage();
  return { storage, tracker: new Tracker(storage, { agent }) };
}


/** Rewrites an issue as stored (e.g. its lease's expiry in the past), as another jit would have written it. */
async function rewrite(storage: InMemoryStorage, id: string, edit: (issue: Issue) => Issue): Promise<void> {
  await storage.issueTransaction({ write: [id] }, (tx) => tx.put(edit(tx.issue(id)!)));
}

const past = (): string => new Date(Date.now() - 1000).toISOString();

describe('durations', () => {
  it('reads 90s, 30m, 2h, 1d, 500ms and bare seconds; 0 is no limit; junk is undefined', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('30m')).toBe(1_800_000);
    expect(parseDuration('2h')).toBe(7_200_000);
    expect(parseDuration('1d')).toBe(86_400_000);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('1.5')).toBe(1500);
    expect(parseDuration('0')).toBeNull();
    expect(parseDuration('soon')).toBeUndefined();
    expect(parseDuration('-1s')).toBeUndefined();
  });
});

describe('leases', () => {
  it('a claim gets a 30 minute lease by default, --ttl sets it, 0 means none', async () => {
    const { tracker } = setUp();
    const [a, b, c] = [await tracker.createIssue({ title: 'a' }), await tracker.createIssue({ title: 'b' }), await tracker.createIssue({ title: 'c' })];
    const before = Date.now();
    const byDefault = await tracker.claim(a.id, 'agent:one');
    expect(byDefault.lease).toMatchObject({ holder: 'agent:one', agent: null });
    const ttl = Date.parse(byDefault.lease!.expires_at!) - before;
    expect(ttl).toBeGreaterThanOrEqual(30 * 60_000 - 5);
    expect(ttl).toBeLessThan(30 * 60_000 + 5000);
    expect((await tracker.claim(b.id, 'agent:one', { ttl: '2h' })).lease!.expires_at).not.toBeNull();
    expect((await tracker.claim(c.id, 'agent:one', { ttl: 0 })).lease!.expires_at).toBeNull();
    expect(await codeOf(tracker.claim(c.id, 'agent:one', { ttl: 'forever' }))).toBe('INVALID_ARGUMENT');
  });

  it('an expired lease is free: claim takes it, and claim_expired is recorded first', async () => {
    const { storage, tracker } = setUp();
    const issue = await tracker.createIssue({ title: 'work' });
    await tracker.claim(issue.id, 'agent:one');
    expect(await codeOf(tracker.claim(issue.id, 'agent:two'))).toBe('ALREADY_CLAIMED');
    await rewrite(storage, issue.id, (i) => ({ ...i, lease: { ...i.lease!, expires_at: past() } }));
    const taken = await tracker.claim(issue.id, 'agent:two');
    expect(taken).toMatchObject({ assignee: 'agent:two', state: 'in_progress', changed: true });
    const types = (await tracker.queryEvents({ issueId: issue.id })).map((e) => e.type);
    expect(types.slice(-4)).toEqual(['claim_expired', 'issue_state_changed', 'issue_claimed', 'issue_state_changed']);
  });

  it('claim-next and query ready see lapsed claims as free work, by urgency', async () => {
    const { storage, tracker } = setUp();
    const low = await tracker.createIssue({ title: 'low', priority: 'low' });
    const urgent = await tracker.createIssue({ title: 'urgent', priority: 'critical' });
    await tracker.claim(urgent.id, 'agent:one');
    await rewrite(storage, urgent.id, (i) => ({ ...i, lease: { ...i.lease!, expires_at: past() } }));
    const ready = await tracker.queryReady();
    expect(ready.map((s) => s.id)).toEqual([urgent.id, low.id]);
    expect(ready[0]).toMatchObject({ state: 'ready', assignee: null, lapsed_claim: { holder: 'agent:one', reason: 'ttl' } });
    expect((await tracker.queryClaims({ lapsed: true })).map((c) => c.id)).toEqual([urgent.id]);
    expect((await tracker.claimNext('agent:two')).id).toBe(urgent.id);
    expect((await tracker.claimNext('agent:three')).id).toBe(low.id);
    expect(await codeOf(tracker.claimNext('agent:four'))).toBe('NO_READY_ISSUE');
  });

  it('a claim made while its agent runs is bound to it (no TTL) and lapses the moment the agent is gone', async () => {
    const { storage, tracker } = setUp('agent:bot');
    storage.setAgentLive('agent:bot', true);
    const issue = await tracker.createIssue({ title: 'work' });
    const claimed = await tracker.claimNext();
    expect(claimed).toMatchObject({ id: issue.id, assignee: 'agent:bot', lease: { agent: 'agent:bot', expires_at: null } });
    expect(await tracker.queryReady()).toEqual([]);
    storage.setAgentLive('agent:bot', false);
    expect((await tracker.agents()).map((a) => ({ id: a.id, live: a.live, claims: a.claims.map((c) => c.lapsed) }))).toEqual([
      { id: 'agent:bot', live: false, claims: ['agent_gone'] },
    ]);
    const other = new Tracker(storage, {});
    expect(await other.claimNext('agent:other')).toMatchObject({ id: issue.id, assignee: 'agent:other', lease: { agent: null } });
    const expired = (await tracker.queryEvents({ type: 'claim_expired' }))[0]!;
    expect(expired).toMatchObject({ holder: 'agent:bot', reason: 'agent_gone', agent: 'agent:bot' });
  });

  it('renew: the holder extends it; anyone else is refused; a lapsed claim must be claimed again', async () => {
    const { storage, tracker } = setUp();
    const issue = await tracker.createIssue({ title: 'work' });
    const claimed = await tracker.claim(issue.id, 'agent:one', { ttl: '1m' });
    const renewed = await tracker.renew(issue.id, 'agent:one', { ttl: '1h' });
    expect(Date.parse(renewed.lease!.expires_at!)).toBeGreaterThan(Date.parse(claimed.lease!.expires_at!));
    expect(renewed.lease!.acquired_at).toBe(claimed.lease!.acquired_at);
    expect(await codeOf(tracker.renew(issue.id, 'agent:two'))).toBe('NOT_LEASE_HOLDER');
    await rewrite(storage, issue.id, (i) => ({ ...i, lease: { ...i.lease!, expires_at: past() } }));
    expect(await codeOf(tracker.renew(issue.id, 'agent:one'))).toBe('NOT_LEASE_HOLDER');
  });

  it('evict frees a claim, recording who and why', async () => {
    const { tracker } = setUp();
    const issue = await tracker.createIssue({ title: 'work' });
    await tracker.claim(issue.id, 'agent:one');
    const evicted = await tracker.evict(issue.id, 'stuck for a day', 'human:alice');
    expect(evicted).toMatchObject({ state: 'ready', assignee: null, changed: true });
    expect(evicted.lease).toBeUndefined();
    const event = (await tracker.queryEvents({ type: 'claim_evicted' }))[0]!;
    expect(event).toMatchObject({ holder: 'agent:one', reason: 'stuck for a day', by: 'human:alice' });
    expect((await tracker.evict(issue.id, 'again')).changed).toBe(false);
  });

  it('a claim without a lease (an older jit) lasts as before, until renewed', async () => {
    const { storage, tracker } = setUp();
    const issue = await tracker.createIssue({ title: 'work' });
    await tracker.claim(issue.id, 'agent:one');
    await rewrite(storage, issue.id, ({ lease: _lease, ...rest }) => rest);
    expect(await codeOf(tracker.claim(issue.id, 'agent:two'))).toBe('ALREADY_CLAIMED');
    expect(await tracker.queryReady()).toEqual([]);
    expect((await tracker.queryClaims())[0]).toMatchObject({ id: issue.id, lease: null, lapsed: null });
    expect((await tracker.renew(issue.id, 'agent:one', { ttl: '5m' })).lease).toMatchObject({ holder: 'agent:one' });
  });

  it('release, done and a new assignee drop the lease; JIT_AGENT_ID-style default claimant', async () => {
    const { tracker } = setUp('agent:me');
    const issue = await tracker.createIssue({ title: 'work' });
    expect((await tracker.claim(issue.id)).assignee).toBe('agent:me');
    expect((await tracker.updateIssue(issue.id, { state: 'done' })).lease).toBeUndefined();
    const next = await tracker.createIssue({ title: 'next' });
    await tracker.claim(next.id);
    expect((await tracker.assign(next.id, 'agent:other')).lease).toBeUndefined();
    expect(await codeOf(new Tracker(new InMemoryStorage()).claimNext())).toBe('INVALID_ARGUMENT');
    expect(await codeOf(new Tracker(new InMemoryStorage(), { agent: 'nonsense' }).claimNext())).toBe('INVALID_ENV');
  });

  it('validate reports claims whose lease lapsed, and --fix gives them back', async () => {
    const { storage, tracker } = setUp();
    const issue = await tracker.createIssue({ title: 'work' });
    await tracker.claim(issue.id, 'agent:one');
    expect((await tracker.validate()).ok).toBe(true);
    await rewrite(storage, issue.id, (i) => ({ ...i, lease: { ...i.lease!, expires_at: past() } }));
    const report = await tracker.validate();
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([expect.objectContaining({ kind: 'lapsed_claim', issue_id: issue.id, fixable: true })]);
    const fixed = await tracker.validate({ fix: true });
    expect(fixed.ok).toBe(true);
    expect(await tracker.getIssue(issue.id)).toMatchObject({ state: 'ready', assignee: null });
  });
});
