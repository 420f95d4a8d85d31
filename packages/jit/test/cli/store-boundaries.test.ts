// Where a store ends: a folder that is not a `.jit/` store is never written,
// and validate --fix never replaces an index.json that jit did not write.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { callTool, connectMcp } from '../mcp/helpers.js';
import { errorOf, projectsForThisFile, runJit } from './helpers.js';

const projects = projectsForThisFile();

/** Every entry below `dir` with its size and mtime: proof that nothing was written. */
function tree(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .sort()
    .map((name) => {
      const stat = statSync(path.join(dir, name));
      return `${name}:${stat.size}:${stat.mtimeMs}`;
    });
}

describe('a folder that is not a store', () => {
  it('--dir / JIT_DIR at a folder with its own index.json but no .jit/ is NOT_INITIALIZED, and nothing is written there', async () => {
    const p = projects.empty();
    const folder = path.join(p.dir, 'data');
    mkdirSync(folder);
    writeFileSync(path.join(folder, 'index.json'), '{"pages": ["home", "about"]}\n');
    const before = tree(folder);
    const attempts: [string[], NodeJS.ProcessEnv][] = [
      [['--dir', folder, 'issue', 'create', '-t', 'lost?'], {}],
      [['issue', 'create', '-t', 'lost?'], { JIT_DIR: folder }],
      [['--dir', folder, 'status'], {}],
      [['--dir', folder, 'validate', '--fix'], {}],
      [['validate', '--fix'], { JIT_DIR: folder }],
    ];
    for (const [args, env] of attempts) {
      const run = await runJit(['--json', ...args], { cwd: p.dir, env });
      expect(run.code, run.stdout + run.stderr).toBe(3);
      const error = errorOf(run);
      expect(error.code).toBe('NOT_INITIALIZED');
      expect(error.message).toContain(folder);
      expect(error.suggestions.join(' ')).toMatch(/jit init/);
      expect(error.suggestions.join(' ')).not.toMatch(/validate/);
    }
    expect(tree(folder)).toEqual(before);
    expect(readFileSync(path.join(folder, 'index.json'), 'utf8')).toBe('{"pages": ["home", "about"]}\n');
  });

  it('the MCP server started on such a folder refuses validate --fix too, and writes nothing', async () => {
    const p = projects.empty();
    writeFileSync(path.join(p.dir, 'index.json'), '{"pages": []}\n');
    const before = tree(p.dir);
    const session = await connectMcp(p.dir, { env: { JIT_DIR: p.dir } });
    try {
      for (const [tool, args] of [['validate', { fix: true }], ['issue_create', { title: 'lost?' }]] as const) {
        const result = await callTool(session.client, tool, args);
        expect(result.isError).toBe(true);
        expect(result.structuredContent).toMatchObject({ error: { code: 'NOT_INITIALIZED' } });
      }
    } finally {
      await session.close();
    }
    expect(tree(p.dir)).toEqual(before);
  });

  it('--dir at a .jit folder or at the project that holds one still works', async () => {
    const p = await projects.initialized();
    await p.json(['issue', 'create', '-t', 'kept']);
    for (const dir of [p.dir, p.jitDir]) {
      const run = await runJit(['--json', '--dir', dir, 'status'], { cwd: path.dirname(p.dir) });
      expect(run.code, run.stderr).toBe(0);
      expect(JSON.parse(run.stdout).total).toBe(1);
    }
  });
});

describe('an index.json jit did not write', () => {
  it('validate reports it as not fixable, --fix leaves its bytes alone, and once moved away --fix rebuilds', async () => {
    const p = await projects.initialized();
    const issue = await p.json(['issue', 'create', '-t', 'survivor']);
    const indexPath = path.join(p.jitDir, 'index.json');
    for (const foreign of ['{"pages": ["home"]}\n', 'name,value\nalpha,1\n', '[1, 2, 3]\n']) {
      writeFileSync(indexPath, foreign);
      const read = await p.run(['--json', 'status']);
      expect(read.code).toBe(10);
      const readError = errorOf(read);
      expect(readError.code).toBe('CORRUPT_FILE');
      expect(readError.suggestions.join(' ')).toMatch(/mv /);
      // A write no reader could see is refused before it commits, not acknowledged.
      const write = await p.run(['--json', 'issue', 'create', '-t', 'lost?']);
      expect(write.code).toBe(10);
      expect(errorOf(write).code).toBe('CORRUPT_FILE');
      expect(readdirSync(path.join(p.jitDir, 'issues')).filter((name) => name.endsWith('.json'))).toEqual([`${issue.id}.json`]);

      const fix = await p.run(['--json', 'validate', '--fix']);
      expect(fix.code, fix.stdout).toBe(4);
      const report = JSON.parse(fix.stdout);
      expect(report.fixed).toEqual([]);
      expect(report.problems).toEqual([expect.objectContaining({ kind: 'corrupt_file', path: indexPath, fixable: false })]);
      expect(readFileSync(indexPath, 'utf8')).toBe(foreign);
    }
    renameSync(indexPath, `${indexPath}.bak`);
    const noIndex = await p.run(['--json', 'issue', 'update', issue.id, '-t', 'renamed']);
    expect(noIndex.code).toBe(10);
    expect(errorOf(noIndex).code).toBe('CORRUPT_FILE');
    expect((await p.json(['validate', '--fix'])).fixed).toEqual([
      `rebuilt ${path.join(p.jitDir, 'index.db')} from 1 issue files`,
      expect.stringContaining(`wrote ${indexPath}: the store's format manifest`),
    ]);
    expect((await p.json(['issue', 'list'])).issues.map((s: { id: string }) => s.id)).toEqual([issue.id]);
  });
});

