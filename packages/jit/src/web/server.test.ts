// The web server over a store with no event log (the in-memory backend):
// the same API, and its own actions still announced on the event stream.
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { InMemoryStorage, Tracker } from '../store/index.js';
import { startWebServer, type WebServer } from './server.js';

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
