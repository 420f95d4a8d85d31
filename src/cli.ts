// `jit-lock`: a portable flock(1). Runs a command while holding a lock on a
// file, on every OS jit-lock runs on (Windows has no flock(1) at all).
//
//   jit-lock [--shared] [--timeout SECONDS] [--nonblock] FILE -- COMMAND [ARGS...]
//   jit-lock [options] FILE -c 'SHELL COMMAND'
//
// Plain Node on purpose (no argument library): the toolkit stays lean.
// Exit codes: see EXIT and the help text.
import { spawn, type ChildProcess } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import path from 'node:path';
import { HeldFileLock } from './acquire.js';
import { lock, tryLock } from './lock.js';
import { signalReachedForegroundGroup } from './terminal.js';
import type { FileLock, LockMode } from './types.js';
import { MAX_TIMEOUT_MS } from './validate.js';

/** The exit codes of jit-lock itself; otherwise it exits with the command's status. */
export const EXIT = {
  /** --nonblock, and the lock is held elsewhere (-E changes it). */
  busy: 75, // EX_TEMPFAIL: try again later
  /** --timeout passed while the lock stayed held elsewhere (-E changes it). */
  timedOut: 124, // as timeout(1)
  /** Bad arguments (flock(1) too). */
  usage: 64, // EX_USAGE
  /** The lock file cannot be opened or locked (flock(1) too). */
  noInput: 66, // EX_NOINPUT
  /** Out of memory or descriptors (flock(1) too). */
  osError: 71, // EX_OSERR
  /** A read-only file system or a full disk refused to create the file (flock(1) too). */
  cannotCreate: 73, // EX_CANTCREAT
  /** The command was found but could not be run (as shells do). */
  cannotRun: 126,
  /** The command was not found (as shells do). */
  notFound: 127,
  /** 128 + n: the command (or jit-lock, while it waited) ended by signal n (as shells do). */
  signalBase: 128,
} as const;

const HELP = `Usage: jit-lock [options] FILE -- COMMAND [ARGS...]
       jit-lock [options] FILE -c 'SHELL COMMAND'

Runs COMMAND while holding a lock on FILE (created if missing), a flock(2)
lock on Linux and macOS (it excludes util-linux flock(1) holders and is
excluded by them) and a LockFileEx lock on Windows. Waits for the lock
without limit unless told otherwise. Passes the command's exit status
through; SIGINT, SIGTERM and SIGHUP are forwarded to it, and the lock is
released however it ends.

Options:
  -s, --shared              a shared lock (many holders at once; no exclusive one)
  -x, -e, --exclusive       an exclusive lock (the default)
  -n, --nb, --nonblock      fail at once if the lock is held elsewhere
  -w, --wait, --timeout SECONDS
                            fail if the lock is still held after SECONDS (decimals allowed; 0 is --nonblock)
  -E, --conflict-exit-code N
                            exit with N (0-255) when busy or timed out (flock(1) uses 1)
  -c, --command STRING      run STRING with the system shell (sh -c; cmd.exe on Windows)
  -h, --help                this text
  -V, --version             the version
Short options group and take values attached, as in flock(1): -sn, -w5.
FILE must be a file, not a folder (Windows cannot lock folders).

Exit status:
  the command's own, or 128+n if a signal n ended it
  ${EXIT.busy}   busy: --nonblock and the lock is held elsewhere
  ${EXIT.timedOut}  timed out: --timeout passed while the lock stayed held elsewhere
  ${EXIT.usage}   bad arguments
  ${EXIT.noInput}   the lock file cannot be opened or locked (${EXIT.cannotCreate}: a read-only file system or a full disk; ${EXIT.osError}: out of descriptors or memory)
  ${EXIT.cannotRun}  the command cannot be run; ${EXIT.notFound}: it was not found
  128+n a signal n ended jit-lock while it waited (the command never ran)
`;

class UsageError extends Error {}

interface Invocation {
  file: string;
  mode: LockMode;
  /** Seconds; Infinity waits without limit, 0 does not wait. */
  timeoutSeconds: number;
  conflictExitCode: number | undefined;
  command: string;
  args: string[];
  shell: boolean;
}

/** The short options that take a value. */
const SHORT_WITH_VALUE = ['-w', '-E', '-c'];

/**
 * Splits an option word as getopt does (flock(1) takes these forms): `-sn`
 * is `-s -n`, `-w5` is `-w 5`, `--timeout=5` is `--timeout 5`. Returns the
 * option's name and its attached value; grouped flags after the first are
 * put back into `argv` as a word of their own.
 */
