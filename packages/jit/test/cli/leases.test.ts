// Leases and liveness-bound claims with real processes: an agent run by `jit agent run` (and one served by
// `jit mcp --agent`) is SIGKILLed and another agent's claim-next gets its issue at once; a 1 s TTL lapses and
// the issue is claimed again; renew by a non-holder is refused; evict is recorded; 20 racers over lapsed
// claims get one issue each; validate reports lapsed claims; twin agents are refused; a claim from a jit
// without leases still holds. (The kill -> re-claim latency is measured in bench/leases.js, not here.)
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, readdirSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterEach, describe, expect, it } from 'vitest';
import { JsonFileStorage, Tracker } from '../../src/store/index.js';
import { JIT_BIN, TEST_LOCK_TIMEOUT_SECONDS, errorOf, projectsForThisFile, type TempProject } from './helpers.js';

const projects = projectsForThisFile();
/** Processes a test started that may outlive it (by pid: each is ours). */
const leftovers: number[] = [];
afterEach(() => {
  for (const pid of leftovers.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

const cleanEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('JIT_')) env[key] = value;
  return { ...env, JIT_LOCK_TIMEOUT: TEST_LOCK_TIMEOUT_SECONDS, ...extra };
};

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  // No time limit of its own: the test's timeout bounds it (a slow machine is not a failure).
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 20));
  void what;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function createIssues(project: TempProject, titles: string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const title of titles) ids.push((await project.json<{ id: string }>(['issue', 'create', '-t', title])).id);
  return ids;
}

/**
 * `jit agent run --id ID -- sh -c '<claim-next>; exec sleep'`: the agent claims, writes its claim and the
 * pid of its command to files, then idles. Resolves once it has claimed.
 */
