// The web view in a real headless Chromium (Debian's, driven by
// playwright-core) against `jit serve` running as its own process: the board
// and the graph show the fixture store, a change by a separate `jit` process
// appears live, a gate passed in the page is what the CLI then reads, and a
// hostile title is shown as text.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { runJit } from '../cli/helpers.js';
import { writeFixture, XSS_TITLE, type Fixture } from './fixture.js';
import { drawnEdges, expectGateDefinedLive, launchChromium, startServe, webProject, type Browser, type Serve, type WebProject } from './helpers.js';

/** Waits on the DOM are generous: the machine may be loaded; the latency is measured by bench/web.js, not here. */
const DOM_WAIT_MS = 30_000;

let project: WebProject;
let fixture: Fixture;
let serve: Serve;
let browser: Browser;
const dialogs: string[] = [];
const pageErrors: string[] = [];

beforeAll(async () => {
  project = webProject();
  fixture = await writeFixture(project.dir);
  serve = await startServe(project.dir, ['--as', 'human:tester']);
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await serve?.stop();
  project?.remove();
});

async function open(hash: string): Promise<Page> {
  const page = await browser.context.newPage();
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await page.goto(`${serve.url}${hash}`);
  return page;
}

async function cardIdsByState(page: Page): Promise<Record<string, string[]>> {
  return page.$$eval('.column', (columns) =>
    Object.fromEntries(columns.map((column) => [column.getAttribute('data-state'), [...column.querySelectorAll('.card')].map((card) => card.getAttribute('data-id')!).sort()])),
  );
}

