// A .jit/ that lost parts of its layout (committed to git and cloned; a file where the folder belongs)
// and what `jit init` says about it, through the built binary.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { errorOf, projectsForThisFile, runJit } from './helpers.js';

const projects = projectsForThisFile();

function git(cwd: string, ...args: string[]): string {
  const env = { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_SYSTEM: '/dev/null' };
  return execFileSync('git', ['-c', 'user.name=jit test', '-c', 'user.email=jit@example.invalid', '-c', 'init.defaultBranch=main', ...args], {
    cwd,
    env,
    encoding: 'utf8',
  });
}

describe.concurrent('store layout', () => {
  it('a .jit/ committed to git and cloned (no issues/, no pending/) works from the first command', async () => {
    const origin = projects.empty();
    git(origin.dir, 'init', '-q');
    expect((await origin.run(['init'])).code).toBe(0);
    git(origin.dir, 'add', '-A');
    git(origin.dir, 'commit', '-qm', 'init');
    // Git keeps no empty folders: the clone has only the files.
    expect(git(origin.dir, 'ls-files').trim().split('\n').sort()).toEqual(['.jit/.gitignore', '.jit/events.jsonl', '.jit/gates.json', '.jit/index.json']);

    const parent = projects.empty();
    git(parent.dir, 'clone', '-q', origin.dir, 'clone');
    const clone = path.join(parent.dir, 'clone');
    const jitDir = path.join(clone, '.jit');
    expect(existsSync(path.join(jitDir, 'issues'))).toBe(false);
    expect(existsSync(path.join(jitDir, 'pending'))).toBe(false);
    const json = async (...args: string[]): Promise<any> => {
      const run = await runJit(['--json', ...args], { cwd: clone });
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      return JSON.parse(run.stdout);
    };

    // validate (and --fix) work on the clone as it is, and say what they created.
    const report = await json('validate');
    expect(report).toMatchObject({ ok: true, problems: [], fixed: [] });
    expect(report.recovered).toEqual([expect.stringMatching(/issues\//), expect.stringMatching(/pending\//)]);
    rmSync(path.join(jitDir, 'issues'), { recursive: true });
    rmSync(path.join(jitDir, 'pending'), { recursive: true });
    expect(await json('validate', '--fix')).toMatchObject({ ok: true, problems: [] });

    // The first create on a fresh clone.
    rmSync(path.join(jitDir, 'issues'), { recursive: true });
    rmSync(path.join(jitDir, 'pending'), { recursive: true });
    const created = await json('issue', 'create', '--title', 'first issue');
    expect(created).toMatchObject({ title: 'first issue', state: 'ready' });
    expect(statSync(path.join(jitDir, 'issues')).isDirectory()).toBe(true);
    expect(readdirSync(path.join(jitDir, 'issues'))).toContain(`${created.id}.json`);
    const claimed = await json('issue', 'claim-next', 'agent:a');
    expect(claimed.id).toBe(created.id);
    expect(await json('validate')).toMatchObject({ ok: true, problems: [], recovered: [] });
    expect((await json('status')).total).toBe(1);
  });

  it('init reports what it recreated, and "nothing changed" only when nothing did', async () => {
    const p = projects.empty();
    const first = await p.json(['init']);
    expect(first).toEqual({ path: p.jitDir, created: true, repaired: [] });
    rmSync(path.join(p.jitDir, 'issues'), { recursive: true });
    rmSync(path.join(p.jitDir, 'pending'), { recursive: true });
    rmSync(path.join(p.jitDir, 'index.json'));
    const human = await p.run(['init']);
    expect(human.code).toBe(0);
    expect(human.stdout).toBe(`Repaired the jit tracker in ${p.jitDir}: created issues/, pending/, index.json.\n`);
    expect(human.stdout).not.toMatch(/nothing changed/);
    rmSync(path.join(p.jitDir, 'pending'), { recursive: true });
    expect(await p.json(['init'])).toEqual({ path: p.jitDir, created: false, repaired: ['pending/'] });
    expect(await p.json(['init'])).toEqual({ path: p.jitDir, created: false, repaired: [] });
    expect((await p.run(['init'])).stdout).toBe(`A jit tracker already exists in ${p.jitDir}; nothing changed.\n`);
  });

  it('init --dir on a folder that does not exist says so and suggests creating it', async () => {
    const p = projects.empty();
    const missing = path.join(p.dir, 'newproj', 'sub');
    const run = await runJit(['--json', 'init', '--dir', missing], { cwd: p.dir });
    expect(run.code).toBe(2);
    const error = errorOf(run);
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.message).toBe(`Cannot initialise ${missing}: it does not exist.`);
    expect(error.suggestions.join(' ')).toContain(`mkdir -p ${missing}`);
    expect(existsSync(path.join(p.dir, 'newproj'))).toBe(false);
    // A file is not a directory, and is said to be one.
    writeFileSync(path.join(p.dir, 'afile'), 'x');
    const file = errorOf(await runJit(['--json', 'init', '--dir', path.join(p.dir, 'afile')], { cwd: p.dir }));
    expect(file.message).toMatch(/it is not a directory/);
  });

  it('a .jit that is a regular file gets one clear message saying to move it away, from status and from init', async () => {
    const p = projects.empty();
    writeFileSync(p.jitDir, 'hi\n');
    for (const args of [['status'], ['init'], ['validate'], ['issue', 'create', '-t', 'x']]) {
      const run = await runJit(['--json', ...args], { cwd: p.dir });
      expect(run.code).not.toBe(0);
      const error = errorOf(run);
      expect(error.message).toContain(`${p.jitDir} is a file, not a directory`);
      expect(error.suggestions.join(' ')).toMatch(/Move .* away/);
      expect(error.suggestions.join(' ')).not.toMatch(/jit validate/);
    }
    mkdirSync(path.join(p.dir, 'sub'));
    // From a subfolder too: the nearest .jit wins, as git's .git does.
    expect(errorOf(await runJit(['--json', 'status'], { cwd: path.join(p.dir, 'sub') })).message).toContain(`${p.jitDir} is a file`);
  });
});
