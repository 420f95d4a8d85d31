/**
 * `validate`: the integrity check behind `jit validate` and the validate tool.
 * The storage checks its files (Storage.check); this adds what needs the
 * domain: dangling dependencies, unknown gates, cycles, and crash recovery
 * (follow-ups an interrupted writer left, and dependents a finished issue's
 * move left behind), done through the tracker's own locked operations.
 */
import type { Issue, State } from './model.js';
import { JitError } from './errors.js';
import { directionViolation, hierarchyOf, labelViolations, type HierarchyViolation } from './hierarchy.js';
import { claimLapse } from './leases.js';
import { describeCycle, findCycles, isTerminal, missedAutomaticMove } from './rules.js';
import { groupFollowUps, type FollowUp, type Storage } from './storage.js';
import type { ValidationProblem, ValidationReport } from './tracker-api.js';

const short = (id: string): string => id.slice(0, 8);

/** The tracker's locked operations validate recovers with. */
export interface Recovery {
  /** Runs follow-ups an interrupted writer left that owe the same work, waiting for busy issues; true when done. */
  finishFollowUps(alike: FollowUp[]): Promise<boolean>;
  /** Re-checks an issue against its dependencies under its lock (moves it between backlog and ready; gives back a lapsed claim). */
  reconcile(id: string): Promise<void>;
}

