// Random operation sequences against the domain rules: many runs in memory, a few over real files.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { JitError } from './errors.js';
import { initJit } from './jit-dir.js';
import { JsonFileStorage } from './json-file-storage.js';
import { InMemoryStorage } from './memory-storage.js';
import type { Storage } from './storage.js';
import { findCycles, unfinishedDependencies } from './rules.js';
import { Tracker } from './tracker.js';

type Step =
  | { op: 'create'; deps: number[] }
  | { op: 'dep'; from: number; to: number }
  | { op: 'undep'; from: number; to: number }
  | { op: 'state'; issue: number; state: 'done' | 'rejected' | 'backlog' | 'in_progress' | 'ready' }
  | { op: 'delete'; issue: number }
  | { op: 'claimNext' }
  | { op: 'gate'; issue: number }
  | { op: 'pass'; issue: number };

const index = fc.nat({ max: 7 });
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ op: fc.constant('create' as const), deps: fc.array(index, { maxLength: 3 }) }),
  fc.record({ op: fc.constant('dep' as const), from: index, to: index }),
  fc.record({ op: fc.constant('undep' as const), from: index, to: index }),
  fc.record({ op: fc.constant('state' as const), issue: index, state: fc.constantFrom('done', 'rejected', 'backlog', 'in_progress', 'ready') }),
  fc.record({ op: fc.constant('delete' as const), issue: index }),
  fc.record({ op: fc.constant('claimNext' as const) }),
  fc.record({ op: fc.constant('gate' as const), issue: index }),
  fc.record({ op: fc.constant('pass' as const), issue: index }),
);

// Refusals the rules are allowed to give; anything else (INTERNAL, a TypeError) fails the property.
const EXPECTED = new Set(['CYCLE', 'ALREADY_EXISTS', 'DEPENDENCY_NOT_FOUND', 'INVALID_TRANSITION', 'NO_READY_ISSUE', 'GATES_PENDING', 'GATE_NOT_FOUND', 'ISSUE_NOT_FOUND']);

async function apply(t: Tracker, ids: string[], s: Step): Promise<void> {
  const pick = (i: number): string | undefined => ids[i % Math.max(ids.length, 1)];
  switch (s.op) {
    case 'create':
      ids.push((await t.createIssue({ title: `i${ids.length}`, dependencies: s.deps.map(pick).filter((d): d is string => !!d) })).id);
      return;
    case 'dep':
    case 'undep': {
      const [from, to] = [pick(s.from), pick(s.to)];
      if (from && to) await (s.op === 'dep' ? t.addDependency(from, to) : t.removeDependency(from, to));
      return;
    }
    case 'state': {
      const id = pick(s.issue);
      if (id) await t.updateIssue(id, { state: s.state });
      return;
    }
    case 'delete': {
      const id = pick(s.issue);
      if (id) (await t.deleteIssue(id), ids.splice(ids.indexOf(id), 1));
      return;
    }
    case 'claimNext':
      await t.claimNext('agent:prop');
      return;
    case 'gate': {
      const id = pick(s.issue);
      if (id) await t.addGate(id, 'review');
      return;
    }
    case 'pass': {
      const id = pick(s.issue);
      if (id) await t.passGate(id, 'review');
    }
  }
}

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'jit-property-'));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));
let stores = 0;
const fileStorage = (): Storage => {
  const project = path.join(scratch, `p${++stores}`);
  fs.mkdirSync(project);
  return new JsonFileStorage(initJit(project).path);
};

describe.each([
  ['InMemoryStorage', () => new InMemoryStorage(), 300],
  ['JsonFileStorage', fileStorage, 12],
] as const)('domain rules under random operation sequences over %s', (_name, makeStorage, numRuns) => {
  it('never make a cycle, never leave a ready issue waiting, never complete with unpassed gates', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 40 }), async (steps) => {
        const t = new Tracker(makeStorage());
        await t.addGateDefinition({ key: 'review', title: 'Review' });
        const ids: string[] = [];
        for (const s of steps) {
          try {
            await apply(t, ids, s);
          } catch (error) {
            if (!(error instanceof JitError && EXPECTED.has(error.code))) throw error;
          }
        }
        const issues = await t.storage.readAllIssues();
        const byId = new Map(issues.map((i) => [i.id, i]));
        expect(findCycles(byId.keys(), (id) => byId.get(id)?.dependencies ?? [])).toEqual([]);
        for (const issue of issues) {
          const done = unfinishedDependencies(issue, (d) => byId.get(d)?.state).length === 0;
          if (issue.state === 'ready') expect(done).toBe(true);
          // Backlog with finished dependencies is allowed: someone parked it there (or it never had any).
          if (issue.state === 'done') expect(issue.gates_required.every((k) => issue.gates_status[k]?.status === 'passed')).toBe(true);
        }
        // No process died, so validate finds nothing to report and nothing to recover: a parked issue is
        // left alone even when its finished dependency is edited later.
        const report = await t.validate();
        expect(report.problems).toEqual([]);
        expect(report.recovered).toEqual([]);
      }),
      { numRuns },
    );
  });
});

describe('arbitrary input to every operation', () => {
  const DOCUMENTED = new Set(['INVALID_ARGUMENT', 'INVALID_ID', 'AMBIGUOUS_ID', 'ISSUE_NOT_FOUND', 'DEPENDENCY_NOT_FOUND', 'GATE_NOT_FOUND', 'NO_READY_ISSUE', ...EXPECTED]);
  const anything = fc.oneof(fc.anything(), fc.string(), fc.constantFrom('../../etc/passwd', '/abs', 'a\u0000b', 'in-progress', 'OPEN', 'high', 'x:y', ''));

  it('either succeeds or fails with a documented JitError, and leaves the store valid', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.nat({ max: 11 }), anything, anything), { minLength: 1, maxLength: 15 }), async (calls) => {
        const t = new Tracker(new InMemoryStorage());
        const known = await t.createIssue({ title: 'known' });
        const operations: ((a: any, b: any) => Promise<unknown>)[] = [
          (a, b) => t.createIssue({ title: a, description: b }),
          (a, b) => t.createIssue({ title: 'x', labels: a, priority: b, dependencies: [known.id] }),
          (a, b) => t.updateIssue(known.id, { state: a, priority: b }),
          (a, b) => t.updateIssue(a, b),
          (a, b) => t.updateIssue(known.id, { addLabels: a, context: b }),
          (a, b) => t.claim(a, b),
          (a, b) => t.claimNext(a, b),
          (a, b) => t.addDependency(a, b),
          (a, b) => t.listIssues(a ?? undefined).then(() => t.queryEvents(b ?? undefined)),
          (a, b) => t.addGateDefinition({ key: a, title: b }),
          (a, b) => t.passGate(known.id, a, b),
          (a, b) => t.release(a, b),
        ];
        for (const [which, a, b] of calls) {
          try {
            await operations[which]!(a, b);
          } catch (error) {
            if (!(error instanceof JitError)) throw error;
            expect(DOCUMENTED).toContain(error.code);
          }
        }
        expect((await t.validate()).problems).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});
