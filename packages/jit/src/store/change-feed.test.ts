// The change feed (change-feed.ts) on real files: events appended by the
// store, by another writer, a line still being written, a log cut short, and
// the stat fallback when fs.watch tells nothing.
import { appendFileSync, mkdtempSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ChangeFeed, type ChangeBatch } from './change-feed.js';
import { initJit, openTracker } from './jit-dir.js';
import { storeLayout } from './layout.js';

const dirs: string[] = [];
const feeds: ChangeFeed[] = [];
afterEach(() => {
  feeds.splice(0).forEach((feed) => feed.close());
  dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true }));
});

function store(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'jit-change-feed-'));
  dirs.push(dir);
  return initJit(dir).path;
}

/** Collects batches; `next(n)` waits (generously) until n events have arrived in all. */
function listen(feed: ChangeFeed) {
  const batches: ChangeBatch[] = [];
  let wake: (() => void) | undefined;
  feed.onChange((batch) => (batches.push(batch), wake?.()));
  const events = () => batches.flatMap((b) => b.events);
  return {
    batches,
    events,
    async until(done: () => boolean): Promise<void> {
      const deadline = Date.now() + 30_000;
      while (!done()) {
        if (Date.now() > deadline) throw new Error(`no change seen: ${JSON.stringify(batches)}`);
        await new Promise<void>((resolve) => ((wake = resolve), setTimeout(resolve, 50)));
      }
    },
  };
}

function eventLine(type: string, n: number): string {
  return JSON.stringify({ type, id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`, issue_id: null, timestamp: new Date().toISOString() }) + '\n';
}

describe('ChangeFeed', () => {
  it('reports what the store appends after it started, not what was there before', async () => {
    const jitDir = store();
    const tracker = openTracker(jitDir);
    await tracker.createIssue({ title: 'before' });
    const feed = new ChangeFeed(jitDir).start();
    feeds.push(feed);
    const seen = listen(feed);
    const created = await tracker.createIssue({ title: 'after' });
    await seen.until(() => seen.events().length >= 1);
    expect(seen.events().map((e) => [e.type, e.issue_id])).toEqual([['issue_created', created.id]]);
  });

  it('holds back a line until its newline is written, and skips junk lines', async () => {
    const jitDir = store();
    const { eventsPath } = storeLayout(jitDir);
    const feed = new ChangeFeed(jitDir).start();
    feeds.push(feed);
    const seen = listen(feed);
    const line = eventLine('issue_updated', 1);
    appendFileSync(eventsPath, 'not json\n' + line.slice(0, 20));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(seen.events()).toEqual([]);
    appendFileSync(eventsPath, line.slice(20));
    await seen.until(() => seen.events().length === 1);
    expect(seen.events()[0]).toMatchObject({ type: 'issue_updated' });
  });

  it('a log cut shorter is a reset; appends after it are read from the new end', async () => {
    const jitDir = store();
    const { eventsPath } = storeLayout(jitDir);
    appendFileSync(eventsPath, eventLine('issue_updated', 1) + eventLine('issue_updated', 2));
    const feed = new ChangeFeed(jitDir).start();
    feeds.push(feed);
    const seen = listen(feed);
    truncateSync(eventsPath, 0);
    await seen.until(() => seen.batches.some((b) => b.reset));
    appendFileSync(eventsPath, eventLine('gate_passed', 3));
    await seen.until(() => seen.events().length === 1);
    expect(seen.events()[0]).toMatchObject({ type: 'gate_passed' });
  });

  it('a log deleted, then written anew longer than before, is a reset (not read from the old offset)', async () => {
    const jitDir = store();
    const { eventsPath } = storeLayout(jitDir);
    appendFileSync(eventsPath, eventLine('issue_updated', 1) + eventLine('issue_updated', 2));
    const feed = new ChangeFeed(jitDir, { pollMs: 50 }).start();
    feeds.push(feed);
    const seen = listen(feed);
    unlinkSync(eventsPath);
    // The feed looks while the file is missing (as its watcher or poll does when a restore deletes first, then copies).
    (feed as unknown as { read(): void }).read();
    writeFileSync(eventsPath, eventLine('issue_created', 5) + eventLine('issue_created', 6) + eventLine('issue_created', 7));
    await seen.until(() => seen.batches.length > 0);
    expect(seen.batches[0]).toEqual({ events: [], reset: true });
    expect(seen.events()).toEqual([]);
  });

  it('a log overwritten in place (the same file, as cp onto it does) with another longer one is a reset (not read from the old offset)', async () => {
    const jitDir = store();
    const { eventsPath } = storeLayout(jitDir);
    appendFileSync(eventsPath, eventLine('issue_updated', 1) + eventLine('issue_updated', 2));
    const feed = new ChangeFeed(jitDir, { pollMs: 50 }).start();
    feeds.push(feed);
    const seen = listen(feed);
    writeFileSync(eventsPath, eventLine('issue_created', 5) + eventLine('issue_created', 6) + eventLine('issue_created', 7));
    await seen.until(() => seen.batches.length > 0);
    expect(seen.batches[0]).toEqual({ events: [], reset: true });
    // Appends after it are read from the new end.
    appendFileSync(eventsPath, eventLine('gate_passed', 8));
    await seen.until(() => seen.events().length === 1);
    expect(seen.events()[0]).toMatchObject({ type: 'gate_passed' });
  });

  it('the same size rewritten in place is a reset too', async () => {
    const jitDir = store();
    const { eventsPath } = storeLayout(jitDir);
    appendFileSync(eventsPath, eventLine('issue_updated', 1));
    const feed = new ChangeFeed(jitDir, { pollMs: 50 }).start();
    feeds.push(feed);
    const seen = listen(feed);
    writeFileSync(eventsPath, eventLine('issue_updated', 2));
    await seen.until(() => seen.batches.length > 0);
    expect(seen.batches[0]).toEqual({ events: [], reset: true });
  });

  it('the stat fallback sees a change made while no watch was running', async () => {
    const jitDir = store();
    const { eventsPath } = storeLayout(jitDir);
    const feed = new ChangeFeed(jitDir, { pollMs: 50 }).start();
    feeds.push(feed);
    // As if fs.watch had failed to start (network file systems): only the stat poll is left.
    (feed as unknown as { watcher?: { close(): void } }).watcher?.close();
    (feed as unknown as { watcher?: unknown }).watcher = { close() {} };
    const seen = listen(feed);
    appendFileSync(eventsPath, eventLine('issue_created', 4));
    await seen.until(() => seen.events().length === 1);
    expect(seen.events()[0]).toMatchObject({ type: 'issue_created' });
  });
});
