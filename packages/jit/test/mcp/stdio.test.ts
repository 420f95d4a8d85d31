/**
 * `jit mcp` at the byte level, without the SDK client: stdout carries only
 * JSON-RPC lines, and the process exits 0 once stdin closes, after answering
 * the calls it already received.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childEnv, holdLockElsewhere, JIT_BIN, makeProject, runJit } from './helpers.js';

interface RawRun {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Writes `messages` (objects as JSON lines, strings as they are) and closes stdin at once, and collects everything
 * until exit; `stderrFd`: the server's stderr instead of a pipe read here; killed after `watchdogMs` if still running.
 */
function runRaw(cwd: string, messages: (object | string)[], stderrFd?: number, watchdogMs = 15_000): Promise<RawRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [JIT_BIN, 'mcp'], { cwd, env: childEnv(), stdio: ['pipe', 'pipe', stderrFd ?? 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // Killed if it fails to exit on its own, so the assertion below reports it instead of a hang.
    const watchdog = setTimeout(() => child.kill('SIGKILL'), watchdogMs);
    child.on('error', reject);
    child.on('close', (exitCode, signal) => {
      clearTimeout(watchdog);
      resolve({ exitCode, signal, stdout, stderr });
    });
    child.stdin!.end(messages.map((message) => `${typeof message === 'string' ? message : JSON.stringify(message)}\n`).join(''));
  });
}

const initialize = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw-test', version: '1.0.0' } },
};
const initialized = { jsonrpc: '2.0', method: 'notifications/initialized' };

