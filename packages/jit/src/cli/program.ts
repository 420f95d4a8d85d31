/**
 * The commander program: the command groups (src/cli/commands/) wired into
 * one tree, run, and every commander outcome turned into output plus an exit
 * code. main.ts runs it for every invocation its fast path does not take.
 */
import { Command, CommanderError } from 'commander';
import { JitError } from '../store/core.js';
import { GLOBAL_OPTIONS, HELP_COMMAND, HELP_OPTION, type ArgvScan } from './argv.js';
import { EXIT } from './exit-codes.js';
import { STDERR, STDOUT, writeJson, writeOut } from './output.js';
import { packageVersion, printVersion } from './version.js';

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
  ['label', () => (require('./commands/label.js') as typeof import('./commands/label.js')).registerLabelCommands],
  ['status', () => (require('./commands/status.js') as typeof import('./commands/status.js')).registerStatusCommand],
  ['events', () => (require('./commands/events.js') as typeof import('./commands/events.js')).registerEventsCommands],
  ['graph', () => (require('./commands/graph.js') as typeof import('./commands/graph.js')).registerGraphCommands],
  ['validate', () => (require('./commands/validate.js') as typeof import('./commands/validate.js')).registerValidateCommand],
  ['migrate', () => (require('./commands/migrate.js') as typeof import('./commands/migrate.js')).registerMigrateCommand],
  ['export', () => (require('./commands/transfer.js') as typeof import('./commands/transfer.js')).registerExportCommand],
  ['import', () => (require('./commands/transfer.js') as typeof import('./commands/transfer.js')).registerImportCommand],
  ['db', () => (require('./commands/db.js') as typeof import('./commands/db.js')).registerDbCommand],
  ['debug', () => (require('./commands/debug.js') as typeof import('./commands/debug.js')).registerDebugCommands],
  ['mcp', () => (require('./commands/mcp.js') as typeof import('./commands/mcp.js')).registerMcpCommand],
  ['serve', () => (require('./commands/serve.js') as typeof import('./commands/serve.js')).registerServeCommand],
  ['agent', () => (require('./commands/agent.js') as typeof import('./commands/agent.js')).registerAgentCommands],
  ['agents', () => (require('./commands/agents.js') as typeof import('./commands/agents.js')).registerAgentsCommand],
];

/**
 * The groups a command line needs: none when it holds --version (answered
 * while the program reads its options, before any command is looked up);
 * the one it runs, or whose help `help GROUP ...` asks for; all of them for
 * --schema, the program's own help and unknown commands, which show the
 * full tree.
 */
