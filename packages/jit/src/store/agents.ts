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
import { lockError } from './locker.js';
import { checkAssignee } from './rules.js';

/** Who runs as the agent, as the holder writes it beside its lock. */
export interface AgentHolder {
  pid: number;
  started_at: string;
  host: string;
  command: string;
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
/** A probe holds the lock shared for microseconds; an agent starting meanwhile tries again for this long before it concludes a twin runs. */
const START_RETRY_MS = 300;

/** Agents this process runs (jit mcp): its own lock answers for them without a probe. */
const heldHere = new Map<string, string>();

// Agent ids are kind:name (":" is not allowed in Windows file names): encoded for the file name.
const fileStem = (id: string): string => encodeURIComponent(id);

export function agentsDir(jitDir: string): string {
  return path.join(path.resolve(jitDir), AGENTS_DIR);
}

export function agentLockPath(jitDir: string, id: string): string {
  return path.join(agentsDir(jitDir), fileStem(id) + LOCK_SUFFIX);
}

function readHolder(jitDir: string, id: string): AgentHolder | null {
  try {
    const text = readTextIfExists(path.join(agentsDir(jitDir), fileStem(id) + HOLDER_SUFFIX));
    return text === null ? null : (JSON.parse(text) as AgentHolder);
  } catch {
    return null; // a holder note is a courtesy: unreadable, it is simply not shown
  }
}

/**
 * Takes the agent lock for `id` in this store, for the life of this process
 * (or until released). AGENT_ALREADY_RUNNING when another process holds it.
 */
export async function holdAgentLock(jitDir: string, id: string, command: string): Promise<RunningAgent> {
  const agentId = checkAssignee('assignee', id);
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
  const holder: AgentHolder = { pid: process.pid, started_at: new Date().toISOString(), host: hostname(), command };
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

/** Whether agent `id` runs now (some process holds its lock); never waits, never creates a file. */
export function isAgentLive(jitDir: string, id: string): boolean {
  if (heldHere.has(id)) return true;
  const lockPath = agentLockPath(jitDir, id);
  if (!fs.existsSync(lockPath)) return false;
  let probe: FileLock | null;
  try {
    probe = tryLock(lockPath, { mode: 'shared', followSymlinks: false });
  } catch (error) {
    throw lockError(error);
  }
  if (!probe) return true;
  probe.release();
  return false;
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
    .map((name) => decodeURIComponent(name.slice(0, -LOCK_SUFFIX.length)))
    .sort()
    .map((id) => ({ id, live: isAgentLive(jitDir, id), holder: readHolder(jitDir, id) }));
}
