// `jit status` and `jit query ready` skip commander for their plain forms
// (src/cli/main.ts). Every form must answer exactly as the commander path
// does, and anything else must still reach commander.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initializedProject, runJit, type TempProject } from './helpers.js';

let project: TempProject;
let elsewhere: string;
beforeAll(async () => {
  project = await initializedProject();
  await project.json(['issue', 'create', '--title', 'one']);
  elsewhere = mkdtempSync(path.join(tmpdir(), 'jit-cli-elsewhere-'));
});
afterAll(() => {
  project.remove();
  rmSync(elsewhere, { recursive: true, force: true });
});

describe.concurrent('fast path of status and query ready', () => {
  it('--dir PATH, --dir=PATH and --json in any position give the same answers', async () => {
    const forms = [
      ['--json', '--dir', project.dir, 'status'],
      ['status', '--dir=' + project.dir, '--json'],
      ['--dir=' + project.jitDir, 'status', '--json'],
    ];
    const outputs = await Promise.all(forms.map((args) => runJit(args, { cwd: elsewhere })));
    for (const run of outputs) {
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({ total: 1, ready: 1 });
    }
    const ready = await runJit(['query', '--json', 'ready', '--dir', project.dir], { cwd: elsewhere });
    expect(ready.code).toBe(0);
    expect(JSON.parse(ready.stdout)).toMatchObject({ count: 1 });
  });

  it('anything beyond the plain forms still goes through commander', async () => {
    const extra = await runJit(['--json', 'status', 'extra'], { cwd: project.dir });
    expect(extra.code).toBe(2);
    expect(JSON.parse(extra.stdout).error.code).toBe('INVALID_ARGUMENT');
    const help = await runJit(['status', '--help'], { cwd: project.dir });
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: jit status/);
    // A repeated --dir is commander's to judge (the last one wins there).
    const twice = await runJit(['--json', '--dir', elsewhere, '--dir', project.dir, 'status'], { cwd: elsewhere });
    expect(twice.code).toBe(0);
    expect(JSON.parse(twice.stdout)).toMatchObject({ total: 1 });
  });

  it('a value-taking global option takes the next argument whatever it looks like, as commander does', async () => {
    // The folder is named "--json": no JSON was asked for, so the error is one line on stderr.
    for (const args of [['--dir', '--json', 'status'], ['query', 'ready', '--dir', '--json']]) {
      const run = await runJit(args, { cwd: elsewhere });
      expect(run.code, args.join(' ')).toBe(3);
      expect(run.stdout).toBe('');
      expect(run.stderr).toMatch(/^jit: error: No jit store at .*--json .*\[NOT_INITIALIZED\]\n$/);
    }
    const json = await runJit(['--json', '--dir', '--json', 'status'], { cwd: elsewhere });
    expect(json.code).toBe(3);
    expect(JSON.parse(json.stdout).error.code).toBe('NOT_INITIALIZED');
  });

  it('errors on the fast path are rendered like everywhere else', async () => {
    const missing = await runJit(['--json', 'status'], { cwd: elsewhere });
    expect(missing.code).toBe(3);
    expect(JSON.parse(missing.stdout).error.code).toBe('NOT_INITIALIZED');
    expect(missing.stderr).toBe('');
    const human = await runJit(['status'], { cwd: elsewhere });
    expect(human.stderr.trim().split('\n')).toHaveLength(1);
    const badEnv = await runJit(['query', 'ready', '--json'], { cwd: project.dir, env: { JIT_LOCK_TIMEOUT: 'soon' } });
    expect(badEnv.code).toBe(2);
    expect(JSON.parse(badEnv.stdout).error.code).toBe('INVALID_ENV');
  });
});
