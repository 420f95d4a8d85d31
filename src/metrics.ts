// Lock metrics on node:diagnostics_channel. Every acquisition that ends
// publishes one message on `jit-lock:acquire` (whatever the outcome), every
// acquisition that has to wait one on `jit-lock:wait` first, and every
// release (or collection of a dropped lock) one on `jit-lock:release`.
//
// Nothing is built while nobody listens: callers check `hasSubscribers`
// themselves (a property read) before calling a publish function, so the
// hot paths pay for no call, no object and no clock read.
import type { Channel } from 'node:diagnostics_channel';
import { performance } from 'node:perf_hooks';
import type { LockMode } from './types.js';

/** The channel names, for `diagnostics_channel.subscribe(LOCK_CHANNELS.acquire, listener)`. */
export const LOCK_CHANNELS = {
  wait: 'jit-lock:wait',
  acquire: 'jit-lock:acquire',
  release: 'jit-lock:release',
} as const;

/** The function that took (or tried to take) the lock. */
export type LockApi = 'lock' | 'lockSync' | 'tryLock' | 'lockAll' | 'lockAllSync';

/**
 * How an acquisition ended: `busy` is tryLock finding the lock held;
 * `error` is any other failure once the arguments were valid (the file could
 * not be opened, re-entry, lock order, an OS error while waiting).
 */
export type LockOutcome = 'acquired' | 'busy' | 'timeout' | 'aborted' | 'error';

/** On `jit-lock:wait`: an acquisition found the lock held and starts waiting. */
export interface LockWaitMessage {
  path: string;
  mode: LockMode;
  api: LockApi;
}

/** On `jit-lock:acquire`: an acquisition ended. */
export interface LockAcquireMessage {
  path: string;
  mode: LockMode;
  api: LockApi;
  outcome: LockOutcome;
  /** The lock was held elsewhere at the first try (it waited, or tryLock found it busy). */
  contended: boolean;
  /** Milliseconds from the failed first try to the outcome; 0 when not contended. */
  waitedMs: number;
  /** The error the call throws, for the outcomes timeout, aborted and error. */
  error?: unknown;
}

/** On `jit-lock:release`: a held lock was released. */
export interface LockReleaseMessage {
  path: string;
  mode: LockMode;
  /** Milliseconds it was held; undefined when nobody listened on this channel when it was taken. */
  heldMs: number | undefined;
  /** Dropped without release() and released by the garbage collector. */
  collected: boolean;
}

interface LockChannels {
  readonly wait: Channel;
  readonly acquire: Channel;
  readonly release: Channel;
}

let channels: LockChannels | undefined;

/**
 * The three channels. node:diagnostics_channel is loaded at the first
 * acquisition, not on import: a program that imports jit-lock without
 * locking never pays for it.
 */
export function lockChannels(): LockChannels {
  if (channels === undefined) {
    const diagnostics = require('node:diagnostics_channel') as typeof import('node:diagnostics_channel');
    channels = {
      wait: diagnostics.channel(LOCK_CHANNELS.wait),
      acquire: diagnostics.channel(LOCK_CHANNELS.acquire),
      release: diagnostics.channel(LOCK_CHANNELS.release),
    };
  }
  return channels;
}

/** What publishAcquire needs of an acquisition: an Attempt is one. */
export interface AcquisitionFacts {
  readonly path: string;
  readonly mode: LockMode;
  /** performance.now() when the first try failed; NaN while it has not. */
  readonly waitStartedAt: number;
}

export function publishWait(facts: AcquisitionFacts, api: LockApi): void {
  const message: LockWaitMessage = { path: facts.path, mode: facts.mode, api };
  lockChannels().wait.publish(message);
}

export function publishAcquire(facts: AcquisitionFacts, api: LockApi, outcome: LockOutcome, error?: unknown): void {
  const contended = outcome === 'busy' || !Number.isNaN(facts.waitStartedAt);
  const message: LockAcquireMessage = {
    path: facts.path,
    mode: facts.mode,
    api,
    outcome,
    contended,
    waitedMs: Number.isNaN(facts.waitStartedAt) ? 0 : performance.now() - facts.waitStartedAt,
  };
  if (error !== undefined) message.error = error;
  lockChannels().acquire.publish(message);
}

/** The outcome a failed acquisition's error stands for. */
export function outcomeOf(error: unknown): LockOutcome {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ELOCKTIMEOUT' ? 'timeout' : code === 'ABORT_ERR' ? 'aborted' : 'error';
}

export function publishRelease(facts: { path: string; mode: LockMode; acquiredAt: number }, collected: boolean): void {
  const message: LockReleaseMessage = {
    path: facts.path,
    mode: facts.mode,
    heldMs: Number.isNaN(facts.acquiredAt) ? undefined : performance.now() - facts.acquiredAt,
    collected,
  };
  lockChannels().release.publish(message);
}
