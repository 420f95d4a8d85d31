/**
 * Reading `.jit/events.jsonl` at any size. The log only grows, so it is
 * never read whole: the most recent events are read backwards from the end a
 * chunk at a time (the cost is what is returned, not the size of the log),
 * and full passes (validate, `events query` without a limit) stream it a
 * chunk at a time. Memory stays within one chunk plus one line at any size;
 * a "line" longer than any event jit writes is junk, skipped without being
 * held whole.
 *
 * The shared lock is held only to open the file and note its size. Every
 * byte before that size belongs to a finished append and stays as it is, so
 * the reading holds no lock and a long pass never makes a writer wait (a
 * writer that waits too long loses its events). The one exception, `validate
 * --fix` cutting a torn last line, is caught as a short read.
 */
import * as fs from 'node:fs';
import type { LockMode } from '../lock/index.js';
import { JitError } from './errors.js';
import { fsError, openRegularFile } from './files.js';
import type { HeldLocks } from './locker.js';
import type { JitEvent } from './model.js';
import { parseEventLine } from './schema.js';
import type { EventFilter } from './storage.js';
import type { ValidationProblem } from './tracker-api.js';

export interface EventLogOptions {
  /** Bytes per read (default 256 KiB). */
  chunkBytes?: number;
  /** Longer lines are junk, never held whole (default 1 MiB; jit's events are under 10 KB). */
  maxLineBytes?: number;
}

/** validate names this many bad lines one by one, then counts the rest in one problem. */
const REPORTED_BAD_LINES = 100;

/** A line handed to a reader: its text, or null when it was too long to be an event. */
type Line = string | null;

interface Snapshot {
  fd: number;
  /** The size when the shared lock was held: everything before it is whole appends. */
  size: number;
}

/** Whether `event` passes `filter` (also used by the in-memory storage). */
export function eventMatches(event: JitEvent, filter: EventFilter): boolean {
  return (filter.type === undefined || event.type === filter.type) && (filter.issuePrefix === undefined || (event.issue_id ?? '').startsWith(filter.issuePrefix));
}

/**
 * A cheap test that a line cannot hold a matching event, before parsing it:
 * the type and the id prefix appear quoted in the JSON, unless the line uses
 * escapes (then it is parsed to be sure).
 */
function mayMatch(line: string, filter: EventFilter): boolean {
  if (line.includes('\\')) return true;
  if (filter.type !== undefined && !line.includes(`"${filter.type}"`)) return false;
  return filter.issuePrefix === undefined || line.includes(`"${filter.issuePrefix}`);
}

/**
 * The bytes every line that may match holds (the quoted id prefix, else the
 * quoted type), for a test on the raw chunk before any line is decoded; null
 * when the filter takes every line.
 */
function needleOf(filter: EventFilter): Buffer | null {
  if (filter.issuePrefix !== undefined) return Buffer.from(`"${filter.issuePrefix}`);
  return filter.type === undefined ? null : Buffer.from(`"${filter.type}"`);
}

const BACKSLASH = 0x5c;

function isShortRead(error: unknown): boolean {
  return error instanceof JitError && error.details?.['shrank'] === true;
}

export class EventLog {
  /** Bytes read from the file so far, the most file data held in memory at once, and lines decoded to text by forward passes: what the tests bound. */
  readonly stats = { bytesRead: 0, peakBufferBytes: 0, linesDecoded: 0 };
  private readonly chunkBytes: number;
  private readonly maxLineBytes: number;

  constructor(
    readonly path: string,
    private readonly lockEvents: (mode: LockMode) => Promise<HeldLocks>,
    options: EventLogOptions = {},
  ) {
    this.chunkBytes = options.chunkBytes ?? 256 * 1024;
    this.maxLineBytes = options.maxLineBytes ?? 1024 * 1024;
  }

  /** The last `count` events that pass `filter`, oldest first, read back from the end until there are enough. */
  async readLast(count: number, filter: EventFilter = {}): Promise<JitEvent[]> {
    if (count <= 0) return [];
    const newestFirst: JitEvent[] = [];
    await this.withSnapshot((snapshot) =>
      this.linesBackward(snapshot, (line) => {
        const event = line !== null && line !== '' && mayMatch(line, filter) ? parseEventLine(line) : null;
        if (event && eventMatches(event, filter)) newestFirst.push(event);
        return newestFirst.length >= count;
      }),
    );
    return newestFirst.reverse();
  }

  /** Every event that passes `filter`, oldest first, handed to `visit` one at a time. */
  async scan(filter: EventFilter, visit: (event: JitEvent) => void): Promise<void> {
    const take = (line: Line): void => {
      const event = line !== null && line !== '' && mayMatch(line, filter) ? parseEventLine(line) : null;
      if (event && eventMatches(event, filter)) visit(event);
    };
    // A whole last event without its newline counts, as it always has; a torn one is skipped.
    await this.withSnapshot((snapshot) => take(this.linesForward(snapshot.fd, 0, snapshot.size, take, needleOf(filter)).rest));
  }

