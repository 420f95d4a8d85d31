/**
 * The read-only questions over the index: what is ready, what is blocked and
 * why, counts, and the dependency graph. Pure functions of the summaries the
 * tracker loads (after settling any follow-ups), so they never write.
 */
import { STATES, type Issue, type State } from './model.js';
import { byAge, byUrgency, isTerminal, pendingGates, unfinishedDependencies } from './rules.js';
import type { BlockedIssue, GraphEdge, IssueSummary, StatusReport } from './tracker-api.js';

type Summaries = ReadonlyMap<string, IssueSummary>;

const short = (id: string): string => id.slice(0, 8);

/** The unfinished dependencies an issue waits for (none once it is finished itself). */
export function blockingDependencies(summary: IssueSummary, summaries: Summaries): string[] {
  if (isTerminal(summary.state)) return [];
  return unfinishedDependencies(summary, (d) => summaries.get(d)?.state);
}

/** Claimable now: ready, unassigned, every dependency finished; most urgent first. */
export function readyWork(summaries: Summaries): IssueSummary[] {
  return [...summaries.values()]
    .filter((s) => s.state === 'ready' && s.assignee === null && unfinishedDependencies(s, (d) => summaries.get(d)?.state).length === 0)
    .sort(byUrgency);
}

/** Issues that cannot proceed, oldest first, each with its reasons; reads the issue file of gated ones (gate results live only there). */
export async function blockedIssues(summaries: Summaries, readIssue: (id: string) => Promise<Issue | null>): Promise<BlockedIssue[]> {
  const blocked: BlockedIssue[] = [];
  for (const summary of [...summaries.values()].sort(byAge)) {
    const reasons = blockingDependencies(summary, summaries).map((d) => `waits for ${short(d)} (${summaries.get(d)!.state})`);
    if (summary.state === 'gated') {
      // Gate results live only in the issue file; gated issues are few, so read just those.
      const issue = await readIssue(summary.id);
      for (const key of issue ? pendingGates(issue) : []) reasons.push(`gate ${key} ${issue!.gates_status[key]?.status ?? 'pending'}`);
    }
    if (reasons.length > 0) blocked.push({ issue: summary, reasons });
  }
  return blocked;
}

export function statusReport(summaries: Summaries): StatusReport {
  const byState = Object.fromEntries(STATES.map((s) => [s, 0])) as Record<State, number>;
  let ready = 0;
  let blocked = 0;
  for (const summary of summaries.values()) {
    byState[summary.state]++;
    const waiting = blockingDependencies(summary, summaries).length > 0;
    if (summary.state === 'ready' && summary.assignee === null && !waiting) ready++;
    if (summary.state === 'gated' || waiting) blocked++;
  }
  return { total: summaries.size, by_state: byState, ready, blocked };
}

export function dependencyGraph(summaries: Summaries): { nodes: IssueSummary[]; edges: GraphEdge[] } {
  const nodes = [...summaries.values()].sort(byAge);
  return { nodes, edges: nodes.flatMap((n) => n.dependencies.map((to) => ({ from: n.id, to }))) };
}

/** The issues that wait for `id`, directly or transitively, oldest first. */
export function waitingFor(summaries: Summaries, id: string): IssueSummary[] {
  const dependents = new Map<string, string[]>();
  for (const s of summaries.values()) {
    for (const d of s.dependencies) {
      const list = dependents.get(d);
      if (list) list.push(s.id);
      else dependents.set(d, [s.id]);
    }
  }
  const seen = new Set<string>([id]);
  const queue = [id];
  for (let i = 0; i < queue.length; i++) {
    for (const next of dependents.get(queue[i]!) ?? []) if (!seen.has(next)) (seen.add(next), queue.push(next));
  }
  seen.delete(id);
  return [...seen].map((d) => summaries.get(d)!).sort(byAge);
}

/** The issues that wait for nothing. */
export function rootIssues(summaries: Summaries): IssueSummary[] {
  return [...summaries.values()].filter((s) => s.dependencies.length === 0).sort(byAge);
}
