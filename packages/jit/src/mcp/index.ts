/**
 * `jit mcp`: the tracker as MCP tools on stdio. The CLI's `mcp` command
 * lazy-loads this module and awaits `runMcpServer`.
 */
import { readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { holdAgentLock, openConfiguredTracker, resolveJitDir, runsUnderAgent } from '../store/index.js';
import { AGENT_ID_VARIABLE, toJitError, type RunningAgent, type TrackerApi } from '../store/core.js';
import { LockStats, processLockStats, removeSnapshot, writeSnapshot } from '../store/lock-stats.js';
import { createJitMcpServer, logToStderr } from './server.js';

export interface McpServerOptions {
  /** The .jit directory (like `--dir`); otherwise JIT_DIR, then a walk up from `cwd`. */
  dir?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /**
   * The agent this server runs as (else JIT_AGENT_ID): it holds the agent's
   * lock while it serves, so every claim made through it is bound to its
   * life, and it is the default assignee. A twin already running refuses the start.
   */
  agent?: string;
}

/**
 * Serves until stdin closes, lets the calls in flight answer, then resolves.
 * A missing `.jit/` does not stop the server: MCP clients tend to hide a
 * server that dies at start-up, whereas a NOT_INITIALIZED tool result tells
 * the agent what to do. The lookup is retried on each call until it succeeds,
 * so `jit init` while the server runs is picked up.
 */
export async function runMcpServer(options: McpServerOptions = {}): Promise<void> {
  // A stray console.log anywhere in the process would corrupt the protocol stream.
  console.log = console.info = console.debug = console.error;
  // stderr carries log lines for people, best effort: a client that closed it (EPIPE) must not take the server down,
  // nor one that never reads it (common) make it wait: see writeOrDrop.
  process.stderr.on('error', () => {});
  process.stderr.write = writeOrDrop as typeof process.stderr.write;

  const agent = options.agent ?? (options.env ?? process.env)[AGENT_ID_VARIABLE] ?? undefined;
  const running = agent ? await holdAgent(options, agent) : undefined;
  const getTracker = trackerOpener({ ...options, agent });
  try {
    getTracker();
  } catch (error) {
    const jitError = toJitError(error);
    logToStderr(`${jitError.code}: ${jitError.message} Tools will report this until it is fixed.`);
  }

  const stopLockStats = keepLockStats(options);
  const { server, idle } = createJitMcpServer(getTracker, packageVersion());
  const closed = new Promise<void>((resolve) => {
    server.onclose = resolve;
  });
  // One line per problem, however verbose the parser's message: stderr is read by people.
  server.onerror = (error) => logToStderr(`protocol error: ${error.message.replace(/\s+/g, ' ').slice(0, 300)}`);
  const shutDown = (): void => {
    void idle().then(() => server.close());
  };
  process.stdin.once('end', shutDown);
  // EPIPE: the client is gone; nobody is left to answer.
  process.stdout.once('error', shutDown);

  await server.connect(new StdioServerTransport());
  await closed;
  stopLockStats();
  running?.release();
}

/**
 * process.stderr.write for the server's life (our log lines, console, Node's
 * warnings): each chunk goes to fd 2 at once, and what the pipe cannot take
 * now is dropped (a line may end cut short). Node writes to a pipe
 * asynchronously and queues the rest: with a client that never reads stderr,
 * that queue grew with every line (a flood of bad input: ~90 bytes each) and,
 * once the pipe was full, kept the process alive after stdin closed, waiting
 * to write it. A log line is worth less than a server that exits. fd 2 is
 * non-blocking here (libuv made it so when process.stderr was first used,
 * above), so a full pipe is EAGAIN, not a wait; a file or a terminal takes
 * every line, as before.
 */
function writeOrDrop(chunk: string | Uint8Array, encoding?: BufferEncoding | ((error?: Error | null) => void), done?: (error?: Error | null) => void): boolean {
  try {
    if (typeof chunk === 'string') writeSync(2, chunk, null, typeof encoding === 'string' ? encoding : 'utf8');
    else writeSync(2, chunk);
  } catch {
    // EAGAIN: nobody reads it now; EPIPE: nobody ever will. Either way the line is lost, and the server goes on.
  }
  (typeof encoding === 'function' ? encoding : done)?.();
  return true;
}

/**
 * The agent lock for the server's life. A twin holding it stops the start
 * (AGENT_ALREADY_RUNNING: two servers as one agent would each think the
 * other's claims theirs); without a store yet, it serves unbound.
 */
async function holdAgent(options: McpServerOptions, agent: string): Promise<RunningAgent | undefined> {
  let jitDir: string;
  try {
    jitDir = resolveJitDir(options);
  } catch (error) {
    const jitError = toJitError(error);
    logToStderr(`${jitError.code}: ${jitError.message} Claims will not be bound to agent ${agent} until the server is restarted in a store.`);
    return undefined;
  }
  // Started by that agent's own command (`jit agent run` -> an AI client -> jit mcp): it is the agent, under the run's lock.
  if (runsUnderAgent(jitDir, agent, options.env ?? process.env)) return undefined;
  return holdAgentLock(jitDir, agent, `jit mcp (pid ${process.pid})`);
}

/** How often the lock figures are left for `jit debug locks --stats`, at most. */
const SNAPSHOT_INTERVAL_MS = 1000;

/**
 * Running lock figures for the status tool, and a snapshot of them (when they
 * changed, at most once a second) for `jit debug locks --stats`. Returns the
 * function that stops it and removes the snapshot.
 */
function keepLockStats(options: McpServerOptions): () => void {
  const stats = new LockStats().start();
  processLockStats.current = stats;
  let jitDir: string | undefined;
  let written = 0;
  const timer = setInterval(() => {
    if (stats.version === written) return;
    try {
      jitDir ??= resolveJitDir(options);
      writeSnapshot(jitDir, stats);
      written = stats.version;
    } catch {
      // no store yet, or the temp folder refused: figures stay in the status tool
    }
  }, SNAPSHOT_INTERVAL_MS);
  timer.unref();
  return () => {
    clearInterval(timer);
    stats.stop();
    if (jitDir !== undefined) removeSnapshot(jitDir);
  };
}

function trackerOpener(options: McpServerOptions): () => TrackerApi {
  let tracker: TrackerApi | undefined;
  return () => (tracker ??= openConfiguredTracker(options, { agent: options.agent }));
}

function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
  return manifest.version;
}
