/**
 * The server in-process over the SDK's linked in-memory transport, on the
 * in-memory store: how outcomes are rendered, without spawning anything.
 * The end-to-end behaviour over stdio is in test/mcp/.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { InMemoryStorage, JitError, Tracker, type TrackerApi } from '../store/index.js';
import { createJitMcpServer } from './server.js';

async function connect(getTracker: () => TrackerApi) {
  const jit = createJitMcpServer(getTracker, '0.0.0-test');
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await jit.server.connect(serverSide);
  const client = new Client({ name: 'unit', version: '1.0.0' });
  await client.connect(clientSide);
  return { client, idle: jit.idle, close: () => client.close() };
}

async function call(client: Client, name: string, args: Record<string, unknown> = {}): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

function errorOf(result: CallToolResult): { code: string; message: string; suggestions: string[]; details?: unknown } {
  expect(result.isError).toBe(true);
  return (result.structuredContent as { error: ReturnType<typeof errorOf> }).error;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('createJitMcpServer', () => {
  it('returns the data as structuredContent and the same JSON after a summary line in the text', async () => {
    const session = await connect(() => new Tracker(new InMemoryStorage()));
    const result = await call(session.client, 'issue_create', { title: 'Write the docs', priority: 'high' });
    expect(result.isError).toBeUndefined();
    const issue = result.structuredContent as { id: string; title: string };
    expect(issue.title).toBe('Write the docs');
    const [summary, json] = (result.content[0] as { text: string }).text.split('\n\n');
    expect(summary).toBe(`Created ${issue.id.slice(0, 8)} "Write the docs" (ready, high).`);
    expect(JSON.parse(json!)).toEqual(issue);
    await session.close();
  });

  it('counts in the status summary with the right grammar', async () => {
    const tracker = new Tracker(new InMemoryStorage());
    const session = await connect(() => tracker);
    const text = async () => ((await call(session.client, 'status')).content[0] as { text: string }).text.split('\n')[0];
    expect(await text()).toBe('0 issues: 0 ready, 0 blocked, 0 in progress, 0 done.');
    await call(session.client, 'issue_create', { title: 'One' });
    expect(await text()).toBe('1 issue: 1 ready, 0 blocked, 0 in progress, 0 done.');
    await session.close();
  });

  it('renders a JitError as an isError result with code, message, suggestions and details', async () => {
    const session = await connect(() => new Tracker(new InMemoryStorage()));
    const error = errorOf(await call(session.client, 'issue_show', { id: 'abcd' }));
    expect(error).toMatchObject({ code: 'ISSUE_NOT_FOUND', details: { id: 'abcd' } });
    expect(error.suggestions.length).toBeGreaterThan(0);
    await session.close();
  });

  it('reports a tracker that cannot be opened on every call, and retries the opening each time', async () => {
    let attempts = 0;
    const session = await connect(() => {
      attempts++;
      throw new JitError('NOT_INITIALIZED', 'No .jit/ found.', { suggestions: ['Run `jit init`.'] });
    });
    expect(errorOf(await call(session.client, 'status')).code).toBe('NOT_INITIALIZED');
    expect(errorOf(await call(session.client, 'query_ready')).code).toBe('NOT_INITIALIZED');
    expect(attempts).toBe(2);
    await session.close();
  });

  it('turns an unexpected exception into INTERNAL and logs its stack to stderr only', async () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const broken = { status: async () => Promise.reject(new TypeError('boom')) } as unknown as TrackerApi;
    const session = await connect(() => broken);
    const error = errorOf(await call(session.client, 'status'));
    expect(error.code).toBe('INTERNAL');
    expect(error.message).toContain('boom');
    expect(stderr.mock.calls.map(([text]) => String(text)).join('')).toMatch(/jit mcp: status failed: TypeError: boom/);
    await session.close();
  });

  it('idle() waits for the calls in flight', async () => {
    let started = false;
    let finish!: () => void;
    const release = new Promise<void>((resolve) => (finish = resolve));
    const slow = {
      status: async () => {
        started = true;
        await release;
        return { total: 0, by_state: { in_progress: 0, done: 0 }, ready: 0, blocked: 0 };
      },
      backend: () => ({ kind: 'memory', description: 'memory' }),
    } as unknown as TrackerApi;
    const session = await connect(() => slow);
    const pending = call(session.client, 'status');
    await vi.waitFor(() => expect(started).toBe(true));

    let idle = false;
    const idlePromise = session.idle().then(() => (idle = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(idle).toBe(false);
    finish();
    await idlePromise;
    expect((await pending).isError).toBeUndefined();
    await session.close();
  });
});
