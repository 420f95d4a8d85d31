/**
 * The store's change signal for long-running faces (`jit serve`): every
 * write appends at least one event to `.jit/events.jsonl`, so watching that
 * one file tells when anything changed, and reading only the bytes appended
 * since the last look gives the new events. Nothing re-reads the store on a
 * timer.
 *
 * fs.watch reports appends at once where the OS supports it (inotify,
 * FSEvents, ReadDirectoryChangesW). It can miss changes (network file
 * systems, a watch that failed to start, a file replaced under it), so a
 * cheap stat of the one file every `pollMs` backs it up: a stat costs
 * microseconds and reads no data. The log is appended by whole lines under
 * its lock; a line still without its newline is left for the next look.
 */
import * as fs from 'node:fs';
import type { JitEvent } from './model.js';
import { storeLayout } from './layout.js';
import { parseEventLine } from './schema.js';

/** Enough of the last line read to tell the log from another one (its event id and timestamp). */
const TAIL_BYTES = 256;

export interface ChangeFeedOptions {
  /** The fallback check's period in ms (files: a stat, default 500; PostgreSQL: max(seq), default 5000). */
  pollMs?: number;
  /** Longer "lines" are junk and skipped rather than held (default 1 MiB, as the event log's readers). */
  maxLineBytes?: number;
}

export interface ChangeBatch {
  /** The events appended since the last batch, oldest first (empty after a reset). */
  events: JitEvent[];
  /** The log shrank or was replaced (validate --fix cut a torn line; in a database, events vanished or the connection was lost): reload everything. */
  reset: boolean;
}

export type ChangeListener = (batch: ChangeBatch) => void;

/** What a long-running face needs of any backend's change feed (this file's for `.jit/`, pg-change-feed.ts for PostgreSQL). */
export interface ChangeSource {
  /** Calls `listener` with every batch from now on; returns the call that stops it. */
  onChange(listener: ChangeListener): () => void;
  /** Stops every watcher, timer and connection. */
  close(): void;
}

/** Watches one store's event log; `close()` stops every watcher and timer. */
export class ChangeFeed implements ChangeSource {
  private readonly eventsPath: string;
  private readonly pollMs: number;
  private readonly maxLineBytes: number;
  private readonly listeners = new Set<ChangeListener>();
  private offset = 0;
  /** The last bytes read before `offset`: different bytes there mean the log was overwritten in place (cp onto it keeps the file). */
  private tail: Buffer = Buffer.alloc(0);
  /** The log went missing after it existed: whatever appears there next is another file (even on a reused inode number). */
  private lost = false;
  private lastStat: { size: number; mtimeMs: number; ino: number } | undefined;
  private watcher: fs.FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private reading = false;
  private again = false;
  private closed = false;

  constructor(jitDir: string, options: ChangeFeedOptions = {}) {
    this.eventsPath = storeLayout(jitDir).eventsPath;
    this.pollMs = options.pollMs ?? 500;
    this.maxLineBytes = options.maxLineBytes ?? 1024 * 1024;
  }

  /** Starts watching from the log's current end: only later appends are reported. */
  start(): this {
    const stat = this.statLog();
    this.offset = stat?.size ?? 0;
    this.tail = this.readTail(this.offset);
    this.lastStat = stat;
    this.watch();
    this.timer = setInterval(() => this.poll(), this.pollMs);
    this.timer.unref();
    return this;
  }

  onChange(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.closed = true;
    this.watcher?.close();
    this.watcher = undefined;
    if (this.timer) clearInterval(this.timer);
    this.listeners.clear();
  }

  private watch(): void {
    try {
      this.watcher = fs.watch(this.eventsPath, { persistent: false }, (kind) => {
        // A rename means the file was replaced: watch the new one (the stat fallback covers the gap).
        if (kind === 'rename') this.rewatch();
        this.read();
      });
      this.watcher.on('error', () => this.rewatch());
    } catch {
      this.watcher = undefined; // no log yet, or no watch support: the stat fallback sees changes
    }
  }

  private rewatch(): void {
    this.watcher?.close();
    this.watcher = undefined;
    if (!this.closed) this.watch();
  }

