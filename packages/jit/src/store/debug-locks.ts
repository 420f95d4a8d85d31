/** `jit debug locks`: every lock file in a store, whether it is held, how, and by whom where the OS says. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { probeLock } from 'jit-lock';
import { fsError, listDirectory } from './files.js';
import { AGENTS_DIR, ISSUES_DIR } from './layout.js';

export interface LockHolder {
  pid: number;
  mode: 'shared' | 'exclusive';
}

export interface LockFileState {
  path: string;
  state: 'unlocked' | 'shared' | 'exclusive';
  /** Linux only (from /proc/locks); empty elsewhere or when unlocked. */
  holders: LockHolder[];
  /** Processes waiting for it (Linux only). */
  waiters: LockHolder[];
  source: 'proc-locks' | 'probe';
}

interface ProcLock {
  holder: LockHolder;
  waiting: boolean;
}

/**
 * FLOCK lines of /proc/locks by inode, e.g.
 * `3: FLOCK  ADVISORY  WRITE 4242 08:01:1234567 0 EOF` (a waiter's line has `->` after the number).
 */
function readProcLocks(): Map<string, ProcLock[]> | null {
  let text: string;
  try {
    text = fs.readFileSync('/proc/locks', 'utf8');
  } catch {
    return null;
  }
  const byInode = new Map<string, ProcLock[]>();
  for (const line of text.split('\n')) {
    const match = /^\d+:\s+(->\s+)?FLOCK\s+\S+\s+(READ|WRITE)\s+(\d+)\s+[0-9a-f]+:[0-9a-f]+:(\d+)\s/.exec(line);
    if (!match) continue;
    // Matched by inode only: on overlay file systems the device number in /proc/locks differs from stat's.
    const key = match[4]!;
    const entry = { holder: { pid: Number(match[3]), mode: match[2] === 'WRITE' ? 'exclusive' : 'shared' } as LockHolder, waiting: match[1] !== undefined };
    byInode.set(key, [...(byInode.get(key) ?? []), entry]);
  }
  return byInode;
}

function lockFiles(jitDir: string): string[] {
  const inDir = (dir: string): string[] => listDirectory(dir).filter((name) => name.endsWith('.lock')).sort().map((name) => path.join(dir, name));
  const issuesDir = path.join(jitDir, ISSUES_DIR);
  const agentsDir = path.join(jitDir, AGENTS_DIR); // running agents' locks (agents.ts)
  return [...inDir(jitDir), ...(fs.existsSync(issuesDir) ? inDir(issuesDir) : []), ...(fs.existsSync(agentsDir) ? inDir(agentsDir) : [])];
}

export function debugLocks(jitDir: string): LockFileState[] {
  const procLocks = process.platform === 'linux' ? readProcLocks() : null;
  return lockFiles(path.resolve(jitDir)).map((file) => {
    if (procLocks) {
      let stat: fs.Stats;
      try {
        stat = fs.lstatSync(file);
      } catch (error) {
        throw fsError(error, file, 'inspect');
      }
      const entries = procLocks.get(String(stat.ino)) ?? [];
      const holders = entries.filter((e) => !e.waiting).map((e) => e.holder);
      const waiters = entries.filter((e) => e.waiting).map((e) => e.holder);
      const state = holders.length === 0 ? 'unlocked' : holders[0]!.mode;
      return { path: file, state, holders, waiters, source: 'proc-locks' as const };
    }
    let state: LockFileState['state'];
    try {
      state = probeLock(file);
    } catch (error) {
      throw fsError(error, file, 'probe');
    }
    return { path: file, state, holders: [], waiters: [], source: 'probe' as const };
  });
}
