// `jit serve` on a PostgreSQL store (issue 18), in a real headless Chromium: the page stays live on the database's
// own change signal (LISTEN/NOTIFY, src/store/pg-change-feed.ts). The writers are separate `jit` processes with
// JIT_DATABASE_URL; the server runs in a folder with no .jit/ (the database alone is the store).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import type { Page } from 'playwright-core';
import { jitJson, runJit } from '../cli/helpers.js';
import { freshDatabase } from '../support/postgres.js';
import { expectGateDefinedLive, launchChromium, startServe, type Browser, type Serve } from './helpers.js';

/** Waits on the DOM are generous: the machine may be loaded; this asserts what the page shows, not how fast. */
const DOM_WAIT_MS = 60_000;

let cwd: string;
let url: string;
let serve: Serve;
let browser: Browser;
const pageErrors: string[] = [];

const jit = <T = any>(args: string[]): Promise<T> => jitJson<T>(['--json', ...args], { cwd, env: { JIT_DATABASE_URL: url } });

beforeAll(async () => {
  cwd = mkdtempSync(path.join(tmpdir(), 'jit-web-pg-'));
  url = await freshDatabase();
  await jit(['db', 'init']);
  await jit(['issue', 'create', '--title', 'There before the page']);
  serve = await startServe(cwd, ['--as', 'human:tester'], { JIT_DATABASE_URL: url });
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await serve?.stop();
  if (cwd) rmSync(cwd, { recursive: true, force: true });
});

async function open(hash: string): Promise<Page> {
  const page = await browser.context.newPage();
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await page.goto(`${serve.url}${hash}`);
  return page;
}

describe('jit serve on PostgreSQL, in Chromium', () => {
  it('an issue created by a separate jit process appears on the open board without a reload', async () => {
    const page = await open('#/board');
    await page.waitForSelector('.live.on', { timeout: DOM_WAIT_MS });
    await page.waitForSelector('.card', { timeout: DOM_WAIT_MS });
    const created = await runJit(['--json', 'issue', 'create', '--title', 'Made on the database by another agent'], { cwd, env: { JIT_DATABASE_URL: url } });
    expect(created.code, created.stderr).toBe(0);
    const id = (JSON.parse(created.stdout) as { id: string }).id;
    const card = await page.waitForSelector(`.column[data-state="ready"] .card[data-id="${id}"]`, { timeout: DOM_WAIT_MS });
    expect(await card.textContent()).toContain('Made on the database by another agent');
    // The change came from the stream: the page never navigated.
    expect(page.url()).toBe(`${serve.url}#/board`);
    await page.close();
  });

  it('a gate defined by the CLI reaches the open page: it reads the registry again and lists the event', async () => {
    const page = await open('#/board');
    await expectGateDefinedLive(page, 'pg-live-review', () => jit(['registry', 'add', 'pg-live-review', '--title', 'Reviewed live']), DOM_WAIT_MS);
    await page.close();
  });

  it('every connection of the server cut (pg_terminate_backend) while the page is open: the page stays live and shows an issue made afterwards', async () => {
    const page = await open('#/board');
    await page.waitForSelector('.live.on', { timeout: DOM_WAIT_MS });
    await page.waitForSelector('.card', { timeout: DOM_WAIT_MS });
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      const { rows } = await admin.query<{ ended: boolean }>(
        `SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity WHERE application_name IN ('jit', 'jit-serve') AND datname = current_database()`,
      );
      expect(rows.length).toBeGreaterThan(0); // the feed's connection at least
    } finally {
      await admin.end();
    }
    const created = await jit<{ id: string }>(['issue', 'create', '--title', 'Made after the connections were cut']);
    const card = await page.waitForSelector(`.column[data-state="ready"] .card[data-id="${created.id}"]`, { timeout: DOM_WAIT_MS });
    expect(await card.textContent()).toContain('Made after the connections were cut');
    expect(page.url()).toBe(`${serve.url}#/board`);
    // The server answers from fresh connections.
    expect((await fetch(`${serve.url}api/issues/${created.id}`)).status).toBe(200);
    await page.close();
  });

  it('no page error', () => {
    expect(pageErrors).toEqual([]);
  });
});
