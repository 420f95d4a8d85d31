/**
 * `jit serve`: the web view. The CLI's `serve` command lazy-loads this module
 * (the CLI's start-up never pays for the server) and awaits `runWebServer`.
 */
import { spawn } from 'node:child_process';
import { userInfo } from 'node:os';
import { openConfiguredTracker } from '../store/index.js';
import { newSecret } from './security.js';
import { startWebServer, type WebServer } from './server.js';

export { startWebServer, DEFAULT_HOST, DEFAULT_PORT, type WebServer, type WebServerOptions } from './server.js';

export interface ServeOptions {
  dir?: string;
  host?: string;
  port?: number;
  /** An access token; `true` makes one (it is printed). */
  token?: string | boolean;
  /** Who the page's actions are recorded as (kind:name); default human:<login name>. */
  as?: string;
  open?: boolean;
  version?: string;
}

export interface Serving {
  server: WebServer;
  /** The address to open: with the token when there is one. */
  address: string;
  token?: string;
  /** The `.jit/` folder; null for a database that JIT_DATABASE_URL names with no project folder. */
  jitDir: string | null;
  /** Where the tracker keeps its issues (files at ..., PostgreSQL at ...). */
  store: string;
  /** Resolves when the server stopped (SIGINT, SIGTERM or close()). */
  stopped: Promise<void>;
  close(): Promise<void>;
}

function defaultActor(): string {
  let name = '';
  try {
    name = userInfo().username;
  } catch {
    // no passwd entry (a container's numeric uid): fall back below
  }
  return /^[A-Za-z0-9][A-Za-z0-9._-]{0,60}$/.test(name) ? `human:${name}` : 'human:supervisor';
}

/** Opens the address in the desktop's browser, if there is one; a failure only means the person opens it by hand. */
function openBrowser(address: string): void {
  const [command, args] =
    process.platform === 'darwin' ? ['open', [address]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '""', address]] : ['xdg-open', [address]];
  try {
    const child = spawn(command, args as string[], { stdio: 'ignore', detached: true });
    child.on('error', () => {});
    child.unref();
  } catch {
    // no opener installed
  }
}

export async function runWebServer(options: ServeOptions, env: NodeJS.ProcessEnv = process.env): Promise<Serving> {
  const tracker = openConfiguredTracker({ dir: options.dir, cwd: process.cwd(), env });
  await tracker.status(); // a missing or unreadable store fails here, before anything listens
  const token = options.token === true ? newSecret() : options.token === false ? undefined : options.token;
  // Each backend's own change signal (events.jsonl, or the database's LISTEN/NOTIFY); listening before the server is.
  const changes = await tracker.storage.watchChanges?.();
  const jitDir = tracker.storage.jitDir ?? null;
  let server: WebServer;
  try {
    server = await startWebServer({ tracker, changes, host: options.host, port: options.port, token, actor: options.as ?? defaultActor(), version: options.version });
  } catch (error) {
    changes?.close();
    throw error;
  }
  const address = token === undefined ? server.url : `${server.url}?token=${encodeURIComponent(token)}`;
  let resolveStopped!: () => void;
  const stopped = new Promise<void>((resolve) => (resolveStopped = resolve));
  const close = async (): Promise<void> => {
    process.off('SIGINT', close);
    process.off('SIGTERM', close);
    changes?.close();
    await server.close();
    resolveStopped();
  };
  process.on('SIGINT', close);
  process.on('SIGTERM', close);
  if (options.open) openBrowser(address);
  return { server, address, token, jitDir, store: tracker.storage.description, stopped, close };
}