function splitOption(argv: string[], i: number): [name: string, inline: string | undefined] {
  const arg = argv[i]!;
  if (arg.startsWith('--')) {
    const equals = arg.indexOf('=');
    return equals === -1 ? [arg, undefined] : [arg.slice(0, equals), arg.slice(equals + 1)];
  }
  if (arg.length <= 2) return [arg, undefined];
  const name = arg.slice(0, 2);
  if (SHORT_WITH_VALUE.includes(name)) return [name, arg.slice(2)];
  argv.splice(i + 1, 0, `-${arg.slice(2)}`);
  return [name, undefined];
}

/** Parses the arguments; undefined for --help and --version (already printed). */
export function parseArguments(words: readonly string[], print: (text: string) => void): Invocation | undefined {
  const argv = [...words]; // splitOption unbundles grouped flags in place
  let mode: LockMode = 'exclusive';
  let timeoutSeconds = Infinity;
  let conflictExitCode: number | undefined;
  let shellCommand: string | undefined;
  let i = 0;
  const value = (name: string, inline: string | undefined): string => {
    if (inline !== undefined) return inline;
    if (i + 1 >= argv.length) throw new UsageError(`${name} needs a value`);
    return argv[++i]!;
  };
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--' || !arg.startsWith('-') || arg === '-') break;
    const [name, inline] = splitOption(argv, i);
    switch (name) {
      case '-s':
      case '--shared':
        mode = 'shared';
        break;
      case '-x':
      case '-e':
      case '--exclusive':
        mode = 'exclusive';
        break;
      case '-n':
      case '--nb':
      case '--nonblock':
        timeoutSeconds = 0;
        break;
      case '-w':
      case '--wait':
      case '--timeout': {
        const text = value(name, inline);
        const seconds = Number(text);
        if (text.trim() === '' || !Number.isFinite(seconds) || seconds < 0) {
          throw new UsageError(`${name} takes a number of seconds (0 or more, decimals allowed), not ${JSON.stringify(text)}`);
        }
        if (seconds * 1000 > MAX_TIMEOUT_MS) {
          throw new UsageError(`${name} is at most ${Math.floor(MAX_TIMEOUT_MS / 1000)} seconds (about 24.8 days); leave it out to wait without limit`);
        }
        if (timeoutSeconds !== 0) timeoutSeconds = seconds; // --nonblock wins, as in flock(1)
        break;
      }
      case '-E':
      case '--conflict-exit-code': {
        const text = value(name, inline);
        const code = Number(text);
        if (!/^\d+$/.test(text) || code > 255) throw new UsageError(`${name} takes an exit code from 0 to 255, not ${JSON.stringify(text)}`);
        conflictExitCode = code;
        break;
      }
      case '-c':
      case '--command':
        shellCommand = value(name, inline);
        break;
      case '-h':
      case '--help':
        print(HELP);
        return undefined;
      case '-V':
      case '--version':
        print(`jit-lock ${(require('../package.json') as { version: string }).version}\n`);
        return undefined;
      default:
        throw new UsageError(`unknown option ${name}`);
    }
  }
  if (argv[i] === '--') i++; // the end of the options: FILE follows, even one that starts with '-'
  if (i >= argv.length) throw new UsageError('missing FILE: the file to lock');
  const file = argv[i++]!;
  // -c may also follow FILE, as in `flock FILE -c 'command'`.
  if (shellCommand === undefined && i < argv.length && /^(-c|--command(=|$))/.test(argv[i]!)) {
    const [name, inline] = splitOption(argv, i);
    shellCommand = value(name, inline);
    i++;
  }
  if (argv[i] === '--') i++;
  if (shellCommand !== undefined) {
    if (i < argv.length) throw new UsageError(`-c takes the whole command as one argument; unexpected ${JSON.stringify(argv[i])}`);
    return { file, mode, timeoutSeconds, conflictExitCode, command: shellCommand, args: [], shell: true };
  }
  if (i >= argv.length) throw new UsageError('missing COMMAND: what to run while the lock is held');
  return { file, mode, timeoutSeconds, conflictExitCode, command: argv[i]!, args: argv.slice(i + 1), shell: false };
}

/** The signals forwarded to the command (and that end a wait for the lock). */
const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

function signalExit(signal: NodeJS.Signals): number {
  return EXIT.signalBase + (osConstants.signals[signal] ?? 0);
}

/**
 * jit-lock's handling of SIGINT, SIGTERM and SIGHUP from the moment it may
 * take the lock until it has released it, with no gap: a signal while it
 * waits ends the wait; one after the grant but before the command started
 * means the command never runs; then they are forwarded. (Listeners removed
 * and added again between the steps would leave the default action in
 * between: killed there, jit-lock would leave its command running with the
 * lock and unsignalled.)
 */
class SignalRelay {
  /** The first signal that arrived before the command started. */
  received: NodeJS.Signals | undefined;
  readonly waitAborted = new AbortController();
  #command: ChildProcess | undefined;

