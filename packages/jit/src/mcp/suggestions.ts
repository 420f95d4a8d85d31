/**
 * Error suggestions for an MCP agent. The store gives them as data
 * (store/suggestions.ts): sentences and operations with their arguments. An
 * agent that only has the tools cannot run CLI commands, so each operation is
 * rendered here as the matching tool call (`gate_pass {"id": "1a2b", "key": "tests"}`)
 * or, where no tool exists, as a neutral phrase that names no shell command.
 * OPERATION_TOOLS is exhaustive over the store's operations and names tools by
 * their typed names, so a new operation or a renamed tool breaks the build.
 */
import { bareCommand, type SuggestedCommand as Command, type Operation, type OperationArgs, type Suggestion } from '../store/core.js';
import type { ToolName } from './tools.js';

export interface Rendering {
  /** The tool call, or a phrase saying what to do without a tool. */
  text: string;
  /** True when `text` is a tool call ("Run" becomes "Call"). */
  tool: boolean;
}

/** `tool {"a": "x"}`, or the bare name when no argument is known. */
export function toolCall(tool: ToolName, args: Record<string, string | boolean | undefined> = {}): Rendering {
  const given = Object.entries(args).filter(([, value]) => value !== undefined);
  const json = given.map(([key, value]) => `${JSON.stringify(key)}: ${JSON.stringify(value)}`).join(', ');
  return { text: given.length === 0 ? tool : `${tool} {${json}}`, tool: true };
}

function withoutTool(words: string): Rendering {
  return { text: `the jit CLI's ${words} command (no MCP tool)`, tool: false };
}

/** Operation -> the tool an agent calls instead (or a phrase where there is none). */
export const OPERATION_TOOLS: { readonly [K in Operation]: (args: OperationArgs[K]) => Rendering } = {
  init: () => withoutTool('init'),
  'issue.list': () => toolCall('issue_list'),
  'issue.show': ({ id }) => toolCall('issue_show', { id }),
  'issue.search': ({ query }) => toolCall('issue_search', { query }),
  'issue.update': ({ id, state, priority, title }) => toolCall('issue_update', { id, state, priority, title }),
  'dep.remove': ({ from, to }) => toolCall('dep_remove', { from, to }),
  'gate.add': ({ id, key }) => toolCall('gate_add', { id, key }),
  'gate.remove': ({ id, key }) => toolCall('gate_remove', { id, key }),
  'gate.pass': ({ id, key }) => toolCall('gate_pass', { id, key }),
  'gate.fail': ({ id, key }) => toolCall('gate_fail', { id, key }),
  'gate.check': ({ id, key }) => toolCall('gate_check', { id, key }),
  'gate.checkAll': () => withoutTool('gate check-all'),
  // Deliberately no tool: trusting a command is for a person who has read it, never for the agent it would run for.
  'gate.trust': ({ key }) => withoutTool(`gate trust ${key}`),
  'registry.list': () => toolCall('registry_list'),
  // No registry_show tool: the list holds every definition.
  'registry.show': ({ key }) => ({ text: `${toolCall('registry_list').text} (it includes gate ${key})`, tool: true }),
  'registry.add': ({ key, title }) => toolCall('registry_add', { key, title }),
  'registry.remove': () => withoutTool('registry remove'),
  'query.ready': () => toolCall('query_ready'),
  'query.blocked': () => toolCall('query_blocked'),
  validate: ({ fix }) => toolCall('validate', { fix: fix === true ? true : undefined }),
  'debug.locks': () => withoutTool('debug locks'),
  migrate: () => withoutTool('migrate'),
  'db.init': () => withoutTool('db init'),
  'db.migrate': () => withoutTool('db migrate'),
};

/** The tool call (or phrase) for one command. */
export function renderCommand(command: Command): Rendering {
  const render = OPERATION_TOOLS[command.op] as (args: OperationArgs[Operation]) => Rendering;
  return render(command.args);
}

/** One suggestion in an agent's words: "Run <command>" becomes "Call <tool>" (or "Have a person run ..."). */
export function agentSuggestion(suggestion: Suggestion): string {
  if (suggestion.agent !== undefined) return suggestion.agent;
  const only = bareCommand(suggestion);
  if (only !== undefined) {
    const rendering = renderCommand(only);
    return rendering.tool ? `Call ${rendering.text}.` : `Have a person run ${rendering.text}.`;
  }
  return suggestion.parts
    .map((part) => {
      if (typeof part === 'string') return part;
      const rendering = renderCommand(part.command);
      return `${part.run ? (rendering.tool ? 'Call ' : 'Have a person run ') : ''}${rendering.text}`;
    })
    .join('');
}

export function agentSuggestions(suggestions: readonly Suggestion[]): string[] {
  return suggestions.map(agentSuggestion);
}
