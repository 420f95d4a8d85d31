#!/usr/bin/env node
// Takes the screenshots in docs/images/ (web-board.png, web-graph.png,
// web-issue.png): a small demo store, `jit serve`, Debian's headless Chromium.
// Run after `node scripts/build.js`: node packages/jit/web/screenshots.js
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const store = require(path.join(root, 'dist', 'store', 'index.js'));
const { chromium } = require('playwright-core');
const out = path.resolve(root, '..', '..', 'docs', 'images');

async function demoStore(dir) {
  store.initJit(dir);
  const t = store.openTracker(path.join(dir, '.jit'));
  await t.addGateDefinition({ key: 'review', title: 'Human review' });
  await t.addGateDefinition({ key: 'tests', title: 'Tests pass' });
  const make = (title, extra = {}) => t.createIssue({ title, ...extra });
  const schema = await make('Define the event schema', { labels: ['epic:sync', 'type:task'], priority: 'high' });
  const store1 = await make('Store events append-only', { labels: ['epic:sync', 'type:feature'], dependencies: [schema.id], gates: ['tests'] });
  const watch = await make('Watch the log for changes', { labels: ['epic:sync', 'type:feature'], dependencies: [store1.id], gates: ['tests', 'review'] });
  const api = await make('JSON API for the board', { labels: ['epic:web', 'type:feature'], dependencies: [schema.id], priority: 'high' });
  const board = await make('Board view with filters', { labels: ['epic:web', 'type:feature', 'area:ui'], dependencies: [api.id], gates: ['review'] });
  const graph = await make('Dependency graph view', { labels: ['epic:web', 'type:feature', 'area:ui'], dependencies: [api.id, watch.id] });
  const live = await make('Live updates over SSE', { labels: ['epic:web', 'type:feature'], dependencies: [watch.id, api.id], priority: 'critical' });
  const docs = await make('Document the web view', { labels: ['area:docs', 'type:task'], dependencies: [board.id, graph.id, live.id], priority: 'low' });
  const bug = await make('Escape titles like <b>this</b>', { labels: ['type:bug', 'area:ui'], priority: 'critical' });
  await make('Try a canvas renderer', { labels: ['type:idea'], priority: 'low' });
  const old = await make('Old polling prototype', { labels: ['type:task'] });
  await t.updateIssue(schema.id, { state: 'done' });
  await t.claim(store1.id, 'agent:worker-1');
  await t.passGate(store1.id, 'tests', 'agent:ci');
  await t.updateIssue(store1.id, { state: 'done' });
  await t.claim(api.id, 'agent:worker-2');
  await t.updateIssue(api.id, { state: 'done' });
  await t.claim(watch.id, 'agent:worker-1');
  await t.failGate(watch.id, 'tests', 'agent:ci');
  await t.claim(board.id, 'agent:worker-3');
  await t.updateIssue(board.id, { state: 'done' });
  await t.claim(bug.id, 'human:alice');
  await t.updateIssue(old.id, { state: 'rejected' });
  return { watch: watch.id, docs: docs.id };
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jit-screens-'));
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'jit-screens-chromium-'));
  const ids = await demoStore(dir);
  const child = spawn(process.execPath, [path.join(root, 'bin', 'jit.js'), '--json', 'serve', '--port', '0', '--as', 'human:alice'], { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'] });
  let text = '';
  const url = await new Promise((resolve) =>
    child.stdout.setEncoding('utf8').on('data', (c) => {
      text += c;
      try {
        resolve(JSON.parse(text).url);
      } catch {
        // not all of it yet
      }
    }),
  );
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1500, height: 720 },
  });
  try {
    fs.mkdirSync(out, { recursive: true });
    const page = await context.newPage();
    await page.goto(`${url}#/board`);
    await page.waitForSelector('.live.on');
    await page.screenshot({ path: path.join(out, 'web-board.png') });
    await page.goto(`${url}#/graph`);
    await page.waitForSelector('svg.graph g.node');
    await page.waitForTimeout(300);
    await page.screenshot({ path: path.join(out, 'web-graph.png') });
    await page.goto(`${url}#/issue/${ids.watch}`);
    await page.waitForSelector('tr[data-gate="tests"]');
    await page.screenshot({ path: path.join(out, 'web-issue.png') });
  } finally {
    await context.close();
    child.kill('SIGTERM');
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(profile, { recursive: true, force: true });
  }
  console.log(`wrote ${out}/web-{board,graph,issue}.png`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
