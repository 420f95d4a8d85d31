/**
 * Runs one checker command as a child process tree that jit can always end:
 * on POSIX in a process group of its own (so a timeout kills its
 * grandchildren too, and whatever it leaves behind is killed when it exits),
 * on Windows with `taskkill /T /F` over its tree. Only the tail of its
 * combined output is kept in memory (a review can print megabytes); the
 * whole of it optionally goes to a log file. Knows nothing of issues or
 * locks: the caller must hold no jit lock while this runs (gate-checks.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, statSync, type WriteStream } from 'node:fs';

/** How much of a checker's output a run record keeps: its last 64 KiB. */
export const OUTPUT_TAIL_BYTES = 64 * 1024;
/** After SIGTERM, how long a timed-out tree gets to clean up before SIGKILL. */
const KILL_GRACE_MS = 2_000;
/** After the checker exits, how long to wait for pipes still held by processes that escaped its group. */
const PIPE_DRAIN_MS = 2_000;
/** Node's timers overflow past 2^31-1 ms (~24.8 days) and fire at once: a longer timeout (the original jit's files allow it) waits this long. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface CheckerSpec {
  command: string;
  /** Absolute working directory. */
  cwd: string;
  /** The whole environment of the child. */
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  /** Written to the child's standard input (then closed); otherwise stdin is empty. */
  stdin?: string;
  /** Every byte of output also goes here (created or truncated). */
  logPath?: string;
}

export type CheckerReason = 'exit' | 'timeout' | 'signal' | 'not_found' | 'spawn_error';

export interface CheckerOutcome {
  passed: boolean;
  /** Why it ended: exit (see exit_code), timeout, signal, not_found (the shell's 127), spawn_error (see error). */
  reason: CheckerReason;
  exit_code: number | null;
  signal: string | null;
  error: string | null;
  duration_ms: number;
  /** The last OUTPUT_TAIL_BYTES of stdout and stderr, interleaved as they came. */
  output: string;
  output_bytes: number;
  output_truncated: boolean;
  pid: number | null;
}

export interface CheckerHooks {
  onSpawn?(pid: number): void;
  onOutput?(chunk: Buffer): void;
}

/** A byte ring that keeps the newest `limit` bytes of what is pushed into it. */
class Tail {
  private chunks: Buffer[] = [];
  private held = 0;
  total = 0;

  constructor(private readonly limit: number) {}

  push(chunk: Buffer): void {
    this.total += chunk.length;
    this.chunks.push(chunk);
    this.held += chunk.length;
    while (this.chunks.length > 1 && this.held - this.chunks[0]!.length >= this.limit) this.held -= this.chunks.shift()!.length;
  }

  text(): string {
    let bytes = Buffer.concat(this.chunks);
    if (bytes.length > this.limit) bytes = bytes.subarray(bytes.length - this.limit);
    // A cut may fall inside a UTF-8 sequence: drop its continuation bytes rather than show U+FFFD.
    let start = 0;
    while (start < bytes.length && start < 3 && (bytes[start]! & 0xc0) === 0x80) start++;
    return bytes.subarray(start).toString('utf8');
  }
}

/** Kills the child's whole tree; quiet when it is already gone. */
function killTree(child: ChildProcess, signal: NodeJS.Signals): void {
  const pid = child.pid;
  if (pid === undefined) return;
  if (process.platform === 'win32') {
    // No process groups: taskkill walks the tree from the pid (while the root is alive) and has no gentle mode.
    const killer = spawn('taskkill', ['/pid', String(pid), '/T', '/F'], { stdio: 'ignore', windowsHide: true });
    killer.on('error', () => undefined);
    return;
  }
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: nothing left in the group.
  }
}

/** Checkers running now: a jit ended by SIGINT/SIGTERM/SIGHUP ends them first (their groups do not get the terminal's signals). */
const running = new Set<ChildProcess>();
const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

function onSignal(signal: NodeJS.Signals): void {
  for (const child of running) killTree(child, 'SIGKILL');
  running.clear();
  unwatchSignals();
  // Nobody else listens: die of the signal as the default would have.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function watchSignals(): void {
  if (running.size === 1 && process.platform !== 'win32') for (const signal of FORWARDED) process.on(signal, onSignal);
}

function unwatchSignals(): void {
  for (const signal of FORWARDED) process.off(signal, onSignal);
}

/** Why the working directory cannot be one, or null. (spawn reports a missing cwd as the shell's ENOENT: "command not found".) */
function unusableFolder(cwd: string): string | null {
  try {
    return statSync(cwd).isDirectory() ? null : `its working directory ${cwd} is not a folder`;
  } catch (error) {
    return `its working directory ${cwd} cannot be used (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); create it or fix the gate's working_dir`;
  }
}

