/**
 * `jit --schema`: a JSON description of every command, argument and option,
 * read from the commander tree itself so it cannot drift from what the CLI
 * accepts. Tool wrappers (e.g. an MCP bridge) generate their tools from it.
 */
import type { Argument, Command, Option } from 'commander';
import { valueMeta, type ValueType } from './options.js';

export interface ArgumentSchema {
  name: string;
  type: ValueType;
  required: boolean;
  variadic: boolean;
  choices?: readonly string[];
  help: string;
}

export interface OptionSchema {
  name: string; // the key in the parsed options, e.g. removeLabel
  flags: string;
  long?: string;
  short?: string;
  type: ValueType;
  /** The option must be given (e.g. --title of `issue create`). */
  required: boolean;
  choices?: readonly string[];
  default?: unknown;
  help: string;
}

export interface CommandSchema {
  name: string;
  path: string; // e.g. "issue create"
  aliases: string[];
  help: string;
  runnable: boolean; // false for groups that only hold subcommands
  arguments: ArgumentSchema[];
  options: OptionSchema[];
  commands: CommandSchema[];
}

function argumentSchema(argument: Argument): ArgumentSchema {
  const meta = valueMeta(argument);
  return {
    name: argument.name(),
    type: meta.type,
    required: argument.required,
    variadic: argument.variadic,
    ...(meta.choices ? { choices: meta.choices } : {}),
    help: argument.description,
  };
}

function optionSchema(option: Option): OptionSchema {
  const meta = valueMeta(option);
  return {
    name: option.attributeName(),
    flags: option.flags,
    ...(option.long ? { long: option.long } : {}),
    ...(option.short ? { short: option.short } : {}),
    type: meta.type,
    required: option.mandatory,
    ...(meta.choices ? { choices: meta.choices } : {}),
    ...(option.defaultValue !== undefined ? { default: option.defaultValue } : {}),
    help: option.description,
  };
}

function commandSchema(command: Command, parentPath: string): CommandSchema {
  const path = parentPath ? `${parentPath} ${command.name()}` : command.name();
  return {
    name: command.name(),
    path,
    aliases: command.aliases(),
    help: command.description(),
    // In this CLI a command either has an action or only groups subcommands (issue, dep, ...).
    runnable: command.commands.length === 0,
    arguments: command.registeredArguments.map(argumentSchema),
    options: command.options.map(optionSchema),
    commands: command.commands.map((sub) => commandSchema(sub, path)),
  };
}

/** `version` is the package's: the program defines its own -V option rather than commander's .version(). */
export function describeProgram(
  program: Command,
  version: string,
): {
  name: string;
  version: string;
  help: string;
  global_options: OptionSchema[];
  commands: CommandSchema[];
} {
  return {
    name: program.name(),
    version,
    help: program.description(),
    global_options: program.options.map(optionSchema),
    commands: program.commands.map((command) => commandSchema(command, '')),
  };
}