function groupsFor(scan: ArgvScan | undefined): ReadonlyArray<readonly [string, () => Register]> {
  if (!scan || scan.has('schema')) return COMMAND_GROUPS;
  if (scan.has('version')) return [];
  const [first, second] = scan.words;
  const name = first === HELP_COMMAND.name ? second : first;
  const group = COMMAND_GROUPS.find(([groupName]) => groupName === name);
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

/**
 * The program with its own options and help, and no command groups; the
 * output of --version and --schema shaped by `json`.
 */
export function createProgram(json = false): Command {
  const program = new Command('jit')
    .description('A local issue tracker that many AI agents and people can share safely (true OS file locks).')
    .option(GLOBAL_OPTIONS.version.flags, GLOBAL_OPTIONS.version.help)
    .option(GLOBAL_OPTIONS.json.flags, GLOBAL_OPTIONS.json.help)
    .option(GLOBAL_OPTIONS.dir.flags, GLOBAL_OPTIONS.dir.help, nonEmptyDir)
    .option(GLOBAL_OPTIONS.schema.flags, GLOBAL_OPTIONS.schema.help)
    .helpOption(HELP_OPTION.flags, HELP_OPTION.help)
    .helpCommand(`${HELP_COMMAND.name} [command...]`, HELP_COMMAND.help)
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    // Errors are rendered by reportFailure (JSON, one line, exit code), not by commander.
    // With --json not even a group's help on a missing subcommand goes to stderr: the JSON error is all.
    // Help goes out through writeOut as all other output: process.stdout would load Node's stream
    // modules (~10 ms of every line commander parses), and writeOut ends quietly on EPIPE (`jit --help | head -1`).
    .exitOverride()
    .configureOutput({
      writeOut: (text) => writeOut(STDOUT, text),
      // Only a usage error writes to stderr (a group's help without its subcommand): its exit code is set first,
      // as writeOut ends the process with it if the reader has gone.
      writeErr: json
        ? () => {}
        : (text) => {
            process.exitCode = EXIT.USAGE;
            writeOut(STDERR, text);
          },
      outputError: () => {},
    });

  // --version and --schema are answered as soon as the option is seen, whatever else is on the line.
  program.on('option:version', () => {
    printVersion(json);
    throw new CommanderError(EXIT.OK, VERSION_DISPLAYED, '(version)');
  });
  program.on('option:schema', () => {
    const { describeProgram } = require('./schema.js') as typeof import('./schema.js');
    writeJson(describeProgram(program, packageVersion()));
    throw new CommanderError(EXIT.OK, SCHEMA_DISPLAYED, '(schema)');
  });
  return program;
}

/** The whole program, or for a scanned command line, only the command groups it needs (see groupsFor). */
export function buildProgram(scan?: ArgvScan): Command {
  const program = createProgram(scan?.has('json'));
  for (const [, load] of groupsFor(scan)) load()(program);
  return program;
}

function subcommand(command: Command, name: string): Command | undefined {
  return command.commands.find((candidate) => candidate.name() === name || candidate.aliases().includes(name));
}

/** The command the user was typing, for "run `jit issue create --help`". */
function commandPath(program: Command, scan: ArgvScan): string {
  const names = ['jit'];
  let command = program;
  for (const word of scan.words) {
    const sub = subcommand(command, word);
    if (!sub) break;
    names.push(sub.name());
    command = sub;
  }
  return names.join(' ');
}

/**
 * `jit help issue create` and `jit issue help create`: the path of the command
 * whose help was asked for, or undefined when the line is not a help request.
 * Commander's own help command reads one word only and reports an unknown
 * one as "a subcommand is required", so the whole path is resolved here.
 */
function helpRequest(program: Command, scan: ArgvScan): { target: string[] } | undefined {
  // --version and --schema win over help, as they do over any other command (see createProgram).
  if (scan.has('version') || scan.has('schema')) return undefined;
  const words = scan.words;
  let command = program;
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (word === HELP_COMMAND.name && command.commands.length > 0) return { target: [...words.slice(0, i), ...words.slice(i + 1)] };
    const sub = subcommand(command, word);
    if (!sub) return undefined;
    command = sub;
  }
  return undefined;
}

/** Prints the help of the command at `target`, or throws INVALID_ARGUMENT naming the unknown command. */
function showHelp(program: Command, target: readonly string[]): void {
  let command = program;
  for (let i = 0; i < target.length; i++) {
    const sub = subcommand(command, target[i]!);
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

function usageError(error: CommanderError, program: Command, scan: ArgvScan): JitError {
  const message = error.message.replace(/^error:\s*/i, '');
  const usage = commandPath(program, scan);
  return new JitError('INVALID_ARGUMENT', error.code === 'commander.help' ? `A subcommand is required after \`${usage}\`.` : message, {
    suggestions: [`Run \`${usage} --help\` for usage.`],
    details: { reason: error.code },
  });
}

/** Parses `argv` (read beforehand into `scan`) and runs the command; sets process.exitCode. */
export async function runProgram(argv: string[], scan: ArgvScan): Promise<void> {
  const json = scan.has('json');
  const program = buildProgram(scan);
  // Loaded only when something failed: a successful run never needs it.
  const report = (error: unknown) => (require('./failure.js') as typeof import('./failure.js')).reportFailure(error, json);
  try {
    const help = helpRequest(program, scan);
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
      report(usageError(error, program, scan));
      process.exitCode = EXIT.USAGE;
      return;
    }
    process.exitCode = report(error);
  }
}
