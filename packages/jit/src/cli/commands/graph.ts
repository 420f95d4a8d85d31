/** `jit graph ...`: the dependency graph as a tree, as lists, or exported for Graphviz / Mermaid. */
import { Option, type Command } from 'commander';
import { prerequisitesOf, reachFrom, upstreamSubgraph, type Graph } from '../../store/core.js';
import { action } from '../context.js';
import { integerOption } from '../options.js';
import { ChunkedOutput, oneLine, painter, printIssueList, shortId, stateStyle, STDOUT, type Paint } from '../output.js';

/** How many levels `graph show` draws below each top unless told: deeper trees are cut, and say so. */
const DEFAULT_DEPTH = 10;

interface TreeRow {
  id: string;
  /** Indentation and connector in front of the issue. */
  indent: string;
  /** Drawn with its dependencies further up: named, not expanded again. */
  seenAbove: boolean;
  /** Dependencies left out at the depth limit. */
  hidden: number;
}

interface Trees {
  rows: TreeRow[];
  /** The issues that have a row, and the edges drawn. */
  shown: Graph;
  truncated: boolean;
}

/**
 * Trees of "waits for", starting from the issues nothing waits for (or from
 * `rootId`), at most `depth` levels below each top. A node reached a second
 * time is named but not expanded again. An explicit stack instead of
 * recursion: a dependency chain can be 100,000 issues deep.
 */
function layoutTrees(graph: Graph, depth: number, rootId?: string): Trees {
  const waitsFor = prerequisitesOf(graph);
  const expanded = new Set<string>();
  const shownIds = new Set<string>();
  const rows: TreeRow[] = [];
  let truncated = false;
  const draw = (top: string): void => {
    const stack = [{ id: top, level: 0, indent: '', childIndent: '' }];
    while (stack.length > 0) {
      const { id, level, indent, childIndent } = stack.pop()!;
      const children = waitsFor.get(id) ?? [];
      const seenAbove = expanded.has(id);
      const cut = !seenAbove && level >= depth && children.length > 0;
      rows.push({ id, indent, seenAbove: seenAbove && children.length > 0, hidden: cut ? children.length : 0 });
      shownIds.add(id);
      if (seenAbove) continue;
      if (cut) {
        truncated = true;
        continue;
      }
      expanded.add(id);
      // Pushed last to first, so they come off the stack in order.
      for (let i = children.length - 1; i >= 0; i--) {
        const last = i === children.length - 1;
        stack.push({ id: children[i]!, level: level + 1, indent: childIndent + (last ? '└── ' : '├── '), childIndent: childIndent + (last ? '    ' : '│   ') });
      }
    }
  };
  const reached = new Set<string>();
  if (rootId !== undefined) draw(rootId);
  else {
    const awaited = new Set(graph.edges.map((edge) => edge.to));
    for (const node of graph.nodes) {
      if (awaited.has(node.id)) continue;
      draw(node.id);
      reachFrom(node.id, waitsFor, reached);
    }
    // Only a cycle (which the store refuses) could hide nodes from every top; show them rather than drop them.
    for (const node of graph.nodes) {
      if (reached.has(node.id)) continue;
      draw(node.id);
      reachFrom(node.id, waitsFor, reached);
    }
  }
  return {
    rows,
    shown: { nodes: graph.nodes.filter((node) => shownIds.has(node.id)), edges: graph.edges.filter((edge) => expanded.has(edge.from)) },
    truncated,
  };
}

/** Writes the trees a line at a time: drawn deep (a large --depth), they can outgrow any one string. */
function writeTrees(graph: Graph, trees: Trees, depth: number, paint: Paint): void {
  const out = new ChunkedOutput();
  if (trees.rows.length === 0) out.write('No issues.\n');
  const byId = new Map(graph.nodes.map((node) => [node.id, node]));
  const label = (id: string) => {
    const node = byId.get(id);
    if (!node) return `${paint('cyan', shortId(id))} ${paint('red', '(missing issue)')}`;
    return `${paint('cyan', shortId(id))} ${paint(stateStyle(node.state), `[${node.state}]`)} ${oneLine(node.title)}`;
  };
  for (const row of trees.rows) {
    out.write(
      `${row.indent}${label(row.id)}${row.seenAbove ? paint('dim', ' (see above)') : ''}` +
        `${row.hidden > 0 ? paint('dim', ` (waits for ${row.hidden} more below the cut)`) : ''}\n`,
    );
  }
  if (trees.truncated) {
    out.write(paint('dim', `Cut at depth ${depth}: deeper dependencies are not shown. Use --depth N to see more, or \`jit graph show ID\` for one issue's tree.`) + '\n');
  }
  out.flush();
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
    .addOption(integerOption('--depth <n>', 'levels of dependencies drawn below each top issue; deeper ones are cut (and the output says so)', 0).default(DEFAULT_DEPTH))
    .action(
      action(async (cli, id: string | undefined, options: { depth: number }) => {
        const tracker = cli.tracker();
        const whole = await tracker.graphEdges();
        const rootId = id === undefined ? undefined : (await tracker.getIssue(id)).id;
        const graph = rootId === undefined ? whole : upstreamSubgraph(whole, rootId);
        const trees = layoutTrees(graph, options.depth, rootId);
        if (cli.json) cli.print({ ...trees.shown, depth: options.depth, truncated: trees.truncated }, () => '');
        else writeTrees(graph, trees, options.depth, painter(STDOUT));
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
