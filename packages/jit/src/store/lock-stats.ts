/**
 * Lock statistics, from jit-lock's metrics channel (jit-lock:acquire): per
 * lock file, how often it was taken, how often it had to wait, timed out or
 * failed, and percentiles of the waits. Collected only when asked:
 * JIT_LOCK_STATS=1 adds `lock_wait_ms` to the CLI's --json results, and
 * `jit mcp` keeps them for its status tool and leaves snapshots that
 * `jit debug locks --stats` reads. Nothing subscribes otherwise, and then
 * jit-lock builds no message at all.
 */
import { createHash } from 'node:crypto';
import * as diagnostics from 'node:diagnostics_channel';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LOCK_CHANNELS, type LockAcquireMessage } from 'jit-lock';
import { JitError } from './errors.js';

export const LOCK_STATS_VARIABLE = 'JIT_LOCK_STATS';

/** JIT_LOCK_STATS: 1 (or true) collects, unset, empty, 0 or false does not; anything else is INVALID_ENV. */
export function lockStatsRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  const raw = (env[LOCK_STATS_VARIABLE] ?? '').trim().toLowerCase();
  if (raw === '' || raw === '0' || raw === 'false') return false;
  if (raw === '1' || raw === 'true') return true;
  throw new JitError('INVALID_ENV', `${LOCK_STATS_VARIABLE}=${JSON.stringify(env[LOCK_STATS_VARIABLE])} is not 1 or 0. Fix or unset the variable.`, {
    suggestions: [`Set ${LOCK_STATS_VARIABLE}=1 to add lock_wait_ms to --json results, or unset it.`],
    details: { variable: LOCK_STATS_VARIABLE },
  });
}

/** Waits kept per lock for the percentiles: the most recent ones. */
const KEPT_WAITS = 1024;

/** One lock file's figures (milliseconds). */
export interface LockFileStats {
  /** The lock file, relative to the store's .jit folder. */
  lock: string;
  /** Times it was taken. */
  acquired: number;
  /** Times it was held elsewhere at the first try (waited, or timed out). */
  contended: number;
  timeouts: number;
  /** Other failures (the file could not be opened, ...). */
  errors: number;
  /** The waits of contended acquisitions: their total, and percentiles of the last 1024. */
  wait_ms: { total: number; p50: number; p90: number; p99: number; max: number };
}

interface Tally {
  acquired: number;
  contended: number;
  timeouts: number;
  errors: number;
  totalWaitMs: number;
  waits: number[]; // a ring of the last KEPT_WAITS
  next: number;
}

