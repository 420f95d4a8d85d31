// The event log is read a chunk at a time: these tests use tiny chunks and a
// tiny line limit on real files, and check both the results (against reading
// the whole file) and what was read and held: the tail costs what it
// returns, and no reader holds more than a chunk and a line at any size.
// test/chaos/event-log.test.ts runs the real thing on a log past 512 MiB.
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { EventLog, eventMatches } from './event-log.js';
import { RANK, fileLocker } from './locker.js';
import { EVENT_TYPES, type JitEvent } from './model.js';
import { parseEventLine } from './schema.js';
import type { EventFilter } from './storage.js';
import type { ValidationProblem } from './tracker-api.js';

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'jit-event-log-'));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));
let logs = 0;

const CHUNK = 4096;
const MAX_LINE = 2048;

/** A log file holding `text`, read through real file locks with small chunks. */
function logWith(text: string | Buffer, options = { chunkBytes: CHUNK, maxLineBytes: MAX_LINE }): EventLog {
  const dir = path.join(scratch, `log-${++logs}`);
  fs.mkdirSync(dir);
  const file = path.join(dir, 'events.jsonl');
  fs.writeFileSync(file, text);
  const lockFile = path.join(dir, '.events.lock');
  return new EventLog(file, (mode) => fileLocker.lockAll([{ path: lockFile, mode, rank: RANK.events }]), options);
}

const ISSUES = [randomUUID(), randomUUID(), randomUUID()];

function event(i: number, title = `Event number ${i}`): JitEvent {
  return { type: EVENT_TYPES[i % EVENT_TYPES.length]!, id: randomUUID(), issue_id: ISSUES[i % ISSUES.length]!, timestamp: new Date(1e12 + i).toISOString(), title };
}

const lines = (events: JitEvent[]): string => events.map((e) => JSON.stringify(e) + '\n').join('');

/** What a reader of the whole file sees: every line that parses, oldest first. */
function naive(text: string, filter: EventFilter = {}): JitEvent[] {
  return text
    .split('\n')
    .map(parseEventLine)
    .filter((e): e is JitEvent => e !== null && eventMatches(e, filter));
}

async function scanAll(log: EventLog, filter: EventFilter = {}): Promise<JitEvent[]> {
  const seen: JitEvent[] = [];
  await log.scan(filter, (e) => seen.push(e));
  return seen;
}

describe('EventLog reads a bounded window', () => {
  const events = Array.from({ length: 5000 }, (_, i) => event(i));
  const text = lines(events);

  it('the tail costs what it returns: the last 5 of 5,000 events read one chunk', async () => {
    expect(text.length).toBeGreaterThan(100 * CHUNK);
    const log = logWith(text);
    expect(await log.readLast(5)).toEqual(events.slice(-5));
    expect(log.stats.bytesRead).toBe(CHUNK);
    expect(await log.readLast(0)).toEqual([]);
  });

  it('a filtered tail reads back only as far as its matches', async () => {
    const log = logWith(text);
    const target = events.at(-50)!;
    const wanted = events.filter((e) => e.issue_id === target.issue_id && e.type === target.type);
    const found = await log.readLast(2, { type: target.type, issuePrefix: target.issue_id!.slice(0, 6) });
    expect(found).toEqual(wanted.slice(-2));
    expect(log.stats.bytesRead).toBeLessThan(text.length / 10);
    expect(log.stats.peakBufferBytes).toBeLessThanOrEqual(CHUNK + MAX_LINE);
  });

  it('scans (validate, query without a limit) stream: every event, memory within a chunk and a line', async () => {
    const log = logWith(text);
    expect(await scanAll(log)).toEqual(events);
    expect(log.stats.bytesRead).toBe(Buffer.byteLength(text));
    expect(log.stats.peakBufferBytes).toBeLessThanOrEqual(CHUNK + MAX_LINE);
    expect(await scanAll(log, { type: 'issue_claimed' })).toEqual(events.filter((e) => e.type === 'issue_claimed'));
    const problems: ValidationProblem[] = [];
    await log.check(false, problems, []);
    expect(problems).toEqual([]);
    expect(log.stats.peakBufferBytes).toBeLessThanOrEqual(CHUNK + MAX_LINE);
  });

  it('a line longer than any event is junk: skipped without being held, in both directions', async () => {
    const junk = 'x'.repeat(20 * MAX_LINE);
    const log = logWith(lines(events.slice(0, 10)) + junk + '\n' + lines(events.slice(10, 20)) + junk);
    expect(await scanAll(log)).toEqual(events.slice(0, 20));
    expect(await log.readLast(20)).toEqual(events.slice(0, 20));
    expect(log.stats.peakBufferBytes).toBeLessThanOrEqual(CHUNK + MAX_LINE);
    const problems: ValidationProblem[] = [];
    await log.check(false, problems, []);
    expect(problems.map((p) => p.message)).toEqual([
      expect.stringMatching(/^Line 11 of .* is not a valid event/),
      expect.stringMatching(/The last line of .* is torn \(40960 bytes/),
    ]);
  });
});

describe('a filtered scan decodes only the lines that may match', () => {
  it('by issue and by type: unrelated lines are neither decoded nor parsed; a line with an escape is', async () => {
    const events = Array.from({ length: 300 }, (_, i) => event(i));
    const escaped = { ...event(1, 'a "quoted" title'), issue_id: ISSUES[1]! };
    const log = logWith(lines(events) + JSON.stringify(escaped) + '\n');
    const byIssue = await scanAll(log, { issuePrefix: ISSUES[0]!.slice(0, 8) });
    expect(byIssue).toEqual(events.filter((e) => e.issue_id === ISSUES[0]));
    // 100 lines of that issue, and the one with backslashes (an escape could spell the id); a line crossing a chunk boundary may be decoded too.
    expect(log.stats.linesDecoded).toBeGreaterThanOrEqual(101);
    expect(log.stats.linesDecoded).toBeLessThanOrEqual(101 + Math.ceil(log.stats.bytesRead / CHUNK));
    const typed = logWith(lines(events));
    expect(await scanAll(typed, { type: 'issue_claimed' })).toEqual(events.filter((e) => e.type === 'issue_claimed'));
    expect(typed.stats.linesDecoded).toBeLessThan(events.length / 4);
  });
});

describe('EventLog results equal a whole-file read', () => {
  const title = fc.constantFrom('plain', 'accents éèà', 'emoji 💥🚀', 'quote " and \\ backslash', 'x'.repeat(3000));
  const piece = fc.oneof(
    { weight: 6, arbitrary: fc.tuple(fc.nat({ max: 40 }), title).map(([i, t]) => JSON.stringify(event(i, t)) + '\n') },
    { weight: 1, arbitrary: fc.constantFrom('\n', 'garbage\n', '{"type":"issue_created","id":"torn\n', '[]\n') },
  );
  const ending = fc.constantFrom('', '{"type":"issue_upd', JSON.stringify(event(7)));
  const filters = fc.record({ type: fc.option(fc.constantFrom(...EVENT_TYPES), { nil: undefined }), issuePrefix: fc.option(fc.constantFrom(...ISSUES.map((id) => id.slice(0, 4))), { nil: undefined }) });

  it('for any log, chunk size, filter and count', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(piece, { maxLength: 60 }), ending, fc.integer({ min: 1, max: 300 }), filters, fc.integer({ min: 1, max: 70 }), async (pieces, end, chunkBytes, filter, count) => {
        const text = pieces.join('') + end;
        const log = logWith(text, { chunkBytes, maxLineBytes: 10_000 });
        const expected = naive(text, filter);
        expect(await scanAll(log, filter)).toEqual(expected);
        expect(await log.readLast(count, filter)).toEqual(expected.slice(-count));
      }),
      { numRuns: 150 },
    );
  });
});

