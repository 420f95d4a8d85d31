// How the store uses its locks, seen from another process: Pattern 1, timeouts, `debug locks`.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { debugLocks, initJit, JitError, openTracker, type Tracker } from '../../src/store/index.js';
import { finish, holding, start } from './helpers.js';
import type { ChildProcess } from 'node:child_process';

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'jit-store-locks-'));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

let jitDir: string;
let tracker: Tracker;
let holder: ChildProcess | undefined;
let stores = 0;
const savedTimeout = process.env['JIT_LOCK_TIMEOUT'];

beforeEach(() => {
  const project = path.join(scratch, `p${++stores}`);
  fs.mkdirSync(project);
  jitDir = initJit(project).path;
  tracker = openTracker(jitDir);
});

afterEach(async () => {
  if (savedTimeout === undefined) delete process.env['JIT_LOCK_TIMEOUT'];
  else process.env['JIT_LOCK_TIMEOUT'] = savedTimeout;
  if (holder) {
    const done = finish(holder);
    holder.kill('SIGKILL');
    await done;
    holder = undefined;
  }
});

async function holdInChild(relativePath: string, mode: 'shared' | 'exclusive'): Promise<number> {
  holder = start(jitDir, ['hold-lock', relativePath, mode]);
  await holding(holder);
  return holder.pid!;
}

describe('locks seen from another process', () => {
  it('Pattern 1: while another process holds issue A, issue B can be updated and everything listed', async () => {
    const a = await tracker.createIssue({ title: 'a' });
    const b = await tracker.createIssue({ title: 'b' });
    await holdInChild(path.join('issues', `${a.id}.lock`), 'exclusive');
    process.env['JIT_LOCK_TIMEOUT'] = '0.3';
    expect((await tracker.updateIssue(b.id, { title: 'b2' })).title).toBe('b2');
    expect((await tracker.listIssues()).map((s) => s.title)).toEqual(['a', 'b2']);
    expect((await tracker.status()).total).toBe(2);
    const error = await tracker.updateIssue(a.id, { title: 'a2' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JitError);
    expect((error as JitError).code).toBe('LOCK_TIMEOUT');
    expect((await tracker.getIssue(a.id).catch((e: JitError) => e.code))).toBe('LOCK_TIMEOUT'); // reads wait for writers
  });

  it('a held index lock times out readers with LOCK_TIMEOUT, naming the lock and the remedies', async () => {
    await holdInChild('.index.lock', 'exclusive');
    process.env['JIT_LOCK_TIMEOUT'] = '0.2';
    const started = Date.now();
    const error = (await tracker.listIssues().catch((e: unknown) => e)) as JitError;
    expect(error.code).toBe('LOCK_TIMEOUT');
    expect(error.message).toBe(`Lock timeout: could not acquire lock on ${path.join(jitDir, '.index.lock')} after 0.2s`);
    // The store reads JIT_LOCK_TIMEOUT and passes it to the toolkit, whose error carries the facts.
    expect(error.details).toMatchObject({ path: path.join(jitDir, '.index.lock'), timeout_ms: 200 });
    expect(error.details!['waited_ms']).toBeGreaterThanOrEqual(190);
    expect(error.suggestions.join('\n')).toMatch(/JIT_LOCK_TIMEOUT/);
    expect(error.suggestions.join('\n')).toMatch(/jit debug locks/);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('a create commits with its issue file even when the index stays locked, and is indexed later', async () => {
    await holdInChild('.index.lock', 'exclusive');
    process.env['JIT_LOCK_TIMEOUT'] = '0.2';
    const a = await tracker.createIssue({ title: 'a' });
    expect(fs.readdirSync(path.join(jitDir, 'pending'))).toHaveLength(1);
    const done = finish(holder!);
    holder!.kill('SIGKILL');
    await done;
    holder = undefined;
    expect((await tracker.listIssues()).map((s) => s.id)).toEqual([a.id]);
    await tracker.createIssue({ title: 'b' });
    expect(fs.readdirSync(path.join(jitDir, 'pending'))).toEqual([]);
    expect((await tracker.validate()).ok).toBe(true);
  });

  it('a shared index holder lets readers through but stops dependency changes', async () => {
    const a = await tracker.createIssue({ title: 'a' });
    const b = await tracker.createIssue({ title: 'b' });
    await holdInChild('.index.lock', 'shared');
    process.env['JIT_LOCK_TIMEOUT'] = '0.2';
    expect((await tracker.listIssues()).length).toBe(2);
    expect(await tracker.addDependency(b.id, a.id).catch((e: JitError) => e.code)).toBe('LOCK_TIMEOUT');
    expect((await tracker.getIssue(b.id)).dependencies).toEqual([]);
  });

  it('debugLocks names the holding process and its mode', async () => {
    const pid = await holdInChild('.gates.lock', 'shared');
    const gates = debugLocks(jitDir).find((s) => s.path === path.join(jitDir, '.gates.lock'))!;
    expect(gates.state).toBe('shared');
    if (process.platform === 'linux') expect(gates.holders).toEqual([{ pid, mode: 'shared' }]);
  });
});
