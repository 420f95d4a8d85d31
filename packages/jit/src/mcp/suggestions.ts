/**
 * Error suggestions for an MCP agent. The store writes them for the CLI
 * ("Run `jit issue list` to see the ids.", "jit gate pass 1a2b tests"); an
 * agent that only has the tools cannot run those. Each `jit ...` command in a
 * suggestion is looked up by its command words in COMMAND_TOOLS and replaced
 * with the matching tool call (`gate_pass {"id": "1a2b", "key": "tests"}`),
 * or, where no tool exists, with a neutral phrase that names no shell command.
 * suggestions.test.ts checks that every command the store and the shared
 * hints can suggest has an entry here, and every tool named exists.
 */

export interface Rendering {
  /** The tool call, or a phrase saying what to do without a tool. */
  text: string;
  /** True when `text` is a tool call ("Run" becomes "Call"). */
  tool: boolean;
}

type Options = Readonly<Record<string, string | true>>;
type Translate = (positional: readonly string[], options: Options) => Rendering;

/** `tool {"a": "x"}`, or the bare name when no argument is known. */
export function toolCall(tool: string, args: Record<string, string | boolean | undefined> = {}): Rendering {
  const given = Object.entries(args).filter(([, value]) => value !== undefined);
  const json = given.map(([key, value]) => `${JSON.stringify(key)}: ${JSON.stringify(value)}`).join(', ');
  return { text: given.length === 0 ? tool : `${tool} {${json}}`, tool: true };
}

function withoutTool(words: string): Rendering {
  return { text: `the jit CLI's ${words} command (no MCP tool)`, tool: false };
}

function option(options: Options, name: string): string | undefined {
  const value = options[name];
  return typeof value === 'string' ? value : undefined;
}

/** CLI command words -> the tool an agent calls instead. */
export const COMMAND_TOOLS: Readonly<Record<string, Translate>> = {
  'issue list': () => toolCall('issue_list'),
  'issue show': ([id]) => toolCall('issue_show', { id }),
  'issue search': ([query]) => toolCall('issue_search', { query }),
  'issue update': ([id], options) =>
    toolCall('issue_update', { id, state: option(options, 'state'), priority: option(options, 'priority'), title: option(options, 'title') }),
  'issue claim': ([id, assignee]) => toolCall('issue_claim', { id, assignee }),
  'issue claim-next': ([assignee]) => toolCall('issue_claim_next', { assignee }),
  'issue release': ([id, reason]) => toolCall('issue_release', { id, reason }),
  'issue unassign': ([id]) => toolCall('issue_unassign', { id }),
  'dep add': ([from, to]) => toolCall('dep_add', { from, to }),
  'dep rm': ([from, to]) => toolCall('dep_remove', { from, to }),
  'dep remove': ([from, to]) => toolCall('dep_remove', { from, to }),
  'gate add': ([id, key]) => toolCall('gate_add', { id, key }),
  'gate remove': ([id, key]) => toolCall('gate_remove', { id, key }),
  'gate rm': ([id, key]) => toolCall('gate_remove', { id, key }),
  'gate pass': ([id, key]) => toolCall('gate_pass', { id, key }),
  'gate fail': ([id, key]) => toolCall('gate_fail', { id, key }),
  'registry list': () => toolCall('registry_list'),
  'registry add': ([key], options) => toolCall('registry_add', { key, title: option(options, 'title') }),
  // No registry_show tool: the list holds every definition.
  'registry show': ([key]) => ({ text: `registry_list${key === undefined ? '' : ` (it includes gate ${key})`}`, tool: true }),
  'registry remove': () => withoutTool('registry remove'),
  'query all': () => toolCall('issue_list'),
  'query ready': () => toolCall('query_ready'),
  'query blocked': () => toolCall('query_blocked'),
  status: () => toolCall('status'),
  'events tail': () => toolCall('events_tail'),
  validate: (_, options) => toolCall('validate', { fix: options['fix'] === true ? true : undefined }),
  init: () => withoutTool('init'),
  'debug locks': () => withoutTool('debug locks'),
};

/** Splits a command line into words, keeping "quoted text" together (without the quotes). */
function tokens(command: string): string[] {
  return [...command.matchAll(/"([^"]*)"|(\S+)/g)].map((match) => match[1] ?? match[2]!);
}

/** The translation of one command line (without the leading `jit`). */
export function translateCommand(command: string): Rendering {
  const words = tokens(command);
  // The longest run of leading words that names a command: "gate pass", "validate".
  let length = 0;
  for (let n = 1; n <= words.length; n++) if (COMMAND_TOOLS[words.slice(0, n).join(' ')]) length = n;
  if (length === 0) return withoutTool(words.filter((word) => !word.startsWith('-')).slice(0, 2).join(' '));
  const positional: string[] = [];
  const options: Record<string, string | true> = {};
  const rest = words.slice(length);
  for (let i = 0; i < rest.length; i++) {
    const word = rest[i]!;
    if (!word.startsWith('--')) positional.push(word);
    else if (word.includes('=')) options[word.slice(2, word.indexOf('='))] = word.slice(word.indexOf('=') + 1);
    else if (rest[i + 1] !== undefined && !rest[i + 1]!.startsWith('--')) options[word.slice(2)] = rest[++i]!;
    else options[word.slice(2)] = true;
  }
  return COMMAND_TOOLS[words.slice(0, length).join(' ')]!(positional, options);
}

/** Whole sentences that only make sense on a command line. */
const SENTENCES: ReadonlyArray<readonly [RegExp, string]> = [
  [/^Or pass --dir PATH \/ set JIT_DIR\.$/, 'Or set JIT_DIR (or pass --dir PATH) in the configuration that starts this MCP server.'],
];

/** One suggestion with every `jit ...` command replaced by its tool call or a neutral phrase. */
export function translateSuggestion(suggestion: string): string {
  for (const [pattern, replacement] of SENTENCES) if (pattern.test(suggestion)) return replacement;
  const bare = /^jit\s+([^`]+?)\.?$/.exec(suggestion.trim());
  if (bare) {
    const rendering = translateCommand(bare[1]!);
    return rendering.tool ? `Call ${rendering.text}.` : `Have a person run ${rendering.text}.`;
  }
  return suggestion.replace(/(\bRun )?`jit\s+([^`]*)`/g, (_match, run: string | undefined, command: string) => {
    const rendering = translateCommand(command);
    return `${run ? (rendering.tool ? 'Call ' : 'Have a person run ') : ''}${rendering.text}`;
  });
}

export function translateSuggestions(suggestions: readonly string[]): string[] {
  return suggestions.map(translateSuggestion);
}
