// The locks this realm (main thread or one worker) holds, keyed by file
// identity so that two spellings of one path are recognised as one file.
// It turns two would-be deadlocks into immediate errors: waiting for a lock
// we hold ourselves, and taking ranked locks out of order.
import { LockOrderError, LockReentryError } from './errors.js';
import type { LockMode } from './types.js';

export interface HeldEntry {
  readonly identity: string;
  readonly path: string;
  readonly mode: LockMode;
  readonly rank: number | undefined;
}

const held = new Set<HeldEntry>();

/** The held lock on this file that a `mode` request would conflict with, if any. */
export function conflictingHolder(identity: string, mode: LockMode): HeldEntry | undefined {
  for (const entry of held) {
    // Two shared locks never wait for each other (flock grants shared while no
    // exclusive is held), so nested readers are allowed.
    if (entry.identity === identity && !(entry.mode === 'shared' && mode === 'shared')) return entry;
  }
  return undefined;
}

/** Throws unless a blocking acquisition of this file at this rank is safe. */
export function checkBlockingAcquisition(request: HeldEntry): void {
  const holder = conflictingHolder(request.identity, request.mode);
  if (holder) throw new LockReentryError(request.path, holder.path);
  if (request.rank === undefined) return;
  let highest: HeldEntry | undefined;
  for (const entry of held) {
    if (entry.rank !== undefined && entry.rank > request.rank && (!highest || entry.rank > highest.rank!)) highest = entry;
  }
  if (highest) {
    throw new LockOrderError({ path: highest.path, rank: highest.rank! }, { path: request.path, rank: request.rank });
  }
}

export function addHeld(entry: HeldEntry): void {
  held.add(entry);
}

export function removeHeld(entry: HeldEntry): void {
  held.delete(entry);
}
