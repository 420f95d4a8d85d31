// The web server over a store with no event log (the in-memory backend):
// the same API, and its own actions still announced on the event stream.
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { initJit, InMemoryStorage, openTracker, Tracker, watchChanges } from '../store/index.js';
import { MAX_STREAMS, startWebServer, type WebServer } from './server.js';

const ASSETS = path.resolve(__dirname, '..', '..', 'dist', 'webapp');
let server: WebServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Reads the SSE stream until a `changed` message arrives. */
async function nextChange(url: string, action: () => Promise<void>): Promise<string> {
  const response = await fetch(`${url}api/events/stream`);
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let acted = false;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`stream ended: ${text}`);
    text += decoder.decode(value);
    if (!acted && text.includes('retry:')) (acted = true), await action();
    const change = /event: changed\ndata: (.*)\n\n/.exec(text);
    if (change) {
      await reader.cancel();
      return change[1]!;
    }
  }
}

describe('the web server on the in-memory backend', () => {
  it('answers the API and announces its own changes', async () => {
    const tracker = new Tracker(new InMemoryStorage());
    await tracker.addGateDefinition({ key: 'review', title: 'Review' });
    const issue = await tracker.createIssue({ title: 'in memory', gates: ['review'] });
    server = await startWebServer({ tracker, port: 0, actor: 'human:tester', assetsDir: ASSETS });
    const list = (await (await fetch(`${server.url}api/issues`)).json()) as { issues: { id: string }[]; count: number };
    expect(list).toMatchObject({ count: 1, issues: [{ id: issue.id }] });
    const { csrf_token } = (await (await fetch(`${server.url}api/session`)).json()) as { csrf_token: string };
    const change = await nextChange(server.url, async () => {
      const passed = await fetch(`${server!.url}api/issues/${issue.id}/gates/review/pass`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-jit-csrf': csrf_token },
        body: '{}',
      });
      expect(passed.status).toBe(200);
    });
    expect(JSON.parse(change)).toEqual({ events: 0, reset: false });
    expect((await tracker.getIssue(issue.id)).gates_status['review']).toMatchObject({ status: 'passed', updated_by: 'human:tester' });
  });
});

describe('the board\'s gates', () => {
  it('are read once at start: the first page load neither waits for the reads again nor repeats them', async () => {
    const tracker = new Tracker(new InMemoryStorage());
    await tracker.addGateDefinition({ key: 'review', title: 'Review' });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await tracker.createIssue({ title: `issue ${i}`, gates: ['review'] })).id);
    const reads: string[] = [];
    const getIssue = tracker.getIssue.bind(tracker);
    tracker.getIssue = (id: string) => (reads.push(id), getIssue(id));
    server = await startWebServer({ tracker, port: 0, actor: 'human:tester', assetsDir: ASSETS });
    // Read at start, before any request (no default timeout: the machine may be loaded).
    await vi.waitFor(() => expect(reads).toHaveLength(ids.length), { timeout: 60_000, interval: 20 });
    const list = (await (await fetch(`${server.url}api/issues?gates=1`)).json()) as { issues: { id: string; gates_required: string[] }[] };
    expect(list.issues.map((issue) => issue.gates_required)).toEqual(ids.map(() => ['review']));
    expect(reads.sort()).toEqual([...ids].sort());
  });
});

describe('the web server on a file store with a damaged issue file', () => {
  it('the board still lists every issue; the damaged one says why it has no gates, its page shows the store error', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'jit-web-corrupt-'));
    try {
      const jitDir = initJit(dir).path;
      const tracker = openTracker(jitDir);
      await tracker.addGateDefinition({ key: 'review', title: 'Review' });
      const sound = await tracker.createIssue({ title: 'sound', gates: ['review'] });
      const damaged = await tracker.createIssue({ title: 'damaged' });
      writeFileSync(path.join(jitDir, 'issues', `${damaged.id}.json`), '{not json');
      server = await startWebServer({ tracker, port: 0, actor: 'human:tester', assetsDir: ASSETS });
      const response = await fetch(`${server.url}api/issues?gates=1`);
      expect(response.status).toBe(200);
      const board = (await response.json()) as { issues: { id: string; gates_required: string[]; gates_error?: { code: string } }[] };
      expect(board.issues.find((issue) => issue.id === sound.id)).toMatchObject({ gates_required: ['review'] });
      expect(board.issues.find((issue) => issue.id === damaged.id)).toMatchObject({ gates_required: [], gates_error: { code: 'CORRUPT_FILE' } });
      const shown = await fetch(`${server.url}api/issues/${damaged.id}`);
      expect(shown.status).toBe(500);
      expect(((await shown.json()) as { error: { code: string } }).error.code).toBe('CORRUPT_FILE');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('event streams are bounded', () => {
  it('beyond MAX_STREAMS open streams another is refused (503) and the API still answers; a closed stream frees its place', async () => {
    const tracker = new Tracker(new InMemoryStorage());
    server = await startWebServer({ tracker, port: 0, actor: 'human:tester', assetsDir: ASSETS });
    const open = async (): Promise<{ status: number; close(): void }> => {
      const controller = new AbortController();
      const response = await fetch(`${server!.url}api/events/stream`, { signal: controller.signal });
      return { status: response.status, close: () => controller.abort() };
    };
    const streams = [];
    for (let i = 0; i < MAX_STREAMS; i++) streams.push(await open());
    expect(streams.every((stream) => stream.status === 200)).toBe(true);
    const refused = await open();
    expect(refused.status).toBe(503);
    expect((await fetch(`${server.url}api/status`)).status).toBe(200);
    streams.pop()!.close();
    let again = await open();
    for (let tries = 0; again.status !== 200 && tries < 100; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 50)); // the server hears of the abort asynchronously
      again = await open();
    }
    expect(again.status).toBe(200);
    for (const stream of [...streams, again]) stream.close();
  }, 60_000);
});

describe('a stream that is not read', () => {
  it('is closed once its backlog passes the bound, instead of growing the server\'s memory without end', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'jit-web-stall-'));
    const jitDir = initJit(dir).path;
    const changes = watchChanges(jitDir, { pollMs: 50 });
    try {
      server = await startWebServer({ tracker: openTracker(jitDir), changes, port: 0, actor: 'human:tester', assetsDir: ASSETS });
      const { port } = server;
      const socket = connect(port, '127.0.0.1');
      const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
      socket.on('error', () => {});
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      socket.write(`GET /api/events/stream HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
      await new Promise<void>((resolve) => socket.once('data', () => resolve()));
      socket.pause(); // a client that stopped reading (a frozen tab, a stuck proxy)
      // 32 MiB of events appended by "another process": far more than the socket buffers hold.
      const line = (n: number) =>
        JSON.stringify({ type: 'issue_updated', id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`, issue_id: null, timestamp: new Date().toISOString(), note: 'x'.repeat(800) }) + '\n';
      for (let batch = 0; batch < 8; batch++) appendFileSync(path.join(jitDir, 'events.jsonl'), Array.from({ length: 4096 }, (_, i) => line(batch * 4096 + i)).join(''));
      await closed;
    } finally {
      changes.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
