/**
 * The dependency graph, left to right: an arrow from a prerequisite to the
 * issue that waits for it; an arrow whose prerequisite is unfinished is
 * dashed ("blocking"). Nodes carry their state as a glyph and a word, not only
 * a colour. Zoom and pan with d3-zoom (wheel, drag, pinch; + - 0 and arrow
 * keys when the graph has focus); Enter or a click opens an issue.
 */
import { select } from 'd3-selection';
import { zoom, zoomIdentity, type ZoomBehavior } from 'd3-zoom';
import { Component } from 'preact';
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { get, type GraphData, type IssueSummary } from './api.js';
import type { LayoutRequest, LayoutResult } from './layout-worker.js';
import { FINISHED, shortId, STATE_GLYPH, STATE_LABEL, STATES } from './model.js';

const NODE_WIDTH = 200;
const NODE_HEIGHT = 38;
const MAX_TITLE = 26;

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function pathOf(points: { x: number; y: number }[]): string {
  return points.map((p, i) => `${i === 0 ? 'M' : 'L'}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join('');
}

/**
 * Level of detail by zoom: below these scales the text is too small to read and is not drawn at all (no elements:
 * laying out 2,000 SVG texts cost more than the rest of a thousand-node graph). Titles go first, then the state line;
 * the shape and the colour stay, and each node's accessible name keeps its title and state.
 */
type Detail = 'near' | 'far' | 'farthest';
const TITLES_FROM_SCALE = 0.45;
const STATE_LINES_FROM_SCALE = 0.2;
const detailAt = (scale: number): Detail => (scale < STATE_LINES_FROM_SCALE ? 'farthest' : scale < TITLES_FROM_SCALE ? 'far' : 'near');

interface NodeProps {
  issue: IssueSummary;
  x: number;
  y: number;
  detail: Detail;
}

/** A node re-renders only when what it shows changed: a live change to one issue does not redraw a thousand. */
class Node extends Component<NodeProps> {
  override shouldComponentUpdate({ issue, x, y, detail }: NodeProps): boolean {
    const shown = this.props.issue;
    return x !== this.props.x || y !== this.props.y || detail !== this.props.detail || issue.state !== shown.state || issue.title !== shown.title || issue.priority !== shown.priority;
  }

  // No listeners of its own: the svg's one click and keydown handler opens the node they came from (2,000 fewer listeners).
  override render({ issue, x, y, detail }: NodeProps) {
    return (
      <g
        class={`node state-${issue.state}`}
        data-id={issue.id}
        transform={`translate(${(x - NODE_WIDTH / 2).toFixed(1)},${(y - NODE_HEIGHT / 2).toFixed(1)})`}
        tabindex={0}
        role="link"
        aria-label={`${issue.title} (${STATE_LABEL[issue.state]}, ${issue.priority})`}
      >
        <rect width={NODE_WIDTH} height={NODE_HEIGHT} rx={issue.state === 'gated' ? 0 : 6} />
        {detail !== 'farthest' && (
          <text x={8} y={15} class="node-head">
            {`${STATE_GLYPH[issue.state]} ${STATE_LABEL[issue.state]} · ${shortId(issue.id)}`}
          </text>
        )}
        {detail === 'near' && (
          <text x={8} y={31} class="node-title">
            {clip(issue.title, MAX_TITLE)}
          </text>
        )}
      </g>
    );
  }
}

interface EdgesProps {
  edges: LayoutResult['edges'];
  /** The unfinished issues (an edge out of one is blocking), and their ids joined: what decides whether to redraw. */
  unfinished: { ids: Set<string>; key: string };
}

/** An arrowhead as a closed triangle: its tip on the edge's end, pointing along the edge's last segment. */
function arrowheadOf(points: { x: number; y: number }[]): string {
  const tip = points[points.length - 1]!;
  const from = points[points.length - 2]!;
  const length = Math.hypot(tip.x - from.x, tip.y - from.y) || 1;
  const [dx, dy] = [(tip.x - from.x) / length, (tip.y - from.y) / length];
  const [backX, backY] = [tip.x - dx * ARROW_LENGTH, tip.y - dy * ARROW_LENGTH];
  const [sideX, sideY] = [-dy * ARROW_HALF_WIDTH, dx * ARROW_HALF_WIDTH];
  const at = (x: number, y: number) => `${x.toFixed(1)},${y.toFixed(1)}`;
  return `M${at(tip.x, tip.y)}L${at(backX + sideX, backY + sideY)}L${at(backX - sideX, backY - sideY)}z`;
}
const ARROW_LENGTH = 8;
const ARROW_HALF_WIDTH = 4;

/** The side of the squares the edges are grouped by (in layout units: about 4 columns by 16 rows of issues). */
const EDGE_TILE = 1000;

/**
 * The edges of one kind that start in one square of the layout are one path (a subpath each), and their arrowheads
 * another: a couple of hundred elements for 2,000 edges instead of 2,000 elements with a marker each, which were most
 * of the drawing's cost at 1,000 issues. Not one path for all: the browser skips painting a path outside the view
 * only as a whole, and dashing one path that spans the whole graph made every zoom step take seconds. They re-render
 * only for a new layout or when an issue started or stopped being finished, not on every change of the list.
 */
class Edges extends Component<EdgesProps> {
  override shouldComponentUpdate({ edges, unfinished }: EdgesProps): boolean {
    return edges !== this.props.edges || unfinished.key !== this.props.unfinished.key;
  }

  override render({ edges, unfinished }: EdgesProps) {
    const tiles = new Map<string, { blocking: boolean; lines: string[]; heads: string[] }>();
    for (const edge of edges) {
      const blocking = unfinished.ids.has(edge.source);
      const start = edge.points[0]!;
      const key = `${blocking ? 'blocking' : 'done'}:${Math.floor(start.x / EDGE_TILE)}:${Math.floor(start.y / EDGE_TILE)}`;
      let tile = tiles.get(key);
      if (!tile) tiles.set(key, (tile = { blocking, lines: [], heads: [] }));
      tile.lines.push(pathOf(edge.points));
      tile.heads.push(arrowheadOf(edge.points));
    }
    // `data-edges` lets a reader of the DOM count them; the tests count the drawn subpaths themselves.
    return [...tiles].map(([key, { blocking, lines, heads }]) => (
      <g key={key}>
        <path class={blocking ? 'edges blocking' : 'edges'} data-edges={lines.length} d={lines.join('')} />
        <path class={blocking ? 'arrowheads blocking' : 'arrowheads'} d={heads.join('')} />
      </g>
    ));
  }
}

/** Laid-out graphs by shape (which issues and edges exist): a state change, a tab switch or a reload of the same shape does not lay out again. */
const layouts = new Map<string, LayoutResult>();
const LAYOUTS_KEPT = 4;
let layoutWorker: Worker | undefined;
/** The worker answers in the order it was asked. */
const waiting: ((result: LayoutResult) => void)[] = [];

/** Started as the graph view opens, so the worker's script loads while the graph's data is fetched. */
function startWorker(): Worker {
  if (!layoutWorker) {
    layoutWorker = new Worker('/layout-worker.js');
    layoutWorker.onmessage = (message: MessageEvent<LayoutResult>) => waiting.shift()?.(message.data);
  }
  return layoutWorker;
}

/** The last layout is also kept in the browser's storage: opening the page again on an unchanged graph draws at once. */
const STORED_LAYOUT = 'jit-graph-layout';

const isPoint = (p: unknown): p is { x: number; y: number } =>
  typeof p === 'object' && p !== null && Number.isFinite((p as { x: unknown }).x) && Number.isFinite((p as { y: unknown }).y);

/** Whether a stored entry is a layout of this request: the storage is shared by the origin (another version, another store on the same port, a hand edit). */
function laysOut(result: unknown, request: LayoutRequest): result is LayoutResult {
  if (typeof result !== 'object' || result === null) return false;
  const { width, height, nodes, edges } = result as Partial<Record<keyof LayoutResult, unknown>>;
  if (!Number.isFinite(width) || !Number.isFinite(height) || typeof nodes !== 'object' || nodes === null || !Array.isArray(edges)) return false;
  return (
    request.nodes.every((node) => Object.hasOwn(nodes, node.id) && isPoint((nodes as Record<string, unknown>)[node.id])) &&
    edges.every(
      (edge: Partial<Record<'source' | 'target' | 'points', unknown>>) =>
        typeof edge === 'object' && edge !== null && typeof edge.source === 'string' && typeof edge.target === 'string' && Array.isArray(edge.points) && edge.points.length >= 2 && edge.points.every(isPoint),
    )
  );
}

function storedLayout(key: string, request: LayoutRequest): LayoutResult | undefined {
  try {
    const stored = JSON.parse(localStorage.getItem(STORED_LAYOUT) ?? 'null') as { key?: unknown; result?: unknown } | null;
    // Junk or another version's shape under this key: lay out again rather than draw it (or fail drawing it).
    return stored?.key === key && laysOut(stored.result, request) ? stored.result : undefined;
  } catch {
    return undefined; // storage off, or not JSON: lay out again
  }
}

function storeLayout(key: string, result: LayoutResult): void {
  try {
    localStorage.setItem(STORED_LAYOUT, JSON.stringify({ key, result }));
  } catch {
    // storage off or full: only this page's memory keeps it
  }
}

function layoutOf(key: string, request: LayoutRequest): Promise<LayoutResult> {
  const cached = layouts.get(key) ?? storedLayout(key, request);
  if (cached) return Promise.resolve(cached);
  startWorker().postMessage(request);
  return new Promise((resolve) =>
    waiting.push((result) => {
      if (result.error) return resolve(result); // not kept: the next look tries again
      layouts.set(key, result);
      if (layouts.size > LAYOUTS_KEPT) layouts.delete(layouts.keys().next().value!);
      // After the drawing is painted (the next frame's end): writing a thousand nodes' layout to storage takes tens of ms of the page's thread.
      requestAnimationFrame(() => setTimeout(() => storeLayout(key, result)));
      resolve(result);
    }),
  );
}

interface LoadedGraph {
  data: GraphData;
  key: string;
  /** Asked for as soon as the data is there, not after drawing it: the worker lays out while the page draws the rest. */
  layout: Promise<LayoutResult>;
}

function loadGraph(): Promise<LoadedGraph> {
  startWorker();
  return get<GraphData>('/api/graph').then((data) => {
    const key = `${data.nodes.map((n) => n.id).join(',')}|${data.edges.map((e) => `${e.from}>${e.to}`).join(',')}`;
    const request: LayoutRequest = {
      nodes: data.nodes.map((n) => ({ id: n.id, width: NODE_WIDTH, height: NODE_HEIGHT })),
      edges: data.edges.map((e) => ({ source: e.to, target: e.from })),
    };
    return { data, key, layout: layoutOf(key, request) };
  });
}

let earlyLoad: Promise<LoadedGraph> | undefined;

/**
 * Called before the page's first render when it opens on the graph: the graph's data, the worker's script and the
 * layout load while the rest of the page starts up. The graph view takes it on its first look.
 */
export function loadGraphEarly(): void {
  earlyLoad = loadGraph();
  earlyLoad.catch(() => undefined); // the view reports a failure; this copy must not be an unhandled rejection
}

export function GraphView({ issues, shapeRevision }: { issues: IssueSummary[]; shapeRevision: number }) {
  const [data, setData] = useState<GraphData | null>(null);
  const [layout, setLayout] = useState<{ key: string; result: LayoutResult } | null>(null);
  const [error, setError] = useState<string | null>(null);
  /** Set by the zoom; the nodes are drawn only once the first fit has set it (their text depends on it). */
  const [detail, setDetail] = useState<Detail | null>(null);
  const svgRef = useRef<SVGSVGElement>(null);
  const viewRef = useRef<SVGGElement>(null);
  const zoomRef = useRef<ZoomBehavior<SVGSVGElement, unknown> | null>(null);

  // The edges are read again only when issues or dependencies came or went; states and titles come from the live list.
  useEffect(() => {
    let current = true;
    // The early read is this look's only while no issue or edge came or went since the page started; a later look reads afresh.
    const load = (shapeRevision === 0 && earlyLoad) || loadGraph();
    earlyLoad = undefined;
    load.then(
      ({ data: graph, key, layout: laidOut }) => {
        if (!current) return;
        // Marks for the benchmark's breakdown (bench/web.js): data read, layout there.
        performance.mark('jit:graph-data');
        setData(graph);
        void laidOut.then((result) => {
          performance.mark('jit:graph-laid-out');
          if (current) setLayout({ key, result });
        });
      },
      (e: Error) => current && setError(e.message),
    );
    return () => {
      current = false;
    };
  }, [shapeRevision]);

  const shown = layout?.result;
  /*
   * Fit the whole graph on its first show, before its nodes are drawn: measuring the svg while it is empty costs
   * nothing, and the fit's scale decides which text is drawn at all (a graph of 1,000 shows none of it
   * at first). Later layouts (issues or edges came or went) keep the reader's zoom.
   */
  useLayoutEffect(() => {
    const svg = svgRef.current;
    if (!svg || !shown) return;
    const behavior = zoom<SVGSVGElement, unknown>()
      .scaleExtent([0.05, 4])
      .on('zoom', (event: { transform: { k: number; toString(): string } }) => {
        viewRef.current?.setAttribute('transform', event.transform.toString());
        // Re-renders the nodes only when a threshold is crossed, not on every step of a pan or zoom.
        setDetail(detailAt(event.transform.k));
      });
    zoomRef.current = behavior;
    const selection = select(svg).call(behavior).on('dblclick.zoom', null);
    const { width, height } = svg.getBoundingClientRect();
    const scale = Math.min(1, width / Math.max(shown.width, 1), height / Math.max(shown.height, 1));
    selection.call(behavior.transform, zoomIdentity.translate((width - shown.width * scale) / 2, 10).scale(scale));
    return () => selection.on('.zoom', null);
  }, [shown !== undefined && !shown.error]);

  // The live list has the current state and title of each node; the graph's own copy only fills a gap (an issue newer than the list).
  const byId = useMemo(() => {
    const map = new Map<string, IssueSummary>((data?.nodes ?? []).map((n) => [n.id, n]));
    for (const issue of issues) if (map.has(issue.id)) map.set(issue.id, issue);
    return map;
  }, [data, issues]);
  const unfinished = useMemo(() => {
    const ids = new Set<string>();
    for (const [id, issue] of byId) if (!FINISHED.has(issue.state)) ids.add(id);
    return { ids, key: [...ids].join(',') };
  }, [byId]);

  const open = (event: Event) => {
    const node = (event.target as Element).closest?.('g.node');
    const id = node?.getAttribute('data-id');
    if (id) location.hash = `#/issue/${id}`;
  };

  const onKey = (event: KeyboardEvent) => {
    if (event.key === 'Enter') return open(event);
    const svg = svgRef.current;
    const behavior = zoomRef.current;
    if (!svg || !behavior || event.target !== svg) return;
    const selection = select(svg);
    const step = 60;
    const moves: Record<string, () => void> = {
      '+': () => behavior.scaleBy(selection, 1.25),
      '=': () => behavior.scaleBy(selection, 1.25),
      '-': () => behavior.scaleBy(selection, 0.8),
      '0': () => behavior.transform(selection, zoomIdentity),
      ArrowLeft: () => behavior.translateBy(selection, step, 0),
      ArrowRight: () => behavior.translateBy(selection, -step, 0),
      ArrowUp: () => behavior.translateBy(selection, 0, step),
      ArrowDown: () => behavior.translateBy(selection, 0, -step),
    };
    const move = moves[event.key];
    if (move) (event.preventDefault(), move());
  };

  if (error) return <p class="error" role="alert">{error}</p>;
  if (shown?.error) return <p class="error" role="alert">The graph could not be laid out: {shown.error}</p>;
  if (!data) return <p class="loading">Loading the graph…</p>;
  const drawn = shown && detail ? shown : undefined;
  return (
    <section aria-label="Dependency graph" class="graph-view">
      <p class="legend">
        {STATES.map((s) => (
          <span class={`legend-item state-${s}`} key={s}>
            <span class="swatch" aria-hidden="true" /> {STATE_GLYPH[s]} {STATE_LABEL[s]}
          </span>
        ))}
        <span class="legend-item">— done prerequisite</span>
        <span class="legend-item">- - blocking (prerequisite unfinished)</span>
        <span class="hint">Wheel or +/− to zoom, drag or arrow keys to pan, 0 to reset; Tab to a node and Enter to open it.</span>
        <span class="count" data-testid="graph-count">
          {data.nodes.length} issues, {data.edges.length} dependencies
        </span>
      </p>
      {!shown ? (
        <p class="loading" role="status">
          Laying out {data.nodes.length} issues…
        </p>
      ) : null}
      <svg
        ref={svgRef}
        class={`graph detail-${detail ?? 'farthest'}`}
        data-layout-ms={shown ? Math.round(shown.ms) : undefined}
        tabindex={0}
        role="group"
        aria-label="Dependency graph; arrow keys pan, + and − zoom"
        onKeyDown={onKey}
        onClick={open}
      >
        <g ref={viewRef}>
          {drawn && <Edges edges={drawn.edges} unfinished={unfinished} />}
          {drawn &&
            data.nodes.map((node) => {
              const at = drawn.nodes[node.id];
              return at ? <Node key={node.id} issue={byId.get(node.id) ?? node} x={at.x} y={at.y} detail={detail!} /> : null;
            })}
        </g>
      </svg>
    </section>
  );
}