describe('EventLog.check keeps validate\'s rules', () => {
  const events = Array.from({ length: 50 }, (_, i) => event(i));

  it('bad lines are named by number (the first 100, then counted); the end is checked and fixed', async () => {
    const body = lines(events.slice(0, 2)) + 'not json\n' + lines(events.slice(2, 4)) + 'junk\n'.repeat(150) + lines(events.slice(4, 6));
    const log = logWith(body + '{"type":"issue_created","id":"to');
    const problems: ValidationProblem[] = [];
    const fixed: string[] = [];
    await log.check(false, problems, fixed);
    expect(problems[0]).toMatchObject({ kind: 'torn_event_line', fixable: false, message: expect.stringMatching(/^Line 3 of /) });
    expect(problems[1]).toMatchObject({ message: expect.stringMatching(/^Line 6 of /) });
    expect(problems).toHaveLength(102);
    expect(problems[100]).toMatchObject({ kind: 'torn_event_line', message: expect.stringMatching(/^51 more line\(s\) of .* are not valid events/) });
    expect(problems[101]).toMatchObject({ kind: 'torn_event_line', fixable: true, message: expect.stringMatching(/torn \(32 bytes/) });
    expect(fixed).toEqual([]);

    await log.check(true, [], fixed);
    expect(fixed).toEqual([expect.stringMatching(/^truncated the torn last line/)]);
    expect(fs.readFileSync(log.path, 'utf8')).toBe(body);
  });

  it('a whole last event without its newline gets the newline with fix', async () => {
    const text = lines(events);
    const log = logWith(text.slice(0, -1));
    const problems: ValidationProblem[] = [];
    const fixed: string[] = [];
    await log.check(true, problems, fixed);
    expect(problems).toEqual([expect.objectContaining({ kind: 'missing_final_newline', fixable: true })]);
    expect(fixed).toEqual([expect.stringMatching(/^appended the missing final newline/)]);
    expect(fs.readFileSync(log.path, 'utf8')).toBe(text);
    expect(await log.readLast(50)).toEqual(events);
  });

  it('a missing log is an empty one', async () => {
    const log = logWith('');
    fs.rmSync(log.path);
    expect(await log.readLast(3)).toEqual([]);
    expect(await scanAll(log)).toEqual([]);
    const problems: ValidationProblem[] = [];
    await log.check(true, problems, []);
    expect(problems).toEqual([]);
    expect(fs.existsSync(log.path)).toBe(false);
  });
});
