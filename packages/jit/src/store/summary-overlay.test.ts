// Reads answered from index.db with pending markers overlaid, against the pure
// rules over the issue files themselves, on random stores: writers killed
// between their file write and their index update (a marker left, the row
// stale) move issues into and out of every filter. pageSummaries (page and
// total), ready work with strategic labels excluded (with and without a
// limit: two SQL forms) and query claims must all say what the files say.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { initJit, openTracker } from './jit-dir.js';
import { PRIORITIES, STATES, type Issue } from './model.js';
import * as queries from './queries.js';
import { summarize } from './schema.js';
import type { SummaryFilter } from './storage.js';
import type { IssueSummary } from './tracker-api.js';

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'jit-overlay-'));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

/** A small seeded generator (mulberry32): each failure names its seed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const LABELS = ['type:bug', 'type:epic', 'type:milestone', 'area:ui', 'area:db'];
const AGENTS = ['agent:a', 'agent:b'];

describe.each([1, 2, 3, 4, 5, 6, 7, 8])('reads with pending markers, random store (seed %i)', (seed) => {
  it('pageSummaries, ready work and claims say what the files say', async () => {
    const next = random(seed);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
    const project = path.join(scratch, `s${seed}`);
    fs.mkdirSync(project);
    const jitDir = initJit(project).path;
    const tracker = openTracker(jitDir);
    const issuePath = (id: string): string => path.join(jitDir, 'issues', `${id}.json`);
    const readIssue = (id: string): Issue => JSON.parse(fs.readFileSync(issuePath(id), 'utf8')) as Issue;

    const ids: string[] = [];
    for (let n = 0; n < 30; n++) {
      const labels = LABELS.filter(() => next() < 0.3);
      const dependencies = ids.length > 0 && next() < 0.2 ? [pick(ids)] : [];
      const issue = await tracker.createIssue({ title: `issue ${n}`, priority: pick(PRIORITIES), labels, dependencies });
      ids.push(issue.id);
      const roll = next();
      if (roll < 0.2 && dependencies.length === 0) await tracker.claim(issue.id, pick(AGENTS), next() < 0.5 ? { ttl: '1h' } : { ttl: 0 });
      else if (roll < 0.35) await tracker.updateIssue(issue.id, { state: 'done' });
      else if (roll < 0.45) await tracker.updateIssue(issue.id, { state: 'backlog' });
    }

    // Writers killed before their index step: the files change, the rows do not, a marker names each issue.
    const later = (k: number): string => new Date(Date.now() + 1000 * (k + 1)).toISOString();
    const marked = new Set<string>();
    for (let k = 0; k < 8; k++) {
      const roll = next();
      // A new issue (its row never written), or a change to an existing one.
      const id = roll < 0.25 && roll >= 0.15 ? `0000${seed.toString(16).padStart(4, '0')}-0000-4000-8000-${k.toString().padStart(12, '0')}` : pick(ids);
      marked.add(id);
      if (roll >= 0.15 && roll < 0.25) {
        const created = { ...readIssue(ids.find((other) => fs.existsSync(issuePath(other)))!), id, title: `created ${k}`, created_at: later(k), updated_at: later(k), dependencies: [] };
        delete created.lease;
        fs.writeFileSync(issuePath(id), JSON.stringify({ ...created, state: pick(['ready', 'backlog', 'done'] as const), assignee: null }));
      } else if (roll < 0.15) {
        fs.rmSync(issuePath(id), { force: true });
      } else if (fs.existsSync(issuePath(id))) {
        const issue = readIssue(id);
        const state = pick(STATES);
        const claimed = (state === 'in_progress' || state === 'gated') && next() < 0.8;
        const holder = pick(AGENTS);
        const changed: Issue = {
          ...issue,
          state,
          priority: next() < 0.5 ? pick(PRIORITIES) : issue.priority,
          labels: next() < 0.5 ? LABELS.filter(() => next() < 0.3) : issue.labels,
          assignee: claimed ? holder : null,
          updated_at: later(k),
        };
        if (claimed) changed.lease = { holder, acquired_at: later(k), expires_at: next() < 0.5 ? null : later(k + 3600), agent: null };
        else delete changed.lease;
        fs.writeFileSync(issuePath(id), JSON.stringify(changed));
      }
      fs.writeFileSync(path.join(jitDir, 'pending', `${id}.999999.${k}`), '');
    }

    // The truth: every issue file as the pure rules read it.
    const truth = new Map<string, IssueSummary>();
    const files = new Map<string, Issue>();
    for (const name of fs.readdirSync(path.join(jitDir, 'issues')).filter((n) => n.endsWith('.json'))) {
      const issue = JSON.parse(fs.readFileSync(path.join(jitDir, 'issues', name), 'utf8')) as Issue;
      truth.set(issue.id, summarize(issue));
      files.set(issue.id, issue);
    }

    // Their writers still hold the issues' locks (another process): nothing heals those rows meanwhile.
    const lockModule = path.resolve(__dirname, '../../dist/lock/index.js');
    const holder = spawn(
      process.execPath,
      [
        '-e',
        `const { lockSync } = require(${JSON.stringify(lockModule)}); for (const file of process.argv.slice(1)) lockSync(file); console.log('held'); setInterval(() => {}, 1000)`,
        ...[...marked].map((id) => path.join(jitDir, 'issues', `${id}.lock`)),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise((resolve) => holder.stdout.once('data', resolve));
    try {
      const storage = tracker.storage;
      const filters: SummaryFilter[] = [
        {},
        ...STATES.map((state) => ({ state })),
        ...PRIORITIES.map((priority) => ({ priority })),
        { label: 'type:bug' },
        { label: 'type:*' },
        { label: 'area:*' },
        ...AGENTS.map((assignee) => ({ assignee })),
        { state: 'in_progress', assignee: 'agent:a' },
        { state: 'ready', label: 'area:ui', priority: 'high' },
      ];
      for (const filter of filters) {
        const total = queries.listSummaries(truth, filter).length;
        for (const offset of [0, 1, total - 1, total + 1].filter((o) => o >= 0)) {
          for (const limit of [0, 1, 5, 100]) {
            const page = { offset, limit };
            expect(await storage.pageSummaries(filter, page), JSON.stringify({ seed, filter, page })).toEqual(queries.pageSummaries(truth, filter, page));
          }
        }
      }
      const excludeLabels = ['type:epic', 'type:milestone'];
      for (const query of [{}, { excludeLabels }, { excludeLabels, limit: 3 }, { excludeLabels: ['type:epic'], label: 'area:*' }]) {
        expect(await storage.readyWork(query), JSON.stringify({ seed, query })).toEqual(queries.readyWork(truth, query));
      }
      // The answers above came through the overlay: the markers are all still there.
      expect(fs.readdirSync(path.join(jitDir, 'pending')).length).toBe(8);
    } finally {
      holder.kill('SIGKILL');
    }
    await new Promise((resolve) => holder.once('exit', resolve));

    // query claims reads the files of marked claims (it waits for their writers, here gone).
    const claims = new Map([...files.values()].filter((i) => (i.state === 'in_progress' || i.state === 'gated') && i.assignee !== null).map((i) => [i.id, summarize(i)]));
    const answered = await tracker.queryClaims();
    const leaseHolder = (id: string): string | null => (files.get(id)!.lease?.holder === files.get(id)!.assignee ? files.get(id)!.assignee : null);
    expect(answered.map((c) => [c.id, c.assignee, c.state, c.lease?.holder ?? null])).toEqual(queries.listSummaries(claims).map((s) => [s.id, s.assignee, s.state, leaseHolder(s.id)]));
  });
});
