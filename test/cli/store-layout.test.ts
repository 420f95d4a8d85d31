// A .jit/ that lost parts of its layout (committed to git and cloned), through the built binary.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectsForThisFile, runJit } from './helpers.js';

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
});
