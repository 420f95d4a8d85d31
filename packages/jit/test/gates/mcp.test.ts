// gate_check over MCP with a real client and real checkers: progress
// notifications while a checker runs, other tool calls answered meanwhile
// (the server never blocks on a check), gate_runs, registry_add with a
// checker, and GATE_UNTRUSTED as an isError result.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMcp, fails, makeProject, ok, type McpSession } from '../mcp/helpers.js';

const node = JSON.stringify(process.execPath);
const js = (code: string): string => `${node} -e ${JSON.stringify(code)}`;

describe('gate checks over MCP', () => {
  let project: { dir: string; cleanup(): void };
  let session: McpSession;

  beforeAll(async () => {
    project = await makeProject('gates');
    session = await connectMcp(project.dir);
  });

  afterAll(async () => {
    await session?.close();
    project?.cleanup();
  });

  it('gate_check reports progress while the checker runs, and other calls are answered meanwhile', async () => {
    const { client } = session;
    const release = path.join(project.dir, 'release');
    // Prints a line, then waits until the test has had other calls answered.
    const code = `console.log("checking things"); const t = setInterval(() => { if (require("fs").existsSync(${JSON.stringify(release)})) { clearInterval(t); console.log("done"); } }, 50);`;
    await ok(client, 'registry_add', { key: 'slow', title: 'Slow check', checker: { command: js(code), timeout_seconds: 120 } });
    const issue = await ok(client, 'issue_create', { title: 'Checked', gates: ['slow'] });
    const progress: string[] = [];
    const check = client.request(
      { method: 'tools/call', params: { name: 'gate_check', arguments: { id: issue.id }, _meta: { progressToken: 'check-1' } } },
      CallToolResultSchema,
      { onprogress: (p) => progress.push(p.message ?? ''), timeout: 120_000 },
    );
    // While the check runs: the first progress arrives, and the server answers other tools.
    const until = Date.now() + 60_000;
    while (progress.length === 0 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(progress.length).toBeGreaterThan(0);
    expect((await ok(client, 'gate_runs', { id: issue.id })).runs[0]).toMatchObject({ status: 'running' });
    expect((await ok(client, 'status')).total).toBe(1);
    writeFileSync(release, '');
    const result = await check;
    expect(result.isError).toBeFalsy();
    const report = result.structuredContent as { runs: Array<{ status: string; output: string }>; passed: boolean };
    expect(report).toMatchObject({ passed: true, runs: [{ status: 'passed' }] });
    expect(report.runs[0]!.output).toContain('checking things');
    expect(progress.some((message) => message.startsWith('slow'))).toBe(true);
    expect((await ok(client, 'gate_runs', { id: issue.id })).runs[0]).toMatchObject({ status: 'passed', gate_key: 'slow' });
  });

  it('issue_update to done runs the auto postchecks and completes the issue; run_checks: false leaves it gated', async () => {
    const { client } = session;
    await ok(client, 'registry_add', { key: 'unit', title: 'Unit tests', checker: { command: js('process.exit(0)') } });
    const skipped = await ok(client, 'issue_create', { title: 'Skipped', gates: ['unit'] });
    expect(await ok(client, 'issue_update', { id: skipped.id, state: 'done', run_checks: false })).toMatchObject({ state: 'gated', pending_gates: ['unit'] });
    const checked = await ok(client, 'issue_create', { title: 'Checked on done', gates: ['unit'] });
    const done = await ok(client, 'issue_update', { id: checked.id, state: 'done' });
    expect(done).toMatchObject({ state: 'done', gate_runs: [{ gate_key: 'unit', status: 'passed' }] });
    expect(done.pending_gates).toBeUndefined();
  });

  it('a command changed in gates.json is GATE_UNTRUSTED (an isError result naming the command); no tool trusts it', async () => {
    const { client } = session;
    await ok(client, 'registry_add', { key: 'lint', title: 'Lint', checker: { command: js('process.exit(0)') } });
    const issue = await ok(client, 'issue_create', { title: 'Linted', gates: ['lint'] });
    const gatesPath = path.join(project.dir, '.jit', 'gates.json');
    const gates = JSON.parse(readFileSync(gatesPath, 'utf8'));
    gates.gates.lint.checker.command = js('process.exit(1)');
    writeFileSync(gatesPath, JSON.stringify(gates, null, 2));
    const error = await fails(client, 'gate_check', { id: issue.id, key: 'lint' }, 'GATE_UNTRUSTED');
    expect(JSON.stringify(error)).toContain('process.exit(1)');
    expect((await client.listTools()).tools.map((tool) => tool.name)).not.toContain('gate_trust');
  });
});
