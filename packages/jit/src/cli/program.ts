/**
 * The commander program: the command groups (src/cli/commands/) wired into
 * one tree, run, and every commander outcome turned into output plus an exit
 * code. main.ts runs it for every invocation its fast path does not take.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Command, CommanderError } from 'commander';
import { JitError } from '../store/core.js';
import { EXIT } from './exit-codes.js';
import { reportFailure } from './failure.js';
import { STDOUT, writeJson, writeOut } from './output.js';

const SCHEMA_DISPLAYED = 'jit.schemaDisplayed';
const VERSION_DISPLAYED = 'jit.versionDisplayed';

type Register = (program: Command) => void;

/**
 * The command groups, one module each, in help order. A module is loaded
 * only when its group is used, so `jit status` compiles one command file
 * rather than all of them (start-up time is most of a CLI run).
 */
const COMMAND_GROUPS: ReadonlyArray<readonly [name: string, load: () => Register]> = [
  ['init', () => (require('./commands/init.js') as typeof import('./commands/init.js')).registerInitCommand],
  ['issue', () => (require('./commands/issue.js') as typeof import('./commands/issue.js')).registerIssueCommands],
  ['dep', () => (require('./commands/dep.js') as typeof import('./commands/dep.js')).registerDepCommands],
  ['registry', () => (require('./commands/registry.js') as typeof import('./commands/registry.js')).registerRegistryCommands],
  ['gate', () => (require('./commands/gate.js') as typeof import('./commands/gate.js')).registerGateCommands],
  ['query', () => (require('./commands/query.js') as typeof import('./commands/query.js')).registerQueryCommands],
  ['status', () => (require('./commands/status.js') as typeof import('./commands/status.js')).registerStatusCommand],
  ['events', () => (require('./commands/events.js') as typeof import('./commands/events.js')).registerEventsCommands],
  ['graph', () => (require('./commands/graph.js') as typeof import('./commands/graph.js')).registerGraphCommands],
  ['validate', () => (require('./commands/validate.js') as typeof import('./commands/validate.js')).registerValidateCommand],
  ['debug', () => (require('./commands/debug.js') as typeof import('./commands/debug.js')).registerDebugCommands],
  ['mcp', () => (require('./commands/mcp.js') as typeof import('./commands/mcp.js')).registerMcpCommand],
];

/** The first word that is not an option (nor --dir's value): the command group being run. */
function invokedGroup(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') return undefined;
    if (arg === '--dir') i++;
    else if (!arg.startsWith('-')) return arg;
  }
  return undefined;
}

/**
 * The groups `args` need: the invoked one; none for a lone --version (answered
 * while the options are parsed, before any command is looked up); all of them
 * for help, --schema and unknown commands, which need the full tree.
 */
function groupsFor(args: readonly string[] | undefined): ReadonlyArray<readonly [string, () => Register]> {
  if (!args || args.includes('--schema')) return COMMAND_GROUPS;
  const isVersion = (arg: string): boolean => arg === '--version' || arg === '-V';
  if (args.some(isVersion) && args.every((arg) => isVersion(arg) || arg === '--json')) return [];
  const group = COMMAND_GROUPS.find(([name]) => name === invokedGroup(args));
  return group ? [group] : COMMAND_GROUPS;
}

/** An empty --dir must not fall back to $JIT_DIR or the walk-up: that may be another store. */
function nonEmptyDir(value: string): string {
  if (value.trim() === '') {
    throw new JitError('INVALID_ARGUMENT', '--dir needs a path, not an empty string.', {
      suggestions: ['Give the .jit directory or the project folder, e.g. --dir ., or leave --dir out to use $JIT_DIR or the nearest .jit/.'],
      details: { field: 'dir' },
    });
  }
  return value;
}

function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
  return manifest.version;
}

/**
 * The whole program, or with `args`, only the command group they invoke
 * (see groupsFor).
 */
