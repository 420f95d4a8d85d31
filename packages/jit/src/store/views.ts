/**
 * Shapes of query results that both faces show, computed once here rather
 * than by each face: the flattened blocked list, and the part of the
 * dependency graph upstream of an issue. Pure functions of what TrackerApi
 * returns.
 */
import type { BlockedIssue, GraphEdge, IssueSummary } from './tracker-api.js';

/** A blocked issue as both faces list it (`query blocked --json`, the query_blocked tool): the summary carries its reasons. */
export type BlockedRow = IssueSummary & { reasons: string[] };

export function flattenBlocked(blocked: readonly BlockedIssue[]): BlockedRow[] {
  return blocked.map(({ issue, reasons }) => ({ ...issue, reasons }));
}

/** The dependency graph (TrackerApi.graphEdges) or a part of it. */
export interface Graph {
  nodes: IssueSummary[];
  edges: GraphEdge[];
}

/** Edges keyed by the waiting issue: what each issue waits for. */
export function prerequisitesOf(graph: Graph): Map<string, string[]> {
  const waitsFor = new Map<string, string[]>();
  for (const { from, to } of graph.edges) {
    const list = waitsFor.get(from);
    if (list) list.push(to);
    else waitsFor.set(from, [to]);
  }
  return waitsFor;
}

/** Everything reachable from `start` along "waits for" edges, added to `into`. Iterative: chains run deep. */
export function reachFrom(start: string, waitsFor: ReadonlyMap<string, readonly string[]>, into: Set<string>): void {
  const pending = [start];
  while (pending.length > 0) {
    const id = pending.pop()!;
    if (into.has(id)) continue;
    into.add(id);
    for (const next of waitsFor.get(id) ?? []) pending.push(next);
  }
}

/** The issue and everything it waits for, transitively. */
export function upstreamSubgraph(graph: Graph, rootId: string): Graph {
  const keep = new Set<string>();
  reachFrom(rootId, prerequisitesOf(graph), keep);
  return {
    nodes: graph.nodes.filter((node) => keep.has(node.id)),
    edges: graph.edges.filter((edge) => keep.has(edge.from)),
  };
}
