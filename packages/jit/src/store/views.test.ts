// The shapes both faces show: the flattened blocked list and the graph upstream of an issue.
import { describe, expect, it } from 'vitest';
import type { IssueSummary } from './tracker-api.js';
import { flattenBlocked, upstreamSubgraph } from './views.js';

const node = (id: string): IssueSummary => ({ id, title: id, state: 'ready', priority: 'normal', labels: [], assignee: null }) as unknown as IssueSummary;

describe('views', () => {
  it('flattens a blocked issue into its summary with its reasons', () => {
    expect(flattenBlocked([{ issue: node('a'), reasons: ['gate tests pending'] }])).toEqual([{ ...node('a'), reasons: ['gate tests pending'] }]);
  });

  it('keeps an issue and everything it waits for, transitively, and nothing else', () => {
    const graph = {
      nodes: ['a', 'b', 'c', 'd'].map(node),
      edges: [
        { from: 'a', to: 'b' },
        { from: 'b', to: 'c' },
        { from: 'd', to: 'a' },
      ],
    };
    const upstream = upstreamSubgraph(graph, 'a');
    expect(upstream.nodes.map((n) => n.id)).toEqual(['a', 'b', 'c']);
    expect(upstream.edges).toEqual([
      { from: 'a', to: 'b' },
      { from: 'b', to: 'c' },
    ]);
  });
});