async function startAgent(project: TempProject, id: string): Promise<{ agent: ChildProcess; claimedId: string; commandPid: number }> {
  const out = path.join(project.dir, `${id.replace(':', '-')}.json`);
  const pidFile = `${out}.pid`;
  const script = `"$0" "$1" --json issue claim-next > "${out}.tmp" && mv "${out}.tmp" "${out}"; echo $$ > "${pidFile}"; exec sleep 600`;
  const agent = spawn(process.execPath, [JIT_BIN, 'agent', 'run', '--id', id, '--', 'sh', '-c', script, process.execPath, JIT_BIN], {
    cwd: project.dir,
    env: cleanEnv(),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  leftovers.push(agent.pid!);
  let stderr = '';
  agent.stderr!.on('data', (chunk: Buffer) => (stderr += chunk));
  await waitFor(() => existsSync(pidFile) || agent.exitCode !== null, 'the agent claims');
  expect(agent.exitCode, stderr).toBeNull();
  await waitFor(() => readFileSync(pidFile, 'utf8').trim() !== '', 'pid written');
  const commandPid = Number(readFileSync(pidFile, 'utf8').trim());
  leftovers.push(commandPid);
  const claimed = JSON.parse(readFileSync(out, 'utf8')) as { id: string; assignee: string; lease: { agent: string | null; expires_at: string | null } };
  expect(claimed.assignee).toBe(id);
  expect(claimed.lease).toMatchObject({ agent: id, expires_at: null });
  return { agent, claimedId: claimed.id, commandPid };
}

describe('claims bound to a running agent', () => {
  it('jit agent run: SIGKILLed, its claim is free at once for another agent (its child did not inherit the lock)', async () => {
    const project = await projects.initialized();
    const [urgent] = await createIssues(project, ['urgent', 'later']);
    await project.json(['issue', 'update', urgent!, '-p', 'critical']);
    const { agent, claimedId, commandPid } = await startAgent(project, 'agent:one');
    expect(claimedId).toBe(urgent);
    // While it runs, its claim holds: the other agent gets the other issue... and gives it back.
    const agents = await project.json<{ agents: { id: string; live: boolean; claims: { id: string }[] }[] }>(['agents']);
    expect(agents.agents).toEqual([expect.objectContaining({ id: 'agent:one', live: true, claims: [expect.objectContaining({ id: urgent })] })]);
    const locks = await project.json<{ locks: { path: string; state: string }[] }>(['debug', 'locks']);
    expect(locks.locks.find((lock) => lock.path.endsWith(path.join('agents', 'agent%3Aone.lock')))?.state).toBe('exclusive');

    agent.kill('SIGKILL');
    await once(agent, 'exit');
    // The command it started still runs: the lock was not inherited (close-on-exec), so it died with its holder.
    expect(alive(commandPid)).toBe(true);
    const taken = await project.json<{ id: string; assignee: string }>(['issue', 'claim-next', 'agent:two']);
    expect(taken).toMatchObject({ id: urgent, assignee: 'agent:two' });
    const events = await project.json<{ events: { type: string; reason?: string; holder?: string }[] }>(['events', 'query', '--type', 'claim_expired']);
    expect(events.events).toEqual([expect.objectContaining({ reason: 'agent_gone', holder: 'agent:one' })]);
    const after = await project.json<{ agents: { id: string; live: boolean }[] }>(['agents']);
    expect(after.agents).toEqual([expect.objectContaining({ id: 'agent:one', live: false })]);
  });

  it('a second agent with the same id is refused while the first runs, naming its holder', async () => {
    const project = await projects.initialized();
    await createIssues(project, ['work']);
    const { agent } = await startAgent(project, 'agent:twin');
    const twin = await project.run(['--json', 'agent', 'run', '--id', 'agent:twin', '--', 'true']);
    expect(twin.code).toBe(6);
    const error = errorOf(twin);
    expect(error.code).toBe('AGENT_ALREADY_RUNNING');
    expect(error.message).toContain(`pid ${agent.pid}`);
    // Another id runs; the command's exit code is passed on.
    const other = await project.run(['agent', 'run', '--id', 'agent:other', '--', 'sh', '-c', 'test "$JIT_AGENT_ID" = agent:other && exit 7']);
    expect(other.code).toBe(7);
  });

  it('jit mcp --agent: a claim through the server is bound to it; SIGKILLed, the issue is free at once', async () => {
    const project = await projects.initialized();
    const [id] = await createIssues(project, ['served']);
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [JIT_BIN, 'mcp', '--agent', 'agent:mcp'],
      cwd: project.dir,
      env: cleanEnv() as Record<string, string>,
      stderr: 'pipe',
    });
    const client = new Client({ name: 'leases-test', version: '1.0.0' });
    await client.connect(transport);
    leftovers.push(transport.pid!);
    const result = (await client.callTool({ name: 'issue_claim_next', arguments: {} })) as unknown as { structuredContent: { id: string; assignee: string; lease: unknown } };
    expect(result.structuredContent).toMatchObject({ id, assignee: 'agent:mcp', lease: { agent: 'agent:mcp', expires_at: null } });
    const refused = await project.run(['issue', 'claim', id!, 'agent:two']);
    expect(refused.code).toBe(6);

    process.kill(transport.pid!, 'SIGKILL');
    await waitFor(() => !alive(transport.pid!), 'the server is gone');
    expect(await project.json(['issue', 'claim-next', 'agent:two'])).toMatchObject({ id, assignee: 'agent:two' });
    await client.close().catch(() => undefined);
  });
});

