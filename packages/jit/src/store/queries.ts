/**
 * The read-only questions over the index: what is ready, what is blocked and
 * why, counts, and the dependency graph. Two kinds of functions:
 * - the targeted reads of Storage (storage.ts) computed from every summary:
 *   InMemoryStorage answers with them, and JsonFileStorage over its whole
 *   index (an indexed store answers them with look-ups instead);
 * - what the tracker builds from those reads (blocked reasons), and the
 *   whole-store views (graph export, roots).
 * Pure functions, so they never write.
 */
import { STATES, type Issue, type State } from './model.js';
import { byAge, byUrgency, isTerminal, labelMatcher, pendingGates, unfinishedDependencies } from './rules.js';
import type { BlockedCandidate, GraphLookup, LabelNamespace, LabelValue, ReadyQuery, SummariesPage, SummaryFilter, SummaryPage } from './storage.js';
import type { BlockedIssue, GraphEdge, IssueSummary, JsonList, StatusReport } from './tracker-api.js';

type Summaries = ReadonlyMap<string, IssueSummary>;

const short = (id: string): string => id.slice(0, 8);
const compareIds = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The unfinished dependencies an issue waits for (none once it is finished itself). */
function blockingDependencies(summary: IssueSummary, summaries: Summaries): string[] {
  if (isTerminal(summary.state)) return [];
  return unfinishedDependencies(summary, (d) => summaries.get(d)?.state);
}

export function matches(filter: SummaryFilter): (summary: IssueSummary) => boolean {
  const hasLabel = filter.label === undefined ? undefined : labelMatcher(filter.label);
  return (s) =>
    (filter.state === undefined || s.state === filter.state) &&
    (filter.priority === undefined || s.priority === filter.priority) &&
    (filter.assignee === undefined || s.assignee === filter.assignee) &&
    (hasLabel === undefined || hasLabel(s.labels)) &&
    (filter.states === undefined || filter.states.includes(s.state)) &&
    (filter.anyLabel === undefined || s.labels.some((label) => filter.anyLabel!.includes(label)));
}

/** Whether the summary carries none of `labels`. */
const carriesNone = (labels: readonly string[] | undefined) => (s: IssueSummary): boolean => labels === undefined || !s.labels.some((label) => labels.includes(label));

// ------------------------------------------------- Storage's targeted reads

export function pickSummaries(summaries: Summaries, ids: readonly string[]): Map<string, IssueSummary> {
  const picked = new Map<string, IssueSummary>();
  for (const id of ids) {
    const summary = summaries.get(id);
    if (summary) picked.set(id, summary);
  }
  return picked;
}

export function summariesByPrefix(summaries: Summaries, prefix: string, limit: number): IssueSummary[] {
  const found = [...summaries.values()].filter((s) => s.id.startsWith(prefix));
  return found.sort((a, b) => compareIds(a.id, b.id)).slice(0, Math.max(0, limit));
}

export function dependentsOf(summaries: Summaries, ids: readonly string[]): IssueSummary[] {
  const wanted = new Set(ids);
  return [...summaries.values()].filter((s) => s.dependencies.some((d) => wanted.has(d))).sort(byAge);
}

export function downstreamOf(summaries: Summaries, id: string): IssueSummary[] {
  const lookup = graphLookup(summaries);
  const seen = new Set([id]);
  const queue = [id];
  for (let i = 0; i < queue.length; i++) {
    for (const next of lookup.dependentsOf(queue[i]!)) if (!seen.has(next)) (seen.add(next), queue.push(next));
  }
  seen.delete(id);
  return [...seen].map((d) => summaries.get(d)!).sort(byAge);
}

/** A list as JsonList, stringified here (for backends and cases without a faster way). */
export function jsonList(items: readonly unknown[]): JsonList {
  return { count: items.length, items: Buffer.from(JSON.stringify(items).slice(1, -1)) };
}

/** Claimable now: ready, unassigned, every dependency finished; most urgent first. */
export function readyWork(summaries: Summaries, query: ReadyQuery = {}): IssueSummary[] {
  const wanted = matches({ priority: query.priority, label: query.label });
  const ready = [...summaries.values()]
    .filter((s) => s.state === 'ready' && s.assignee === null && wanted(s) && carriesNone(query.excludeLabels)(s) && blockingDependencies(s, summaries).length === 0)
    .sort(byUrgency);
  return query.limit === undefined ? ready : ready.slice(0, query.limit);
}

/** Claims that may have lapsed at `now`: in progress or gated, with a lease that expired by then or is bound to an agent; byAge. */
export function lapsableClaims(summaries: Summaries, now: string): IssueSummary[] {
  return [...summaries.values()]
    .filter((s) => (s.state === 'in_progress' || s.state === 'gated') && s.assignee !== null && ((s.lease_expires_at != null && s.lease_expires_at <= now) || s.lease_agent != null))
    .sort(byAge);
}

