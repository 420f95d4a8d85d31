/** `jit graph ...`: the dependency graph as a tree, as lists, or exported for Graphviz / Mermaid. */
import { Option, type Command } from 'commander';
import type { GraphEdge, IssueSummary } from '../../store/tracker-api.js';
import { action } from '../context.js';
import { oneLine, printIssueList, shortId, stateStyle, type Paint } from '../output.js';

interface Graph {
  nodes: IssueSummary[];
  edges: GraphEdge[];
}

/** Edges keyed by the waiting issue: what each issue waits for. */
function prerequisitesOf(graph: Graph): Map<string, string[]> {
  const waitsFor = new Map<string, string[]>();
  for (const { from, to } of graph.edges) waitsFor.set(from, [...(waitsFor.get(from) ?? []), to]);
  return waitsFor;
}

/** The issue and everything it waits for, transitively. */
function upstreamSubgraph(graph: Graph, rootId: string): Graph {
  const waitsFor = prerequisitesOf(graph);
  const keep = new Set<string>();
  const pending = [rootId];
  while (pending.length > 0) {
    const id = pending.pop()!;
    if (keep.has(id)) continue;
    keep.add(id);
    pending.push(...(waitsFor.get(id) ?? []));
  }
  return {
    nodes: graph.nodes.filter((node) => keep.has(node.id)),
    edges: graph.edges.filter((edge) => keep.has(edge.from)),
  };
}

/**
 * Trees of "waits for", starting from the issues nothing waits for (or from
 * `rootId`). A node reached a second time is named but not expanded again.
 */
function renderTrees(graph: Graph, paint: Paint, rootId?: string): string {
  if (graph.nodes.length === 0) return 'No issues.\n';
  const byId = new Map(graph.nodes.map((node) => [node.id, node]));
  const waitsFor = prerequisitesOf(graph);
  const awaited = new Set(graph.edges.map((edge) => edge.to));
  const printed = new Set<string>();
  const lines: string[] = [];
  const label = (id: string) => {
    const node = byId.get(id);
    if (!node) return `${paint('cyan', shortId(id))} ${paint('red', '(missing issue)')}`;
    return `${paint('cyan', shortId(id))} ${paint(stateStyle(node.state), `[${node.state}]`)} ${oneLine(node.title)}`;
  };
  const visit = (id: string, prefix: string, connector: string, childPrefix: string) => {
    const seen = printed.has(id);
    printed.add(id);
    lines.push(`${prefix}${connector}${label(id)}${seen && waitsFor.has(id) ? paint('dim', ' (see above)') : ''}`);
    if (seen) return;
    const children = waitsFor.get(id) ?? [];
    children.forEach((child, i) => {
      const last = i === children.length - 1;
      visit(child, prefix + childPrefix, last ? '└── ' : '├── ', last ? '    ' : '│   ');
    });
  };
  const tops = rootId ? [rootId] : graph.nodes.filter((node) => !awaited.has(node.id)).map((node) => node.id);
  for (const id of tops) visit(id, '', '', '');
  // Only a cycle (which the store refuses) could hide nodes from every top; show them rather than drop them.
  if (!rootId) for (const node of graph.nodes) if (!printed.has(node.id)) visit(node.id, '', '', '');
  return lines.join('\n') + '\n';
}

function dotString(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Arrows point from the prerequisite to the issue that waits for it: the order work flows in. */
function toDot(graph: Graph): string {
  const lines = ['digraph jit {', '  rankdir=LR;', '  node [shape=box];'];
  for (const node of graph.nodes) {
    lines.push(`  ${dotString(node.id)} [label=${dotString(`${shortId(node.id)} ${oneLine(node.title)}\n(${node.state})`)}];`);
  }
  for (const edge of graph.edges) lines.push(`  ${dotString(edge.to)} -> ${dotString(edge.from)};`);
  lines.push('}');
  return lines.join('\n') + '\n';
}

function toMermaid(graph: Graph): string {
  const nodeName = (id: string) => `i${id.replace(/-/g, '')}`;
  const text = (value: string) => oneLine(value).replace(/"/g, '#quot;');
  const lines = ['flowchart LR'];
  for (const node of graph.nodes) {
    lines.push(`  ${nodeName(node.id)}["${shortId(node.id)} ${text(node.title)} (${node.state})"]`);
  }
  for (const edge of graph.edges) lines.push(`  ${nodeName(edge.to)} --> ${nodeName(edge.from)}`);
  return lines.join('\n') + '\n';
}

const EXPORTERS = { dot: toDot, mermaid: toMermaid } as const;
type ExportFormat = keyof typeof EXPORTERS;

export function registerGraphCommands(program: Command): void {
  const graph = program.command('graph').description('The dependency graph');

  graph
    .command('show')
    .description('Dependency trees (each issue with what it waits for); with ID, only that issue\'s tree')
    .argument('[id]', 'issue id or unique prefix')
    .action(
      action(async (cli, id: string | undefined) => {
        const tracker = cli.tracker();
        const whole = await tracker.graphEdges();
        const rootId = id === undefined ? undefined : (await tracker.getIssue(id)).id;
        const shown = rootId === undefined ? whole : upstreamSubgraph(whole, rootId);
        cli.print(shown, (data, paint) => renderTrees(data, paint, rootId));
      }),
    );

  graph
    .command('downstream')
    .description('Issues that wait for ID, directly or transitively')
    .argument('<id>', 'issue id or unique prefix')
    .action(action(async (cli, id: string) => printIssueList(cli, await cli.tracker().downstream(id), 'Nothing waits for it.')));

  graph
    .command('roots')
    .description('Issues that wait for nothing')
    .action(action(async (cli) => printIssueList(cli, await cli.tracker().roots())));

  graph
    .command('export')
    .description('The whole graph as Graphviz dot or a Mermaid flowchart (arrows: prerequisite -> dependent)')
    .addOption(new Option('-f, --format <format>', 'output format').choices(Object.keys(EXPORTERS)).makeOptionMandatory())
    .option('-o, --output <file>', 'write to this file instead of stdout (atomically; not inside .jit/, not through a symlink)')
    .action(
      action(async (cli, options: { format: ExportFormat; output?: string }) => {
        const data = await cli.tracker().graphEdges();
        const content = EXPORTERS[options.format](data);
        const counts = { nodes: data.nodes.length, edges: data.edges.length };
        if (options.output === undefined) {
          cli.print({ format: options.format, content, ...counts }, (result) => result.content);
          return;
        }
        // Loaded only to write a file: it brings node:crypto, which help and the other graph commands never need.
        const { writeExportFile } = require('../export-file.js') as typeof import('../export-file.js');
        writeExportFile(options.output, content, cli.jitDir());
        cli.print({ format: options.format, output: options.output, ...counts }, (result) =>
          `Wrote ${result.nodes} issues and ${result.edges} dependencies to ${result.output} (${result.format}).\n`,
        );
      }),
    );
}
