#!/usr/bin/env node
// `npm run bench:web` (not a test): the web view (`jit serve`) on 1,000
// issues with 2,000 dependencies, in Debian's headless Chromium driven by
// playwright-core. Figures: time to first render (the board's cards drawn)
// and to interactive (cards drawn and the live stream connected), time to the
// laid-out graph (from the board, and opened directly: nodes drawn, then zoom
// ready, and when its data and its layout were there), the bundle's size (raw
// and gzip), the server's resident memory, and the latency from a CLI write
// to the page showing it (p50, p90, p95; from the event's timestamp, written
// by the CLI, to the moment the page's DOM has the change). The store is
// written directly (creating 1,000 issues one by one would only time the
// fill), then indexed by `validate --fix`.
'use strict';
/* global window, document, location, MutationObserver -- the functions handed to page.evaluate run in the browser */
const { spawn, spawnSync } = require('node:child_process');
const { randomUUID } = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { gzipSync } = require('node:zlib');

const root = path.resolve(__dirname, '..');
const jitBin = path.join(root, 'bin', 'jit.js');
const store = require(path.join(root, 'dist', 'store', 'index.js'));
const { chromium } = require('playwright-core');

const ISSUES = Number(process.env.BENCH_WEB_ISSUES || 1000);
const EDGES = Number(process.env.BENCH_WEB_EDGES || 2 * ISSUES);
const LATENCY_SAMPLES = Number(process.env.BENCH_WEB_SAMPLES || 20);
const LAYERS = 20;
const CHROMIUM = process.env.JIT_TEST_CHROMIUM || '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Layers of issues, each waiting for issues of the one or two layers before it (a DAG like a real plan, not random long edges). */
async function bigStore(projectDir) {
  store.initJit(projectDir);
  const jitDir = path.join(projectDir, '.jit');
  let seed = 7;
  const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  const per = Math.ceil(ISSUES / LAYERS);
  const ids = Array.from({ length: ISSUES }, () => randomUUID());
  const deps = ids.map(() => new Set());
  let edges = 0;
  while (edges < EDGES) {
    const i = per + Math.floor(random() * (ISSUES - per));
    const layer = Math.floor(i / per);
    const from = Math.max(0, layer - 1 - Math.floor(random() * 2)) * per;
    const j = from + Math.floor(random() * per);
    if (j >= ISSUES || deps[i].has(ids[j])) continue;
    deps[i].add(ids[j]);
    edges++;
  }
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  const priorities = ['low', 'normal', 'high', 'critical'];
  for (let i = 0; i < ISSUES; i++) {
    const layer = Math.floor(i / per);
    const at = new Date(t0 + i * 1000).toISOString();
    const state = layer < 4 ? 'done' : layer === 4 ? (i % 3 === 0 ? 'in_progress' : 'ready') : 'backlog';
    const issue = {
      id: ids[i], title: `Plan step ${i}: an ordinary title of some length`, description: `Filler ${i}`, state, priority: priorities[i % 4],
      assignee: state === 'in_progress' ? `agent:worker-${i % 7}` : null, dependencies: [...deps[i]], gates_required: [], gates_status: {},
      labels: [`epic:e${i % 12}`, `type:${i % 2 ? 'task' : 'bug'}`], context: {}, created_at: at, updated_at: at,
    };
    fs.writeFileSync(path.join(jitDir, 'issues', `${ids[i]}.json`), JSON.stringify(issue));
  }
  const report = await store.openTracker(jitDir).validate({ fix: true });
  if (!report.ok) throw new Error(`the generated store is not valid: ${JSON.stringify(report.problems.slice(0, 3))}`);
  return { ids, edges };
}

function startServe(cwd) {
  const child = spawn(process.execPath, [jitBin, '--json', 'serve', '--port', '0'], { cwd, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  return new Promise((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      out += chunk;
      try {
        resolve({ child, url: JSON.parse(out).url });
      } catch {
        // not the whole document yet
      }
    });
    child.once('exit', (code) => reject(new Error(`jit serve exited ${code}: ${out}`)));
  });
}

function rssMiB(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)[1]) / 1024;
}

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

function bundleSizes() {
  const dir = path.join(root, 'dist', 'webapp');
  const sizes = {};
  for (const name of fs.readdirSync(dir).filter((n) => /\.(js|css|html)$/.test(n))) {
    const body = fs.readFileSync(path.join(dir, name));
    sizes[name] = { bytes: body.length, gzip: gzipSync(body).length };
  }
  return sizes;
}

/** Records, from inside the page, when the first card is drawn and when the live stream is connected too. */
function markMilestones() {
  const marks = (window.__marks = {});
  new MutationObserver(() => {
    if (marks.cards === undefined && document.querySelector('.card')) marks.cards = performance.now();
    if (marks.interactive === undefined && marks.cards !== undefined && document.querySelector('.live.on')) marks.interactive = performance.now();
  }).observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
}

