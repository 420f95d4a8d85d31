/**
 * How tool outcomes reach the client: structured JSON (`structuredContent`)
 * plus a text block with a one-line summary and the same JSON, for clients
 * that only read text. Failures are `isError` results with the JitError's
 * stable code, never protocol errors, so an agent can act on them.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { withHints, JitError } from '../store/core.js';
import { agentSuggestions } from './suggestions.js';

/** What a tool returns: the data (a JSON object, as the CLI's --json prints it) and a line a person can read. */
export interface ToolOutput {
  data: object;
  summary: string;
}

// No tool declares an outputSchema: the SDK's Client validates structuredContent
// against it even on isError results, which would turn every {"error": ...}
// result into a client-side exception.
function render(summary: string, data: object, isError: boolean): CallToolResult {
  return {
    content: [{ type: 'text', text: `${summary}\n\n${JSON.stringify(data, null, 2)}` }],
    structuredContent: data as Record<string, unknown>,
    ...(isError ? { isError: true } : {}),
  };
}

export function successResult(output: ToolOutput): CallToolResult {
  return render(output.summary, output.data, false);
}

/**
 * `{"error": {...}}`, the same shape as the CLI's `--json` failure output,
 * except that the suggestions name tools instead of CLI commands (see
 * suggestions.ts), in the JSON and in the text alike.
 */
export function errorResult(thrown: JitError): CallToolResult {
  const hinted = withHints(thrown);
  const suggestions = agentSuggestions(hinted.hints);
  const error = { ...hinted.toJSON(), suggestions };
  const hints = suggestions.length > 0 ? ` Next: ${suggestions.join(' ')}` : '';
  return render(`${error.code}: ${error.message}${hints}`, { error }, true);
}

