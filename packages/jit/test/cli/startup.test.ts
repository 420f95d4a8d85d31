// Start-up is most of a CLI run: each command line loads only what it uses
// (src/cli/main.ts, program.ts). --version and the plain status / query ready
// never load commander or the other command groups; a command loads its own
// group only; the program's help and --schema load every group. No command
// that reads or writes valid files loads the schema library (zod): it is
// loaded only to word what is wrong with a broken file. A run is the bundled
// CLI (bin/cli-bundle.js), one script, so these listings run the separate
// modules (JIT_CLI_BUNDLE=0), the same code and the same lazy require()s;
// test/cli/bundle.test.ts checks that a plain run is the bundle.
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { devNull, tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, initializedProject, JIT_BIN, runJit, type TempProject } from './helpers.js';

const LIST_MODULES = path.join(__dirname, 'fixtures', 'list-modules.js');
const GROUPS = ['init', 'issue', 'dep', 'registry', 'gate', 'query', 'label', 'status', 'events', 'graph', 'validate', 'migrate', 'transfer', 'db', 'debug', 'mcp', 'serve', 'agent', 'agents'];

let project: TempProject;
let scratch: string;
let issueId: string;
beforeAll(async () => {
  project = await initializedProject();
  issueId = (await project.json<{ id: string }>(['issue', 'create', '--title', 'one'])).id;
  scratch = mkdtempSync(path.join(tmpdir(), 'jit-cli-modules-'));
});
afterAll(() => {
  project.remove();
  rmSync(scratch, { recursive: true, force: true });
});

/** Every CommonJS module a successful run of `jit args` loaded. */
let runs = 0;

async function modulesOf(args: string[]): Promise<string[]> {
  // A file per run: tests run concurrently, and two may ask for the same command line (one read the other's, half written).
  const out = path.join(scratch, `${++runs}-${args.join('_').replace(/[^\w-]/g, '_')}.txt`);
  const run = await runJit(args, {
    cwd: project.dir,
    env: { NODE_OPTIONS: `--require ${JSON.stringify(LIST_MODULES)}`, JIT_TEST_MODULES_OUT: out, JIT_CLI_BUNDLE: '0' },
  });
  expect(run.code, run.stderr).toBe(0);
  return readFileSync(out, 'utf8').split('\n');
}

const loadsZod = (modules: string[]): boolean => modules.some((file) => /[\\/]node_modules[\\/]zod[\\/]/.test(file));

/** What a run of `jit args` loaded: whether commander, the store, and which command groups. */
async function loadedBy(args: string[]): Promise<{ commander: boolean; store: boolean; groups: string[] }> {
  const modules = await modulesOf(args);
  // commands/issue.js and commands/issue-batch.js are both the issue group.
  const groups = [...new Set(modules.flatMap((file) => /[\\/]dist[\\/]cli[\\/]commands[\\/](\w+)(?:-[\w-]+)?\.js$/.exec(file)?.[1] ?? []))];
  return {
    commander: modules.some((file) => /[\\/]node_modules[\\/]commander[\\/]/.test(file)),
    store: modules.some((file) => /[\\/]dist[\\/]store[\\/]jit-dir\.js$/.test(file)),
    groups: groups.sort(),
  };
}