async function main() {
  const project = fs.mkdtempSync(path.join(os.tmpdir(), 'jit-bench-web-'));
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'jit-bench-chromium-'));
  const { ids, edges } = await bigStore(project);
  const serve = await startServe(project);
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 1400, height: 900 } });
  const results = { issues: ISSUES, edges, runs: [] };
  try {
    for (let run = 0; run < 3; run++) {
      const page = await context.newPage();
      await page.addInitScript(markMilestones);
      // Each run lays the graph out anew (the page keeps the last layout in localStorage).
      await page.addInitScript(() => localStorage.clear());
      await page.goto(`${serve.url}#/board`);
      await page.waitForFunction(() => window.__marks.interactive !== undefined, null, { timeout: 120_000 });
      const marks = await page.evaluate(() => window.__marks);
      const cards = await page.locator('.card').count();
      const graphStart = await page.evaluate(() => ((location.hash = '#/graph'), performance.now()));
      await page.waitForFunction((n) => document.querySelectorAll('svg.graph g.node').length === n, ISSUES, { timeout: 300_000, polling: 50 });
      const graphMs = (await page.evaluate(() => performance.now())) - graphStart;
      await page.close();
      // The graph opened directly: from navigation to its nodes drawn, and to zoom/pan ready (the fit transform
      // applied); cold (the layout computed: the browser's stored one cleared first) and reopened (the stored one used).
      const openGraph = async (cold) => {
        const graphPage = await context.newPage();
        if (cold) await graphPage.addInitScript(() => localStorage.clear());
        await graphPage.goto(`${serve.url}#/graph`);
        await graphPage.waitForFunction((n) => document.querySelectorAll('svg.graph g.node').length === n, ISSUES, { timeout: 300_000, polling: 'raf' });
        const drawn = await graphPage.evaluate(() => performance.now());
        await graphPage.waitForFunction(() => document.querySelector('svg.graph > g')?.hasAttribute('transform'), null, { timeout: 300_000, polling: 'raf' });
        const ready = await graphPage.evaluate(() => performance.now());
        const layoutMs = await graphPage.evaluate(() => Number(document.querySelector('svg.graph').dataset.layoutMs));
        // Where the time went: the page's marks (graph.tsx) for the data read and the layout there.
        const mark = (name) => graphPage.evaluate((n) => performance.getEntriesByName(n)[0]?.startTime ?? NaN, name);
        const [dataAt, laidOutAt] = [await mark('jit:graph-data'), await mark('jit:graph-laid-out')];
        await graphPage.close();
        return { drawn: Math.round(drawn), ready: Math.round(ready), layoutMs: Math.round(layoutMs), dataAt: Math.round(dataAt), laidOutAt: Math.round(laidOutAt) };
      };
      const cold = await openGraph(true);
      const reopened = await openGraph(false);
      results.runs.push({
        first_render_ms: Math.round(marks.cards),
        interactive_ms: Math.round(marks.interactive),
        graph_ms: Math.round(graphMs),
        graph_first_render_ms: cold.drawn,
        graph_interactive_ms: cold.ready,
        graph_layout_ms: cold.layoutMs,
        graph_data_at_ms: cold.dataAt,
        graph_laid_out_at_ms: cold.laidOutAt,
        graph_reopened_first_render_ms: reopened.drawn,
        graph_reopened_interactive_ms: reopened.ready,
        graph_reopened_data_at_ms: reopened.dataAt,
        cards,
      });
    }
    // Latency: a CLI process changes a title; the page on the board shows it.
    const page = await context.newPage();
    await page.goto(`${serve.url}#/board`);
    await page.waitForSelector('.live.on', { timeout: 120_000 });
    const latencies = [];
    for (let i = 0; i < LATENCY_SAMPLES; i++) {
      const id = ids[ISSUES - 1 - i];
      const title = `latency sample ${i}`;
      const seen = page.waitForFunction(
        ([issueId, text]) => document.querySelector(`.card[data-id="${issueId}"] .card-title`)?.textContent === text && Date.now(),
        [id, title],
        { timeout: 120_000, polling: 'raf' },
      );
      const cli = spawnSync(process.execPath, [jitBin, '--json', 'issue', 'update', id, '--title', title], { cwd: project, encoding: 'utf8' });
      if (cli.status !== 0) throw new Error(cli.stdout + cli.stderr);
      const shownAt = await (await seen).jsonValue();
      const [event] = JSON.parse(spawnSync(process.execPath, [jitBin, '--json', 'events', 'query', '--issue', id, '--limit', '1'], { cwd: project, encoding: 'utf8' }).stdout).events;
      latencies.push(shownAt - Date.parse(event.timestamp));
    }
    results.latency_ms = { p50: percentile(latencies, 0.5), p90: percentile(latencies, 0.9), p95: percentile(latencies, 0.95), samples: latencies.length };
    results.server_rss_mib = Math.round(rssMiB(serve.child.pid) * 10) / 10;
    results.bundle = bundleSizes();
    const nodeStart = process.hrtime.bigint();
    spawnSync(process.execPath, ['-e', '0']);
    results.machine = { cpus: os.cpus().length, load: os.loadavg().map((n) => Math.round(n * 10) / 10), node_e_0_ms: Number((process.hrtime.bigint() - nodeStart) / 1_000_000n), node: process.version };
    await page.close();
  } finally {
    await context.close();
    serve.child.kill('SIGTERM');
    fs.rmSync(project, { recursive: true, force: true });
    fs.rmSync(profile, { recursive: true, force: true });
  }
  console.log(JSON.stringify(results, null, 2));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
