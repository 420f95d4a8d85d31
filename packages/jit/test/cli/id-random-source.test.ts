// Ids come from /dev/urandom read directly (src/store/ids.ts). What stands at
// that path is the system's business: a container or chroot may have a plain
// file there (copied, not made with mknod), or a device that is not random.
// Ids must stay unique all the same (a pool with hardly any distinct bytes is
// not taken from the device), and an id that is taken is never written over
// (tracker.test.ts). Each run binds something over /dev/urandom in a mount namespace of its
// own (unshare -m), so nothing outside the test sees it.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanEnv, JIT_BIN, projectsForThisFile, runCollected, type CollectedRun } from './helpers.js';

const isLinux = process.platform === 'linux';
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const projects = projectsForThisFile();
const scratch = mkdtempSync(path.join(tmpdir(), 'jit-urandom-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** `jit --json ARGS` with `source` bound over /dev/urandom for this process only. */
function jitWithRandomSource(source: string, cwd: string, args: readonly string[]): Promise<CollectedRun> {
  const script = 'source="$1"; shift; mount --bind "$source" /dev/urandom && exec "$@"';
  return runCollected('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script, 'sh', source, process.execPath, JIT_BIN, '--json', ...args], { cwd, env: cleanEnv() });
}

describe.skipIf(!(isLinux && isRoot))('ids when /dev/urandom is not what it should be', () => {
  it('a plain file at /dev/urandom (the same bytes for every process) is not used: two processes still make two ids', async () => {
    const project = await projects.initialized();
    const zeros = path.join(scratch, 'zeros');
    writeFileSync(zeros, Buffer.alloc(64 * 1024));
    const one = await jitWithRandomSource(zeros, project.dir, ['issue', 'create', '-t', 'one']);
    const two = await jitWithRandomSource(zeros, project.dir, ['issue', 'create', '-t', 'two']);
    expect(one.code, one.stderr).toBe(0);
    expect(two.code, two.stderr).toBe(0);
    expect(one.json.id).not.toBe(two.json.id);
    const all = await jitWithRandomSource(zeros, project.dir, ['query', 'all']);
    expect(all.json.issues.map((issue: { title: string }) => issue.title).sort()).toEqual(['one', 'two']);
  });

  it('a device that is not random (/dev/zero) is not used: issue ids and event ids still never repeat', async () => {
    const project = await projects.initialized();
    const one = await jitWithRandomSource('/dev/zero', project.dir, ['issue', 'create', '-t', 'one']);
    const two = await jitWithRandomSource('/dev/zero', project.dir, ['issue', 'create', '-t', 'two']);
    expect(one.code, one.stderr).toBe(0);
    expect(two.code, two.stderr).toBe(0);
    expect(one.json.id).not.toBe(two.json.id);
    // A batch: one process, one pool, two ids.
    writeFileSync(path.join(project.dir, 'batch.json'), JSON.stringify([{ title: 'three' }, { title: 'four' }]));
    const batch = await jitWithRandomSource('/dev/zero', project.dir, ['issue', 'batch-create', '--from-json', 'batch.json']);
    expect(batch.code, batch.stderr).toBe(0);
    const all = await jitWithRandomSource('/dev/zero', project.dir, ['query', 'all']);
    expect(all.json.issues.map((issue: { title: string }) => issue.title).sort()).toEqual(['four', 'one', 'three', 'two']);
    // Nothing refuses a repeated event id: it would be written, silently.
    const events = readFileSync(path.join(project.jitDir, 'events.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { id: string });
    expect(events.length).toBeGreaterThanOrEqual(4);
    expect(new Set(events.map((event) => event.id)).size, JSON.stringify(events.map((event) => event.id))).toBe(events.length);
    const valid = await jitWithRandomSource('/dev/zero', project.dir, ['validate']);
    expect(valid.code, JSON.stringify(valid.json)).toBe(0);
  });
});
