/**
 * Suggestions are data: what to do next, as an operation of the tracker and
 * its arguments (`{ op: 'gate.pass', args: { id, key } }`), set in a sentence
 * or standing alone. Each face renders them in its own words: the CLI as a
 * command line (commandLine below, which is also the text of
 * JitError.suggestions and of the `--json` error document), the MCP server as
 * a tool call (mcp/suggestions.ts). Both renderings are exhaustive maps over
 * Operation, so a new operation, or a renamed tool, fails the build rather
 * than reaching a user as a stale hint.
 */

/** Every operation a suggestion can name, with its arguments (ids already shortened for display). */
export interface OperationArgs {
  init: Record<string, never>;
  'issue.list': Record<string, never>;
  'issue.show': { id: string };
  'issue.search': { query: string };
  'issue.update': { id: string; state?: string; priority?: string; title?: string };
  'dep.remove': { from?: string; to?: string };
  'gate.add': { id?: string; key?: string };
  'gate.remove': { id: string; key: string };
  'gate.pass': { id: string; key: string };
  'gate.fail': { id: string; key: string };
  'gate.check': { id: string; key?: string };
  'gate.checkAll': Record<string, never>;
  'gate.trust': { key: string };
  'registry.list': Record<string, never>;
  'registry.show': { key: string };
  'registry.add': { key: string; title?: string };
  'registry.remove': { key: string; dropRequirements?: boolean };
  'query.ready': Record<string, never>;
  'query.blocked': Record<string, never>;
  validate: { fix?: boolean };
  'debug.locks': Record<string, never>;
  migrate: { from?: string };
  'db.init': Record<string, never>;
  'db.migrate': Record<string, never>;
}

export type Operation = keyof OperationArgs;

/** One operation with its arguments. */
export type Command = { [K in Operation]: { op: K; args: OperationArgs[K] } }[Operation];

/** A command inside a sentence; `run` when the sentence says "Run <command>" (an agent is told "Call <tool>"). */
export interface CommandPart {
  command: Command;
  run: boolean;
}

export type SuggestionPart = string | CommandPart;

/**
 * One suggestion: text and commands in order. A suggestion that is one command
 * and nothing else is a bare command. `agent` replaces the whole sentence for
 * an agent where the advice itself differs (configuration instead of a flag).
 */
export interface Suggestion {
  parts: readonly SuggestionPart[];
  agent?: string;
}

type ArgsOf<K extends Operation> = Record<string, never> extends OperationArgs[K] ? [args?: OperationArgs[K]] : [args: OperationArgs[K]];

/** The operation `op` with `args`, e.g. command('gate.pass', { id, key }). */
export function command<K extends Operation>(op: K, ...args: ArgsOf<K>): Command {
  return { op, args: args[0] ?? {} } as Command;
}

/** "Run <command>" inside a sentence (see CommandPart). */
export function run(command: Command): CommandPart {
  return { command, run: true };
}

/**
 * A suggestion written as a sentence: hint`Finish them, or remove them with ${command('dep.remove')}.`
 * Interpolate commands (command(), or run() for "Run ...") and plain strings.
 */
export function hint(text: TemplateStringsArray, ...values: ReadonlyArray<Command | CommandPart | string>): Suggestion {
  const parts: SuggestionPart[] = [];
  text.forEach((piece, i) => {
    if (piece !== '') parts.push(piece);
    if (i >= values.length) return;
    const value = values[i]!;
    parts.push(typeof value === 'string' || 'command' in value ? value : { command: value, run: false });
  });
  return { parts: joinText(parts) };
}

/** A suggestion that is one command and nothing else. */
export function bare(command: Command): Suggestion {
  return { parts: [{ command, run: false }] };
}

/** Adjacent strings as one, so a sentence with interpolated text compares and renders simply. */
function joinText(parts: SuggestionPart[]): SuggestionPart[] {
  const joined: SuggestionPart[] = [];
  for (const part of parts) {
    const last = joined[joined.length - 1];
    if (typeof part === 'string' && typeof last === 'string') joined[joined.length - 1] = last + part;
    else joined.push(part);
  }
  return joined;
}

/** The one command a bare suggestion consists of, if it is one. */
export function bareCommand(suggestion: Suggestion): Command | undefined {
  const [only, ...rest] = suggestion.parts;
  return rest.length === 0 && only !== undefined && typeof only !== 'string' ? only.command : undefined;
}

function words(...given: Array<string | undefined>): string {
  return given.filter((word) => word !== undefined).join(' ');
}

/** Operation -> the CLI's command words and options (without the leading `jit`). */
const COMMAND_LINES: { [K in Operation]: (args: OperationArgs[K]) => string } = {
  init: () => 'init',
  'issue.list': () => 'issue list',
  'issue.show': ({ id }) => `issue show ${id}`,
  'issue.search': ({ query }) => `issue search ${query}`,
  'issue.update': ({ id, state, priority, title }) =>
    words('issue update', id, state && `--state ${state}`, priority && `--priority ${priority}`, title && `--title "${title}"`),
  'dep.remove': ({ from, to }) => words('dep rm', from, to),
  'gate.add': ({ id, key }) => words('gate add', id, key),
  'gate.remove': ({ id, key }) => `gate remove ${id} ${key}`,
  'gate.pass': ({ id, key }) => `gate pass ${id} ${key}`,
  'gate.fail': ({ id, key }) => `gate fail ${id} ${key}`,
  'gate.check': ({ id, key }) => words('gate check', id, key),
  'gate.checkAll': () => 'gate check-all',
  'gate.trust': ({ key }) => `gate trust ${key}`,
  'registry.list': () => 'registry list',
  'registry.show': ({ key }) => `registry show ${key}`,
  'registry.add': ({ key, title }) => words('registry add', key, title === undefined ? undefined : `--title "${title}"`),
  'registry.remove': ({ key, dropRequirements }) => words('registry remove', key, dropRequirements ? '--drop-requirements' : undefined),
  'query.ready': () => 'query ready',
  'query.blocked': () => 'query blocked',
  validate: ({ fix }) => words('validate', fix ? '--fix' : undefined),
  'debug.locks': () => 'debug locks',
  migrate: ({ from }) => words('migrate', from === undefined ? undefined : `--from ${from}`),
  'db.init': () => 'db init',
  'db.migrate': () => 'db migrate',
};

/** `jit gate pass 1a2b tests`: the command line that runs `command`. */
export function commandLine(command: Command): string {
  const render = COMMAND_LINES[command.op] as (args: OperationArgs[Operation]) => string;
  return `jit ${render(command.args)}`;
}

/** The suggestion in the CLI's words: a bare command as its command line, commands in sentences in backticks. */
export function suggestionText(suggestion: Suggestion): string {
  const only = bareCommand(suggestion);
  if (only !== undefined) return commandLine(only);
  return suggestion.parts.map((part) => (typeof part === 'string' ? part : `${part.run ? 'Run ' : ''}\`${commandLine(part.command)}\``)).join('');
}

/** A plain sentence as a suggestion. */
export function sentence(text: string): Suggestion {
  return { parts: [text] };
}

/** Strings (sentences without commands) or suggestions, as suggestions. */
export function toSuggestion(value: string | Suggestion): Suggestion {
  return typeof value === 'string' ? sentence(value) : value;
}