export function buildProgram(args?: readonly string[], json = false): Command {
  const program = new Command('jit')
    .description('A local issue tracker that many AI agents and people can share safely (true OS file locks).')
    .option('-V, --version', 'print the version ({"version": ...} with --json)')
    .option('--json', 'print only JSON on stdout, errors as {"error": {...}} (also accepted after any command)')
    .option('--dir <path>', 'the .jit directory or the project holding it (default: $JIT_DIR, then the nearest .jit/ above)', nonEmptyDir)
    .option('--schema', 'print a JSON description of every command, argument and option, then exit')
    .helpOption('-h, --help', 'show help')
    .helpCommand('help [command...]', 'show help for a command (e.g. help issue create)')
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    // Errors are rendered by reportFailure (JSON, one line, exit code), not by commander.
    .exitOverride()
    .configureOutput({ outputError: () => {} });

  // --version and --schema are answered as soon as the option is seen, whatever else is on the line.
  program.on('option:version', () => {
    const version = packageVersion();
    if (json) writeJson({ version });
    else writeOut(STDOUT, `${version}\n`);
    throw new CommanderError(EXIT.OK, VERSION_DISPLAYED, '(version)');
  });
  program.on('option:schema', () => {
    const { describeProgram } = require('./schema.js') as typeof import('./schema.js');
    writeJson(describeProgram(program, packageVersion()));
    throw new CommanderError(EXIT.OK, SCHEMA_DISPLAYED, '(schema)');
  });

  for (const [, load] of groupsFor(args)) load()(program);
  return program;
}

/** The command the user was typing, for "run `jit issue create --help`". */
function commandPath(program: Command, args: readonly string[]): string {
  const names = ['jit'];
  let command = program;
  for (const arg of args) {
    if (arg === '--') break;
    const sub = command.commands.find((candidate) => candidate.name() === arg || candidate.aliases().includes(arg));
    if (sub) {
      names.push(sub.name());
      command = sub;
    }
  }
  return names.join(' ');
}

/** The words of `args` that are not options (nor --dir's value), up to `--`. */
function commandWords(args: readonly string[]): string[] {
  const words: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') break;
    if (arg === '--dir') i++;
    else if (!arg.startsWith('-')) words.push(arg);
  }
  return words;
}

/**
 * `jit help issue create` and `jit issue help create`: the path of the command
 * whose help was asked for, or undefined when the line is not a help request.
 * Commander's own help command reads one word only and reports an unknown
 * one as "a subcommand is required", so the whole path is resolved here.
 */
function helpRequest(program: Command, args: readonly string[]): { target: string[] } | undefined {
  // --version and --schema win over help, as they do over any other command (see buildProgram).
  if (args.some((arg) => arg === '--version' || arg === '-V' || arg === '--schema')) return undefined;
  const words = commandWords(args);
  let command = program;
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (word === 'help' && command.commands.length > 0) return { target: [...words.slice(0, i), ...words.slice(i + 1)] };
    const sub = command.commands.find((candidate) => candidate.name() === word || candidate.aliases().includes(word));
    if (!sub) return undefined;
    command = sub;
  }
  return undefined;
}

/** Prints the help of the command at `target`, or throws INVALID_ARGUMENT naming the unknown command. */
function showHelp(program: Command, target: readonly string[]): void {
  let command = program;
  for (let i = 0; i < target.length; i++) {
    const sub = command.commands.find((candidate) => candidate.name() === target[i] || candidate.aliases().includes(target[i]!));
    if (!sub) {
      const known = ['jit', ...target.slice(0, i)].join(' ');
      throw new JitError('INVALID_ARGUMENT', `unknown command '${target.slice(0, i + 1).join(' ')}'`, {
        suggestions: [`Run \`${known} --help\` for the commands.`],
        details: { reason: 'commander.unknownCommand' },
      });
    }
    command = sub;
  }
  writeOut(STDOUT, command.helpInformation());
}

function usageError(error: CommanderError, program: Command, args: readonly string[]): JitError {
  const message = error.message.replace(/^error:\s*/i, '');
  const usage = commandPath(program, args);
  return new JitError('INVALID_ARGUMENT', error.code === 'commander.help' ? `A subcommand is required after \`${usage}\`.` : message, {
    suggestions: [`Run \`${usage} --help\` for usage.`],
    details: { reason: error.code },
  });
}

/** Parses `argv` and runs the command; sets process.exitCode. */
export async function runProgram(argv: string[], json: boolean): Promise<void> {
  // Commander's help goes through process.stdout; `jit --help | head` closing
  // the pipe early is not an error worth a stack trace (writeOut does the same).
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit();
    throw error;
  });
  const args = argv.slice(2);
  const program = buildProgram(args, json);
  try {
    const help = helpRequest(program, args);
    if (help) {
      showHelp(program, help.target);
      process.exitCode = EXIT.OK;
      return;
    }
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.exitCode === EXIT.OK) {
        process.exitCode = EXIT.OK; // --help, help COMMAND, --version, --schema
        return;
      }
      reportFailure(usageError(error, program, args), json);
      process.exitCode = EXIT.USAGE;
      return;
    }
    process.exitCode = reportFailure(error, json);
  }
}
