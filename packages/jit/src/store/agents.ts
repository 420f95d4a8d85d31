/**
 * Running agents, bound to their processes by the kernel. An agent holds an
 * exclusive OS lock on `.jit/agents/<id>.lock` for its whole life (`jit agent
 * run`, `jit mcp` with an agent id); the kernel drops it on any kind of
 * death, SIGKILL included. Whoever wonders whether the agent still runs tries
 * a shared lock on that file without waiting: busy means alive, free means
 * gone, and a claim bound to it has lapsed (leases.ts). No heartbeat, no clock.
 *
 * Where it holds: processes of one kernel. flock(2) on a network file system
 * is not trusted to be seen (or released) across machines: there, a claim
 * from another machine looks like its agent is gone or alive depending on the
 * NFS client, so stores shared over a network should rely on leases' TTLs
 * (docs/tracker.md).
 *
 * The lock file is opened close-on-exec (jit-lock), so a command the agent
 * starts does not inherit it: the agent's life is the holder's, not its children's.
 */
import * as fs from 'node:fs';
import { hostname } from 'node:os';
import * as path from 'node:path';
import { tryLock, type FileLock } from 'jit-lock';
import { JitError } from './errors.js';
import { createFileIfMissing, fsError, listDirectory, makeDirectory, readTextIfExists, writeFileAtomic } from './files.js';
import { AGENTS_DIR } from './layout.js';
import { AGENT_PID_VARIABLE } from './leases.js';
import { lockError } from './locker.js';
import { checkAssignee } from './rules.js';

/** Who runs as the agent, as the holder writes it beside its lock. */
export interface AgentHolder {
  pid: number;
  started_at: string;
  host: string;
  command: string;
  /** The lock file it locked (device and inode): a file at the path that is not this one was deleted or replaced under it. */
  lock?: { dev: number; ino: number };
}

export interface AgentRecord {
  id: string;
  live: boolean;
  /** The last holder as it recorded itself (it may be gone). */
  holder: AgentHolder | null;
}

/** The agent lock, held until released or until the process dies. */
export interface RunningAgent {
  readonly id: string;
  readonly lockPath: string;
  release(): void;
}

const LOCK_SUFFIX = '.lock';
const HOLDER_SUFFIX = '.holder.json';
/** NAME_MAX of every common file system, in bytes: the encoded id and its longest suffix must fit. */
const MAX_FILE_NAME_BYTES = 255;
/** A probe holds the lock shared for microseconds; an agent starting meanwhile tries again for this long before it concludes a twin runs. */
const START_RETRY_MS = 300;

/** Agents this process runs (jit mcp): its own lock answers for them without a probe. */
const heldHere = new Map<string, string>();

// Agent ids are kind:name (":" is not allowed in Windows file names): encoded for the file name.
// Upper-case letters too (A -> %41): on a case-insensitive file system (macOS, Windows) agent:Bob and
// agent:bob would otherwise share one lock, and one would pass for live while only the other runs.
const fileStem = (id: string): string =>
  Array.from(id, (char) => (char >= 'A' && char <= 'Z' ? `%${char.charCodeAt(0).toString(16).toUpperCase()}` : encodeURIComponent(char))).join('');

export function agentsDir(jitDir: string): string {
  return path.join(path.resolve(jitDir), AGENTS_DIR);
}

export function agentLockPath(jitDir: string, id: string): string {
  return path.join(agentsDir(jitDir), fileStem(id) + LOCK_SUFFIX);
}

function readHolder(jitDir: string, id: string): AgentHolder | null {
  try {
    const text = readTextIfExists(path.join(agentsDir(jitDir), fileStem(id) + HOLDER_SUFFIX));
    return text === null ? null : asHolder(JSON.parse(text));
  } catch {
    return null; // a holder note is a courtesy: unreadable, it is simply not shown
  }
}

/** The note when it has a holder's shape (pid, host, start, command; the lock's identity when given), else null. */
function asHolder(value: unknown): AgentHolder | null {
  if (typeof value !== 'object' || value === null) return null;
  const note = value as Partial<Record<keyof AgentHolder, unknown>>;
  if (!Number.isSafeInteger(note.pid) || typeof note.host !== 'string' || typeof note.started_at !== 'string' || typeof note.command !== 'string') return null;
  const lock = note.lock as { dev?: unknown; ino?: unknown } | undefined;
  if (lock !== undefined && (typeof lock !== 'object' || lock === null || typeof lock.dev !== 'number' || typeof lock.ino !== 'number')) return null;
  return value as AgentHolder;
}

/**
 * Takes the agent lock for `id` in this store, for the life of this process
 * (or until released). AGENT_ALREADY_RUNNING when another process holds it.
 */
