// Helpers for the cross-process lock tests: temporary directories and a
// child process (fixtures/lock-child.js) driven over IPC.
import { fork, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach } from 'vitest';

export const fixture = (name: string): string => path.join(__dirname, 'fixtures', name);

export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'jit-lock-test-'));
}

export interface Reply {
  ok: boolean;
  held?: boolean;
  error?: { code?: string; message: string };
  sigurgSeen?: number;
  openFds?: number;
  threads?: number;
  outcome?: string;
}

export interface LockChild {
  readonly process: ChildProcess;
  send(command: Record<string, unknown>): Promise<Reply>;
  /** Like send, but fails the test unless the child answers ok. */
  must(command: Record<string, unknown>): Promise<Reply>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export async function startChild(env: NodeJS.ProcessEnv = {}): Promise<LockChild> {
  const child = fork(fixture('lock-child.js'), { env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const pending = new Map<number, (reply: Reply) => void>();
  let nextId = 0;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`lock child exited early (${code})`)));
    child.on('message', (message: Reply & { id?: number; ready?: boolean }) => {
      if (message.ready) resolve();
      else if (message.id !== undefined) pending.get(message.id)?.(message);
    });
  });
  const send = (command: Record<string, unknown>): Promise<Reply> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, resolve);
      exited.then(() => reject(new Error(`lock child exited before answering ${JSON.stringify(command)}`)));
      child.send({ ...command, id });
    });
  return {
    process: child,
    send,
    async must(command) {
      const reply = await send(command);
      if (!reply.ok) throw new Error(`child failed ${JSON.stringify(command)}: ${reply.error?.code} ${reply.error?.message}`);
      return reply;
    },
    async kill(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

/** Starts children and kills them after the test. */
export function childPool(): { start(env?: NodeJS.ProcessEnv): Promise<LockChild>; killAll(): Promise<void> } {
  const children: LockChild[] = [];
  return {
    async start(env) {
      const child = await startChild(env);
      children.push(child);
      return child;
    },
    async killAll() {
      await Promise.all(children.splice(0).map((c) => c.kill('SIGKILL')));
    },
  };
}

/**
 * A fresh directory and a child pool for every test of the calling file;
 * after each test the children are killed and the directory removed.
 */
export function perTestSandbox(): { readonly dir: string; readonly children: ReturnType<typeof childPool> } {
  const children = childPool();
  let dir = '';
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(async () => {
    await children.killAll();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return {
    get dir() {
      return dir;
    },
    children,
  };
}