describe('leases', () => {
  it('a 1 s lease lapses: query ready shows it free, and claim-next takes it', async () => {
    const project = await projects.initialized();
    const [id] = await createIssues(project, ['short']);
    const claimed = await project.json<{ lease: { expires_at: string } }>(['issue', 'claim', id!, 'agent:one', '--ttl', '1s']);
    // Past the expiry by the wall clock (the only thing a TTL is about), however slow the machine.
    await waitFor(() => Date.now() > Date.parse(claimed.lease.expires_at) + 10, 'the lease expires');
    const ready = await project.json<{ issues: { id: string; lapsed_claim?: { reason: string } }[] }>(['query', 'ready']);
    expect(ready.issues).toEqual([expect.objectContaining({ id, state: 'ready', assignee: null, lapsed_claim: { holder: 'agent:one', reason: 'ttl' } })]);
    expect((await project.json<{ issues: unknown[] }>(['query', 'claims', '--lapsed'])).issues).toHaveLength(1);
    // status counts what claim-next would hand out, as query ready lists it.
    expect(await project.json(['status'])).toMatchObject({ ready: 1, lapsed_claims: 1, by_state: { in_progress: 1, ready: 0 } });
    expect(await project.json(['issue', 'claim-next'], { JIT_AGENT_ID: 'agent:two' })).toMatchObject({ id, assignee: 'agent:two' });
    expect(await project.json(['status'])).toMatchObject({ ready: 0, lapsed_claims: 0 });
  });

  it('renew: the holder (JIT_AGENT_ID) extends it; anyone else is refused with NOT_LEASE_HOLDER', async () => {
    const project = await projects.initialized();
    const [id] = await createIssues(project, ['held']);
    const claimed = await project.json<{ lease: { expires_at: string } }>(['issue', 'claim', id!], { JIT_AGENT_ID: 'agent:one', JIT_LEASE_TTL: '10m' });
    const refused = await project.run(['--json', 'issue', 'renew', id!, 'agent:two']);
    expect(refused.code).toBe(6);
    expect(errorOf(refused).code).toBe('NOT_LEASE_HOLDER');
    const renewed = await project.json<{ lease: { expires_at: string } }>(['issue', 'heartbeat', id!, '--ttl', '2h'], { JIT_AGENT_ID: 'agent:one' });
    expect(Date.parse(renewed.lease.expires_at)).toBeGreaterThan(Date.parse(claimed.lease.expires_at));
    const taken = await project.run(['--json', 'issue', 'claim', id!, 'agent:two']);
    expect(errorOf(taken).code).toBe('ALREADY_CLAIMED');
  });

  it('evict frees a claim and records who and why', async () => {
    const project = await projects.initialized();
    const [id] = await createIssues(project, ['stuck']);
    await project.json(['issue', 'claim', id!, 'agent:one']);
    const evicted = await project.json(['issue', 'evict', id!, '--reason', 'stuck since Monday', '--by', 'human:alice']);
    expect(evicted).toMatchObject({ state: 'ready', assignee: null, changed: true });
    const events = await project.json<{ events: Record<string, unknown>[] }>(['events', 'query', '--type', 'claim_evicted']);
    expect(events.events).toEqual([expect.objectContaining({ issue_id: id, holder: 'agent:one', reason: 'stuck since Monday', by: 'human:alice' })]);
  });

  it('20 racers over lapsed claims: exactly one winner each, one claim_expired each', async () => {
    const project = await projects.initialized();
    const tracker = new Tracker(new JsonFileStorage(project.jitDir));
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const { id } = await tracker.createIssue({ title: `work ${i}` });
      await tracker.claim(id, 'agent:old', { ttl: '1ms' });
      ids.push(id);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
    const racers = await Promise.all(Array.from({ length: 20 }, (_, i) => project.run(['--json', 'issue', 'claim-next', `agent:r${i}`])));
    for (const run of racers) expect(run.code, run.stderr).toBe(0);
    const won = racers.map((run) => (JSON.parse(run.stdout) as { id: string }).id);
    expect(new Set(won).size).toBe(20);
    expect([...won].sort()).toEqual([...ids].sort());
    const expired = await tracker.queryEvents({ type: 'claim_expired' });
    expect(expired.map((e) => e.issue_id).sort()).toEqual([...ids].sort());
  });

  it('validate reports claims whose lease lapsed (exit 4), and --fix gives them back', async () => {
    const project = await projects.initialized();
    const [id] = await createIssues(project, ['lapsed']);
    await project.json(['issue', 'claim', id!, 'agent:one', '--ttl', '1ms']);
    await new Promise((resolve) => setTimeout(resolve, 10));
    const report = await project.run(['--json', 'validate']);
    expect(report.code).toBe(4);
    expect(JSON.parse(report.stdout).problems).toEqual([expect.objectContaining({ kind: 'lapsed_claim', issue_id: id })]);
    expect((await project.json<{ ok: boolean }>(['validate', '--fix'])).ok).toBe(true);
    expect(await project.json(['issue', 'show', id!])).toMatchObject({ state: 'ready', assignee: null });
  });

  it('a claim written by a jit without leases holds as before, until evicted', async () => {
    const project = await projects.initialized();
    const [id] = await createIssues(project, ['old']);
    await project.json(['issue', 'claim', id!, 'agent:old']);
    const file = path.join(project.jitDir, 'issues', `${id}.json`);
    const { lease: _lease, ...withoutLease } = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    writeFileSync(file, JSON.stringify(withoutLease, null, 2) + '\n');
    // The older jit wrote its index without lease fields too: bring the index in line with the file.
    await project.json(['validate', '--fix']);
    expect(errorOf(await project.run(['--json', 'issue', 'claim', id!, 'agent:new'])).code).toBe('ALREADY_CLAIMED');
    expect((await project.json<{ issues: unknown[] }>(['query', 'ready'])).issues).toEqual([]);
    expect((await project.json<{ issues: unknown[] }>(['query', 'claims'])).issues).toEqual([expect.objectContaining({ id, lease: null, lapsed: null })]);
    expect((await project.json<{ ok: boolean }>(['validate'])).ok).toBe(true);
    await project.json(['issue', 'evict', id!, '-r', 'its agent is long gone']);
    expect(await project.json(['issue', 'claim-next', 'agent:new'])).toMatchObject({ id });
  });
});

