// Kill storm: 8 writers doing mixed operations are SIGKILLed at random
// moments, 200 times in all, and restarted. Nothing acknowledged may be lost,
// nothing may be corrupt, no lock may stay held. (The storm itself:
// test/support/kill-storm.ts, shared with the PostgreSQL storm.)
import { expect, it } from 'vitest';
import { countOps, expectAcknowledged, runKillStorm } from '../support/kill-storm.js';
import { assertStoreConsistent, makeProject, report, store, jit } from './support.js';

const WRITERS = 8;
const KILLS = 200;

it(`survives ${KILLS} SIGKILLs of ${WRITERS} concurrent writers without losing an acknowledged operation`, async () => {
  const { project, jitDir } = makeProject('storm');
  const tracker = store.openTracker(jitDir);
  await tracker.addGateDefinition({ key: 'review', title: 'Review' });
  const shared: string[] = [];
  for (let i = 0; i < 4; i++) shared.push((await tracker.createIssue({ title: `shared ${i}` })).id);

  const { acks, kills, seconds } = await runKillStorm({ store: jitDir, writers: WRITERS, kills: KILLS, ackDir: project, shared, stallMs: 30_000 });
  expect(kills).toBe(KILLS);

  // The store as a whole, then every acknowledged operation in it.
  const { issues, recovered } = assertStoreConsistent(project, jitDir);
  const ids = (await tracker.listIssues()).map((s) => s.id);
  expectAcknowledged(acks, new Map((await Promise.all(ids.map((id) => tracker.getIssue(id)))).map((i) => [i.id, i])));
  const events = jit(project, ['events', 'tail', '-n', '5']);
  expect(events.status).toBe(0);

  report(
    'kill storm',
    `${WRITERS} writers, ${KILLS} SIGKILLs, ${acks.length} acknowledged ops (${countOps(acks)}), ${seconds.toFixed(1)} s`,
    `all acknowledged ops present, ${issues} issues, validate clean (after recovering ${recovered} crash leftovers), no lock held`,
  );
  // Each restarted writer acknowledged at least once before its next kill.
  expect(acks.length).toBeGreaterThanOrEqual(KILLS - WRITERS);
});