  /** The up to TAIL_BYTES bytes that end at `end` (empty when the log cannot be read). */
  private readTail(end: number, fd?: number): Buffer {
    const length = Math.min(TAIL_BYTES, end);
    if (length === 0) return Buffer.alloc(0);
    let own: number | undefined;
    try {
      own = fd === undefined ? fs.openSync(this.eventsPath, 'r') : undefined;
      const tail = Buffer.alloc(length);
      return tail.subarray(0, fs.readSync(fd ?? own!, tail, 0, length, end - length));
    } catch {
      return Buffer.alloc(0);
    } finally {
      if (own !== undefined) fs.closeSync(own);
    }
  }

  private statLog(): { size: number; mtimeMs: number; ino: number } | undefined {
    try {
      const { size, mtimeMs, ino } = fs.statSync(this.eventsPath);
      return { size, mtimeMs, ino };
    } catch {
      return undefined;
    }
  }

  private poll(): void {
    if (this.closed) return;
    const stat = this.statLog();
    const before = this.lastStat;
    if (!this.watcher && stat) this.watch();
    if (stat?.size !== before?.size || stat?.mtimeMs !== before?.mtimeMs || stat?.ino !== before?.ino) this.read();
  }

  /** Reads what was appended since `offset`; one read at a time, a change during it reads again. */
  private read(): void {
    if (this.closed) return;
    if (this.reading) {
      this.again = true;
      return;
    }
    this.reading = true;
    try {
      do {
        this.again = false;
        this.readOnce();
      } while (this.again && !this.closed);
    } finally {
      this.reading = false;
    }
  }

  private readOnce(): void {
    const stat = this.statLog();
    const previous = this.lastStat;
    this.lastStat = stat;
    if (!stat) {
      if (previous !== undefined) this.lost = true;
      return;
    }
    // Shrunk, or replaced by another file (renamed over it, or deleted and written anew): offsets no longer mean anything, the watchers reload.
    const replaced = this.lost || (previous !== undefined && stat.ino !== previous.ino);
    this.lost = false;
    if (stat.size < this.offset || replaced) return this.reset(stat.size);
    let fd: number;
    try {
      fd = fs.openSync(this.eventsPath, 'r');
    } catch {
      return;
    }
    // Overwritten in place (the same file, as long or longer): what was read last is no longer there.
    if (!this.readTail(this.offset, fd).equals(this.tail)) {
      fs.closeSync(fd);
      return this.reset(stat.size);
    }
    if (stat.size === this.offset) return void fs.closeSync(fd);
    const events: JitEvent[] = [];
    try {
      const chunk = Buffer.alloc(64 * 1024);
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      let position = this.offset;
      let consumed = this.offset; // the end of the last whole line
      while (position < stat.size) {
        const n = fs.readSync(fd, chunk, 0, Math.min(chunk.length, stat.size - position), position);
        if (n === 0) break;
        let start = 0;
        for (let newline = chunk.indexOf(10, 0); newline !== -1 && newline < n; newline = chunk.indexOf(10, start)) {
          const piece = chunk.subarray(start, newline);
          if (pendingBytes + piece.length <= this.maxLineBytes) {
            const line = Buffer.concat([...pending, piece]).toString('utf8');
            const event = line === '' ? null : parseEventLine(line);
            if (event) events.push(event);
          }
          pending = [];
          pendingBytes = 0;
          start = newline + 1;
          consumed = position + start;
        }
        if (start < n) {
          if (pendingBytes + (n - start) <= this.maxLineBytes) pending.push(Buffer.from(chunk.subarray(start, n)));
          pendingBytes += n - start;
        }
        position += n;
      }
      this.offset = consumed;
      this.tail = this.readTail(consumed, fd);
    } finally {
      fs.closeSync(fd);
    }
    if (events.length > 0) this.emit({ events, reset: false });
  }

  private reset(size: number): void {
    this.offset = size;
    this.tail = this.readTail(size);
    this.emit({ events: [], reset: true });
  }

  private emit(batch: ChangeBatch): void {
    for (const listener of this.listeners) {
      try {
        listener(batch);
      } catch {
        // A listener's failure is its own: the other listeners still hear of the change.
      }
    }
  }
}

/** Starts a ChangeFeed on the store in `jitDir` (the `.jit` directory). */
export function watchChanges(jitDir: string, options?: ChangeFeedOptions): ChangeFeed {
  return new ChangeFeed(jitDir, options).start();
}