describe('agent ids and agent lock files under attack', () => {
  it('an agent id too long for its lock file name is refused as a usage error, naming the limit', async () => {
    const project = await projects.initialized();
    // 190 "ü": a valid id of 196 characters, but 1,146 bytes once encoded for the file name (NAME_MAX is 255).
    const run = await project.run(['--json', 'agent', 'run', '--id', `agent:${'ü'.repeat(190)}`, '--', 'true']);
    expect(run.code).toBe(2);
    const error = errorOf(run);
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.message).toMatch(/too long/);
    expect((await project.json<{ agents: unknown[] }>(['agents'])).agents).toEqual([]);
  });

  it('jit agents skips files in agents/ that jit did not name (a malformed %-escape, no kind:name)', async () => {
    const project = await projects.initialized();
    expect((await project.run(['agent', 'run', '--id', 'agent:real', '--', 'true'])).code).toBe(0);
    for (const stray of ['%zz.lock', 'notes.lock', '%3A.lock']) writeFileSync(path.join(project.jitDir, 'agents', stray), '');
    const listed = await project.json<{ agents: { id: string; live: boolean }[] }>(['agents']);
    expect(listed.agents).toEqual([expect.objectContaining({ id: 'agent:real', live: false })]);
  });

  it('the lock file deleted or replaced while the agent runs: its claim still holds, and a twin is still refused', async () => {
    const project = await projects.initialized();
    await createIssues(project, ['held']);
    const lockFile = path.join(project.jitDir, 'agents', 'agent%3Aheld.lock');
    const { agent, claimedId } = await startAgent(project, 'agent:held');
    const replace = (): void => {
      writeFileSync(`${lockFile}.new`, '');
      renameSync(`${lockFile}.new`, lockFile);
    };
    for (const tamper of [() => unlinkSync(lockFile), replace]) {
      tamper();
      expect(errorOf(await project.run(['--json', 'issue', 'claim', claimedId, 'agent:thief'])).code).toBe('ALREADY_CLAIMED');
      const twin = await project.run(['--json', 'agent', 'run', '--id', 'agent:held', '--', 'true']);
      expect(errorOf(twin).code).toBe('AGENT_ALREADY_RUNNING');
      const listed = await project.json<{ agents: { id: string; live: boolean }[] }>(['agents']);
      expect(listed.agents).toEqual([expect.objectContaining({ id: 'agent:held', live: true })]);
    }
    // Once it is gone, for real, the claim is free at once as usual.
    agent.kill('SIGKILL');
    await once(agent, 'exit');
    expect(await project.json(['issue', 'claim', claimedId, 'agent:next'])).toMatchObject({ assignee: 'agent:next' });
  });
});

