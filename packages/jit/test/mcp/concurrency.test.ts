/**
 * Five `jit mcp` servers (each with its own client) and five CLI workers on
 * one .jit/, all creating, claiming with claim-next and updating at once.
 * Afterwards: every acknowledged create exists, no issue was handed to two
 * agents, every update is present, and validate finds nothing wrong.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callTool, connectMcp, makeProject, ok, runJit } from './helpers.js';
import type { McpSession } from './helpers.js';

const WORKERS_PER_FACE = 5;
/** Rounds of create + claim-next + finish per CLI worker (each a process spawn, the slow part). */
const CLI_ROUNDS = 3;
/** MCP workers keep going while any CLI worker runs, so the faces really overlap; this bounds them. */
const MAX_MCP_ROUNDS = 100;

/** "agent:mcp-0" -> "agent-mcp-0", usable as a label value. */
function labelValue(assignee: string): string {
  return assignee.replace(':', '-');
}

/** One agent's view of the tracker, whichever face it uses. */
interface Agent {
  name: string;
  face: 'mcp' | 'cli';
  create(title: string): Promise<{ id: string }>;
  /** The claimed issue's id, or null when nothing was ready. */
  claimNext(): Promise<string | null>;
  finish(id: string): Promise<void>;
  addLabel(id: string, label: string): Promise<void>;
}

function mcpAgent(session: McpSession, name: string): Agent {
  const { client } = session;
  return {
    name,
    face: 'mcp',
    create: (title) => ok(client, 'issue_create', { title, labels: ['batch:race'] }),
    async claimNext() {
      const result = await callTool(client, 'issue_claim_next', { assignee: name, label: 'batch:race' });
      if (!result.isError) return (result.structuredContent as { id: string }).id;
      expect((result.structuredContent as { error: { code: string } }).error.code).toBe('NO_READY_ISSUE');
      return null;
    },
    async finish(id) {
      await ok(client, 'issue_update', { id, state: 'done', add_labels: [`done-by:${labelValue(name)}`] });
    },
    async addLabel(id, label) {
      await ok(client, 'issue_update', { id, add_labels: [label] });
    },
  };
}

function cliAgent(cwd: string, name: string): Agent {
  const succeed = async (args: string[]) => {
    const run = await runJit(cwd, args);
    expect(run.code, `jit ${args.join(' ')}: ${run.stderr}`).toBe(0);
    return run.json;
  };
  return {
    name,
    face: 'cli',
    create: (title) => succeed(['issue', 'create', '--title', title, '--label', 'batch:race']),
    async claimNext() {
      const run = await runJit(cwd, ['issue', 'claim-next', name, '--label', 'batch:race']);
      if (run.code === 0) return run.json.id as string;
      expect(run.json?.error?.code, run.stderr).toBe('NO_READY_ISSUE');
      return null;
    },
    async finish(id) {
      await succeed(['issue', 'update', id, '--state', 'done', '--label', `done-by:${labelValue(name)}`]);
    },
    async addLabel(id, label) {
      await succeed(['issue', 'update', id, '--label', label]);
    },
  };
}

describe('5 jit mcp servers and 5 CLI processes on one .jit/', () => {
  let project: { dir: string; cleanup(): void };
  const sessions: McpSession[] = [];

  beforeAll(async () => {
    project = await makeProject('race');
    for (let n = 0; n < WORKERS_PER_FACE; n++) sessions.push(await connectMcp(project.dir, { name: `mcp-${n}` }));
  });

  afterAll(async () => {
    await Promise.all(sessions.map((session) => session.close()));
    project?.cleanup();
  });

  it('loses nothing, double-claims nothing, and validates clean', { timeout: 180_000 }, async () => {
    const observer = sessions[0]!.client;
    // One issue everybody labels at once; claimed up front so claim-next never hands it out.
    const shared = await ok(observer, 'issue_create', { title: 'Shared by every worker' });
    await ok(observer, 'issue_claim', { id: shared.id, assignee: 'agent:owner' });

    const agents = [
      ...sessions.map((session, n) => mcpAgent(session, `agent:mcp-${n}`)),
      ...Array.from({ length: WORKERS_PER_FACE }, (_, n) => cliAgent(project.dir, `agent:cli-${n}`)),
    ];
    const acknowledged: string[] = [];
    const wins: { id: string; by: string }[] = [];
    const timing = { mcp: { operations: 0, seconds: 0 }, cli: { operations: 0, seconds: 0 } };

    let cliRunning = WORKERS_PER_FACE;
    const keepGoing = (agent: Agent, round: number): boolean =>
      agent.face === 'cli' ? round < CLI_ROUNDS : round < CLI_ROUNDS || (cliRunning > 0 && round < MAX_MCP_ROUNDS);

    const started = performance.now();
    await Promise.all(
      agents.map(async (agent) => {
        let operations = 1;
        await agent.addLabel(shared.id, `seen-by:${labelValue(agent.name)}`);
        for (let round = 0; keepGoing(agent, round); round++) {
          acknowledged.push((await agent.create(`${agent.name} round ${round}`)).id);
          const claimed = await agent.claimNext();
          operations += 2;
          if (claimed === null) continue;
          wins.push({ id: claimed, by: agent.name });
          await agent.finish(claimed);
          operations++;
        }
        if (agent.face === 'cli') cliRunning--;
        const face = timing[agent.face];
        face.operations += operations;
        face.seconds = Math.max(face.seconds, (performance.now() - started) / 1000);
      }),
    );
    for (const [face, { operations, seconds }] of Object.entries(timing)) {
      console.info(
        `[mcp concurrency] ${face}: ${WORKERS_PER_FACE} workers, ${operations} operations in ${seconds.toFixed(2)} s = ${(operations / seconds).toFixed(1)} ops/s`,
      );
    }

    // claim-next never handed one issue to two agents.
    expect(new Set(wins.map((win) => win.id)).size).toBe(wins.length);
    expect(wins.length).toBeGreaterThan(0);

    // Every acknowledged create exists; nothing else appeared.
    const all = await ok(observer, 'issue_list', { label: 'batch:race', limit: 1000 });
    expect(all.total).toBe(all.count); // one page holds them all
    expect(new Set(all.issues.map((issue: { id: string }) => issue.id))).toEqual(new Set(acknowledged));
    expect(acknowledged.length).toBeGreaterThanOrEqual(agents.length * CLI_ROUNDS);

    // Every winner's update landed, under its own name.
    const byId = new Map(all.issues.map((issue: { id: string }) => [issue.id, issue]));
    for (const win of wins) {
      expect(byId.get(win.id)).toMatchObject({ assignee: win.by, state: 'done' });
      expect((byId.get(win.id) as { labels: string[] }).labels).toContain(`done-by:${labelValue(win.by)}`);
    }

    // Concurrent updates to the same issue: every worker's label kept.
    const labels = (await ok(observer, 'issue_show', { id: shared.id })).labels;
    for (const agent of agents) expect(labels).toContain(`seen-by:${labelValue(agent.name)}`);

    expect(await ok(observer, 'validate')).toMatchObject({ ok: true, problems: [] });
    const cliValidate = await runJit(project.dir, ['validate']);
    expect(cliValidate.code, cliValidate.stderr).toBe(0);
    expect(cliValidate.json.ok).toBe(true);
  });
});