describe('jit mcp on stdio', () => {
  let project: { dir: string; cleanup(): void };

  beforeAll(async () => {
    project = await makeProject('stdio');
  });

  afterAll(() => project?.cleanup());

  it('writes only JSON-RPC to stdout, answers calls already sent, and exits 0 when stdin closes', async () => {
    const titles = ['first over raw stdio', 'second over raw stdio', 'third over raw stdio'];
    const run = await runRaw(project.dir, [
      initialize,
      initialized,
      { jsonrpc: '2.0', id: 2, method: 'tools/list' },
      ...titles.map((title, n) => ({ jsonrpc: '2.0', id: 10 + n, method: 'tools/call', params: { name: 'issue_create', arguments: { title } } })),
    ]);
    expect(run.signal).toBeNull();
    expect(run.exitCode, run.stderr).toBe(0);

    const lines = run.stdout.split('\n').filter((line) => line !== '');
    const messages = lines.map((line) => JSON.parse(line) as { jsonrpc: string; id?: number; result?: any; error?: unknown });
    for (const message of messages) expect(message.jsonrpc).toBe('2.0');
    expect(messages.map((message) => message.id).sort((a, b) => a! - b!)).toEqual([1, 2, 10, 11, 12]);
    expect(messages.every((message) => message.error === undefined)).toBe(true);

    const byId = new Map(messages.map((message) => [message.id, message.result]));
    expect(byId.get(1).serverInfo.name).toBe('jit');
    expect(byId.get(1).instructions).toContain('issue_claim_next');
    expect(byId.get(2).tools.length).toBeGreaterThan(15);

    // Each create was acknowledged before exit, and is really in the store.
    const listed = await runJit(project.dir, ['issue', 'list']);
    expect(listed.code, listed.stderr).toBe(0);
    const stored = listed.json.issues.map((issue: { title: string }) => issue.title);
    for (let n = 0; n < titles.length; n++) {
      const created = byId.get(10 + n);
      expect(created.isError ?? false).toBe(false);
      expect(created.structuredContent.title).toBe(titles[n]);
      expect(stored).toContain(titles[n]);
    }
  });

  it('still answers a call that waits for a lock when stdin closes, then exits 0', async () => {
    // Another process holds the index lock for a moment, so the create is still waiting when stdin ends.
    const holder = await holdLockElsewhere(join(project.dir, '.jit', '.index.lock'), 1000);
    const run = await runRaw(project.dir, [
      initialize,
      initialized,
      { jsonrpc: '2.0', id: 20, method: 'tools/call', params: { name: 'issue_create', arguments: { title: 'created behind a lock' } } },
    ]);
    expect(holder.exited(), 'the create must have waited for the holder to let go of the lock').toBe(true);
    expect(run.exitCode, run.stderr).toBe(0);
    const answer = run.stdout
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as { id: number; result: { isError?: boolean; structuredContent: { title: string } } })
      .find((message) => message.id === 20);
    expect(answer?.result.isError ?? false).toBe(false);
    expect(answer?.result.structuredContent.title).toBe('created behind a lock');
  });

  // Clients that start the server often never read its stderr, or close it: its log lines are for people,
  // best effort, and one that cannot be written must not take the server (and the answers in flight) down.
  it.runIf(process.platform !== 'win32')('logs to a stderr whose reader is gone (EPIPE) without dying: answers every call, exits 0', async () => {
    await withStderrFifo('jit-mcp-epipe-', async ({ writer, closeReader }) => {
      closeReader();
      // A line that is not JSON: the server logs a protocol error to stderr, and goes on.
      const run = await runRaw(project.dir, [initialize, initialized, 'this is not JSON', { jsonrpc: '2.0', id: 2, method: 'tools/list' }], writer);
      expect(run.signal).toBeNull();
      expect(run.exitCode).toBe(0);
      expect(answeredIds(run.stdout)).toEqual([1, 2]);
    });
  });

  // A client that never reads stderr: what the pipe cannot take must not pile up in the server, nor keep it
  // alive once stdin closes (Node writes to a pipe asynchronously, queueing the rest until it drains).
  it.runIf(process.platform !== 'win32')('logs to a stderr nobody reads (the pipe full) without piling up: answers every call, exits 0', async () => {
    await withStderrFifo('jit-mcp-unread-', async ({ writer }) => {
      // Each line that is not JSON logs a protocol error of ~90 bytes: 10,000 of them are far beyond a pipe's 64 KB.
      const junk = Array.from({ length: 10_000 }, (_, i) => `not JSON ${i}`);
      const run = await runRaw(project.dir, [initialize, initialized, ...junk, { jsonrpc: '2.0', id: 2, method: 'tools/list' }], writer, 120_000);
      expect(answeredIds(run.stdout), 'every call answered').toEqual([1, 2]);
      expect(run.signal, 'jit mcp did not exit within 120 s of stdin closing: it waits to write log lines nobody reads').toBeNull();
      expect(run.exitCode).toBe(0);
    });
  });

  it('exits 0 when stdin closes before any message, writing nothing to stdout', async () => {
    const run = await runRaw(project.dir, []);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stdout).toBe('');
  });

  it('treats null arguments as {} and answers other non-object arguments with a one-line InvalidParams error', async () => {
    const call = (id: number, name: string, args: unknown) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } });
    const run = await runRaw(project.dir, [
      initialize,
      initialized,
      call(30, 'status', null),
      call(31, 'query_ready', null),
      call(32, 'issue_show', null),
      call(33, 'issue_show', 'str'),
      call(34, 'status', 42),
      call(35, 'status', ['a']),
      call(36, 'status', true),
      call(37, 'issue_explode', {}),
    ]);
    expect(run.exitCode, run.stderr).toBe(0);
    const byId = new Map(
      run.stdout
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as { id: number; result?: any; error?: { code: number; message: string } })
        .map((message) => [message.id, message]),
    );
    expect(byId.get(30)!.result.isError ?? false).toBe(false);
    expect(byId.get(30)!.result.structuredContent.total).toBeTypeOf('number');
    expect(byId.get(31)!.result.isError ?? false).toBe(false);
    // A tool with required arguments gets {} too, and says what is missing.
    expect(byId.get(32)!.result).toMatchObject({ isError: true, structuredContent: { error: { code: 'INVALID_ARGUMENT' } } });
    expect(byId.get(32)!.result.structuredContent.error.message).toContain('id');
    for (const [id, kind] of [[33, 'a string'], [34, 'a number'], [35, 'an array'], [36, 'a boolean']] as const) {
      expect(byId.get(id)!.error).toEqual({ code: -32602, message: `tools/call arguments must be a JSON object (or left out), not ${kind}.` });
    }
    // Our protocol errors carry no "MCP error -32602:" prefix of their own: the client adds it.
    expect(byId.get(37)!.error).toEqual({ code: -32602, message: 'Unknown tool issue_explode; see tools/list.' });
  });

  it('refuses __proto__, constructor and prototype as argument or context keys with INVALID_ARGUMENT, storing nothing', async () => {
    const before = await runJit(project.dir, ['status']);
    // JSON.parse makes "__proto__" an own key, as the server's own parser does with the line it reads.
    const args = (json: string): unknown => JSON.parse(json);
    const call = (id: number, name: string, json: string) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args(json) } });
    const calls: Array<[number, string, string]> = [
      [40, 'issue_create', '{"title": "proto top", "__proto__": {"title": "smuggled"}}'],
      [41, 'issue_create', '{"title": "constructor top", "constructor": "x"}'],
      [42, 'issue_create', '{"title": "prototype top", "prototype": "x"}'],
      [43, 'issue_create', '{"title": "proto context", "context": {"__proto__": "v"}}'],
      [44, 'issue_create', '{"title": "constructor context", "context": {"constructor": "v"}}'],
      [45, 'issue_create', '{"title": "prototype context", "context": {"branch": "main", "prototype": "v"}}'],
      [46, 'issue_list', '{"__proto__": {"state": "done"}}'],
    ];
    const run = await runRaw(project.dir, [initialize, initialized, ...calls.map(([id, name, json]) => call(id, name, json))]);
    expect(run.exitCode, run.stderr).toBe(0);
    const byId = new Map(
      run.stdout
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as { id: number; result?: any })
        .map((message) => [message.id, message]),
    );
    for (const [id, , json] of calls) {
      const result = byId.get(id)!.result;
      expect(result, json).toMatchObject({ isError: true, structuredContent: { error: { code: 'INVALID_ARGUMENT' } } });
      const key = ['__proto__', 'constructor', 'prototype'].find((reserved) => json.includes(`"${reserved}"`))!;
      expect(result.structuredContent.error.message, json).toContain(key);
    }
    expect((await runJit(project.dir, ['status'])).json.total).toBe(before.json.total);
    expect(run.stderr).toBe('');
  });

  it('skips lines that are not JSON-RPC (logged to stderr) and keeps serving', async () => {
    const run = await runRaw(project.dir, [initialize, { not: 'json-rpc' }, { jsonrpc: '2.0', id: 7, method: 'tools/list' }]);
    expect(run.exitCode, run.stderr).toBe(0);
    const messages = run.stdout
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as { jsonrpc: string; id: number });
    expect(messages.map((message) => [message.jsonrpc, message.id])).toEqual([
      ['2.0', 1],
      ['2.0', 7],
    ]);
    expect(run.stderr).toMatch(/^jit mcp: protocol error: .+$/m);
  });
});

/**
 * A FIFO to give the server as its stderr: `writer`, its write end; the read
 * end is held open, never read, until `closeReader` (then a write is EPIPE).
 * Both ends closed and the FIFO removed afterwards.
 */
async function withStderrFifo(prefix: string, use: (fifo: { writer: number; closeReader: () => void }) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  try {
    const fifo = join(dir, 'stderr');
    const made = spawnSync('mkfifo', [fifo], { encoding: 'utf8' });
    expect(made.status, made.stderr).toBe(0);
    let reader: number | null = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const writer = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
    const closeReader = (): void => {
      if (reader !== null) closeSync(reader);
      reader = null;
    };
    try {
      await use({ writer, closeReader });
    } finally {
      closeSync(writer);
      closeReader();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The ids of the answers on the server's stdout, in order. */
function answeredIds(stdout: string): (number | undefined)[] {
  return stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => (JSON.parse(line) as { id?: number }).id);
}
