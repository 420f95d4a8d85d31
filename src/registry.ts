// The locks this realm (main thread or one worker) holds, and the async
// waits it has in flight, keyed by file identity so that two spellings of
// one path are recognised as one file. It turns two would-be deadlocks into
// immediate errors: waiting for a lock we hold (or are about to hold)
// ourselves, and taking ranked locks out of order.
import { LockOrderError, LockReentryError } from './errors.js';
import type { LockMode } from './types.js';

export interface HeldEntry {
  readonly identity: string;
  readonly path: string;
  readonly mode: LockMode;
  readonly rank: number | undefined;
  /** Where the entry sits in `held` / `pending` (-1: not there). Arrays with
   *  swap-removal instead of Sets: a Set would hash every lock object. */
  heldSlot: number;
  pendingSlot: number;
}

const held: HeldEntry[] = [];
// Async waits (lock(), lockAll()) that have not settled yet. Their native
// thread may already hold the OS lock while the result waits for this
// thread's event loop, so a lockSync of the same file would wait for itself.
const pending: HeldEntry[] = [];

function conflicts(entry: HeldEntry, identity: string, mode: LockMode): boolean {
  // Two shared locks never wait for each other (flock grants shared while no
  // exclusive is held), so nested readers are allowed.
  return entry.identity === identity && !(entry.mode === 'shared' && mode === 'shared');
}

/** The held lock on this file that a `mode` request would conflict with, if any. */
export function conflictingHolder(identity: string, mode: LockMode): HeldEntry | undefined {
  for (const entry of held) if (conflicts(entry, identity, mode)) return entry;
  return undefined;
}

/** The pending async wait for this file that a `mode` request would conflict with, if any. */
export function conflictingWait(identity: string, mode: LockMode): HeldEntry | undefined {
  for (const entry of pending) if (conflicts(entry, identity, mode)) return entry;
  return undefined;
}

/** Throws unless a blocking acquisition of this file at this rank is safe. */
export function checkBlockingAcquisition(request: HeldEntry): void {
  if (held.length === 0 && pending.length === 0) return; // the common case: no identity (fstat) needed
  const holder = conflictingHolder(request.identity, request.mode);
  if (holder) throw new LockReentryError(request.path, holder.path);
  const waiter = conflictingWait(request.identity, request.mode);
  if (waiter) throw new LockReentryError(request.path, waiter.path, { pending: true });
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
  entry.heldSlot = held.length;
  held.push(entry);
}

export function removeHeld(entry: HeldEntry): void {
  const slot = entry.heldSlot;
  if (slot < 0) return;
  const last = held.pop()!;
  if (last !== entry) {
    held[slot] = last;
    last.heldSlot = slot;
  }
  entry.heldSlot = -1;
}

export function addPending(entry: HeldEntry): void {
  entry.pendingSlot = pending.length;
  pending.push(entry);
}

export function removePending(entry: HeldEntry): void {
  const slot = entry.pendingSlot;
  if (slot < 0) return;
  const last = pending.pop()!;
  if (last !== entry) {
    pending[slot] = last;
    last.pendingSlot = slot;
  }
  entry.pendingSlot = -1;
}
