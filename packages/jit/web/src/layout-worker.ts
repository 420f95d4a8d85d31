/**
 * Lays out the dependency graph off the page's thread (@dagrejs/dagre, left
 * to right): a large graph takes seconds, and the page stays usable meanwhile.
 */
import dagre from '@dagrejs/dagre';

export interface LayoutRequest {
  nodes: { id: string; width: number; height: number }[];
  /** Drawn from the prerequisite to the issue that waits for it: work flows left to right. */
  edges: { source: string; target: string }[];
}

export interface LayoutResult {
  width: number;
  height: number;
  nodes: Record<string, { x: number; y: number }>;
  edges: { source: string; target: string; points: { x: number; y: number }[] }[];
  ms: number;
}

function layout(request: LayoutRequest): LayoutResult {
  const started = performance.now();
  const graph = new dagre.graphlib.Graph();
  // longest-path ranking and no optimal-order pass: network simplex and the extra ordering pass cost many seconds at 1,000 issues.
  const big = request.nodes.length > 300;
  graph.setGraph({ rankdir: 'LR', nodesep: 12, ranksep: 60, marginx: 20, marginy: 20, ...(big ? { ranker: 'longest-path' } : {}) });
  graph.setDefaultEdgeLabel(() => ({}));
  for (const node of request.nodes) graph.setNode(node.id, { width: node.width, height: node.height });
  for (const edge of request.edges) graph.setEdge(edge.source, edge.target);
  dagre.layout(graph, big ? { disableOptimalOrderHeuristic: true } : undefined);
  const nodes: LayoutResult['nodes'] = {};
  for (const id of graph.nodes()) {
    const node = graph.node(id);
    nodes[id] = { x: node.x, y: node.y };
  }
  const edges = graph.edges().map((e) => ({ source: e.v, target: e.w, points: ((graph.edge(e) as { points?: { x: number; y: number }[] }).points ?? []).map((p) => ({ x: p.x, y: p.y })) }));
  const { width = 0, height = 0 } = graph.graph();
  return { width, height, nodes, edges, ms: performance.now() - started };
}

self.onmessage = (message: MessageEvent<LayoutRequest>) => {
  self.postMessage(layout(message.data));
};