  /**
   * validate: every line that is not an event (readers skip them), and a
   * torn or unterminated last line, which `fix` repairs. The body is read
   * without the lock; the end (and whatever was appended meanwhile) under
   * it, exclusive when fixing.
   */
  async check(fix: boolean, problems: ValidationProblem[], fixed: string[]): Promise<void> {
    let lineNumber = 0;
    let badLines: number[] = []; // the first REPORTED_BAD_LINES of them
    let badCount = 0;
    const checkLine = (line: Line): void => {
      lineNumber++;
      if (line === '' || (line !== null && parseEventLine(line) !== null)) return;
      if (++badCount <= REPORTED_BAD_LINES) badLines.push(lineNumber);
    };
    let checkedUpTo = 0;
    try {
      await this.withSnapshot((snapshot) => (checkedUpTo = this.linesForward(snapshot.fd, 0, snapshot.size, checkLine).restStart));
    } catch (error) {
      if (!isShortRead(error)) throw error;
      checkedUpTo = -1; // cut meanwhile: read it all again, under the lock
    }
    const held = await this.lockEvents(fix ? 'exclusive' : 'shared');
    let fd: number | null = null;
    try {
      const file = openRegularFile(this.path, fix ? fs.constants.O_RDWR : fs.constants.O_RDONLY, 'check');
      if (file === null) return;
      fd = file.fd;
      const size = file.stat.size;
      if (size < checkedUpTo || checkedUpTo < 0) [checkedUpTo, lineNumber, badLines, badCount] = [0, 0, [], 0];
      const { rest, restStart } = this.linesForward(fd, checkedUpTo, size, checkLine);
      for (const line of badLines) {
        problems.push({ kind: 'torn_event_line', message: `Line ${line} of ${this.path} is not a valid event; readers skip it.`, path: this.path, fixable: false });
      }
      if (badCount > REPORTED_BAD_LINES) {
        const more = badCount - REPORTED_BAD_LINES;
        problems.push({ kind: 'torn_event_line', message: `${more} more line(s) of ${this.path} are not valid events; readers skip them.`, path: this.path, fixable: false });
      }
      if (rest === '') return;
      if (rest !== null && parseEventLine(rest) !== null) {
        // A whole event that only lacks its newline (an editor or a copy tool saved it so): keep it, end the line.
        problems.push({ kind: 'missing_final_newline', message: `The last event of ${this.path} is whole but lacks its final newline.`, path: this.path, fixable: true });
        if (fix) {
          fs.writeSync(fd, '\n', size);
          fixed.push(`appended the missing final newline to ${this.path}`);
        }
        return;
      }
      const bytes = size - restStart;
      problems.push({ kind: 'torn_event_line', message: `The last line of ${this.path} is torn (${bytes} bytes that are not a whole event, without a newline); readers skip it.`, path: this.path, fixable: true });
      if (fix) {
        fs.ftruncateSync(fd, restStart);
        fixed.push(`truncated the torn last line of ${this.path}`);
      }
    } catch (error) {
      throw fsError(error, this.path, 'check');
    } finally {
      if (fd !== null) fs.closeSync(fd);
      held.release();
    }
  }

  // -------------------------------------------------------------- internal

  /** Opens the log and notes its size under the shared lock, then reads without it. A missing log is empty. */
  private async withSnapshot(read: (snapshot: Snapshot) => void): Promise<void> {
    const held = await this.lockEvents('shared');
    let snapshot: Snapshot | null;
    try {
      const file = openRegularFile(this.path, fs.constants.O_RDONLY, 'read');
      snapshot = file === null ? null : { fd: file.fd, size: file.stat.size };
    } catch (error) {
      throw fsError(error, this.path, 'read');
    } finally {
      held.release();
    }
    if (!snapshot) return;
    try {
      read(snapshot);
    } catch (error) {
      throw fsError(error, this.path, 'read');
    } finally {
      fs.closeSync(snapshot.fd);
    }
  }

  /** Fills `buffer[0, length)` from `position`; a file cut below that is an error the caller may retry. */
  private readAt(fd: number, buffer: Buffer, length: number, position: number): void {
    let done = 0;
    while (done < length) {
      const got = fs.readSync(fd, buffer, done, length - done, position + done);
      if (got === 0) {
        throw new JitError('IO_ERROR', `${this.path} was cut short while it was being read (by \`jit validate --fix\` or by hand).`, {
          suggestions: ['Run the command again.'],
          details: { path: this.path, shrank: true },
        });
      }
      done += got;
    }
    this.stats.bytesRead += length;
  }

