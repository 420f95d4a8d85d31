import { describe, expect, it } from 'vitest';
import { describeCycle, findCycles, findPath } from './rules.js';

/** `length` ids where each waits for the one before it; with `closed`, the first also waits for the last. */
function chain(length: number, closed = false): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (let i = 0; i < length; i++) graph.set(`n${i}`, i === 0 ? (closed ? [`n${length - 1}`] : []) : [`n${i - 1}`]);
  return graph;
}

describe('graph walks on a 100,000-issue chain (no recursion)', () => {
  const N = 100_000;

  it('findCycles finds none in a chain, and the one ring in a closed chain', () => {
    const open = chain(N);
    expect(findCycles([...open.keys()].reverse(), (id) => open.get(id) ?? [])).toEqual([]);
    const ring = chain(N, true);
    const cycles = findCycles([...ring.keys()].reverse(), (id) => ring.get(id) ?? []);
    expect(cycles).toHaveLength(1);
    expect(cycles[0]).toHaveLength(N + 1);
    expect(cycles[0]![0]).toBe(cycles[0]![N]);
  });

  it('findCycles reports what the recursive search reported on small graphs', () => {
    const graph = new Map([
      ['a', ['b', 'c']],
      ['b', ['c', 'a']],
      ['c', ['d']],
      ['d', ['b']],
      ['e', ['e']],
    ]);
    expect(findCycles(graph.keys(), (id) => graph.get(id) ?? [])).toEqual([
      ['b', 'c', 'd', 'b'],
      ['a', 'b', 'a'],
      ['e', 'e'],
    ]);
  });

  it('findPath crosses the whole chain', () => {
    const open = chain(N);
    expect(findPath(`n${N - 1}`, 'n0', (id) => open.get(id) ?? [])).toHaveLength(N);
  });

  it('describeCycle keeps a long cycle to its ends and a count', () => {
    const long = [...Array.from({ length: N }, (_, i) => `n${i}`), 'n0'];
    const text = describeCycle(long, (id) => id);
    expect(text).toBe(`n0 -> n1 -> n2 -> n3 -> n4 -> n5 -> ... -> n${N - 5} -> n${N - 4} -> n${N - 3} -> n${N - 2} -> n${N - 1} -> n0 (${N} issues)`);
    expect(describeCycle(['a', 'b', 'a'], (id) => id)).toBe('a -> b -> a');
  });
});
