/**
 * The `jit` command. bin/jit.js calls `main(process.argv)`.
 *
 * Start-up is most of a CLI run, and loading commander and building the
 * program tree is a large part of it. So the read-only commands agents poll
 * most (FAST_COMMANDS) run their action directly when the command line is
 * one of their plain forms; every other command line goes to the commander
 * program (program.ts), which also owns help, usage errors and --schema.
 */
import { Invocation, type GlobalOptions } from './context.js';

type Action = (cli: Invocation) => Promise<void>;

/** Commands without arguments or options of their own, by their words. */
const FAST_COMMANDS: ReadonlyMap<string, () => Action> = new Map([
  ['status', () => (require('./commands/status.js') as typeof import('./commands/status.js')).showStatus],
  ['query ready', () => (require('./commands/query.js') as typeof import('./commands/query.js')).showReady],
]);

/**
 * The action and global options when `args` are a FAST_COMMANDS command with
 * only --json and at most one --dir PATH (or --dir=PATH), in any order.
 * Anything else (help, another option, an extra word, `--`, a --dir value
 * that looks like an option) is left to commander, so that its handling of
 * those cases stays the only one.
 */
function fastCommand(args: readonly string[]): { action: Action; options: GlobalOptions } | undefined {
  const words: string[] = [];
  const options: GlobalOptions = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const next = args[i + 1];
    if (arg === '--json') options.json = true;
    else if (arg === '--dir' && options.dir === undefined && next !== undefined && !next.startsWith('-')) options.dir = args[++i];
    else if (arg.startsWith('--dir=') && options.dir === undefined) options.dir = arg.slice('--dir='.length);
    else if (arg.startsWith('-')) return undefined;
    else words.push(arg);
  }
  if (options.dir !== undefined && options.dir.trim() === '') return undefined; // refused by commander's --dir parser
  const load = FAST_COMMANDS.get(words.join(' '));
  return load && { action: load(), options };
}

/** Arguments before `--`: whether the caller asked for JSON even if parsing failed. */
function wantsJson(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).includes('--json');
}

export async function main(argv: string[]): Promise<void> {
  const args = argv.slice(2);
  const json = wantsJson(args);
  const fast = fastCommand(args);
  if (!fast) {
    await (require('./program.js') as typeof import('./program.js')).runProgram(argv, json);
    return;
  }
  try {
    await fast.action(new Invocation(fast.options));
  } catch (error) {
    // Loaded only when something failed: a successful run never needs it.
    process.exitCode = (require('./failure.js') as typeof import('./failure.js')).reportFailure(error, json);
  }
}