  private notePeak(bytes: number): void {
    if (bytes > this.stats.peakBufferBytes) this.stats.peakBufferBytes = bytes;
  }

  /**
   * Hands every newline-terminated line in [from, to) to `onLine`, oldest
   * first. Returns what follows the last newline (`rest`, starting at
   * `restStart`): '' when the range ends with a newline, null when too long.
   * With a `needle`, a line that lies in one chunk and holds neither it nor
   * a backslash (an escape could spell it) is skipped undecoded: decoding
   * every line of a big log was most of a filtered full pass.
   */
  private linesForward(fd: number, from: number, to: number, onLine: (line: Line) => void, needle: Buffer | null = null): { rest: Line; restStart: number } {
    const chunk = Buffer.allocUnsafe(Math.min(this.chunkBytes, Math.max(to - from, 1)));
    let pieces: Buffer[] = []; // the start of a line that continues in the next chunk
    let pieceBytes = 0;
    let tooLong = false;
    let lineStart = from;
    for (let position = from; position < to; ) {
      const length = Math.min(chunk.length, to - position);
      this.readAt(fd, chunk, length, position);
      this.notePeak(chunk.length + pieceBytes);
      let start = 0;
      // The next needle and backslash at or after `start` (-1: none in this chunk), found once per occurrence, not once per line.
      let nextNeedle = -1;
      let nextEscape = -1;
      if (needle) [nextNeedle, nextEscape] = [chunk.indexOf(needle, 0), chunk.indexOf(BACKSLASH, 0)];
      for (let newline = chunk.indexOf(0x0a, 0); newline !== -1 && newline < length; newline = chunk.indexOf(0x0a, start)) {
        if (needle && pieces.length === 0 && !tooLong) {
          if (nextNeedle !== -1 && nextNeedle < start) nextNeedle = chunk.indexOf(needle, start);
          if (nextEscape !== -1 && nextEscape < start) nextEscape = chunk.indexOf(BACKSLASH, start);
          const holdsNeedle = nextNeedle !== -1 && nextNeedle + needle.length <= newline && nextNeedle < length;
          const holdsEscape = nextEscape !== -1 && nextEscape < newline;
          if (!holdsNeedle && !holdsEscape) {
            start = newline + 1;
            lineStart = position + start;
            continue;
          }
        }
        if (!tooLong) this.stats.linesDecoded++;
        if (tooLong) onLine(null);
        else if (pieces.length === 0) onLine(chunk.toString('utf8', start, newline));
        else onLine(Buffer.concat([...pieces, chunk.subarray(start, newline)]).toString('utf8'));
        [pieces, pieceBytes, tooLong] = [[], 0, false];
        start = newline + 1;
        lineStart = position + start;
      }
      if (!tooLong && start < length) {
        pieceBytes += length - start;
        if (pieceBytes > this.maxLineBytes) [pieces, pieceBytes, tooLong] = [[], 0, true];
        else pieces.push(Buffer.from(chunk.subarray(start, length)));
      }
      position += length;
    }
    return { rest: tooLong ? null : Buffer.concat(pieces).toString('utf8'), restStart: lineStart };
  }

  /** Hands every line of the snapshot to `onLine`, newest first (the unterminated end first), until it returns true. */
  private linesBackward(snapshot: Snapshot, onLine: (line: Line) => boolean): void {
    const chunk = Buffer.allocUnsafe(Math.min(this.chunkBytes, Math.max(snapshot.size, 1)));
    let pieces: Buffer[] = []; // the end of a line that began in an earlier chunk, still to be read
    let pieceBytes = 0;
    let tooLong = false;
    const take = (head: Buffer): Line => (tooLong ? null : pieces.length === 0 ? head.toString('utf8') : Buffer.concat([head, ...pieces]).toString('utf8'));
    for (let position = snapshot.size; position > 0; ) {
      const length = Math.min(chunk.length, position);
      position -= length;
      this.readAt(snapshot.fd, chunk, length, position);
      this.notePeak(chunk.length + pieceBytes);
      let end = length;
      for (let newline = end > 0 ? chunk.lastIndexOf(0x0a, end - 1) : -1; newline !== -1; newline = end > 0 ? chunk.lastIndexOf(0x0a, end - 1) : -1) {
        if (onLine(take(chunk.subarray(newline + 1, end)))) return;
        [pieces, pieceBytes, tooLong] = [[], 0, false];
        end = newline;
      }
      if (!tooLong && end > 0) {
        pieceBytes += end;
        if (pieceBytes > this.maxLineBytes) [pieces, pieceBytes, tooLong] = [[], 0, true];
        else pieces.unshift(Buffer.from(chunk.subarray(0, end)));
      }
    }
    onLine(take(Buffer.alloc(0))); // the first line of the file
  }
}