describe('lease fields written by hand', () => {
  it('a lease whose expires_at is not a date is a corrupt file (it never lapsed, silently), named by validate', async () => {
    const project = await projects.initialized();
    const [id] = await createIssues(project, ['hand-edited']);
    await project.json(['issue', 'claim', id!, 'agent:h', '--ttl', '1s']);
    const file = path.join(project.jitDir, 'issues', `${id}.json`);
    const issue = JSON.parse(readFileSync(file, 'utf8')) as { lease: { expires_at: string } };
    issue.lease.expires_at = 'tomorrow';
    writeFileSync(file, JSON.stringify(issue, null, 2) + '\n');
    const show = await project.run(['--json', 'issue', 'show', id!]);
    expect(errorOf(show)).toMatchObject({ code: 'CORRUPT_FILE', message: expect.stringContaining('lease.expires_at') });
    const report = await project.run(['--json', 'validate']);
    expect(report.code).toBe(4);
    expect((JSON.parse(report.stdout) as { problems: { kind: string }[] }).problems).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'corrupt_file' })]));
  });
});

describe('jit mcp inside jit agent run', () => {
  it('serves as the agent that runs it (JIT_AGENT_ID inherited): not refused as a twin, its claims bound to that agent', async () => {
    const project = await projects.initialized();
    const [id] = await createIssues(project, ['through mcp']);
    // The agent's command is an MCP client that starts `jit mcp` (as an AI client does) and claims through it.
    const client = path.join(project.dir, 'client.mjs');
    const sdk = (file: string): string => JSON.stringify(require.resolve(`@modelcontextprotocol/sdk/client/${file}`));
    writeFileSync(
      client,
      `import { Client } from ${sdk('index.js')};\nimport { StdioClientTransport } from ${sdk('stdio.js')};\n` +
        `const transport = new StdioClientTransport({ command: process.execPath, args: [${JSON.stringify(JIT_BIN)}, 'mcp'], env: process.env, stderr: 'inherit' });\n` +
        `const client = new Client({ name: 'inner', version: '1.0.0' });\nawait client.connect(transport);\n` +
        `const result = await client.callTool({ name: 'issue_claim_next', arguments: {} });\n` +
        `console.log(JSON.stringify(result.structuredContent));\nawait client.close();\n`,
    );
    const run = await project.run(['agent', 'run', '--id', 'agent:outer', '--', process.execPath, client]);
    expect(run.stderr).not.toContain('AGENT_ALREADY_RUNNING');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ id, assignee: 'agent:outer', lease: { agent: 'agent:outer', expires_at: null } });
    // The agent has ended: its claim with it.
    expect(await project.json(['issue', 'claim-next', 'agent:next'])).toMatchObject({ id, assignee: 'agent:next' });
  });
});

describe('jit agent run: bad commands and ids', () => {
  it('an empty command name is a usage error (not INTERNAL), and the agent lock is not left held', async () => {
    const project = await projects.initialized();
    const run = await project.run(['--json', 'agent', 'run', '--id', 'agent:empty', '--', '']);
    expect(run.code).toBe(2);
    expect(errorOf(run)).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('Could not start') });
    expect((await project.json<{ agents: { id: string; live: boolean }[] }>(['agents'])).agents.every((agent) => !agent.live)).toBe(true);
  });

  it('an invalid JIT_AGENT_ID (no --id) is INVALID_ENV naming the variable', async () => {
    const project = await projects.initialized();
    const run = await project.run(['--json', 'agent', 'run', '--', 'true'], { JIT_AGENT_ID: 'bogus' });
    expect(run.code).toBe(2);
    expect(errorOf(run)).toMatchObject({ code: 'INVALID_ENV', message: expect.stringContaining('JIT_AGENT_ID') });
  });
});

