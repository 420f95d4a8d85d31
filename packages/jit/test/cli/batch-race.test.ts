// Issue 16: batch-create racing single creates, updates and dependency adds, all real processes on one .jit/:
// nothing lost, no cycle, validate clean.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectsForThisFile } from './helpers.js';

const projects = projectsForThisFile();

describe('batch-create under concurrency', () => {
  it('batches, creates, updates and opposite dep adds at once: every write kept, one edge per pair, validate clean', async () => {
    const p = await projects.initialized();
    const base: string[] = [];
    for (let i = 0; i < 6; i++) base.push((await p.run(['issue', 'create', '-t', `Base ${i}`, '-q'])).stdout.trim());
    const batches = [0, 1, 2].map((b) => {
      const file = path.join(p.dir, `race-${b}.json`);
      const entries = Array.from({ length: 80 }, (_, i) => ({
        ref: `k${i}`,
        title: `Batch ${b} #${i}`,
        labels: [`batch:b${b}`],
        dependencies: [...(i > 0 ? [`k${i - 1}`] : []), ...(i % 20 === 0 ? [base[(b + i) % base.length]!] : [])],
      }));
      writeFileSync(file, JSON.stringify(entries));
      return file;
    });
    const runs = await Promise.all([
      ...batches.map((file) => p.run(['--json', 'issue', 'batch-create', '--from-json', file])),
      ...Array.from({ length: 6 }, (_, i) => p.run(['--json', 'issue', 'create', '-t', `Single ${i}`, '--dep', base[i]!])),
      ...base.map((id, i) => p.run(['--json', 'issue', 'update', id, '-l', `touched:u${i}`])),
      // Opposite edges on the same pairs: exactly one of each pair may win, the other is a CYCLE.
      p.run(['--json', 'dep', 'add', base[0]!, base[1]!]),
      p.run(['--json', 'dep', 'add', base[1]!, base[0]!]),
      p.run(['--json', 'dep', 'add', base[2]!, base[3]!]),
      p.run(['--json', 'dep', 'add', base[3]!, base[2]!]),
      p.run(['--json', 'issue', 'update', base[4]!, '--state', 'done']),
    ]);
    const [b0, b1, b2, ...rest] = runs;
    for (const run of [b0!, b1!, b2!, ...rest.slice(0, 12)]) expect(run.code, run.stderr).toBe(0);
    const depRuns = rest.slice(12, 16);
    for (const pair of [depRuns.slice(0, 2), depRuns.slice(2, 4)]) {
      expect(pair.map((run) => run.code).sort(), pair.map((run) => run.stderr).join('\n')).toEqual([0, 4]);
    }
    expect(rest[16]!.code, rest[16]!.stderr).toBe(0);

    const all = (await p.json(['query', 'all'])).issues as Array<{ id: string; title: string; labels: string[]; state: string; dependencies: string[] }>;
    expect(all).toHaveLength(6 + 3 * 80 + 6);
    const byId = new Map(all.map((issue) => [issue.id, issue]));
    for (const run of [b0!, b1!, b2!]) {
      const result = JSON.parse(run.stdout);
      expect(Object.keys(result.ids)).toHaveLength(80);
      for (const id of Object.values(result.ids) as string[]) expect(byId.has(id)).toBe(true);
      // The chain is intact: k(i) waits for k(i-1).
      for (let i = 1; i < 80; i++) expect(byId.get(result.ids[`k${i}`])!.dependencies).toContain(result.ids[`k${i - 1}`]);
    }
    base.forEach((id, i) => expect(byId.get(id)!.labels).toContain(`touched:u${i}`));
    expect(byId.get(base[4]!)!.state).toBe('done');
    const validate = await p.run(['--json', 'validate']);
    expect(validate.code, validate.stdout).toBe(0);
    expect(JSON.parse(validate.stdout)).toMatchObject({ ok: true, problems: [] });
  }, 180_000);
});
