// A 100,000-issue dependency chain: every graph walk must finish without
// exhausting the call stack, and `graph show` must print a bounded tree.
// These commands read only index.db (and the files of the issues they
// name), so only those are written: 100,000 issue files take minutes to
// create and remove on a loaded machine. validate over the full store (it
// reads every file) is in test/chaos/deep-graph.test.ts.
import { describe, expect, it } from 'vitest';
import { errorOf, projectsForThisFile, writeChainStore, type TempProject } from './helpers.js';

const CHAIN = 100_000;
const projects = projectsForThisFile();

async function chainProject(): Promise<{ p: TempProject; ids: string[] }> {
  const p = await projects.initialized();
  const ids = writeChainStore(p.jitDir, CHAIN, (i) => i === 0 || i === CHAIN - 1);
  return { p, ids };
}

describe('a 100,000-issue dependency chain', () => {
  it('graph show cuts at the default depth (10), says so, and takes --depth and --json', async () => {
    const { p, ids } = await chainProject();
    const short = (i: number): string => ids[i]!.slice(0, 8);
    const run = await p.run(['graph', 'show']);
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`${short(CHAIN - 1)} [backlog] Link ${CHAIN - 1}`);
    expect(lines[10]).toBe(`${' '.repeat(36)}└── ${short(CHAIN - 11)} [backlog] Link ${CHAIN - 11} (waits for 1 more below the cut)`);
    expect(lines.at(-1)).toMatch(/^Cut at depth 10: .*--depth/);
    expect(lines).toHaveLength(12);

    const cut = await p.json(['graph', 'show', short(CHAIN - 1), '--depth', '3']);
    expect(cut.nodes.map((node: { id: string }) => node.id)).toEqual([ids[CHAIN - 4], ids[CHAIN - 3], ids[CHAIN - 2], ids[CHAIN - 1]]);
    expect(cut.edges).toEqual([
      { from: ids[CHAIN - 3], to: ids[CHAIN - 4] },
      { from: ids[CHAIN - 2], to: ids[CHAIN - 3] },
      { from: ids[CHAIN - 1], to: ids[CHAIN - 2] },
    ]);
    expect(cut).toMatchObject({ depth: 3, truncated: true });
    expect(await p.json(['graph', 'show', short(0)])).toMatchObject({ nodes: [{ id: ids[0] }], edges: [], depth: 10, truncated: false });

    // Drawn deep, the text is written a piece at a time (it can outgrow any one string).
    const deep = await p.run(['graph', 'show', '--depth', '2000']);
    expect(deep.code, deep.stderr).toBe(0);
    expect(deep.stdout.trimEnd().split('\n')).toHaveLength(2002);

    // Deep enough for all of it: the walk itself must not recurse.
    const whole = await p.json(['graph', 'show', '--depth', String(CHAIN)]);
    expect(whole.nodes).toHaveLength(CHAIN);
    expect(whole.edges).toHaveLength(CHAIN - 1);
    expect(whole.truncated).toBe(false);
  }, 300_000);

  it('dep add closing a 100,000-issue cycle is refused with a bounded message; downstream and blocked walk it all', async () => {
    const { p, ids } = await chainProject();
    const run = await p.run(['--json', 'dep', 'add', ids[0]!, ids[CHAIN - 1]!]);
    expect(run.code, run.stderr).toBe(4);
    const error = errorOf(run);
    expect(error.code).toBe('CYCLE');
    expect(error.message.length).toBeLessThan(500);
    expect(error.message).toContain(`(${CHAIN} issues)`);
    expect((error.details as { cycle: string[] }).cycle).toHaveLength(CHAIN + 1);

    expect((await p.json(['graph', 'downstream', ids[0]!])).count).toBe(CHAIN - 1);
    expect((await p.json(['query', 'blocked'])).count).toBe(CHAIN - 1);
  }, 300_000);
});
