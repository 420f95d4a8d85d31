// A store written by the previous version of jit (index.json format 1, every
// summary in it) is read and upgraded: index.db is built from the issue
// files, index.json becomes the format-2 manifest, .gitignore gains the
// cache's lines, and no issue file changes. The fixture (fixtures/store-v1)
// was made by the CLI of commit 8541b6e, the last version that wrote format 1:
// init; three issues in a chain (Ship it -> Write the migration -> Design the
// schema); a gate; a claim; a rejected issue.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openTracker } from '../../src/store/index.js';
import { JIT_BIN } from '../cli/helpers.js';
import { indexRows } from '../support/index-db.js';

const FIXTURE = path.join(__dirname, 'fixtures', 'store-v1');
const DESIGN = 'd2aa5658-7152-447d-951d-574da9ebc7af';
const MIGRATION = '16344491-440a-46b7-a8de-a368a3ecb93f';
const SHIP = '5aeeded5-bf7d-4052-8f10-4bb28b365f56';
const FLAKY = '9708d30d-c269-4248-91c8-29449ef747ab';
const OLD_IDEA = '8550f71b-7dd8-47f3-b6bc-3b74a7b24d69';

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'jit-upgrade-'));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));
let copies = 0;

/** A fresh copy of the old store, as `<project>/.jit`. */
function oldStore(): { project: string; jitDir: string } {
  const project = path.join(scratch, `p${++copies}`);
  const jitDir = path.join(project, '.jit');
  fs.cpSync(FIXTURE, jitDir, { recursive: true });
  fs.renameSync(path.join(jitDir, 'gitignore'), path.join(jitDir, '.gitignore'));
  fs.mkdirSync(path.join(jitDir, 'pending'));
  return { project, jitDir };
}

function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isFile()).map((e) => [e.name, fs.readFileSync(path.join(dir, e.name), 'utf8')]));
}

describe('a store written by the previous version (index.json format 1)', () => {
  it('is read as it was, and upgraded on first open: index.db from the files, the manifest, the .gitignore lines', async () => {
    const { jitDir } = oldStore();
    const issuesBefore = snapshot(path.join(jitDir, 'issues'));
    const eventsBefore = fs.readFileSync(path.join(jitDir, 'events.jsonl'), 'utf8');
    expect(JSON.parse(fs.readFileSync(path.join(jitDir, 'index.json'), 'utf8')).schema_version).toBe(1);
    const tracker = openTracker(jitDir);

    // The answers the old version gave for this store.
    expect(await tracker.status()).toEqual({
      total: 5,
      by_state: { backlog: 2, ready: 1, in_progress: 1, gated: 0, done: 0, rejected: 1, archived: 0 },
      lapsed_claims: 0,
      ready: 1,
      blocked: 2,
    });
    expect((await tracker.queryReady()).map((s) => s.id)).toEqual([FLAKY]);
    expect((await tracker.queryBlocked()).map((b) => b.issue.id).sort()).toEqual([MIGRATION, SHIP].sort());
    expect((await tracker.listIssues()).map((s) => s.id)).toEqual([DESIGN, MIGRATION, SHIP, FLAKY, OLD_IDEA]);
    expect((await tracker.getIssue(DESIGN.slice(0, 6))).assignee).toBe('agent:one');

    // Upgraded: the manifest, the cache, the ignore lines; the data untouched.
    expect(JSON.parse(fs.readFileSync(path.join(jitDir, 'index.json'), 'utf8'))).toEqual({ schema_version: 2, index: 'index.db' });
    const rows = indexRows(jitDir);
    expect(Object.keys(rows).sort()).toEqual([DESIGN, MIGRATION, SHIP, FLAKY, OLD_IDEA].sort());
    expect(rows[MIGRATION]).toMatchObject({ labels: ['type:code', 'area:db'], dependencies: [DESIGN], state: 'backlog' });
    const gitignore = fs.readFileSync(path.join(jitDir, '.gitignore'), 'utf8');
    expect(gitignore.startsWith(fs.readFileSync(path.join(FIXTURE, 'gitignore'), 'utf8'))).toBe(true);
    expect(gitignore.split('\n')).toEqual(expect.arrayContaining(['*.lock', '.*.tmp', 'pending/', 'index.db', 'index.db-wal', 'index.db-shm']));
    expect(snapshot(path.join(jitDir, 'issues'))).toEqual(expect.objectContaining(issuesBefore));
    expect(fs.readFileSync(path.join(jitDir, 'events.jsonl'), 'utf8')).toBe(eventsBefore);
    expect(await tracker.validate()).toEqual({ ok: true, problems: [], fixed: [], recovered: [] });

    // And it works on: a write, a dependency, a claim.
    await tracker.updateIssue(DESIGN, { state: 'done' });
    expect((await tracker.getIssue(MIGRATION)).state).toBe('ready');
    expect((await tracker.claimNext('agent:two')).id).toBe(MIGRATION);
    expect(await tracker.validate()).toMatchObject({ ok: true, problems: [] });
    // The upgrade added its lines once.
    expect(fs.readFileSync(path.join(jitDir, '.gitignore'), 'utf8')).toBe(gitignore);
  });

  it('with a write the old version left half done (a marker, the file ahead of index.json): the file wins, the marker is cleared', async () => {
    const { jitDir } = oldStore();
    const file = path.join(jitDir, 'issues', `${SHIP}.json`);
    const issue = JSON.parse(fs.readFileSync(file, 'utf8'));
    fs.writeFileSync(file, JSON.stringify({ ...issue, title: 'Ship it (renamed)', updated_at: new Date().toISOString() }, null, 2) + '\n');
    fs.writeFileSync(path.join(jitDir, 'pending', `${SHIP}.999999.1`), '');
    const tracker = openTracker(jitDir);
    expect((await tracker.listIssues()).find((s) => s.id === SHIP)?.title).toBe('Ship it (renamed)');
    expect(indexRows(jitDir)[SHIP]!.title).toBe('Ship it (renamed)');
    expect(fs.readdirSync(path.join(jitDir, 'pending'))).toEqual([]);
    expect(await tracker.validate()).toMatchObject({ ok: true, problems: [] });
  });

  it('validate on the old store upgrades it too, and says so', async () => {
    const { jitDir } = oldStore();
    const report = await openTracker(jitDir).validate();
    expect(report).toMatchObject({ ok: true, problems: [], fixed: [] });
    expect(report.recovered).toEqual([expect.stringContaining('upgraded the store to format 2: built index.db from 5 issue files')]);
    expect(JSON.parse(fs.readFileSync(path.join(jitDir, 'index.json'), 'utf8')).schema_version).toBe(2);
  });

  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  it.skipIf(process.platform !== 'linux' || !isRoot)('read by a user who may not write it (EACCES): answered from the old index.json, and left as it was', async () => {
    const { project, jitDir } = oldStore();
    for (const dir of [scratch, project]) fs.chmodSync(dir, 0o755);
    const before = snapshot(jitDir);
    const run = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('JIT_')));
      const child = spawn(process.execPath, [JIT_BIN, '--json', 'query', 'ready'], { cwd: project, env: { ...env, JIT_LOCK_TIMEOUT: '60' }, uid: 65534, gid: 65534 });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk) => (stdout += chunk));
      child.stderr.on('data', (chunk) => (stderr += chunk));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).issues.map((s: { id: string }) => s.id)).toEqual([FLAKY]);
    expect(snapshot(jitDir)).toEqual(before);
    expect(fs.existsSync(path.join(jitDir, 'index.db'))).toBe(false);
  });
});
