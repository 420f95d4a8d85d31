// Spawning the store's child fixture (fixtures/worker.js, which runs dist/) from the cross-process tests.
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { expect } from 'vitest';

const WORKER = path.join(__dirname, 'fixtures', 'worker.js');
// Many processes on two cores: give lock waits room so a slow start-up is not a timeout.
const baseEnv = { ...process.env, JIT_LOCK_TIMEOUT: '60' };

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function start(jitDir: string, args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawn(process.execPath, [WORKER, jitDir, ...args], { env: { ...baseEnv, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}

export function finish(child: ChildProcess): Promise<Run> {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d));
  child.stderr!.on('data', (d: Buffer) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Resolves once the child prints "holding" (it then holds its lock until killed). */
export function holding(child: ChildProcess): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('holding') && resolve());
    child.on('close', () => reject(new Error('the child ended before it held its lock')));
  });
}

/** Runs workers in parallel; every one must exit 0. Returns each one's parsed output lines. */
export async function runAll(jitDir: string, argsList: string[][]): Promise<unknown[][]> {
  const runs = await Promise.all(argsList.map((args) => finish(start(jitDir, args))));
  for (const run of runs) expect(run, run.stderr).toMatchObject({ code: 0 });
  return runs.map((run) =>
    run.stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as unknown),
  );
}
