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

interface NodeProps {
  issue: IssueSummary;
  x: number;
  y: number;
}

/** A node re-renders only when what it shows changed: a live change to one issue does not redraw a thousand. */
class Node extends Component<NodeProps> {
  override shouldComponentUpdate({ issue, x, y }: NodeProps): boolean {
    const shown = this.props.issue;
    return x !== this.props.x || y !== this.props.y || issue.state !== shown.state || issue.title !== shown.title || issue.priority !== shown.priority;
  }

  override render({ issue, x, y }: NodeProps) {
    const open = () => (location.hash = `#/issue/${issue.id}`);
    return (
      <g
        class={`node state-${issue.state}`}
        data-id={issue.id}
        transform={`translate(${(x - NODE_WIDTH / 2).toFixed(1)},${(y - NODE_HEIGHT / 2).toFixed(1)})`}
        tabindex={0}
        role="link"
        aria-label={`${issue.title} (${STATE_LABEL[issue.state]}, ${issue.priority})`}
        onClick={open}
        onKeyDown={(e) => e.key === 'Enter' && open()}
      >
        <rect width={NODE_WIDTH} height={NODE_HEIGHT} rx={issue.state === 'gated' ? 0 : 6} />
        <text x={8} y={15} class="node-head">
          {`${STATE_GLYPH[issue.state]} ${STATE_LABEL[issue.state]} · ${shortId(issue.id)}`}
        </text>
        <text x={8} y={31} class="node-title">
          {clip(issue.title, MAX_TITLE)}
        </text>
      </g>
    );
  }
}

/**
 * Level of detail by zoom: below these scales the text is too small to read, and hiding it (a class on the svg, no
 * re-render) keeps drawing and panning a thousand nodes quick: titles go first, then the state line. The shape and
 * the colour stay, and each node's accessible name keeps its title and state.
 */
const LEVELS_OF_DETAIL: [scale: number, className: string][] = [
  [0.45, 'far'],
  [0.2, 'farthest'],
];

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
      storeLayout(key, result);
      resolve(result);
    }),
  );
}

export function GraphView({ issues, shapeRevision }: { issues: IssueSummary[]; shapeRevision: number }) {
  const [data, setData] = useState<GraphData | null>(null);
  const [layout, setLayout] = useState<{ key: string; result: LayoutResult } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const svgRef = useRef<SVGSVGElement>(null);
  const viewRef = useRef<SVGGElement>(null);
  const zoomRef = useRef<ZoomBehavior<SVGSVGElement, unknown> | null>(null);

  // The edges are read again only when issues or dependencies came or went; states and titles come from the live list.
  useEffect(() => {
    startWorker();
    let current = true;
    get<GraphData>('/api/graph').then(
      (graph) => current && setData(graph),
      (e: Error) => current && setError(e.message),
    );
    return () => {
      current = false;
    };
  }, [shapeRevision]);

  const shapeKey = useMemo(() => (data ? `${data.nodes.map((n) => n.id).join(',')}|${data.edges.map((e) => `${e.from}>${e.to}`).join(',')}` : ''), [data]);
  useEffect(() => {
    if (!data) return;
    let current = true;
    const request: LayoutRequest = {
      nodes: data.nodes.map((n) => ({ id: n.id, width: NODE_WIDTH, height: NODE_HEIGHT })),
      edges: data.edges.map((e) => ({ source: e.to, target: e.from })),
    };
    void layoutOf(shapeKey, request).then((result) => current && setLayout({ key: shapeKey, result }));
    return () => {
      current = false;
    };
  }, [shapeKey]);

  const shown = layout?.result;
  // Before the first paint: the fit's scale decides which text is drawn at all (a graph of 1,000 shows none of it at first).
  useLayoutEffect(() => {
    const svg = svgRef.current;
    if (!svg || !shown) return;
    const behavior = zoom<SVGSVGElement, unknown>()
      .scaleExtent([0.05, 4])
      .on('zoom', (event: { transform: { k: number; toString(): string } }) => {
        viewRef.current?.setAttribute('transform', event.transform.toString());
        for (const [scale, className] of LEVELS_OF_DETAIL) {
          if (svg.classList.contains(className) !== event.transform.k < scale) svg.classList.toggle(className);
        }
      });
    zoomRef.current = behavior;
    const selection = select(svg).call(behavior).on('dblclick.zoom', null);
    // Fit the whole graph on first show.
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

  const onKey = (event: KeyboardEvent) => {
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
      <svg ref={svgRef} class="graph" data-layout-ms={shown ? Math.round(shown.ms) : undefined} tabindex={0} role="group" aria-label="Dependency graph; arrow keys pan, + and − zoom" onKeyDown={onKey}>
        <defs>
          <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
            <path d="M0,0L10,5L0,10z" class="arrowhead" />
          </marker>
        </defs>
        <g ref={viewRef}>
          {shown &&
            shown.edges.map((edge) => {
              const prerequisite = byId.get(edge.source);
              const blocking = prerequisite !== undefined && !FINISHED.has(prerequisite.state);
              return <path key={`${edge.source}>${edge.target}`} class={blocking ? 'edge blocking' : 'edge'} d={pathOf(edge.points)} marker-end="url(#arrow)" />;
            })}
          {shown &&
            data.nodes.map((node) => {
              const at = shown.nodes[node.id];
              return at ? <Node key={node.id} issue={byId.get(node.id) ?? node} x={at.x} y={at.y} /> : null;
            })}
        </g>
      </svg>
    </section>
  );
}
