/**
 * A real MCP client spawns `jit mcp` on a temp project and calls every tool:
 * results are structured JSON, failures are isError results with the CLI's
 * error codes.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callTool, connectMcp, fails, holdLockElsewhere, makeProject, makeTempDir, ok, runJit, textOf } from './helpers.js';
import type { McpSession } from './helpers.js';

const EXPECTED_TOOLS = [
  'agents_list',
  'dep_add',
  'dep_remove',
  'events_tail',
  'gate_add',
  'gate_check',
  'gate_fail',
  'gate_pass',
  'gate_remove',
  'gate_runs',
  'issue_batch_create',
  'issue_claim',
  'issue_claim_next',
  'issue_create',
  'issue_evict',
  'issue_list',
  'issue_reject',
  'issue_release',
  'issue_renew',
  'issue_search',
  'issue_show',
  'issue_unassign',
  'issue_update',
  'issue_update_filter',
  'label_namespaces',
  'label_values',
  'query_blocked',
  'query_claims',
  'query_closed',
  'query_ready',
  'query_strategic',
  'registry_add',
  'registry_list',
  'status',
  'validate',
];

/** A well-formed UUID v4 that no issue has. */
const UNKNOWN_ID = '0badc0de-0000-4000-8000-000000000000';

describe('jit mcp tools', () => {
  let project: { dir: string; cleanup(): void };
  let session: McpSession;

  beforeAll(async () => {
    project = await makeProject('tools');
    session = await connectMcp(project.dir);
  });

  afterAll(async () => {
    await session?.close();
    project?.cleanup();
  });

  it('lists every tool with a described object schema, and instructions with the workflow', async () => {
    const { tools } = await session.client.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual(EXPECTED_TOOLS);
    for (const tool of tools) {
      expect(tool.description, tool.name).toBeTruthy();
      expect(tool.inputSchema.type).toBe('object');
      for (const [property, schema] of Object.entries(tool.inputSchema.properties ?? {})) {
        expect((schema as { description?: string }).description, `${tool.name}.${property}`).toBeTruthy();
      }
    }
    const readOnly = tools.filter((tool) => tool.annotations?.readOnlyHint).map((tool) => tool.name);
    expect(readOnly).toContain('query_ready');
    expect(readOnly).not.toContain('issue_claim_next');

    const instructions = session.client.getInstructions() ?? '';
    for (const step of ['issue_claim_next', 'gate_pass', 'done', 'issue_release']) expect(instructions).toContain(step);
    expect(session.client.getServerVersion()?.name).toBe('jit');
  });

  it('runs the agent workflow: create, claim-next, gates, done', async () => {
    const { client } = session;
    const gate = await ok(client, 'registry_add', { key: 'tests', title: 'Unit tests pass' });
    expect(gate).toMatchObject({ key: 'tests', title: 'Unit tests pass', auto: false });
    expect((await ok(client, 'registry_list')).gates.map((g: { key: string }) => g.key)).toContain('tests');

    const urgent = await ok(client, 'issue_create', {
      title: 'Fix the login timeout',
      description: 'Sessions expire after 1 minute',
      priority: 'critical',
      labels: ['type:bug', 'area:auth'],
      gates: ['tests'],
      context: { branch: 'fix/login' },
    });
    expect(urgent).toMatchObject({ title: 'Fix the login timeout', state: 'ready', priority: 'critical', gates_required: ['tests'] });
    expect(urgent.id).toMatch(/^[0-9a-f-]{36}$/);
    const minor = await ok(client, 'issue_create', { title: 'Tidy the README', priority: 'low' });

    // Text content is readable and carries the same JSON.
    const shown = await callTool(client, 'issue_show', { id: urgent.id.slice(0, 8) });
    expect(textOf(shown)).toContain('Fix the login timeout');
    expect({ ...shown.structuredContent, changed: true }).toEqual(urgent);

    expect((await ok(client, 'issue_list', { label: 'type:bug' })).issues.map((i: { id: string }) => i.id)).toEqual([urgent.id]);
    const all = await ok(client, 'issue_list');
    expect(all.count).toBe(2);
    expect((await ok(client, 'issue_search', { query: 'expire' })).issues.map((i: { id: string }) => i.id)).toEqual([urgent.id]);
    expect((await ok(client, 'query_ready')).count).toBe(2);
    // The most urgent first; a limit keeps only the first.
    expect((await ok(client, 'query_ready', { limit: 1 })).issues.map((i: { id: string }) => i.id)).toEqual([urgent.id]);

    // Highest priority first.
    const claimed = await ok(client, 'issue_claim_next', { assignee: 'agent:alpha' });
    expect(claimed).toMatchObject({ id: urgent.id, assignee: 'agent:alpha', state: 'in_progress' });
    expect((await ok(client, 'issue_list', { assignee: 'agent:alpha' })).count).toBe(1);
    expect((await ok(client, 'issue_list', { state: 'in-progress' })).count).toBe(1);

    const noted = await ok(client, 'issue_update', {
      id: urgent.id,
      add_labels: ['status:wip'],
      context: { pr: '42' },
      description: 'Sessions expire after 1 minute; should be 1 hour',
    });
    expect(noted.labels).toContain('status:wip');
    expect(noted.context).toMatchObject({ branch: 'fix/login', pr: '42' });

    // done with a pending gate: saved as gated (a success), the pending gates listed.
    const pending = await callTool(client, 'issue_update', { id: urgent.id, state: 'done' });
    expect(pending.isError ?? false).toBe(false);
    expect(pending.structuredContent).toMatchObject({ state: 'gated', changed: true, pending_gates: ['tests'] });
    expect(textOf(pending)).toMatch(/done once these gates pass: tests \(gate_pass\)/);
    expect((await ok(client, 'issue_show', { id: urgent.id })).state).toBe('gated');
    expect((await ok(client, 'query_blocked')).issues.map((i: { id: string }) => i.id)).toContain(urgent.id);

    const failed = await ok(client, 'gate_fail', { id: urgent.id, key: 'tests', by: 'agent:ci' });
    expect(failed.gates_status.tests).toMatchObject({ status: 'failed', updated_by: 'agent:ci' });
    const passed = await ok(client, 'gate_pass', { id: urgent.id, key: 'tests', by: 'agent:ci' });
    expect(passed.gates_status.tests.status).toBe('passed');
    expect(passed.state).toBe('done');

    // The other issue: claim it, give it back, take it again, drop the assignee.
    await ok(client, 'issue_claim', { id: minor.id, assignee: 'agent:beta' });
    const released = await ok(client, 'issue_release', { id: minor.id, reason: 'out of time' });
    expect(released).toMatchObject({ assignee: null, state: 'ready' });
    await ok(client, 'issue_claim', { id: minor.id, assignee: 'agent:beta' });
    expect((await ok(client, 'issue_unassign', { id: minor.id })).assignee).toBeNull();

    const status = await ok(client, 'status');
    expect(status.total).toBe(2);
    expect(status.by_state.done).toBe(1);

    const { events } = await ok(client, 'events_tail', { n: 50 });
    const types = events.map((event: { type: string }) => event.type);
    for (const type of ['issue_created', 'issue_claimed', 'gate_failed', 'gate_passed', 'issue_released']) expect(types).toContain(type);
    expect((await ok(client, 'events_tail', { n: 2 })).count).toBe(2);

    expect(await ok(client, 'validate')).toMatchObject({ ok: true, problems: [] });
  });

  it('gate_remove stops requiring a gate; the last pending one gone completes a gated issue', async () => {
    const { client } = session;
    await ok(client, 'registry_add', { key: 'sign-off', title: 'Sign-off' });
    const issue = await ok(client, 'issue_create', { title: 'Needs a sign-off', gates: ['sign-off'] });
    const after = await ok(client, 'issue_create', { title: 'After the sign-off', dependencies: [issue.id] });
    expect(await ok(client, 'issue_update', { id: issue.id, state: 'done' })).toMatchObject({ state: 'gated', pending_gates: ['sign-off'] });
    const freed = await callTool(client, 'gate_remove', { id: issue.id, key: 'sign-off' });
    expect(freed.structuredContent).toMatchObject({ state: 'done', gates_required: [], changed: true });
    expect(textOf(freed)).toMatch(/^Gate sign-off no longer required on /);
    expect((await ok(client, 'issue_show', { id: after.id })).state).toBe('ready');
    expect(await ok(client, 'gate_remove', { id: issue.id, key: 'sign-off' })).toMatchObject({ changed: false });
    const { events } = await ok(client, 'events_tail', { n: 50 });
    expect(events.filter((event: { type: string; issue_id: string }) => event.type === 'gate_removed' && event.issue_id === issue.id)).toHaveLength(1);
  });

  it('adds and removes dependencies, refusing cycles', async () => {
    const { client } = session;
    const base = await ok(client, 'issue_create', { title: 'Design the schema' });
    const built = await ok(client, 'issue_create', { title: 'Build on the schema' });
    const waiting = await ok(client, 'dep_add', { from: built.id, to: base.id });
    expect(waiting.dependencies).toEqual([base.id]);
    expect(waiting.state).toBe('backlog');

    const cycle = await fails(client, 'dep_add', { from: base.id, to: built.id }, 'CYCLE');
    expect(cycle.message).toMatch(/cycle/i);

    const freed = await ok(client, 'dep_remove', { from: built.id, to: base.id });
    expect(freed).toMatchObject({ dependencies: [], changed: true });
    // Retries succeed and say nothing changed.
    const again = await callTool(client, 'dep_remove', { from: built.id, to: base.id });
    expect(again.structuredContent).toMatchObject({ dependencies: [], changed: false });
    expect(textOf(again)).toMatch(/^No change \(already so\): /);
    expect(await ok(client, 'dep_add', { from: built.id, to: base.id })).toMatchObject({ changed: true });
    expect(await ok(client, 'dep_add', { from: built.id, to: base.id })).toMatchObject({ dependencies: [base.id], changed: false });
    await fails(client, 'dep_remove', { from: built.id, to: UNKNOWN_ID }, 'DEPENDENCY_NOT_FOUND');
  });

  it('reports domain failures as isError results with the CLI codes', async () => {
    const { client } = session;
    const issue = await ok(client, 'issue_create', { title: 'Held by someone' });
    await ok(client, 'issue_claim', { id: issue.id, assignee: 'agent:holder' });

    const short = issue.id.slice(0, 8);
    // Suggestions name the tools to call (or say there is none), never a CLI command.
    const expectations: Array<[string, Record<string, unknown>, string, string[]]> = [
      ['issue_show', { id: UNKNOWN_ID }, 'ISSUE_NOT_FOUND', ['Call issue_list to see the ids.']],
      ['issue_show', { id: '../../etc/passwd' }, 'INVALID_ID', ['Call issue_list to see the ids.']],
      ['issue_update', { id: issue.id, state: 'flying' }, 'INVALID_ARGUMENT', [expect.stringContaining('in_progress')]],
      ['issue_claim', { id: issue.id, assignee: 'agent:other' }, 'ALREADY_CLAIMED', ['Pick another issue (query_ready) or ask its holder to release it.']],
      ['gate_add', { id: issue.id, key: 'no-such-gate' }, 'GATE_NOT_FOUND', ['Call registry_add {"key": "no-such-gate", "title": "..."}.', 'Call registry_list.']],
      ['registry_add', { key: 'tests', title: 'Again' }, 'ALREADY_EXISTS', ['Call registry_list (it includes gate tests).']],
      ['issue_claim_next', { assignee: 'agent:idle', label: 'area:nowhere' }, 'NO_READY_ISSUE', ['Call query_blocked to see what waits on what.']],
      ['issue_release', { id: UNKNOWN_ID.replace('0bad', 'fbad'), reason: 'x' }, 'ISSUE_NOT_FOUND', ['Call issue_list to see the ids.']],
    ];
    for (const [tool, args, code, suggestions] of expectations) {
      const error = await fails(client, tool, args, code);
      expect(error.suggestions, `${tool} ${code}`).toEqual(suggestions);
    }
    await fails(client, 'issue_claim_next', { assignee: 'bob' }, 'INVALID_ARGUMENT');
    await ok(client, 'issue_unassign', { id: issue.id });
    expect(await ok(client, 'issue_release', { id: issue.id, reason: 'x' })).toMatchObject({ changed: false }); // already given back
    await ok(client, 'issue_update', { id: issue.id, state: 'rejected' });
    const nothing = await fails(client, 'issue_claim', { id: issue.id, assignee: 'agent:late' }, 'INVALID_TRANSITION');
    expect(nothing.suggestions).toEqual([`issue_show {"id": "${short}"} shows its state and assignee.`]);
    const text = textOf(await callTool(client, 'issue_show', { id: UNKNOWN_ID }));
    expect(text).toMatch(/^ISSUE_NOT_FOUND: No issue with id .*\. Next: Call issue_list to see the ids\.\n/);
    expect(text).not.toMatch(/(^|[\s`(])jit [a-z]/);
  });

  it('refuses bad arguments with INVALID_ARGUMENT, naming the field', async () => {
    const { client } = session;
    const missing = await fails(client, 'issue_create', {}, 'INVALID_ARGUMENT');
    expect(missing.message).toContain('title');
    const misspelt = await fails(client, 'issue_update', { id: UNKNOWN_ID, add_label: ['x:y'] }, 'INVALID_ARGUMENT');
    expect(misspelt.message).toContain('add_label');
    const urgent = await fails(client, 'issue_create', { title: 'x', priority: 'urgent' }, 'INVALID_ARGUMENT');
    expect(urgent.message).toMatch(/priority/);
    expect(urgent.suggestions.join(' ')).toContain('low, normal, high, critical');
    await fails(client, 'events_tail', { n: 'ten' }, 'INVALID_ARGUMENT');
    await fails(client, 'issue_create', { title: 'x', labels: 'type:bug' }, 'INVALID_ARGUMENT');
  });

  it('refuses text with half a surrogate pair (not Unicode: jq and serde reject the whole JSON document holding it)', async () => {
    const { client } = session;
    const before = (await ok(client, 'issue_list', {})).issues.length;
    await fails(client, 'issue_create', { title: 'lone \ud800 high' }, 'INVALID_ARGUMENT');
    await fails(client, 'issue_create', { title: 'fine', description: 'lone \udfff low' }, 'INVALID_ARGUMENT');
    await fails(client, 'issue_create', { title: 'fine', labels: ['type:\ud83d'] }, 'INVALID_ARGUMENT');
    await fails(client, 'issue_create', { title: 'fine', context: { branch: 'x\udc00' } }, 'INVALID_ARGUMENT');
    await fails(client, 'issue_create', { title: 'fine', context: { 'k\ud800': 'x' } }, 'INVALID_ARGUMENT');
    expect((await ok(client, 'issue_list', {})).issues.length).toBe(before);
    // A whole pair is an ordinary character.
    const emoji = await ok(client, 'issue_create', { title: 'emoji \ud83d\ude00 ok', labels: ['mood:\ud83d\ude00'] });
    expect(emoji.title).toBe('emoji \u{1F600} ok');
  });

  it('labels: commas separate labels, namespace:* filters issue_list and issue_claim_next by namespace', async () => {
    const { client } = session;
    const epic = await ok(client, 'issue_create', { title: 'Namespace epic', labels: ['type:epic,ns-epic:auth'] });
    expect(epic.labels).toEqual(['type:epic', 'ns-epic:auth']);
    const task = await ok(client, 'issue_create', { title: 'Namespace task', labels: ['type:task'], priority: 'high' });
    const updated = await ok(client, 'issue_update', { id: task.id, add_labels: ['ns-epic:billing, team:core'], remove_labels: ['team:core'] });
    expect(updated.labels).toEqual(['type:task', 'ns-epic:billing']);
    const listed = await ok(client, 'issue_list', { label: 'ns-epic:*' });
    expect(listed.issues.map((issue: { id: string }) => issue.id)).toEqual([epic.id, task.id]);
    await fails(client, 'issue_list', { label: 'ns-epic:a*' }, 'INVALID_ARGUMENT');
    const claimed = await ok(client, 'issue_claim_next', { assignee: 'agent:ns', label: 'ns-epic:*' });
    expect(claimed.id).toBe(task.id);
  });

  it('accepts priority spellings as the CLI does (any case), through the same parser', async () => {
    const { client } = session;
    const loud = await ok(client, 'issue_create', { title: 'Shouted priority', priority: 'HIGH', labels: ['case:priority'] });
    expect(loud.priority).toBe('high');
    expect((await ok(client, 'issue_update', { id: loud.id, priority: ' Critical ' })).priority).toBe('critical');
    const listed = await ok(client, 'issue_list', { priority: 'CRITICAL', label: 'case:priority' });
    expect(listed.issues.map((issue: { id: string }) => issue.id)).toEqual([loud.id]);
    const claimed = await ok(client, 'issue_claim_next', { assignee: 'agent:caps', priority: 'Critical', label: 'case:priority' });
    expect(claimed.id).toBe(loud.id);
  });

  it('answers an unknown tool with a protocol error, not a tool result', async () => {
    const error = await session.client.callTool({ name: 'issue_explode', arguments: {} }).catch((thrown: Error) => thrown);
    expect((error as Error).message).toBe('MCP error -32602: Unknown tool issue_explode; see tools/list.');
  });

  it('serves concurrent calls in one process: every create lands, claim-next has one winner per issue', async () => {
    const { client } = session;
    const before = (await ok(client, 'status')).total;
    const created = await Promise.all(
      Array.from({ length: 12 }, (_, n) => ok(client, 'issue_create', { title: `parallel ${n}`, labels: ['batch:parallel'] })),
    );
    const claims = await Promise.all(
      Array.from({ length: 16 }, (_, n) => callTool(client, 'issue_claim_next', { assignee: `agent:p${n}`, label: 'batch:parallel' })),
    );
    const winners = claims.filter((result) => !result.isError).map((result) => (result.structuredContent as { id: string }).id);
    const losers = claims.filter((result) => result.isError).map((result) => (result.structuredContent as { error: { code: string } }).error.code);
    expect(winners).toHaveLength(12);
    expect(new Set(winners).size).toBe(12);
    expect(new Set(winners)).toEqual(new Set(created.map((issue) => issue.id)));
    expect(losers).toEqual(Array(4).fill('NO_READY_ISSUE'));

    // Concurrent updates to one issue: every label kept.
    const target = created[0].id;
    await Promise.all(Array.from({ length: 8 }, (_, n) => ok(client, 'issue_update', { id: target, add_labels: [`mark:${n}`] })));
    const labels = (await ok(client, 'issue_show', { id: target })).labels;
    for (let n = 0; n < 8; n++) expect(labels).toContain(`mark:${n}`);

    expect((await ok(client, 'status')).total).toBe(before + 12);
    expect((await ok(client, 'validate')).ok).toBe(true);
  });

  it('logged nothing to stderr: every failure above was a result, none an internal error', () => {
    expect(session.stderr()).toBe('');
  });
});

describe('jit mcp under lock contention', () => {
  it('reports LOCK_TIMEOUT when another process holds a lock too long, and succeeds once it is free', async () => {
    const project = await makeProject('timeout');
    const session = await connectMcp(project.dir, { env: { JIT_LOCK_TIMEOUT: '0.3' } });
    const issue = await ok(session.client, 'issue_create', { title: 'Contended' });
    const holder = await holdLockElsewhere(join(project.dir, '.jit', 'issues', `${issue.id}.lock`));
    try {
      const error = await fails(session.client, 'issue_update', { id: issue.id, add_labels: ['try:first'] }, 'LOCK_TIMEOUT');
      expect(error.suggestions.join(' ')).toMatch(/retry|again/i);
      await holder.release();
      expect((await ok(session.client, 'issue_update', { id: issue.id, add_labels: ['try:second'] })).labels).toEqual(['try:second']);
    } finally {
      await holder.release();
      await session.close();
      project.cleanup();
    }
  });
});

describe('jit mcp finding .jit/', () => {
  it('uses JIT_DIR when started outside the project', async () => {
    const project = await makeProject('jitdir');
    const elsewhere = makeTempDir('elsewhere');
    const session = await connectMcp(elsewhere.dir, { env: { JIT_DIR: join(project.dir, '.jit') } });
    try {
      const created = await ok(session.client, 'issue_create', { title: 'made through JIT_DIR' });
      const shown = await runJit(project.dir, ['issue', 'show', created.id]);
      expect(shown.json.title).toBe('made through JIT_DIR');
    } finally {
      await session.close();
      project.cleanup();
      elsewhere.cleanup();
    }
  });

  it('starts without one, reports NOT_INITIALIZED from tools, and picks up a later `jit init`', async () => {
    const empty = makeTempDir('uninit');
    const session = await connectMcp(empty.dir);
    try {
      const error = await fails(session.client, 'status', {}, 'NOT_INITIALIZED');
      expect(error.suggestions).toEqual([
        "Have a person run the jit CLI's init command (no MCP tool) in your project folder.",
        'Or set JIT_DIR (or pass --dir PATH) in the configuration that starts this MCP server.',
      ]);
      expect(session.stderr()).toContain('NOT_INITIALIZED');

      expect((await runJit(empty.dir, ['init'])).code).toBe(0);
      expect((await ok(session.client, 'status')).total).toBe(0);
    } finally {
      await session.close();
      empty.cleanup();
    }
  });
});