  #onSignal = (signal: NodeJS.Signals): void => {
    if (this.#command === undefined) {
      this.received ??= signal;
      this.waitAborted.abort();
    } else if (!signalReachedForegroundGroup(signal)) {
      this.#command.kill(signal);
    }
  };

  constructor() {
    for (const signal of FORWARDED) process.on(signal, this.#onSignal);
  }

  forwardTo(command: ChildProcess): void {
    this.#command = command;
  }

  stop(): void {
    for (const signal of FORWARDED) process.off(signal, this.#onSignal);
  }
}

/** The exit code for a lock file that cannot be opened or locked, as flock(1) chooses it. */
function lockErrorExit(code: unknown): number {
  if (code === 'ENOMEM' || code === 'EMFILE' || code === 'ENFILE') return EXIT.osError;
  if (code === 'EROFS' || code === 'ENOSPC') return EXIT.cannotCreate;
  return EXIT.noInput;
}

/** Takes the lock, or says why not and returns the exit code. */
async function acquire(invocation: Invocation, signals: SignalRelay, warn: (text: string) => void): Promise<FileLock | number> {
  const { file, mode, timeoutSeconds } = invocation;
  const conflict = (fallback: number): number => invocation.conflictExitCode ?? fallback;
  try {
    if (timeoutSeconds === 0) {
      const held = tryLock(file, { mode, followSymlinks: true });
      if (held) return held;
      warn(`jit-lock: ${file} is locked by another process (busy)\n`);
      return conflict(EXIT.busy);
    }
    return await lock(file, { mode, followSymlinks: true, timeoutMs: timeoutSeconds * 1000, signal: signals.waitAborted.signal });
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'ABORT_ERR' && signals.received) return signalExit(signals.received);
    if (code === 'ELOCKTIMEOUT') {
      warn(`jit-lock: timed out after ${timeoutSeconds} s waiting for the lock on ${file}: another process holds it\n`);
      return conflict(EXIT.timedOut);
    }
    // flock(1) locks a folder too; LockFileEx cannot, so jit-lock takes only files everywhere.
    const advice = code === 'EISDIR' ? ` (jit-lock locks files only: lock a file such as ${path.join(file, '.lock')} instead)` : '';
    warn(`jit-lock: cannot lock ${file}: ${(error as Error).message}${advice}\n`);
    return lockErrorExit(code);
  }
}

/** Runs the command to its end with the lock held; resolves to jit-lock's exit code. */
function runCommand(invocation: Invocation, held: FileLock, signals: SignalRelay, warn: (text: string) => void): Promise<number> {
  // POSIX: the command gets the lock's descriptor as its fd 3, as flock(1)
  // passes its own: should jit-lock itself be killed (SIGKILL: nothing can
  // forward that), the command still holds the lock until it ends.
  const descriptor = process.platform === 'win32' ? undefined : HeldFileLock.descriptorOf(held);
  let child: ChildProcess;
  try {
    child = spawn(invocation.command, invocation.args, {
      stdio: descriptor === undefined ? 'inherit' : ['inherit', 'inherit', 'inherit', descriptor],
      shell: invocation.shell,
    });
  } catch (error) {
    warn(`jit-lock: cannot run ${invocation.command}: ${(error as Error).message}\n`);
    return Promise.resolve(EXIT.cannotRun);
  }
  signals.forwardTo(child);
  return new Promise<number>((resolve) => {
    let failedToStart = false;
    child.once('error', (error: NodeJS.ErrnoException) => {
      // Only a command that never started reports here (a failed kill() does too, but has a pid).
      if (child.pid !== undefined) return;
      failedToStart = true;
      warn(`jit-lock: cannot run ${invocation.command}: ${error.code === 'ENOENT' ? 'command not found' : error.message}\n`);
      resolve(error.code === 'ENOENT' ? EXIT.notFound : EXIT.cannotRun);
    });
    child.once('close', (code, signal) => {
      if (failedToStart || child.pid === undefined) return; // the 'error' listener answers
      resolve(code ?? (signal ? signalExit(signal) : EXIT.osError));
    });
  });
}

/** The whole command: parses, locks, runs, releases; resolves to the exit code. */
export async function main(
  argv: readonly string[],
  io: { out: (text: string) => void; err: (text: string) => void } = {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
  },
): Promise<number> {
  let invocation: Invocation | undefined;
  try {
    invocation = parseArguments(argv, io.out);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.err(`jit-lock: ${error.message}\nTry 'jit-lock --help'.\n`);
    return EXIT.usage;
  }
  if (invocation === undefined) return 0;
  const signals = new SignalRelay();
  try {
    const held = await acquire(invocation, signals, io.err);
    if (typeof held === 'number') return held;
    try {
      // Signalled between the grant and now (a --nonblock tryLock cannot be aborted): the command never runs.
      if (signals.received) return signalExit(signals.received);
      return await runCommand(invocation, held, signals, io.err);
    } finally {
      held.release();
    }
  } finally {
    signals.stop();
  }
}