describe('the web view in Chromium', () => {
  it('the board shows each issue once, in its state\'s column, with its priority, assignee, labels and gates', async () => {
    const page = await open('#/board');
    await page.waitForSelector(`.card[data-id="${fixture.ids.dropped}"]`, { timeout: DOM_WAIT_MS });
    const { ids } = fixture;
    expect(await cardIdsByState(page)).toEqual({
      backlog: [ids.test],
      ready: [ids.docs, ids.xss].sort(),
      in_progress: [ids.build],
      gated: [],
      done: [ids.design],
      rejected: [ids.dropped],
      archived: [],
    });
    const build = page.locator(`.card[data-id="${ids.build}"]`);
    expect(await build.locator('.assignee').textContent()).toBe('@agent:worker-1');
    expect(await build.locator('.label').allTextContents()).toEqual(['epic:web', 'type:feature']);
    expect(await page.locator(`.card[data-id="${ids.design}"] .priority`).textContent()).toContain('high');
    expect(await page.locator(`.card[data-id="${ids.test}"] .gate`).textContent()).toContain('review');
    expect(await page.locator(`.card[data-id="${ids.test}"] .gate`).getAttribute('class')).toContain('gate-pending');

    // Filters: a namespace wildcard, an assignee, free text.
    await page.fill('input[placeholder="epic:* area:ui"]', 'epic:*');
    expect(Object.values(await cardIdsByState(page)).flat().sort()).toEqual([ids.design, ids.build, ids.test].sort());
    await page.fill('input[placeholder="epic:* area:ui"]', '');
    await page.selectOption('select >> nth=0', 'agent:worker-1');
    expect(Object.values(await cardIdsByState(page)).flat()).toEqual([ids.build]);
    await page.selectOption('select >> nth=0', '');
    await page.fill('input[type=search]', 'docs');
    expect(Object.values(await cardIdsByState(page)).flat()).toEqual([ids.docs]);
    await page.close();
  });

  it('the graph has a node per issue and an edge per dependency; a node opens its issue', async () => {
    const page = await open('#/graph');
    await page.waitForSelector('svg.graph g.node', { timeout: DOM_WAIT_MS });
    expect(await page.locator('svg.graph g.node').count()).toBe(fixture.issues);
    // build is in progress: the edge from it to the test that waits for it is blocking; design is done: its edges are not.
    expect(await drawnEdges(page)).toEqual({ total: fixture.edges, blocking: 1, routed: fixture.edges, arrowheads: fixture.edges, blockingArrowheads: 1 });
    await page.locator(`svg.graph g.node[data-id="${fixture.ids.docs}"]`).focus();
    await page.keyboard.press('Enter');
    await page.waitForSelector(`article.issue[data-id="${fixture.ids.docs}"]`, { timeout: DOM_WAIT_MS });
    await page.close();
  });

  it('an issue created by a separate jit process appears on the open board without a reload', async () => {
    const page = await open('#/board');
    await page.waitForSelector('.live.on', { timeout: DOM_WAIT_MS });
    await page.waitForSelector(`.card[data-id="${fixture.ids.docs}"]`, { timeout: DOM_WAIT_MS });
    const created = await runJit(['--json', 'issue', 'create', '--title', 'Made by another agent', '--label', 'type:live'], { cwd: project.dir });
    expect(created.code, created.stderr).toBe(0);
    const id = (JSON.parse(created.stdout) as { id: string }).id;
    const card = await page.waitForSelector(`.column[data-state="ready"] .card[data-id="${id}"]`, { timeout: DOM_WAIT_MS });
    expect(await card.textContent()).toContain('Made by another agent');
    await page.close();
  });

  it('a change by a CLI process is applied from the stream: only the changed issue is read again, never the whole list', async () => {
    const created = await runJit(['--json', 'issue', 'create', '--title', 'Streamed change', '--priority', 'low'], { cwd: project.dir });
    expect(created.code, created.stderr).toBe(0);
    const id = (JSON.parse(created.stdout) as { id: string }).id;
    const page = await open('#/board');
    await page.waitForSelector('.live.on', { timeout: DOM_WAIT_MS });
    await page.waitForSelector(`.column[data-state="ready"] .card[data-id="${id}"]`, { timeout: DOM_WAIT_MS });
    const requests: string[] = [];
    page.on('request', (request) => requests.push(new URL(request.url()).pathname + new URL(request.url()).search));

    const updated = await runJit(['--json', 'issue', 'update', id, '--priority', 'critical', '--state', 'backlog'], { cwd: project.dir });
    expect(updated.code, updated.stderr).toBe(0);
    const card = page.locator(`.column[data-state="backlog"] .card[data-id="${id}"]`);
    await card.waitFor({ timeout: DOM_WAIT_MS });
    expect(await card.locator('.priority').textContent()).toContain('critical');
    expect(await card.getAttribute('class')).toContain('priority-critical');
    expect(await page.locator(`.column[data-state="ready"] .card[data-id="${id}"]`).count()).toBe(0);
    // The other cards are untouched: still one per issue.
    expect(await page.locator(`.card[data-id="${fixture.ids.docs}"]`).count()).toBe(1);

    expect(requests.filter((path) => path.startsWith('/api/issues?'))).toEqual([]);
    expect(requests.filter((path) => path.startsWith('/api/issues/'))).toEqual(requests.filter((path) => path === `/api/issues/${id}`));
    expect(requests).toContain(`/api/issues/${id}`);
    await page.close();
  });

  it('a gate defined by a separate jit process reaches the open page: it reads the registry again and lists the event', async () => {
    const page = await open('#/board');
    await expectGateDefinedLive(
      page,
      'file-live-review',
      async () => {
        const defined = await runJit(['--json', 'registry', 'add', 'file-live-review', '--title', 'Reviewed live'], { cwd: project.dir });
        expect(defined.code, defined.stderr).toBe(0);
      },
      DOM_WAIT_MS,
    );
    await page.close();
  });

  it('a manual gate passed in the page is what the CLI reads, recorded as the server\'s --as', async () => {
    const page = await open(`#/issue/${fixture.ids.test}`);
    const row = page.locator('tr[data-gate="review"]');
    await row.waitFor({ timeout: DOM_WAIT_MS });
    expect(await row.locator('[data-testid="gate-status"]').textContent()).toContain('pending');
    await row.getByRole('button', { name: 'Pass review' }).click();
    await page.waitForSelector('tr[data-gate="review"] .gate-passed', { timeout: DOM_WAIT_MS });
    const shown = await runJit(['--json', 'issue', 'show', fixture.ids.test], { cwd: project.dir });
    expect(shown.code, shown.stderr).toBe(0);
    const issue = JSON.parse(shown.stdout) as { gates_status: Record<string, { status: string; updated_by: string }> };
    expect(issue.gates_status['review']).toMatchObject({ status: 'passed', updated_by: 'human:tester' });
    await page.close();
  });

  it('an issue address that is not valid percent-encoding shows the store\'s error, not a blank page', async () => {
    const page = await open('#/issue/%E0%A4%A');
    const alert = page.locator('main .error[role="alert"]');
    await alert.waitFor({ timeout: DOM_WAIT_MS });
    expect(await alert.textContent()).toContain('Invalid issue id');
    // The same after a hash change on an open page.
    await page.goto(`${serve.url}#/issue/${fixture.ids.docs}`);
    await page.waitForSelector(`article.issue[data-id="${fixture.ids.docs}"]`, { timeout: DOM_WAIT_MS });
    await page.goto(`${serve.url}#/issue/%ZZ`);
    await page.locator('main .error[role="alert"]').waitFor({ timeout: DOM_WAIT_MS });
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  it('a hostile title and description are shown as text: no element, no script, no dialog', async () => {
    const page = await open('#/board');
    const card = await page.waitForSelector(`.card[data-id="${fixture.ids.xss}"]`, { timeout: DOM_WAIT_MS });
    expect(await card.$eval('.card-title', (el) => el.textContent)).toBe(XSS_TITLE);
    expect(await page.$$('main img, main b, main script')).toHaveLength(0);
    await page.goto(`${serve.url}#/issue/${fixture.ids.xss}`);
    await page.waitForSelector('#issue-title', { timeout: DOM_WAIT_MS });
    expect(await page.textContent('#issue-title')).toBe(XSS_TITLE);
    expect(await page.textContent('.description')).toBe('<script>document.title="pwned"</script>');
    expect(await page.$$('main img, main b, main script')).toHaveLength(0);
    expect(await page.title()).toBe('jit');
    expect(dialogs).toEqual([]);
    expect(pageErrors).toEqual([]);
    await page.close();
  });
});