/** The lock file's name relative to its .jit folder (every store lock lives in one). */
function lockName(lockPath: string): string {
  const parts = lockPath.split(/[\\/]/);
  const store = parts.lastIndexOf('.jit');
  return store === -1 ? lockPath : parts.slice(store + 1).join('/');
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

const round = (ms: number): number => Math.round(ms * 1000) / 1000;

export class LockStats {
  /** When collection started (ISO 8601). */
  readonly since = new Date().toISOString();
  /** Milliseconds this process waited for locks, all acquisitions together. */
  waitedMs = 0;
  /** Acquisitions that ended (any outcome). */
  attempts = 0;
  /** Bumped on every message: a snapshot writer can tell whether anything changed. */
  version = 0;
  private readonly tallies = new Map<string, Tally>();
  private readonly listener = (message: unknown): void => this.record(message as LockAcquireMessage);

  start(): this {
    diagnostics.subscribe(LOCK_CHANNELS.acquire, this.listener);
    return this;
  }

  stop(): void {
    diagnostics.unsubscribe(LOCK_CHANNELS.acquire, this.listener);
  }

  private record(message: LockAcquireMessage): void {
    const name = lockName(message.path);
    let tally = this.tallies.get(name);
    if (!tally) this.tallies.set(name, (tally = { acquired: 0, contended: 0, timeouts: 0, errors: 0, totalWaitMs: 0, waits: [], next: 0 }));
    this.attempts++;
    this.version++;
    this.waitedMs += message.waitedMs;
    if (message.outcome === 'acquired') tally.acquired++;
    else if (message.outcome === 'timeout') tally.timeouts++;
    else if (message.outcome !== 'busy') tally.errors++;
    if (!message.contended) return;
    tally.contended++;
    tally.totalWaitMs += message.waitedMs;
    tally.waits[tally.next] = message.waitedMs;
    tally.next = (tally.next + 1) % KEPT_WAITS;
  }

  /** Every lock seen, busiest first (most waited). */
  report(): LockFileStats[] {
    return [...this.tallies.entries()]
      .map(([lock, tally]) => {
        const waits = [...tally.waits].sort((a, b) => a - b);
        return {
          lock,
          acquired: tally.acquired,
          contended: tally.contended,
          timeouts: tally.timeouts,
          errors: tally.errors,
          wait_ms: {
            total: round(tally.totalWaitMs),
            p50: round(percentile(waits, 0.5)),
            p90: round(percentile(waits, 0.9)),
            p99: round(percentile(waits, 0.99)),
            max: round(waits.at(-1) ?? 0),
          },
        };
      })
      .sort((a, b) => b.wait_ms.total - a.wait_ms.total || a.lock.localeCompare(b.lock));
  }
}

/** The figures this process collects, if it does (`jit mcp` sets it; its status tool reads it). */
export const processLockStats: { current: LockStats | undefined } = { current: undefined };

// ---- snapshots: how `jit debug locks --stats` sees the figures of running servers ----

/** A process's figures for one store, as `jit mcp` leaves them. */
export interface LockStatsSnapshot {
  pid: number;
  since: string;
  updated: string;
  locks: LockFileStats[];
}

/**
 * Where the snapshots of one store live: under the OS temp folder (never in
 * .jit/, which holds the tracker's data only), in a folder of this user's
 * (mode 700: nobody else can leave figures there), one folder per store.
 */
export function snapshotDir(jitDir: string): string {
  let real = path.resolve(jitDir);
  try {
    real = fs.realpathSync(real);
  } catch {
    // a store that is not there (yet): its path as given
  }
  const key = createHash('sha256').update(real).digest('hex').slice(0, 16);
  const user = typeof process.getuid === 'function' ? `-${process.getuid()}` : '';
  return path.join(os.tmpdir(), `jit-lock-stats${user}`, key);
}

/** Replaces this process's snapshot (write + rename: a reader never sees half of one). */
export function writeSnapshot(jitDir: string, stats: LockStats): void {
  const dir = snapshotDir(jitDir);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const snapshot: LockStatsSnapshot = { pid: process.pid, since: stats.since, updated: new Date().toISOString(), locks: stats.report() };
  const file = path.join(dir, `${process.pid}.json`);
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(snapshot));
  fs.renameSync(`${file}.tmp`, file);
}

export function removeSnapshot(jitDir: string): void {
  const dir = snapshotDir(jitDir);
  fs.rmSync(path.join(dir, `${process.pid}.json`), { force: true });
  try {
    fs.rmdirSync(dir); // the last server of this store leaves no folder behind
  } catch {
    // another server's snapshot is still there
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The snapshots of the processes still running; those of ended ones are removed. */
export function readSnapshots(jitDir: string): LockStatsSnapshot[] {
  const dir = snapshotDir(jitDir);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const snapshots: LockStatsSnapshot[] = [];
  for (const name of names) {
    const pid = /^(\d+)\.json$/.exec(name)?.[1];
    if (pid === undefined) continue;
    if (!alive(Number(pid))) {
      fs.rmSync(path.join(dir, name), { force: true });
      continue;
    }
    try {
      snapshots.push(JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8')) as LockStatsSnapshot);
    } catch {
      // being replaced right now, or not ours: skip it
    }
  }
  if (snapshots.length === 0) {
    try {
      fs.rmdirSync(dir); // only ended servers' snapshots were there
    } catch {
      // not empty (a snapshot being written), or already gone
    }
  }
  return snapshots.sort((a, b) => a.pid - b.pid);
}
