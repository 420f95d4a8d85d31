// The web view against what it did not write: a layout in the browser's
// storage that is junk or of another version but filed under the current
// graph's key, a gate defined after the page was opened (the registry's
// changes append no event), an issue deleted while its card is shown, and a
// store whose issue waits for itself (a hand edit; validate reports it), and
// the event log replaced under the server.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { runJit } from '../cli/helpers.js';
import { writeFixture, type Fixture } from './fixture.js';
import { drawnEdges, launchChromium, startServe, webProject, type Browser, type Serve, type WebProject } from './helpers.js';

const DOM_WAIT_MS = 30_000;

let project: WebProject;
let fixture: Fixture;
let serve: Serve;
let browser: Browser;
const pageErrors: string[] = [];

beforeAll(async () => {
  project = webProject();
  fixture = await writeFixture(project.dir);
  serve = await startServe(project.dir, ['--as', 'human:tester']);
  browser = await launchChromium();
}, 180_000);

beforeEach(() => {
  pageErrors.length = 0;
});

afterAll(async () => {
  await browser?.close();
  await serve?.stop();
  project?.remove();
});

async function open(hash: string): Promise<Page> {
  const page = await browser.context.newPage();
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await page.goto(`${serve.url}${hash}`);
  return page;
}

async function jit(args: string[]): Promise<string> {
  const run = await runJit(['--json', ...args], { cwd: project.dir });
  expect(run.code, run.stderr).toBe(0);
  return run.stdout;
}

describe('the web view against hostile or unexpected input', () => {
  it('a stored layout under the current graph\'s key that is junk or foreign is laid out again, not drawn or crashed on', async () => {
    const page = await open('#/board');
    await page.waitForSelector('.card', { timeout: DOM_WAIT_MS });
    const graph = (await page.evaluate(() => fetch('/api/graph').then((r) => r.json()))) as { nodes: { id: string }[]; edges: { from: string; to: string }[] };
    const key = `${graph.nodes.map((n) => n.id).join(',')}|${graph.edges.map((e) => `${e.from}>${e.to}`).join(',')}`;
    const entries = [
      { width: 'x', nodes: null, edges: 'junk' },
      // Another version's shape: nodes as a list, edges without points.
      { width: 10, height: 10, nodes: graph.nodes.map((n) => ({ id: n.id, x: 1, y: 1 })), edges: [{ source: 'a', target: 'b' }], ms: 1 },
      // Placed, but for other issues (and a script where a number belongs).
      { width: 10, height: 10, nodes: { other: { x: '<script>alert(1)</script>', y: 1 } }, edges: [], ms: 1 },
    ];
    for (const result of entries) {
      // A string function: the tests are typed without the DOM's globals.
      await page.evaluate(`localStorage.setItem('jit-graph-layout', ${JSON.stringify(JSON.stringify({ key, result }))})`);
      await page.goto(`${serve.url}#/graph`);
      await page.reload();
      await expect.poll(() => page.locator('svg.graph g.node').count(), { timeout: DOM_WAIT_MS, interval: 100 }).toBe(fixture.issues);
      expect(await drawnEdges(page)).toMatchObject({ total: fixture.edges, routed: fixture.edges, arrowheads: fixture.edges });
    }
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  it('a gate defined after the page opened shows its title and stays automatic when an issue comes to require it', async () => {
    const page = await open(`#/issue/${fixture.ids.docs}`);
    await page.waitForSelector('.live.on', { timeout: DOM_WAIT_MS });
    await page.waitForSelector(`article.issue[data-id="${fixture.ids.docs}"]`, { timeout: DOM_WAIT_MS });
    await jit(['registry', 'add', 'lint', '--title', 'Lint is clean', '--auto']);
    await jit(['gate', 'add', fixture.ids.docs, 'lint']);
    const row = page.locator('tr[data-gate="lint"]');
    await row.waitFor({ timeout: DOM_WAIT_MS });
    expect(await row.locator('th').textContent()).toBe('lint — Lint is clean (automatic)');
    expect(await row.getByRole('button').count()).toBe(0);
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  it('an issue deleted while the board is open loses its card, and later changes still arrive', async () => {
    const page = await open('#/board');
    await page.waitForSelector('.live.on', { timeout: DOM_WAIT_MS });
    await page.waitForSelector(`.card[data-id="${fixture.ids.dropped}"]`, { timeout: DOM_WAIT_MS });
    await jit(['issue', 'delete', fixture.ids.dropped]);
    await page.waitForSelector(`.card[data-id="${fixture.ids.dropped}"]`, { state: 'detached', timeout: DOM_WAIT_MS });
    // Created and deleted before the page reads either change: no card ever, and the stream goes on.
    const id = (JSON.parse(await jit(['issue', 'create', '--title', 'Short-lived'])) as { id: string }).id;
    await jit(['issue', 'delete', id]);
    await jit(['issue', 'update', fixture.ids.docs, '--priority', 'critical']);
    await page.waitForSelector(`.card.priority-critical[data-id="${fixture.ids.docs}"]`, { timeout: DOM_WAIT_MS });
    expect(await page.locator(`.card[data-id="${id}"]`).count()).toBe(0);
    expect(await page.locator('[role="alert"]').count()).toBe(0);
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  it('an issue that waits for itself (a damaged store) does not stop the graph: every issue is drawn', async () => {
    const other = webProject();
    let otherServe: Serve | undefined;
    try {
      const run = (args: string[]) => runJit(['--json', ...args], { cwd: other.dir });
      expect((await run(['init'])).code).toBe(0);
      const ids: string[] = [];
      for (const title of ['Loops', 'Plain']) ids.push((JSON.parse((await run(['issue', 'create', '--title', title])).stdout) as { id: string }).id);
      const file = path.join(other.dir, '.jit', 'issues', `${ids[0]}.json`);
      writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), dependencies: [ids[0]] }, null, 2));
      await run(['validate', '--fix']); // indexes the edge (and reports the cycle it cannot fix)
      expect((JSON.parse((await run(['graph', 'show'])).stdout) as { edges: unknown }).edges).toEqual([{ from: ids[0], to: ids[0] }]);
      otherServe = await startServe(other.dir);
      const page = await browser.context.newPage();
      page.on('pageerror', (error) => pageErrors.push(error.message));
      await page.goto(`${otherServe.url}#/graph`);
      await expect.poll(() => page.locator('svg.graph g.node').count(), { timeout: DOM_WAIT_MS, interval: 100 }).toBe(2);
      expect(pageErrors).toEqual([]);
      await page.close();
    } finally {
      await otherServe?.stop();
      other.remove();
    }
  });

  it('the event log replaced under the server: the activity view shows the new log, not the old one', async () => {
    const page = await open('#/activity');
    await page.waitForSelector('.live.on', { timeout: DOM_WAIT_MS });
    await page.waitForSelector('li.event', { timeout: DOM_WAIT_MS });
    // A restore from a backup: another log renamed over this one.
    const restored = { type: 'issue_updated', id: '00000000-0000-4000-8000-000000000042', issue_id: fixture.ids.docs, timestamp: new Date().toISOString() };
    const log = path.join(project.dir, '.jit', 'events.jsonl');
    writeFileSync(`${log}.restored`, `${JSON.stringify(restored)}\n`);
    renameSync(`${log}.restored`, log);
    await page.waitForSelector(`li.event[data-event="${restored.id}"]`, { timeout: DOM_WAIT_MS });
    await expect.poll(() => page.locator('li.event').count(), { timeout: DOM_WAIT_MS, interval: 100 }).toBe(1);
    expect(pageErrors).toEqual([]);
    await page.close();
  });
});