export async function validateStore(storage: Storage, recovery: Recovery, options: { fix?: boolean } = {}): Promise<ValidationReport> {
  const fix = options.fix === true;
  const { problems, fixed, recovered } = await storage.check({ fix });
  // Follow-ups interrupted writers left (every reader and writer tries them too; validate waits for busy issues).
  // Leftovers that owe the same work are done once (see groupFollowUps).
  for (const alike of groupFollowUps(await storage.listFollowUps())) {
    const followUp = alike[0]!;
    if (!(await recovery.finishFollowUps(alike))) continue;
    const what = followUp.kind === 'self' ? `issue ${followUp.issueId}` : `the issues waiting for ${followUp.issueId}`;
    recovered.push(`re-checked ${what} against their dependencies (a writer stopped before this follow-up)`);
  }
  const issues = await storage.readAllIssues({ skipCorrupt: true }); // check() reported those
  const byId = new Map(issues.map((issue) => [issue.id, issue]));
  const gates = await storage.readGates();
  const stale: { id: string; from: string; to: string }[] = [];
  // From the event log: when each issue last finished (a move from unfinished
  // to finished: done -> archived or rejected -> done finish nothing anew)
  // and when each last entered backlog.
  const finishedAt = new Map<string, string>();
  const enteredBacklogAt = new Map<string, string>();
  // Streamed: the log can be far bigger than memory.
  await storage.scanEvents({ type: 'issue_state_changed' }, (event) => {
    if (!event.issue_id) return;
    const to = event['to'] as State;
    if (isTerminal(to) && !isTerminal(event['from'] as State)) finishedAt.set(event.issue_id, event.timestamp);
    if (to === 'backlog') enteredBacklogAt.set(event.issue_id, event.timestamp);
  });
  // And when each edge was last added ("issue>dependency"): a dependency that finished before its edge existed moved nothing.
  const edgeAddedAt = new Map<string, string>();
  await storage.scanEvents({ type: 'dependency_added' }, (event) => {
    if (event.issue_id && typeof event['dependency'] === 'string') edgeAddedAt.set(`${event.issue_id}>${event['dependency']}`, event.timestamp);
  });
  const at = Date.now();
  const lapsed: string[] = [];
  for (const issue of issues) {
    const lapse = claimLapse(issue, at, (agent) => storage.isAgentLive(agent));
    if (lapse) {
      const why = lapse === 'ttl' ? `its lease expired at ${issue.lease!.expires_at}` : `its agent ${issue.lease!.agent} no longer runs`;
      problems.push({ kind: 'lapsed_claim', message: `Issue ${issue.id} is still claimed by ${issue.assignee}, but ${why}: the next claim takes it (--fix gives it back now).`, issue_id: issue.id, fixable: true });
      lapsed.push(issue.id);
    }
    for (const dep of issue.dependencies) {
      if (!byId.has(dep)) {
        problems.push({ kind: 'dangling_dependency', message: `Issue ${issue.id} waits for ${dep}, which does not exist.`, issue_id: issue.id, fixable: false });
      }
    }
    for (const key of issue.gates_required) {
      if (!gates.has(key)) {
        problems.push({
          kind: 'unknown_gate',
          message: `Issue ${issue.id} requires gate ${key}, which is not in the registry: drop it (\`jit gate remove ${short(issue.id)} ${key}\`) or define it again (\`jit registry add ${key} --title ...\`).`,
          issue_id: issue.id,
          fixable: false,
        });
      }
    }
    // Without an event (a log cut short): an issue entered backlog when it was
    // created (it starts there while it waits), a dependency finished when last edited.
    const missed = missedAutomaticMove({ ...issue, enteredBacklogAt: enteredBacklogAt.get(issue.id) ?? issue.created_at }, (d) => {
      const dependency = byId.get(d);
      return dependency && { state: dependency.state, finishedAt: finishedAt.get(d) ?? dependency.updated_at, addedAt: edgeAddedAt.get(`${issue.id}>${d}`) };
    });
    if (missed) stale.push({ id: issue.id, from: issue.state, to: missed });
  }
  // Dependents a finished issue's move left behind without a stored
  // follow-up (written by an older jit, or the follow-up was lost with a
  // disk): crash recovery, done by every validate. recovery.reconcile (the tracker's) re-reads
  // under the issue's lock, so a follow-up still under way is harmless.
  for (const { id, from, to } of stale) {
    await recovery.reconcile(id);
    recovered.push(`moved issue ${id} from ${from} to ${to} to match its dependencies (a writer died before its follow-up)`);
  }
  if (fix) {
    for (const id of lapsed) {
      await recovery.reconcile(id); // the tracker's locked write gives a lapsed claim back (claim_expired)
      fixed.push(`gave back issue ${id}, whose claim had lapsed`);
    }
  }
  for (const cycle of findCycles(byId.keys(), (id) => byId.get(id)?.dependencies ?? [])) {
    problems.push({ kind: 'cycle', message: `Dependency cycle: ${describeCycle(cycle, short)}.`, issue_id: cycle[0], fixable: false });
  }
  problems.push(...hierarchyProblems(storage, issues, byId));
  const remaining = problems.filter((p) => !(fix && p.fixable));
  return { ok: remaining.length === 0, problems, fixed, recovered };
}

/**
 * The type hierarchy's rules (hierarchy.ts) broken by stored issues, under
 * strict and loose validation (permissive turns them off); a config.toml
 * that cannot be read is reported, not thrown, so the rest of the report stands.
 */
function hierarchyProblems(storage: Storage, issues: readonly Issue[], byId: ReadonlyMap<string, Issue>): ValidationProblem[] {
  let hierarchy;
  try {
    hierarchy = hierarchyOf(storage.readConfig());
  } catch (error) {
    if (!(error instanceof JitError)) throw error;
    return [{ kind: 'corrupt_file', message: error.message, path: error.details?.['path'] as string | undefined, fixable: false }];
  }
  if (hierarchy.strictness === 'permissive') return [];
  const found: HierarchyViolation[] = [];
  for (const issue of issues) {
    found.push(...labelViolations(issue, hierarchy));
    for (const dep of issue.dependencies) {
      const dependency = byId.get(dep);
      const violation = dependency && directionViolation(issue, dependency, hierarchy);
      if (violation) found.push(violation);
    }
  }
  return found.map((v) => ({ kind: 'hierarchy', message: `${v.message} (${v.rule})`, issue_id: v.issue_id, fixable: false }));
}
