/**
 * Fixtures for the MCP tests: a temp project with .jit/ initialised, and a
 * real MCP client that spawns the built `jit mcp` over stdio.
 */
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { expect } from 'vitest';

export const REPO = resolve(__dirname, '..', '..');
export const JIT_BIN = join(REPO, 'bin', 'jit.js');

const execFileAsync = promisify(execFile);

/**
 * Environment for children: no JIT_* from the outside may point them elsewhere,
 * and lock waits never time out by accident on a loaded machine (a test about
 * timeouts passes its own JIT_LOCK_TIMEOUT).
 */
export function childEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !key.startsWith('JIT_')) env[key] = value;
  }
  return { ...env, NO_COLOR: '1', JIT_LOCK_TIMEOUT: '120', ...extra };
}

export function makeTempDir(prefix: string): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), `jit-mcp-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs the real CLI; resolves with its parsed --json output and exit code. */
export async function runJit(cwd: string, args: string[]): Promise<{ code: number; json: any; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [JIT_BIN, ...args, '--json'], { cwd, env: childEnv() });
    return { code: 0, json: JSON.parse(stdout), stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    if (typeof failed.code !== 'number') throw error;
    return { code: failed.code, json: failed.stdout ? JSON.parse(failed.stdout) : undefined, stderr: failed.stderr ?? '' };
  }
}

export async function makeProject(prefix: string): Promise<{ dir: string; cleanup(): void }> {
  const project = makeTempDir(prefix);
  const init = await runJit(project.dir, ['init']);
  expect(init.code, init.stderr).toBe(0);
  return project;
}

export interface McpSession {
  client: Client;
  /** Everything the server wrote to stderr so far. */
  stderr(): string;
  close(): Promise<void>;
}

export async function connectMcp(cwd: string, options: { name?: string; env?: Record<string, string> } = {}): Promise<McpSession> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [JIT_BIN, 'mcp'],
    cwd,
    env: childEnv(options.env),
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const client = new Client({ name: options.name ?? 'test-agent', version: '1.0.0' });
  await client.connect(transport);
  return { client, stderr: () => stderr, close: () => client.close() };
}

export async function callTool(client: Client, name: string, args: Record<string, unknown> = {}): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

/** Calls a tool that must succeed and returns its structured result. */
export async function ok(client: Client, name: string, args: Record<string, unknown> = {}): Promise<any> {
  const result = await callTool(client, name, args);
  expect(result.isError ?? false, `${name} failed: ${textOf(result)}`).toBe(false);
  expect(result.structuredContent).toBeTypeOf('object');
  return result.structuredContent;
}

/** Calls a tool that must fail with `code`; returns the error object. */
export async function fails(client: Client, name: string, args: Record<string, unknown>, code: string): Promise<any> {
  const result = await callTool(client, name, args);
  expect(result.isError, `${name} should fail with ${code}: ${textOf(result)}`).toBe(true);
  const error = (result.structuredContent as { error: { code: string; message: string; suggestions: string[] } }).error;
  expect(error.code, error.message).toBe(code);
  expect(error.message.length).toBeGreaterThan(0);
  expect(Array.isArray(error.suggestions)).toBe(true);
  expect(textOf(result)).toContain(code);
  return error;
}

export function textOf(result: CallToolResult): string {
  return result.content.map((block) => (block.type === 'text' ? block.text : '')).join('');
}

/**
 * Holds an exclusive lock on `lockPath` from another process (with the lock
 * toolkit, as the store takes it) until `release` or `holdMs` runs out.
 */
export async function holdLockElsewhere(lockPath: string, holdMs = 60_000): Promise<{ release(): Promise<void>; exited(): boolean }> {
  const toolkit = JSON.stringify(join(REPO, 'dist', 'lock', 'index.js'));
  const holder = spawn(
    process.execPath,
    [
      '-e',
      // The lock is kept referenced (a collected FileLock may be released) until stdin ends or holdMs passes.
      `globalThis.held = require(${toolkit}).lockSync(process.argv[1]); console.log('held');` +
        `setTimeout(() => process.exit(0), ${holdMs}); process.stdin.on('end', () => process.exit(0)).resume();`,
      lockPath,
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  await once(holder.stdout, 'data');
  return {
    async release() {
      if (holder.exitCode !== null) return;
      const exit = once(holder, 'exit');
      holder.stdin.end();
      await exit;
    },
    exited: () => holder.exitCode !== null,
  };
}