export async function holdAgentLock(jitDir: string, id: string, command: string): Promise<RunningAgent> {
  const agentId = checkAssignee('assignee', id);
  const nameBytes = Buffer.byteLength(fileStem(agentId) + HOLDER_SUFFIX);
  if (nameBytes > MAX_FILE_NAME_BYTES) {
    // A valid assignee can encode to more than a file name holds (each non-ASCII byte becomes %XX).
    throw new JitError('INVALID_ARGUMENT', `Agent id ${JSON.stringify(agentId.slice(0, 40) + '...')} is too long to name its lock file (${nameBytes} bytes once encoded, at most ${MAX_FILE_NAME_BYTES}): use a shorter id.`, {
      suggestions: ['Give the agent a short id, e.g. --id agent:worker-1 (about 200 ASCII characters at most, fewer with non-ASCII ones).'],
      details: { field: 'id' },
    });
  }
  const dir = agentsDir(jitDir);
  makeDirectory(dir);
  createFileIfMissing(dir, '.gitignore', '# Written by jit: running agents are facts about processes on this machine, not data.\n*\n');
  const lockPath = agentLockPath(jitDir, agentId);
  const deadline = Date.now() + START_RETRY_MS;
  let held: FileLock | null;
  for (;;) {
    try {
      held = tryLock(lockPath, { mode: 'exclusive', followSymlinks: false });
    } catch (error) {
      throw lockError(error);
    }
    if (held || Date.now() >= deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  if (!held) {
    const holder = readHolder(jitDir, agentId);
    const who = holder ? ` (pid ${holder.pid} on ${holder.host}, since ${holder.started_at}: ${holder.command})` : '';
    throw new JitError('AGENT_ALREADY_RUNNING', `Agent ${agentId} is already running${who}: its lock ${lockPath} is held.`, {
      suggestions: ['Give this agent another id (--id agent:NAME, or JIT_AGENT_ID), or stop the running one first.'],
      details: { agent: agentId, lock: lockPath, ...(holder ? { holder } : {}) },
    });
  }
  let holder: AgentHolder;
  try {
    const locked = fs.lstatSync(lockPath);
    const previous = readHolder(jitDir, agentId);
    if (previous && holdsReplacedLock(previous, locked)) {
      // Our lock is on a fresh file: the running twin's was deleted or replaced under it, and it still runs.
      throw new JitError('AGENT_ALREADY_RUNNING', `Agent ${agentId} is already running (pid ${previous.pid} on ${previous.host}, since ${previous.started_at}: ${previous.command}); its lock file ${lockPath} was deleted or replaced while it runs.`, {
        suggestions: ['Give this agent another id (--id agent:NAME, or JIT_AGENT_ID), or stop the running one first; never delete files under .jit/agents/ while agents run.'],
        details: { agent: agentId, lock: lockPath, holder: previous },
      });
    }
    holder = { pid: process.pid, started_at: new Date().toISOString(), host: hostname(), command, lock: { dev: locked.dev, ino: locked.ino } };
  } catch (error) {
    held.release();
    throw error instanceof JitError ? error : fsError(error, lockPath, 'stat');
  }
  try {
    writeFileAtomic(dir, fileStem(agentId) + HOLDER_SUFFIX, JSON.stringify(holder) + '\n');
  } catch (error) {
    held.release();
    throw error;
  }
  heldHere.set(agentId, lockPath);
  const lock = held;
  return {
    id: agentId,
    lockPath,
    release() {
      heldHere.delete(agentId);
      lock.release();
    },
  };
}

/**
 * Whether this process runs under agent `id`'s lock, held by the `jit agent run` that started it (or an
 * ancestor): it inherited that run's pid, which the holder note names, and the lock is held. Such a process
 * (a `jit mcp` the agent's client starts) is the agent, not a twin: it works under that lock instead of its own.
 */
export function runsUnderAgent(jitDir: string, id: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const pid = Number(env[AGENT_PID_VARIABLE]);
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  const holder = readHolder(jitDir, id);
  return holder !== null && holder.pid === pid && holder.host === hostname() && isAgentLive(jitDir, id);
}

/** Whether agent `id` runs now (some process holds its lock); never waits, never creates a file. */
export function isAgentLive(jitDir: string, id: string): boolean {
  if (heldHere.has(id)) return true;
  const lockPath = agentLockPath(jitDir, id);
  let current: fs.Stats | undefined;
  try {
    current = fs.lstatSync(lockPath);
  } catch {
    current = undefined; // no lock file (never ran here, or deleted): only its holder note can tell
  }
  if (current) {
    let probe: FileLock | null;
    try {
      probe = tryLock(lockPath, { mode: 'shared', followSymlinks: false });
    } catch (error) {
      throw lockError(error);
    }
    if (!probe) return true;
    probe.release();
  }
  // The lock at the path is free (or missing). Gone, unless its holder's lock file was deleted or replaced under it.
  const holder = readHolder(jitDir, id);
  return holder !== null && holdsReplacedLock(holder, current);
}

/**
 * Whether `holder` locked a file other than the one now at the path (`current`; undefined: none) and still
 * runs on this host. The kernel's answer is lost with the file, so the process's existence stands in for it;
 * only after someone tampered with agents/ (a dead agent's own file keeps its inode, and answers "gone").
 */
function holdsReplacedLock(holder: AgentHolder, current: Pick<fs.Stats, 'dev' | 'ino'> | undefined): boolean {
  if (!holder.lock || holder.host !== hostname() || holder.pid === process.pid) return false;
  if (current && current.dev === holder.lock.dev && current.ino === holder.lock.ino) return false;
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // alive, another user's
  }
}

/** The agent id a lock file names, or null for a file jit did not name (a stray file in agents/ is not an agent). */
function agentIdOfStem(stem: string): string | null {
  let id: string;
  try {
    id = decodeURIComponent(stem);
    checkAssignee('assignee', id);
  } catch {
    return null;
  }
  return fileStem(id) === stem ? id : null;
}

/** Every agent that has run on this store (each leaves its lock file), live or gone, by id. */
export function listAgents(jitDir: string): AgentRecord[] {
  const dir = agentsDir(jitDir);
  let names: string[];
  try {
    names = listDirectory(dir);
  } catch (error) {
    if ((error as { details?: { code?: string } }).details?.code === 'ENOENT' || !fs.existsSync(dir)) return [];
    throw error instanceof JitError ? error : fsError(error, dir, 'list');
  }
  return names
    .filter((name) => name.endsWith(LOCK_SUFFIX))
    .map((name) => agentIdOfStem(name.slice(0, -LOCK_SUFFIX.length)))
    .filter((id): id is string => id !== null)
    .sort()
    .map((id) => ({ id, live: isAgentLive(jitDir, id), holder: readHolder(jitDir, id) }));
}
