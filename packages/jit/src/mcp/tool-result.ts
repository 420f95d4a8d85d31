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
function render(summary: string, data: object, isError: boolean, json = JSON.stringify(data, null, 2)): CallToolResult {
  return {
    content: [{ type: 'text', text: `${summary}\n\n${json}` }],
    structuredContent: data as Record<string, unknown>,
    ...(isError ? { isError: true } : {}),
  };
}

/**
 * The most characters of JSON one result may carry (it is sent twice: as
 * structured content and in the text). MCP clients drop the connection on a
 * message above their limit (the TypeScript SDK's is 10 MB), and with it the
 * agent's session; lists are paged below this (tools.ts PAGE_CHARS), but one
 * issue may be larger (context keys are not limited in number).
 */
export const RESULT_MAX_CHARS = 4_000_000;

export function successResult(output: ToolOutput): CallToolResult {
  // Measured on the text that is sent (the structured copy is a little smaller), serialised once.
  const json = JSON.stringify(output.data, null, 2);
  const size = json.length;
  if (size <= RESULT_MAX_CHARS) return render(output.summary, output.data, false, json);
  return errorResult(
    new JitError('RESULT_TOO_LARGE', `The answer is ${size.toLocaleString('en-US')} characters of JSON, more than one MCP message may carry (${RESULT_MAX_CHARS.toLocaleString('en-US')}), so it was not sent; whatever the call changed is done.`, {
      suggestions: ['Ask for less (a smaller limit or a narrower query), or read it with the CLI: `jit issue show ID --json` prints any size.'],
      details: { chars: size, max_chars: RESULT_MAX_CHARS },
    }),
  );
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

