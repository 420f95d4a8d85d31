// Adversarial review of gate checks, with the built `jit` and real files:
// a run record corrupted by hand, a checker whose folder is missing.
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectsForThisFile } from '../cli/helpers.js';

const projects = projectsForThisFile();
const node = JSON.stringify(process.execPath);
const js = (code: string): string => `${node} -e ${JSON.stringify(code)}`;

describe.concurrent('gate checks under abuse', () => {
  it('a run record corrupted by hand: issue show still works, gate runs lists the readable runs and names the unreadable file', async () => {
    const p = await projects.initialized();
    await p.json(['registry', 'add', 'tests', '-t', 'Tests', '--checker', js('console.log("ok")')]);
    const id = (await p.json(['issue', 'create', '-t', 'Work', '-g', 'tests'])).id;
    await p.json(['gate', 'check', id, 'tests']);
    await p.json(['gate', 'check', id, 'tests']);
    const dir = path.join(p.jitDir, 'gate-runs', id);
    const broken = path.join(dir, readdirSync(dir).filter((name) => name.endsWith('.json'))[0]!);
    writeFileSync(broken, '{"run_id": ');
    const shown = await p.json(['issue', 'show', id]);
    expect(shown.last_runs.tests.status).toBe('passed');
    const history = await p.json(['gate', 'runs', id]);
    expect(history.count).toBe(1);
    expect(history.unreadable).toEqual([expect.objectContaining({ path: broken, code: 'CORRUPT_FILE' })]);
    const text = await p.run(['gate', 'runs', id]);
    expect(text.code).toBe(0);
    expect(text.stdout + text.stderr).toContain(broken);
    // JSON that is no run record at all (an array, a number) is unreadable too, not a crash.
    writeFileSync(broken, '[1, 2]');
    expect((await p.json(['gate', 'runs', id])).unreadable).toEqual([expect.objectContaining({ path: broken })]);
  });

  it('a checker whose working directory is missing fails with spawn_error naming the folder, not "command not found"', async () => {
    const p = await projects.initialized();
    await p.json(['registry', 'add', 'm', '-t', 'M', '--checker', js('process.exit(0)'), '--cwd', 'nowhere']);
    const id = (await p.json(['issue', 'create', '-t', 'Work', '-g', 'm'])).id;
    const result = await p.run(['--json', 'gate', 'check', id, 'm']);
    expect(result.code).toBe(4);
    const run = JSON.parse(result.stdout).runs[0];
    expect(run).toMatchObject({ status: 'failed', reason: 'spawn_error' });
    expect(run.message).toContain(path.join(p.dir, 'nowhere'));
  });
});