describe('jit init on a store whose index.json is missing', () => {
  it('rebuilds the index from the issue files instead of hiding every issue', async () => {
    const p = await projects.initialized();
    const first = await p.json(['issue', 'create', '-t', 'first']);
    const second = await p.json(['issue', 'create', '-t', 'second']);
    await p.json(['dep', 'add', second.id, first.id]);
    const claimed = await p.json(['issue', 'create', '-t', 'taken']);
    await p.json(['issue', 'claim', claimed.id, 'agent:a']);
    rmSync(path.join(p.jitDir, 'index.json'));

    const init = await p.json(['init']);
    expect(init).toMatchObject({ path: p.jitDir, created: false, repaired: ['index.json'], rebuilt_index: { issues: 3, unreadable: [] } });
    const human = await p.run(['init']);
    expect(human.stdout).toMatch(/nothing changed/);

    expect((await p.json(['status'])).total).toBe(3);
    expect((await p.json(['issue', 'list'])).issues.map((s: { id: string }) => s.id).sort()).toEqual([first.id, second.id, claimed.id].sort());
    expect((await p.json(['query', 'ready'])).issues.map((s: { id: string }) => s.id)).toEqual([first.id]);
    expect((await p.json(['issue', 'claim-next', 'agent:b'])).id).toBe(first.id);
    expect(await p.json(['validate'])).toMatchObject({ ok: true, problems: [] });
  });

  it('says so in words, and names issue files it could not read', async () => {
    const p = await projects.initialized();
    await p.json(['issue', 'create', '-t', 'fine']);
    const broken = await p.json(['issue', 'create', '-t', 'broken']);
    const brokenFile = path.join(p.jitDir, 'issues', `${broken.id}.json`);
    writeFileSync(brokenFile, '{"title": ');
    rmSync(path.join(p.jitDir, 'index.json'));
    const human = await p.run(['init']);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toContain('index.json (rebuilt from 1 issue file;');
    expect(human.stdout).toContain(brokenFile);
    expect(human.stdout).toMatch(/jit validate/);
  });

  it('racing inits and writers: every acknowledged issue is listed afterwards', async () => {
    const p = await projects.initialized();
    const before = await Promise.all(['a', 'b', 'c'].map((title) => p.json(['issue', 'create', '-t', title])));
    rmSync(path.join(p.jitDir, 'index.json'));
    const env = { JIT_LOCK_TIMEOUT: '60' };
    const runs = await Promise.all([
      ...Array.from({ length: 4 }, () => p.run(['--json', 'init'], env)),
      ...Array.from({ length: 8 }, (_, i) => p.run(['--json', 'issue', 'create', '-t', `during ${i}`], env)),
    ]);
    const created = runs.filter((run) => run.code === 0 && JSON.parse(run.stdout).id).map((run) => JSON.parse(run.stdout).id as string);
    // A create that ran before an init rebuilt the index is refused (CORRUPT_FILE, nothing written): readers could not have seen it.
    for (const run of runs) expect([0, 10], run.stdout).toContain(run.code);
    for (const run of runs.filter((r) => r.code === 10)) expect(JSON.parse(run.stdout).error.code).toBe('CORRUPT_FILE');
    expect(runs.slice(0, 4).every((run) => run.code === 0)).toBe(true);
    expect(runs.filter((run) => JSON.parse(run.stdout).rebuilt_index !== undefined).length).toBeLessThanOrEqual(1);
    const listed = (await p.json(['issue', 'list'])).issues.map((s: { id: string }) => s.id).sort();
    expect(listed).toEqual([...before.map((issue) => issue.id), ...created].sort());
    expect((await p.json(['validate', '--fix'])).ok).toBe(true);
    expect((await p.json(['status'])).total).toBe(before.length + created.length);
  });
});
