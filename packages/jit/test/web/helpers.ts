/**
 * For the web view's end-to-end tests: `jit serve` as a real process on a
 * temporary store, and Debian's Chromium (/usr/bin/chromium, installed by
 * .ci/run) driven by playwright-core. Nothing downloads a browser; a browser
 * that cannot start fails the test with the reason, it never skips it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { JIT_BIN, TEST_LOCK_TIMEOUT_SECONDS } from '../cli/helpers.js';

export const CHROMIUM = process.env['JIT_TEST_CHROMIUM'] ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** A fresh Chromium with its own profile directory; throws (failing the test) with the reason when it cannot start. */
export async function launchChromium(viewport = { width: 1400, height: 900 }): Promise<Browser> {
  const profile = mkdtempSync(path.join(tmpdir(), 'jit-web-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport, timeout: 120_000 });
  } catch (error) {
    rmSync(profile, { recursive: true, force: true });
    throw new Error(`Chromium could not start from ${CHROMIUM} (install it: apt-get install -y chromium; .ci/run does): ${(error as Error).message}`, { cause: error });
  }
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export interface Serve {
  process: ChildProcess;
  url: string;
  address: string;
  token: string | null;
  stderr(): string;
  stop(): Promise<void>;
}

/** Starts `jit --json serve --port 0 ...` in `cwd` (`env` added to the environment) and waits for the JSON line that says where it listens. */
export function startServe(cwd: string, args: readonly string[] = [], env: NodeJS.ProcessEnv = {}): Promise<Serve> {
  const child = spawn(process.execPath, [JIT_BIN, '--json', 'serve', '--port', '0', ...args], {
    cwd,
    env: { ...process.env, JIT_DIR: undefined, JIT_DATABASE_URL: undefined, JIT_DATABASE_SCHEMA: undefined, JIT_LOCK_TIMEOUT: TEST_LOCK_TIMEOUT_SECONDS, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      let started: { url: string; address: string; token: string | null };
      try {
        started = JSON.parse(stdout);
      } catch {
        return; // not the whole document yet
      }
      resolve({
        process: child,
        url: started.url,
        address: started.address,
        token: started.token,
        stderr: () => stderr,
        stop: async () => {
          if (child.exitCode === null) child.kill('SIGTERM');
          await exited;
        },
      });
    });
    child.once('exit', (code) => reject(new Error(`jit serve exited ${code} before listening\nstdout: ${stdout}\nstderr: ${stderr}`)));
  });
}

export interface WebProject {
  dir: string;
  remove(): void;
}

export function webProject(): WebProject {
  const dir = mkdtempSync(path.join(tmpdir(), 'jit-web-test-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Runs `define` (a separate jit process that adds gate `key` to the registry) while `page` shows the board, and
 * waits for the page to hear of it live: it reads the registry again (GET /api/gates, now with the gate) and its
 * activity view lists the gate_definition_created event. `waitMs` bounds a hung page, it is no speed goal.
 */
export async function expectGateDefinedLive(page: Page, key: string, define: () => Promise<void>, waitMs: number): Promise<void> {
  // A card on the board: the first load (the issues and the registry, read together) is over, so a read of the
  // registry after this is the live one.
  await page.waitForSelector('.live.on', { timeout: waitMs });
  await page.waitForSelector('.card', { timeout: waitMs });
  await page.evaluate("location.hash = '#/activity'"); // the same page and stream, another view
  const reread = page.waitForResponse(
    async (response) => new URL(response.url()).pathname === '/api/gates' && ((await response.json()) as { gates: { key: string }[] }).gates.some((gate) => gate.key === key),
    { timeout: waitMs },
  );
  await define();
  await reread;
  await page.locator('li.event-gate_definition_created', { hasText: key }).waitFor({ timeout: waitMs });
}

export interface DrawnEdges {
  /** Edges drawn (subpaths of the graph's edge paths: one per dependency), and of them the dashed, blocking ones. */
  total: number;
  blocking: number;
  /** Edges whose subpath is a routed line (a start and at least one more point). */
  routed: number;
  /** Arrowheads drawn (a closed triangle each), and of them the blocking ones. */
  arrowheads: number;
  blockingArrowheads: number;
}

/** What the graph view drew of the edges: all edges of a kind are one path, a subpath (`M x,y L x,y ...`) per edge. */
export async function drawnEdges(page: Page): Promise<DrawnEdges> {
  const paths: { classes: string[]; d: string }[] = await page.$$eval('svg.graph path.edges, svg.graph path.arrowheads', (elements) =>
    elements.map((element) => ({ classes: (element.getAttribute('class') ?? '').split(' '), d: element.getAttribute('d') ?? '' })),
  );
  const subpaths = (...classes: string[]) =>
    paths.filter((path) => classes.every((name) => path.classes.includes(name))).flatMap((path) => path.d.split(/(?=M)/).filter((part) => part !== ''));
  const lines = subpaths('edges');
  return {
    total: lines.length,
    blocking: subpaths('edges', 'blocking').length,
    routed: lines.filter((line) => /^M-?[\d.]+,-?[\d.]+(L-?[\d.]+,-?[\d.]+)+$/.test(line)).length,
    arrowheads: subpaths('arrowheads').filter((head) => /^M(-?[\d.]+,-?[\d.]+L){2}-?[\d.]+,-?[\d.]+z$/.test(head)).length,
    blockingArrowheads: subpaths('arrowheads', 'blocking').length,
  };
}
