/**
 * Lays out the dependency graph off the page's thread with d3-dag's Sugiyama
 * layout, left to right. The cheap settings (longest-path layering, one
 * depth-first start and one median sweep down and up to reduce crossings,
 * greedy coordinates) lay out 1,000 issues and 2,000 edges in about 200 ms of
 * CPU; dagre took 2-3 s of CPU there, and d3-dag's defaults (24 sweeps,
 * linear programming) longer still.
 */
import { coordGreedy, decrossDfs, graph as newGraph, layeringLongestPath, sugiyama, twolayerAgg, type MutGraphNode, type SugiNode } from 'd3-dag';

export interface LayoutRequest {
  /** Sizes as drawn (left to right): `width` along the flow, `height` across it. */
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
  /** Set when the layout failed: the page shows it (every request is answered, so answers stay matched to requests). */
  error?: string;
}

const MARGIN = 20;

const startOrder = decrossDfs();
const medianOrder = twolayerAgg();

/**
 * d3-dag's depth-first order, then one median sweep down the layers and one back up: what its
 * `decrossTwoLayer().inits([decrossDfs()]).passes(1)` does, without counting every layer pair's crossings after each
 * step to keep the best of three orders. That count grows with the square of a layer's width and was half of the
 * layout's time at 1,000 issues (0.47 s -> 0.20 s of CPU); on the benchmark's graph the last order is the best one
 * anyway (49,506 crossings either way).
 */
function decrossOneSweep(layers: SugiNode<string, undefined>[][]): void {
  startOrder(layers);
  for (let i = 0; i + 1 < layers.length; i++) medianOrder(layers[i]!, layers[i + 1]!, true);
  for (let i = layers.length - 2; i >= 0; i--) medianOrder(layers[i]!, layers[i + 1]!, false);
}
/** Space between issues in one column, and between columns. */
const GAP_ACROSS = 12;
const GAP_ALONG = 60;

export function layout(request: LayoutRequest): LayoutResult {
  const started = performance.now();
  if (request.nodes.length === 0) return { width: 0, height: 0, nodes: {}, edges: [], ms: 0 };
  const dag = newGraph<string, undefined>();
  const byId = new Map<string, MutGraphNode<string, undefined>>();
  for (const node of request.nodes) byId.set(node.id, dag.node(node.id));
  for (const edge of request.edges) {
    const source = byId.get(edge.source);
    const target = byId.get(edge.target);
    // An issue that waits for itself (a damaged store; validate reports it) has no edge to draw: d3-dag refuses self-loops.
    if (source && target && source !== target) dag.link(source, target);
  }
  const size = request.nodes[0]!;
  // d3-dag lays layers out top to bottom: its x is our y (across) and its y our x (along the flow).
  const { width, height } = sugiyama()
    // Issues with no prerequisites (and unconnected ones) in the first column: work starts on the left.
    .layering(layeringLongestPath().topDown(false))
    .decross(decrossOneSweep)
    .coord(coordGreedy())
    .nodeSize([size.height, size.width])
    .gap([GAP_ACROSS, GAP_ALONG])(dag);
  const nodes: LayoutResult['nodes'] = {};
  for (const node of dag.nodes()) nodes[node.data] = { x: node.y + MARGIN, y: node.x + MARGIN };
  const edges: LayoutResult['edges'] = [];
  for (const link of dag.links()) {
    const points = link.points.map(([x, y]) => ({ x: y + MARGIN, y: x + MARGIN }));
    // d3-dag runs a link from centre to centre: start it at the source's right side and end it at the target's left, where the arrowhead shows.
    points[0]!.x += size.width / 2;
    points[points.length - 1]!.x -= size.width / 2;
    edges.push({ source: link.source.data, target: link.target.data, points });
  }
  return { width: height + 2 * MARGIN, height: width + 2 * MARGIN, nodes, edges, ms: performance.now() - started };
}

// In a worker (not when a test imports `layout`): answer each request.
if (typeof self !== 'undefined' && typeof (self as { importScripts?: unknown }).importScripts === 'function') {
  self.onmessage = (message: MessageEvent<LayoutRequest>) => {
    let result: LayoutResult;
    try {
      result = layout(message.data);
    } catch (error) {
      result = { width: 0, height: 0, nodes: {}, edges: [], ms: 0, error: error instanceof Error ? error.message : String(error) };
    }
    self.postMessage(result);
  };
}