export function runChecker(spec: CheckerSpec, hooks: CheckerHooks = {}): Promise<CheckerOutcome> {
  const notStarted = (error: string): Promise<CheckerOutcome> =>
    Promise.resolve({ passed: false, reason: 'spawn_error', exit_code: null, signal: null, error, duration_ms: 0, output: '', output_bytes: 0, output_truncated: false, pid: null });
  const folderProblem = unusableFolder(spec.cwd);
  if (folderProblem !== null) return notStarted(folderProblem);
  // spawn throws (rather than emits) on what no process can be given, e.g. a NUL a hand edit put in gates.json.
  const nul = [spec.command, spec.cwd, ...Object.entries(spec.env).flat()].find((text) => text?.includes('\u0000'));
  if (nul !== undefined) return notStarted(`its command, folder or environment holds a NUL character (${JSON.stringify(nul.slice(0, 80))}); fix gates.json`);
  return new Promise((resolve) => {
    const started = performance.now();
    const tail = new Tail(OUTPUT_TAIL_BYTES);
    let log: WriteStream | undefined;
    let timedOut = false;
    let spawnError: NodeJS.ErrnoException | undefined;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    const timers: NodeJS.Timeout[] = [];

    const child = spawn(spec.command, {
      cwd: spec.cwd,
      env: spec.env,
      shell: true,
      // Its own process group on POSIX (so the group can be killed); on Windows detached would open a console.
      detached: process.platform !== 'win32',
      windowsHide: true,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    if (spec.logPath !== undefined) {
      log = createWriteStream(spec.logPath, { flags: 'w', mode: 0o644 });
      log.on('error', () => undefined); // a log that cannot be written does not decide the check
    }
    const take = (chunk: Buffer): void => {
      tail.push(chunk);
      log?.write(chunk);
      hooks.onOutput?.(chunk);
    };
    child.stdout!.on('data', take);
    child.stderr!.on('data', take);
    // A checker that does not read its input (or exits first) closes the pipe: EPIPE is no failure of jit.
    child.stdin!.on('error', () => undefined);
    child.stdin!.end(spec.stdin ?? '');

    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      for (const timer of timers) clearTimeout(timer);
      if (running.delete(child) && running.size === 0) unwatchSignals();
      child.stdout!.destroy();
      child.stderr!.destroy();
      const duration = Math.round(performance.now() - started);
      const code = exit?.code ?? null;
      const signal = exit?.signal ?? null;
      const reason: CheckerReason = spawnError
        ? spawnError.code === 'ENOENT' ? 'not_found' : 'spawn_error'
        : timedOut
          ? 'timeout'
          : signal !== null
            ? 'signal'
            : code === 127 && process.platform !== 'win32'
              ? 'not_found'
              : 'exit';
      const outcome: CheckerOutcome = {
        passed: reason === 'exit' && code === 0,
        reason,
        exit_code: code,
        signal,
        error: spawnError ? spawnError.message : null,
        duration_ms: duration,
        output: tail.text(),
        output_bytes: tail.total,
        output_truncated: tail.total > OUTPUT_TAIL_BYTES,
        pid: child.pid ?? null,
      };
      if (log) log.end(() => resolve(outcome));
      else resolve(outcome);
    };

    child.on('error', (error: NodeJS.ErrnoException) => {
      // Spawn failed (e.g. the working directory is missing): no process to wait for.
      spawnError ??= error;
      if (child.pid === undefined) finish();
    });
    if (child.pid !== undefined) {
      running.add(child);
      watchSignals();
      hooks.onSpawn?.(child.pid);
    }

    timers.push(
      setTimeout(() => {
        timedOut = true;
        killTree(child, 'SIGTERM');
        timers.push(setTimeout(() => killTree(child, 'SIGKILL'), KILL_GRACE_MS));
      }, Math.min(spec.timeoutMs, MAX_TIMER_MS)),
    );
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      // What it started and left running (a server, a stuck grandchild) ends with it. (On Windows the
      // tree can no longer be found from a root that is gone: only a timeout kills it there.)
      if (process.platform !== 'win32') killTree(child, 'SIGKILL');
      // Pipes close when every holder is gone; one that escaped the group could hold them forever.
      timers.push(setTimeout(finish, PIPE_DRAIN_MS));
    });
    child.on('close', () => {
      if (exit !== undefined || spawnError !== undefined) finish();
    });
  });
}
