// The graph view on a larger store than the page tests' fixture (hundreds of
// issues in layers, each waiting for issues of the layer before): every issue
// is a node and every dependency an edge, blocking edges are told apart, and a
// state change by a CLI process recolours its node from the stream without
// reading the graph (or laying it out) again.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initJit, openTracker } from '../../src/store/index.js';
import { runJit } from '../cli/helpers.js';
import { drawnEdges, launchChromium, startServe, webProject, type Browser, type Serve, type WebProject } from './helpers.js';

const LAYERS = 8;
const PER_LAYER = 30;
const DOM_WAIT_MS = 120_000;

let project: WebProject;
let serve: Serve;
let browser: Browser;
const layers: string[][] = [];
let edges = 0;
let blocking = 0;

beforeAll(async () => {
  project = webProject();
  initJit(project.dir);
  const tracker = openTracker(path.join(project.dir, '.jit'));
  for (let layer = 0; layer < LAYERS; layer++) {
    const ids: string[] = [];
    for (let i = 0; i < PER_LAYER; i++) {
      // Each issue waits for two of the layer before (neighbours, so edges cross a little, as in a real plan).
      const previous = layers[layer - 1] ?? [];
      const dependencies = previous.length > 0 ? [previous[i]!, previous[(i + 7) % previous.length]!] : [];
      const issue = await tracker.createIssue({ title: `Layer ${layer} step ${i}`, dependencies });
      ids.push(issue.id);
      edges += dependencies.length;
    }
    layers.push(ids);
  }
  // The first layer is done, so only the edges out of the other layers block.
  for (const id of layers[0]!) await tracker.updateIssue(id, { state: 'done' });
  blocking = edges - 2 * PER_LAYER;
  serve = await startServe(project.dir);
  browser = await launchChromium();
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await serve?.stop();
  project?.remove();
});

describe('the graph of a larger store in Chromium', () => {
  it('draws a node per issue and an edge per dependency, and recolours a node from the stream without reading the graph again', async () => {
    const page = await browser.context.newPage();
    const graphReads: string[] = [];
    page.on('request', (request) => {
      if (new URL(request.url()).pathname === '/api/graph') graphReads.push(request.url());
    });
    await page.goto(`${serve.url}#/graph`);
    await page.waitForSelector('.live.on', { timeout: DOM_WAIT_MS });
    await expect.poll(() => page.locator('svg.graph g.node').count(), { timeout: DOM_WAIT_MS, interval: 100 }).toBe(LAYERS * PER_LAYER);
    // Every edge was routed (a line of at least two points) and has its arrowhead; every node placed.
    expect(await drawnEdges(page)).toEqual({ total: edges, blocking, routed: edges, arrowheads: edges, blockingArrowheads: blocking });
    expect(await page.textContent('[data-testid="graph-count"]')).toContain(`${LAYERS * PER_LAYER} issues, ${edges} dependencies`);
    const readsBefore = graphReads.length;

    // A prerequisite of the second layer is finished by another process: its node says done, its two edges stop blocking.
    const target = layers[1]![0]!;
    const done = await runJit(['--json', 'issue', 'update', target, '--state', 'done'], { cwd: project.dir });
    expect(done.code, done.stderr).toBe(0);
    await page.waitForSelector(`svg.graph g.node.state-done[data-id="${target}"]`, { timeout: DOM_WAIT_MS });
    await expect.poll(async () => (await drawnEdges(page)).blocking, { timeout: DOM_WAIT_MS, interval: 100 }).toBe(blocking - 2);
    expect(await drawnEdges(page)).toEqual({ total: edges, blocking: blocking - 2, routed: edges, arrowheads: edges, blockingArrowheads: blocking - 2 });
    expect(await page.locator('svg.graph g.node').count()).toBe(LAYERS * PER_LAYER);
    expect(graphReads.length).toBe(readsBefore);
    await page.close();
  });

  it('draws text by zoom (none when far, the state line, then the title), keeps every name for assistive tech, and a click opens a node', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${serve.url}#/graph`);
    await expect.poll(() => page.locator('svg.graph g.node').count(), { timeout: DOM_WAIT_MS, interval: 100 }).toBe(LAYERS * PER_LAYER);
    const texts = async () => ({ heads: await page.locator('svg.graph text.node-head').count(), titles: await page.locator('svg.graph text.node-title').count() });
    const graph = page.locator('svg.graph');
    await graph.focus();
    await page.keyboard.press('0'); // scale 1: everything readable
    await expect.poll(texts, { timeout: DOM_WAIT_MS, interval: 100 }).toEqual({ heads: LAYERS * PER_LAYER, titles: LAYERS * PER_LAYER });
    expect(await page.textContent(`svg.graph g.node[data-id="${layers[0]![0]}"] text.node-title`)).toBe('Layer 0 step 0');
    for (let i = 0; i < 4; i++) await page.keyboard.press('-'); // 0.8^4 = 0.41: titles too small
    await expect.poll(texts, { timeout: DOM_WAIT_MS, interval: 100 }).toEqual({ heads: LAYERS * PER_LAYER, titles: 0 });
    for (let i = 0; i < 4; i++) await page.keyboard.press('-'); // 0.17: state lines too
    await expect.poll(texts, { timeout: DOM_WAIT_MS, interval: 100 }).toEqual({ heads: 0, titles: 0 });
    expect(await graph.getAttribute('class')).toContain('detail-farthest');
    // Nothing drawn is lost for a screen reader: each node is still a link named by its title and state.
    expect(await page.getAttribute(`svg.graph g.node[data-id="${layers[0]![5]}"]`, 'aria-label')).toBe('Layer 0 step 5 (done, normal)');
    await page.keyboard.press('0');
    await expect.poll(texts, { timeout: DOM_WAIT_MS, interval: 100 }).toEqual({ heads: LAYERS * PER_LAYER, titles: LAYERS * PER_LAYER });
    const first = layers[0]![0]!;
    await page.locator(`svg.graph g.node[data-id="${first}"]`).click();
    await page.waitForSelector(`article.issue[data-id="${first}"]`, { timeout: DOM_WAIT_MS });
    await page.close();
  });
});
