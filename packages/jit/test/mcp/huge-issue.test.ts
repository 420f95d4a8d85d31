/**
 * One issue larger than an MCP message may be. Context keys are not limited in
 * number (each value up to 10,000 characters), so a dozen ordinary updates make
 * an issue of 10 MB; a page holds at least one item, so issue_search (and
 * issue_show) send it whole, twice (structured and text), and the TypeScript
 * SDK client drops the connection: the agent's session is gone.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JIT_BIN, callTool, childEnv, connectMcp, makeProject, ok, runJit } from './helpers.js';

const execFileAsync = promisify(execFile);

describe('an issue larger than an MCP message (review-3)', () => {
  let project: { dir: string; cleanup(): void };
  let id: string;

  beforeAll(async () => {
    project = await makeProject('huge-issue');
    const created = await runJit(project.dir, ['issue', 'create', '--title', 'huge']);
    expect(created.code, created.stderr).toBe(0);
    id = created.json.id;
    const value = 'x'.repeat(9_000);
    for (let round = 0; round < 12; round++) {
      const args = Array.from({ length: 100 }, (_, k) => ['--context', `k${round}_${k}=${value}`]).flat();
      // Plain output: the --json answer is the whole issue.
      await execFileAsync(process.execPath, [JIT_BIN, 'issue', 'update', id, ...args], { cwd: project.dir, env: childEnv(), maxBuffer: 64 * 1024 * 1024 });
    }
  }, 300_000);

  afterAll(() => project?.cleanup());

  // KNOWN GAP, not fixed (a policy for the lead: a bound on an issue's context, or an MCP error such as a
  // too-large result instead of the message): today the connection closes.
  it.fails('issue_search answers or fails with a JitError, and the connection stays up', async () => {
    const session = await connectMcp(project.dir);
    try {
      const result = await callTool(session.client, 'issue_search', { query: 'huge' });
      expect(typeof result.isError === 'boolean' || result.structuredContent !== undefined).toBe(true);
      expect((await ok(session.client, 'status')).total).toBe(1);
    } finally {
      await session.close();
    }
  }, 120_000);
});