describe.concurrent('what a command line loads', () => {
  it('--version: neither commander, nor the store, nor a command group', async () => {
    for (const args of [['--version'], ['--json', '-V'], ['issue', 'create', '--version']]) {
      expect(await loadedBy(args), args.join(' ')).toEqual({ commander: false, store: false, groups: [] });
    }
  });

  it('plain status and query ready: their own module and the store, not commander', async () => {
    expect(await loadedBy(['status'])).toEqual({ commander: false, store: true, groups: ['status'] });
    expect(await loadedBy(['--json', 'query', 'ready', '--dir', project.dir])).toEqual({ commander: false, store: true, groups: ['query'] });
  });

  it('output to /dev/null (a character device, as a terminal is) does not load node:tty and the stream modules it brings', () => {
    const out = path.join(scratch, 'dev-null.txt');
    const stdout = openSync(devNull, 'w');
    try {
      const run = spawnSync(process.execPath, [JIT_BIN, 'status'], {
        cwd: project.dir,
        stdio: ['ignore', stdout, 'pipe'],
        encoding: 'utf8',
        env: cleanEnv({ NODE_OPTIONS: `--require ${JSON.stringify(LIST_MODULES)}`, JIT_TEST_MODULES_OUT: out }),
      });
      expect(run.status, run.stderr).toBe(0);
    } finally {
      closeSync(stdout);
    }
    // Windows' NUL is left to node:tty (output.ts isTerminal).
    expect(readFileSync(out, 'utf8').split('\n').includes('node:tty')).toBe(process.platform === 'win32');
  });

  it('the file store never loads the PostgreSQL driver or backend (issue 17: ~100 ms of import)', async () => {
    for (const args of [['status'], ['issue', 'show', issueId], ['--json', 'query', 'ready']]) {
      const modules = await modulesOf(args);
      expect(modules.some((file) => /[\\/]dist[\\/]store[\\/]jit-dir\.js$/.test(file)), args.join(' ')).toBe(true); // the listing works
      expect(
        modules.filter((file) => /[\\/]node_modules[\\/]pg[\\/]|[\\/]dist[\\/]store[\\/]pg-(storage|config|schema)\.js$/.test(file)),
        args.join(' '),
      ).toEqual([]);
    }
  });

  it('--version loads no module of the store; status, ready and a plain update open the store without its whole index', async () => {
    const storeModules = (modules: string[]): string[] => modules.flatMap((file) => /[\\/]dist[\\/]store[\\/]([\w-]+)\.js$/.exec(file)?.[1] ?? []);
    expect(storeModules(await modulesOf(['--version']))).toEqual([]);
    const rarelyUsed = ['index', 'memory-storage', 'debug-locks', 'migrate', 'transfer', 'gate-checks', 'pg-config', 'pg-storage'];
    for (const args of [['status'], ['--json', 'query', 'ready'], ['--json', 'issue', 'update', issueId, '--title', 'renamed']]) {
      const loaded = storeModules(await modulesOf(args));
      expect(loaded, args.join(' ')).toContain('jit-dir'); // the listing works
      expect(loaded.filter((name) => rarelyUsed.includes(name)), args.join(' ')).toEqual([]);
    }
  });

  it('any other command: commander and its own group only', async () => {
    expect(await loadedBy(['issue', 'show', issueId])).toEqual({ commander: true, store: true, groups: ['issue'] });
    expect(await loadedBy(['--json', 'graph', 'roots'])).toEqual({ commander: true, store: true, groups: ['graph'] });
  });

  it('help of a group loads that group only; the program help and --schema load all', async () => {
    for (const args of [['issue', '--help'], ['help', 'issue'], ['issue', 'help', 'create']]) {
      expect(await loadedBy(args), args.join(' ')).toEqual({ commander: true, store: false, groups: ['issue'] });
    }
    for (const args of [['--help'], ['help'], ['--schema']]) {
      expect(await loadedBy(args), args.join(' ')).toEqual({ commander: true, store: false, groups: [...GROUPS].sort() });
    }
  });

  it('the web server loads only for `jit serve` itself, never for help, --schema or another command', async () => {
    for (const args of [['--help'], ['--schema'], ['serve', '--help'], ['status'], ['issue', 'show', issueId]]) {
      const web = (await modulesOf(args)).filter((file) => /[\\/]dist[\\/]web[\\/]/.test(file));
      expect(web, args.join(' ')).toEqual([]);
    }
  });
});

describe.concurrent('no schema library on the hot path', () => {
  it.each([
    [['status']],
    [['--json', 'query', 'ready']],
    [['issue', 'show', 'ID']],
    [['--json', 'issue', 'update', 'ID', '--title', 'renamed']],
    [['--json', 'issue', 'create', '--title', 'two', '--label', 'type:bug']],
    [['--json', 'registry', 'list']],
    [['events', 'tail']],
    [['--json', 'events', 'query', '--issue', 'ID']],
    [['validate']],
  ])('jit %j does not load zod', async (args) => {
    const modules = await modulesOf(args.map((arg) => (arg === 'ID' ? issueId : arg)));
    expect(modules.some((file) => /[\\/]dist[\\/]store[\\/]schema\.js$/.test(file))).toBe(true); // the check is there to be seen
    expect(loadsZod(modules)).toBe(false);
  });
});
