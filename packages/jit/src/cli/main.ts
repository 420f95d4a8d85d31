/**
 * The `jit` command. bin/jit.js calls `main(process.argv)`.
 *
 * Start-up is most of a CLI run, and loading commander and building the
 * program tree is a large part of it. So the command line is read once
 * (argv.ts) and two kinds of line never load commander: --version, and the
 * plain forms of the read-only commands agents poll most (FAST_COMMANDS),
 * whose action runs directly. Every other line goes to the commander
 * program (program.ts), which also owns help, usage errors and --schema.
 */
import { scanArgv, type ArgvScan } from './argv.js';
import type { GlobalOptions, Invocation } from './context.js';

type Action = (cli: Invocation) => Promise<void>;

/** Commands without arguments or options of their own, by their words. */
const FAST_COMMANDS: ReadonlyMap<string, () => Action> = new Map([
  ['status', () => (require('./commands/status.js') as typeof import('./commands/status.js')).showStatus],
  ['query ready', () => (require('./commands/query.js') as typeof import('./commands/query.js')).showReady],
]);

/**
 * The action and global options when the line is a FAST_COMMANDS command
 * with only --json and at most one non-blank --dir. Anything else (help,
 * another option, an extra word, a repeated or blank --dir) is left to
 * commander, so that its handling of those cases stays the only one.
 */
function fastCommand(scan: ArgvScan): { action: Action; options: GlobalOptions } | undefined {
  if (scan.rest.length > 0 || scan.missingValue) return undefined;
  if (scan.options.some((option) => option.name !== 'json' && option.name !== 'dir')) return undefined;
  const dirs = scan.options.filter((option) => option.name === 'dir');
  if (dirs.length > 1 || dirs[0]?.value?.trim() === '') return undefined; // a blank one is refused by commander's --dir parser
  const load = FAST_COMMANDS.get(scan.words.join(' '));
  return load && { action: load(), options: { json: scan.has('json'), dir: scan.value('dir') } };
}

/**
 * Whether --version is answered before anything on the line could fail:
 * commander answers it as soon as it reads it, and of the global options
 * only --json (which cannot fail) comes before it here.
 */
function versionComesFirst(scan: ArgvScan): boolean {
  return scan.options.find((option) => option.name !== 'json')?.name === 'version';
}

export async function main(argv: string[]): Promise<void> {
  const scan = scanArgv(argv.slice(2));
  const json = scan.has('json');
  if (versionComesFirst(scan)) {
    (require('./version.js') as typeof import('./version.js')).printVersion(json);
    return;
  }
  const fast = fastCommand(scan);
  if (!fast) {
    await (require('./program.js') as typeof import('./program.js')).runProgram(argv, scan);
    return;
  }
  try {
    // context.js (with the output helpers and store/core.js) after --version: it answers without them.
    const context = require('./context.js') as typeof import('./context.js');
    await fast.action(new context.Invocation(fast.options));
  } catch (error) {
    // Loaded only when something failed: a successful run never needs it.
    process.exitCode = (require('./failure.js') as typeof import('./failure.js')).reportFailure(error, json);
  }
}
