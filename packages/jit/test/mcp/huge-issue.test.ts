/**
 * One issue larger than an MCP message may be (found by review). Context keys are not limited in
 * number (each value up to 10,000 characters), so a dozen ordinary updates make
 * an issue of 10 MB; a page holds at least one item, so issue_search (and
 * issue_show) sent it whole, twice (structured and text), and the TypeScript
 * SDK client dropped the connection: the agent's session was gone. Such an
 * answer is now the error RESULT_TOO_LARGE.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JIT_BIN, childEnv, connectMcp, fails, makeProject, ok, runJit } from './helpers.js';

const execFileAsync = promisify(execFile);

describe('an issue larger than an MCP message', () => {
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

  // Found by review: the connection closed. Now the answer is refused with its own code, and the session goes on.
  it('issue_search and issue_show fail with RESULT_TOO_LARGE, and the connection stays up', async () => {
    const session = await connectMcp(project.dir);
    try {
      for (const [tool, args] of [['issue_search', { query: 'huge' }], ['issue_show', { id }]] as const) {
        const error = await fails(session.client, tool, args, 'RESULT_TOO_LARGE');
        expect(error.details.chars).toBeGreaterThan(error.details.max_chars);
        expect(error.suggestions.join(' ')).toContain('jit issue show');
      }
      expect((await ok(session.client, 'status')).total).toBe(1);
      // A small answer about the same issue still comes through.
      expect((await ok(session.client, 'issue_list')).issues.map((issue: { id: string }) => issue.id)).toEqual([id]);
    } finally {
      await session.close();
    }
  }, 120_000);
});