describe('evict with JIT_AGENT_ID set but empty', () => {
  it('an empty JIT_AGENT_ID counts as unset: evict works and records no evictor (was "No claimant")', async () => {
    const project = await projects.initialized();
    const [id] = await createIssues(project, ['stuck']);
    await project.json(['issue', 'claim', id!, 'agent:stuck']);
    const run = await project.run(['--json', 'issue', 'evict', id!, '-r', 'stuck for a day'], { JIT_AGENT_ID: '' });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ id, assignee: null, state: 'ready' });
    const events = await project.json<{ events: { by: string | null }[] }>(['events', 'query', '--type', 'claim_evicted']);
    expect(events.events).toEqual([expect.objectContaining({ by: null })]);
  });
});

describe('a holder note that is not one', () => {
  it('jit agents shows holder null for a note of the wrong shape (was the raw value: 5, "s", {"pid":"x"})', async () => {
    const project = await projects.initialized();
    expect((await project.run(['agent', 'run', '--id', 'agent:noted', '--', 'true'])).code).toBe(0);
    for (const note of ['5', '"s"', '{"pid":"x","host":1}']) {
      writeFileSync(path.join(project.jitDir, 'agents', 'agent%3Anoted.holder.json'), note + '\n');
      const listed = await project.json<{ agents: { id: string; holder: unknown }[] }>(['agents']);
      expect(listed.agents).toEqual([expect.objectContaining({ id: 'agent:noted', live: false, holder: null })]);
    }
  });
});

describe('jit agent run at a terminal', () => {
  it.runIf(process.platform === 'linux')('Ctrl-C reaches the command once (the terminal signals the whole foreground group; agent run must not forward it again)', async () => {
    // A second SIGINT makes many agents and tools stop at once without cleaning up.
    const project = await projects.initialized();
    const script = `let n = 0; process.on('SIGINT', () => { n++; process.stdout.write('got SIGINT ' + n + '\\n');
      setTimeout(() => process.exit(10 + n), 1000); }); process.stdout.write('ready\\n'); setInterval(() => {}, 1000);`;
    const words = [process.execPath, JIT_BIN, 'agent', 'run', '--id', 'agent:tty', '--', process.execPath, '-e', script];
    const command = words.map((word) => `'${word.replace(/'/g, "'\\''")}'`).join(' ');
    // Two SIGINTs that arrive together count as one (signals do not queue), so a few rounds.
    for (let round = 0; round < 3; round++) {
      // script(1) runs it on a pseudo-terminal of its own; ^C written to it is the terminal's interrupt.
      const terminal = spawn('script', ['-qfec', `exec ${command}`, '/dev/null'], { cwd: project.dir, env: cleanEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      terminal.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
      const exited = new Promise<number | null>((resolve) => terminal.once('exit', (code) => resolve(code)));
      await waitFor(() => out.includes('ready') || terminal.exitCode !== null, 'the command is ready');
      terminal.stdin!.write('\x03');
      expect({ round, status: await exited, out }).toEqual({ round, status: 11, out: expect.stringContaining('got SIGINT 1') });
    }
  });
});

describe('agent ids that differ only in case', () => {
  it('get lock files whose names differ on a case-insensitive file system too (macOS, Windows): no upper-case letter in a name', async () => {
    // agent:Bob and agent:bob are two agents; sharing one lock file, one would pass for live while only the other runs.
    const project = await projects.initialized();
    for (const id of ['agent:Bob', 'agent:bob', 'Agent:BOB']) {
      const run = await project.run(['agent', 'run', '--id', id, '--', process.execPath, '-e', '0']);
      expect(run.code, run.stderr).toBe(0);
    }
    const names = readdirSync(path.join(project.dir, '.jit', 'agents')).filter((name) => name.endsWith('.lock'));
    expect(new Set(names.map((name) => name.toLowerCase())).size).toBe(3);
    const listed = await project.json<{ agents: { id: string; live: boolean }[] }>(['agents']);
    expect(listed.agents.map((agent) => agent.id).sort()).toEqual(['Agent:BOB', 'agent:Bob', 'agent:bob']);
  });
});