export function statusReport(summaries: Summaries, options: Pick<ReadyQuery, 'excludeLabels'> = {}): StatusReport {
  const byState = Object.fromEntries(STATES.map((s) => [s, 0])) as Record<State, number>;
  const counted = carriesNone(options.excludeLabels);
  let ready = 0;
  let blocked = 0;
  for (const summary of summaries.values()) {
    byState[summary.state]++;
    const waiting = blockingDependencies(summary, summaries).length > 0;
    if (summary.state === 'ready' && summary.assignee === null && !waiting && counted(summary)) ready++;
    if (summary.state === 'gated' || waiting) blocked++;
  }
  return { total: summaries.size, by_state: byState, ready, blocked };
}

export function blockedCandidates(summaries: Summaries): BlockedCandidate[] {
  const candidates: BlockedCandidate[] = [];
  for (const issue of [...summaries.values()].sort(byAge)) {
    const waitsFor = blockingDependencies(issue, summaries).map((id) => ({ id, state: summaries.get(id)!.state }));
    if (issue.state === 'gated' || waitsFor.length > 0) candidates.push({ issue, waitsFor });
  }
  return candidates;
}

/** The label namespaces in use (the part before the first `:`; labels without one are left out), by name. */
export function labelNamespaces(summaries: Summaries): LabelNamespace[] {
  const found = new Map<string, { labels: Set<string>; issues: number }>();
  for (const s of summaries.values()) {
    const seen = new Set<string>();
    for (const label of s.labels) {
      const at = label.indexOf(':');
      if (at <= 0) continue;
      const namespace = label.slice(0, at);
      const entry = found.get(namespace) ?? { labels: new Set<string>(), issues: 0 };
      found.set(namespace, entry);
      entry.labels.add(label);
      if (!seen.has(namespace)) (seen.add(namespace), entry.issues++);
    }
  }
  return [...found].sort(([a], [b]) => compareIds(a, b)).map(([namespace, { labels, issues }]) => ({ namespace, values: labels.size, issues }));
}

/** The labels of `namespace` in use, by label, each with how many issues carry it. */
export function labelValues(summaries: Summaries, namespace: string): LabelValue[] {
  const prefix = `${namespace}:`;
  const counts = new Map<string, number>();
  for (const s of summaries.values()) for (const label of new Set(s.labels)) if (label.startsWith(prefix)) counts.set(label, (counts.get(label) ?? 0) + 1);
  return [...counts].sort(([a], [b]) => compareIds(a, b)).map(([label, issues]) => ({ label, value: label.slice(prefix.length), issues }));
}

export function listSummaries(summaries: Summaries, filter: SummaryFilter = {}): IssueSummary[] {
  return [...summaries.values()].filter(matches(filter)).sort(byAge);
}

/** A page of listSummaries (`limit` from `offset` on) and how many there are in all. */
export function pageSummaries(summaries: Summaries, filter: SummaryFilter, page: SummaryPage): SummariesPage {
  const all = listSummaries(summaries, filter);
  return { issues: all.slice(page.offset, page.offset + page.limit), total: all.length };
}

/** The GraphLookup over a graph given whole; the reverse edges are built on first use. */
export function graphLookup(summaries: Summaries): GraphLookup {
  let dependents: Map<string, string[]> | undefined;
  return {
    summary: (id) => summaries.get(id),
    dependentsOf: (id) => {
      if (!dependents) {
        dependents = new Map();
        for (const s of summaries.values()) {
          for (const d of new Set(s.dependencies)) {
            const list = dependents.get(d);
            if (list) list.push(s.id);
            else dependents.set(d, [s.id]);
          }
        }
        for (const list of dependents.values()) list.sort(compareIds);
      }
      return [...(dependents.get(id) ?? [])];
    },
  };
}

// ------------------------------------------------------- the tracker's views

/** Issues that cannot proceed, with their reasons; reads the issue file of gated ones (gate results live only there). */
export async function blockedIssues(candidates: readonly BlockedCandidate[], readIssue: (id: string) => Promise<Issue | null>): Promise<BlockedIssue[]> {
  const blocked: BlockedIssue[] = [];
  for (const { issue: summary, waitsFor } of candidates) {
    const reasons = waitsFor.map((d) => `waits for ${short(d.id)} (${d.state})`);
    if (summary.state === 'gated') {
      // Gated issues are few, so read just those.
      const issue = await readIssue(summary.id);
      for (const key of issue ? pendingGates(issue) : []) reasons.push(`gate ${key} ${issue!.gates_status[key]?.status ?? 'pending'}`);
    }
    if (reasons.length > 0) blocked.push({ issue: summary, reasons });
  }
  return blocked;
}

export function dependencyGraph(summaries: Summaries): { nodes: IssueSummary[]; edges: GraphEdge[] } {
  const nodes = [...summaries.values()].sort(byAge);
  return { nodes, edges: nodes.flatMap((n) => n.dependencies.map((to) => ({ from: n.id, to }))) };
}

/** The issues that wait for nothing. */
export function rootIssues(summaries: Summaries): IssueSummary[] {
  return [...summaries.values()].filter((s) => s.dependencies.length === 0).sort(byAge);
}
