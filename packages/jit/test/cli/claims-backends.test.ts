// `jit query claims` and `jit agents` say the same on the file store and on
// PostgreSQL (Storage.heldClaims on each): leased, untimed and lapsed claims,
// a gated one, a lease left by an earlier holder, a released claim.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freshDatabase } from '../support/postgres.js';
import { JIT_BIN, jitJson, runJit } from './helpers.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** `agentsSeen`: whether the backend can tell an agent has ended (PostgreSQL takes every agent as live: docs/postgres.md). */
type Backend = () => Promise<{ cwd: string; env: NodeJS.ProcessEnv; agentsSeen: boolean }>;
const backends: [string, Backend][] = [
  [
    'files',
    async () => {
      const cwd = mkdtempSync(path.join(tmpdir(), 'jit-claims-files-'));
      dirs.push(cwd);
      await jitJson(['init'], { cwd });
      return { cwd, env: {}, agentsSeen: true };
    },
  ],
  [
    'postgres',
    async () => {
      const cwd = mkdtempSync(path.join(tmpdir(), 'jit-claims-pg-'));
      dirs.push(cwd);
      mkdirSync(path.join(cwd, '.jit')); // a project folder: gate checks run in one
      const env = { JIT_DATABASE_URL: await freshDatabase() };
      await jitJson(['db', 'init'], { cwd, env });
      return { cwd, env, agentsSeen: false };
    },
  ],
];

interface Claim {
  title: string;
  assignee: string;
  state: string;
  lease: { holder: string; expires_at: string | null; agent: string | null } | null;
  lapsed: string | null;
}

describe.each(backends)('claims on %s', (_name, backend) => {
  it('query claims and agents list every claim with its lease and lapse, nothing released or stale', async () => {
    const { cwd, env, agentsSeen } = await backend();
    const json = <T = any>(args: string[]): Promise<T> => jitJson<T>(args, { cwd, env });
    await json(['registry', 'add', 'tests', '--title', 'Tests pass']);
    const ids: Record<string, string> = {};
    for (const title of ['leased', 'untimed', 'lapsed', 'reassigned', 'released', 'unclaimed']) ids[title] = (await json<{ id: string }>(['issue', 'create', '-t', title])).id;
    ids['gated'] = (await json<{ id: string }>(['issue', 'create', '-t', 'gated', '--gate', 'tests'])).id;
    await json(['issue', 'claim', ids['leased']!, 'agent:a', '--ttl', '1h']);
    await json(['issue', 'claim', ids['untimed']!, 'agent:b', '--ttl', '0']);
    await json(['issue', 'claim', ids['lapsed']!, 'agent:c', '--ttl', '1ms']);
    await json(['issue', 'claim', ids['reassigned']!, 'agent:old', '--ttl', '1h']);
    await json(['issue', 'assign', ids['reassigned']!, 'agent:new']);
    await json(['issue', 'claim', ids['released']!, 'agent:e']);
    await json(['issue', 'release', ids['released']!, 'not mine']);
    await json(['issue', 'claim', ids['gated']!, 'agent:g']);
    await json(['issue', 'update', ids['gated']!, '--state', 'done']);
    const claims = (await json<{ issues: Claim[]; count: number }>(['query', 'claims'])).issues;
    expect(claims.map((c) => [c.title, c.assignee, c.state, c.lease?.holder ?? null, c.lease?.expires_at === null, c.lapsed])).toEqual([
      ['leased', 'agent:a', 'in_progress', 'agent:a', false, null],
      ['untimed', 'agent:b', 'in_progress', 'agent:b', true, null],
      ['lapsed', 'agent:c', 'in_progress', 'agent:c', false, 'ttl'],
      ['reassigned', 'agent:new', 'in_progress', null, false, null],
      ['gated', 'agent:g', 'gated', 'agent:g', false, null],
    ]);
    const text = await runJit(['query', 'claims'], { cwd, env });
    expect(text.code, text.stderr).toBe(0);
    for (const title of ['leased', 'untimed', 'lapsed', 'reassigned', 'gated']) expect(text.stdout).toContain(title);
    expect(text.stdout).not.toContain('released');
    // No agent ever ran (jit agent run, jit mcp --agent): nothing listed, whatever the claims.
    expect(await json(['agents'])).toMatchObject({ agents: [] });
    // A claim made under an agent that has ended: lapsed (agent_gone) where that can be seen, listed under that agent.
    const bound = (await json<{ id: string }>(['issue', 'create', '-t', 'bound'])).id;
    const ran = await runJit(['agent', 'run', '--id', 'agent:w', '--', process.execPath, JIT_BIN, 'issue', 'claim', bound], { cwd, env });
    expect(ran.code, ran.stderr).toBe(0);
    const agents = await json<{ agents: { id: string; live: boolean; claims: { id: string; lapsed: string | null }[] }[] }>(['agents']);
    expect(agents.agents.map((a) => [a.id, a.live, a.claims.map((c) => [c.id, c.lapsed])])).toEqual([['agent:w', !agentsSeen, [[bound, agentsSeen ? 'agent_gone' : null]]]]);
    const after = (await json<{ issues: (Claim & { id: string })[] }>(['query', 'claims'])).issues;
    expect(after.find((c) => c.id === bound)).toMatchObject({ assignee: 'agent:w', lease: { holder: 'agent:w', agent: 'agent:w', expires_at: null }, lapsed: agentsSeen ? 'agent_gone' : null });
  });
});
