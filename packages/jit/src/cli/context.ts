/**
 * What a command action gets: the global options resolved, the tracker
 * opened on first use (so --help, --schema and `init` never load the lock
 * addon or the store's schemas), and one way to print a result.
 */
import type { Command } from 'commander';
import type { JsonList, TrackerApi } from '../store/core.js';
import type { LockStats } from '../store/lock-stats.js';
import { jsonIndent, painter, STDOUT, writeJson, writeOut, type Paint } from './output.js';

type StoreModule = typeof import('../store/open.js');

let storeModule: StoreModule | undefined;
/**
 * Finding, creating and opening a `.jit/` (store/open.js), loaded on first
 * use: it pulls in the lock addon and the file format. Not the whole store
 * (store/index.js): a command loads only the modules it runs, start-up being
 * most of a CLI run.
 */
export function loadStore(): StoreModule {
  storeModule ??= require('../store/open.js') as StoreModule;
  return storeModule;
}

export interface GlobalOptions {
  json?: boolean;
  dir?: string;
}

export class Invocation {
  readonly json: boolean;
  readonly dir: string | undefined;
  private openedTracker: TrackerApi | undefined;
  /** With JIT_LOCK_STATS=1: what this command waited for locks (for `lock_wait_ms`). */
  private readonly lockStats: LockStats | undefined;

  constructor(options: GlobalOptions) {
    this.json = options.json === true;
    this.dir = options.dir;
    if (process.env['JIT_LOCK_STATS']) {
      const { LockStats, lockStatsRequested } = require('../store/lock-stats.js') as typeof import('../store/lock-stats.js');
      if (lockStatsRequested()) this.lockStats = new LockStats().start();
    }
  }

  /** --dir, then JIT_DIR, then the nearest .jit/ walking up from the working directory. */
  jitDir(): string {
    return loadStore().resolveJitDir({ dir: this.dir, cwd: process.cwd(), env: process.env });
  }

  tracker(): TrackerApi {
    // JIT_AGENT_ID: the default claimant, and the running agent (jit agent run) claims are bound to.
    // JIT_DATABASE_URL needs no .jit/; config.toml's [storage] may also name a database (store/jit-dir.ts).
    this.openedTracker ??= loadStore().openConfiguredTracker({ dir: this.dir, cwd: process.cwd(), env: process.env }, { agent: process.env['JIT_AGENT_ID'] });
    return this.openedTracker;
  }

  /** JSON on stdout with --json, otherwise the human rendering. */
  print<T>(data: T, human: (data: T, paint: Paint) => string): void {
    if (this.json) writeJson(this.withLockWait(data));
    else writeOut(STDOUT, human(data, painter(STDOUT)));
  }

  /**
   * With --json, `{ [key]: items, count }` as print would write it, the
   * items' JSON text put in as it is (parsed again only to indent it for a
   * terminal). Lists printed often and long come this way (query ready).
   */
  printJsonList(key: string, list: JsonList): void {
    const envelope = this.withLockWait({ [key]: null, count: list.count });
    if (jsonIndent() !== undefined) return writeJson({ ...envelope, [key]: JSON.parse(`[${Buffer.from(list.items).toString('utf8')}]`) as unknown });
    const head = `{${JSON.stringify(key)}:[`;
    writeOut(STDOUT, head);
    writeOut(STDOUT, list.items);
    writeOut(STDOUT, `]${JSON.stringify(envelope).slice(head.length - 1 + 'null'.length)}\n`);
  }

  /** JIT_LOCK_STATS=1: a result object of a command that took locks gets `lock_wait_ms`, the milliseconds it waited for them. */
  private withLockWait<T>(data: T): T {
    const stats = this.lockStats;
    if (!stats || stats.attempts === 0 || typeof data !== 'object' || data === null || Array.isArray(data)) return data;
    return { ...data, lock_wait_ms: Math.round(stats.waitedMs * 1000) / 1000 };
  }
}

/**
 * Adapts a handler to commander's action signature (arguments..., options,
 * command) so that every handler receives its Invocation first.
 */
export function action<Args extends unknown[]>(
  handler: (cli: Invocation, ...args: Args) => Promise<void> | void,
): (...params: unknown[]) => Promise<void> {
  return async (...params) => {
    const command = params[params.length - 1] as Command;
    await handler(new Invocation(command.optsWithGlobals<GlobalOptions>()), ...(params.slice(0, -1) as Args));
  };
}
