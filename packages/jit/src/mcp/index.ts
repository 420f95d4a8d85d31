/**
 * `jit mcp`: the tracker as MCP tools on stdio. The CLI's `mcp` command
 * lazy-loads this module and awaits `runMcpServer`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { openTracker, resolveJitDir } from '../store/index.js';
import { toJitError, type TrackerApi } from '../store/core.js';
import { createJitMcpServer, logToStderr } from './server.js';

export interface McpServerOptions {
  /** The .jit directory (like `--dir`); otherwise JIT_DIR, then a walk up from `cwd`. */
  dir?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
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

  const getTracker = trackerOpener(options);
  try {
    getTracker();
  } catch (error) {
    const jitError = toJitError(error);
    logToStderr(`${jitError.code}: ${jitError.message} Tools will report this until it is fixed.`);
  }

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
}

function trackerOpener(options: McpServerOptions): () => TrackerApi {
  let tracker: TrackerApi | undefined;
  return () => (tracker ??= openTracker(resolveJitDir(options)));
}

function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
  return manifest.version;
}
