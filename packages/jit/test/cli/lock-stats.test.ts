/**
 * Lock figures in the CLI: JIT_LOCK_STATS=1 adds `lock_wait_ms` to --json
 * results, measured against a real holder in another process; and
 * `jit debug locks --stats` reads what a running `jit mcp` keeps.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { errorOf, JIT_BIN, projectsForThisFile, REPO } from './helpers.js';

const projects = projectsForThisFile();

/** Resolves once another process waits for `lockPath` (Linux: a `->` line for its inode in /proc/locks; elsewhere after 5 s). */
async function untilSomeoneWaits(lockPath: string): Promise<void> {
  if (!existsSync('/proc/locks')) return new Promise((resolve) => setTimeout(resolve, 5000));
  const inode = `:${statSync(lockPath).ino} `;
  while (!readFileSync('/proc/locks', 'utf8').split('\n').some((line) => line.includes('->') && line.includes(inode))) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Holds `lockPath` exclusively from another process until release(). */
async function holdElsewhere(lockPath: string): Promise<{ release(): Promise<void> }> {
  const toolkit = JSON.stringify(path.join(REPO, 'dist', 'lock', 'index.js'));
  const holder = spawn(
    process.execPath,
    ['-e', `globalThis.held = require(${toolkit}).lockSync(process.argv[1]); console.log('held'); process.stdin.on('end', () => process.exit(0)).resume();`, lockPath],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  await once(holder.stdout, 'data');
  return {
    async release() {
      const exit = once(holder, 'exit');
      holder.stdin.end();
      await exit;
    },
  };
}

describe('JIT_LOCK_STATS=1', () => {
  it('adds lock_wait_ms to the --json result of a writing command, and nothing without it', async () => {
    const p = await projects.initialized();
    const created = await p.json(['issue', 'create', '--title', 'measured'], { JIT_LOCK_STATS: '1' });
    expect(created.lock_wait_ms).toBeGreaterThanOrEqual(0);
    expect(created.title).toBe('measured');
    const plain = await p.json(['issue', 'create', '--title', 'plain']);
    expect(plain).not.toHaveProperty('lock_wait_ms');
    const off = await p.json(['issue', 'create', '--title', 'off'], { JIT_LOCK_STATS: '0' });
    expect(off).not.toHaveProperty('lock_wait_ms');
  });

  it('lock_wait_ms is the time the command waited for another process to release the store', async () => {
    const p = await projects.initialized();
    const lockPath = path.join(p.jitDir, '.index.lock');
    const holder = await holdElsewhere(lockPath);
    const pending = p.json(['issue', 'create', '--title', 'late'], { JIT_LOCK_STATS: '1' });
    // Not a fixed sleep: a loaded machine may take longer to start the command. Release only
    // once it is waiting (Linux lists flock waiters in /proc/locks), then after 200 ms more.
    await untilSomeoneWaits(lockPath);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await holder.release();
    const created = await pending;
    expect(created.lock_wait_ms).toBeGreaterThanOrEqual(200);
    expect(created.lock_wait_ms).toBeLessThan(60_000);
  });

  it('any other value is INVALID_ENV, naming the variable', async () => {
    const p = await projects.initialized();
    const run = await p.run(['--json', 'status'], { JIT_LOCK_STATS: 'maybe' });
    expect(run.code).not.toBe(0);
    expect(errorOf(run)).toMatchObject({ code: 'INVALID_ENV', details: { variable: 'JIT_LOCK_STATS' } });
  });
});

describe('jit debug locks --stats', () => {
  it('reports the lock figures of a running jit mcp, and says so when none runs', async () => {
    const p = await projects.initialized();
    const none = await p.json(['debug', 'locks', '--stats']);
    expect(none.stats).toEqual([]);
    expect((await p.run(['debug', 'locks', '--stats'])).stdout).toMatch(/no `jit mcp` server is running/);
    expect(await p.json(['debug', 'locks'])).not.toHaveProperty('stats');

    // A server that creates an issue over MCP, its stdin kept open until we are done.
    const server = spawn(process.execPath, [JIT_BIN, 'mcp'], { cwd: p.dir, stdio: ['pipe', 'pipe', 'inherit'] });
    try {
      const send = (message: object): void => {
        server.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', ...message })}\n`);
      };
      let out = '';
      server.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
      send({ id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } });
      send({ method: 'notifications/initialized' });
      send({ id: 2, method: 'tools/call', params: { name: 'issue_create', arguments: { title: 'over mcp' } } });
      let stats: any[] = [];
      for (let i = 0; i < 300 && !stats.some((s) => s.pid === server.pid && s.locks.length > 0); i++) {
        await new Promise((resolve) => setTimeout(resolve, 100)); // it leaves a snapshot at most once a second
        stats = (await p.json(['debug', 'locks', '--stats'])).stats;
      }
      const mine = stats.find((s) => s.pid === server.pid);
      expect(out).toContain('"id":2');
      expect(mine.locks.find((l: any) => l.lock === '.index.lock')).toMatchObject({ acquired: expect.any(Number), timeouts: 0 });
      expect(mine.locks.find((l: any) => l.lock === '.index.lock').acquired).toBeGreaterThan(0);
      expect((await p.run(['debug', 'locks', '--stats'])).stdout).toMatch(new RegExp(`\\.index\\.lock +${server.pid} +\\d+`));
    } finally {
      server.stdin.end();
      await once(server, 'exit');
    }
    expect((await p.json(['debug', 'locks', '--stats'])).stats).toEqual([]); // it removed its snapshot
  });
});
