/**
 * The MCP server over the tool table. Built on the SDK's low-level `Server`
 * rather than `McpServer` because McpServer validates arguments itself and
 * answers bad ones with a bare text error; here every failure, argument
 * errors included, is an `isError` result carrying a JitError code.
 */
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestParamsSchema, CallToolRequestSchema, ErrorCode, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { toJitError, type TrackerApi } from '../store/core.js';
import { SERVER_INSTRUCTIONS } from './instructions.js';
import { errorResult, successResult } from './tool-result.js';
import { TOOLS } from './tools.js';
import type { JitTool, ToolContext } from './tools.js';

/** Stdout belongs to the protocol; everything else goes to stderr. */
export function logToStderr(message: string): void {
  process.stderr.write(`jit mcp: ${message}\n`);
}

/**
 * A JSON-RPC error for the client. Not the SDK's McpError: its message already
 * starts with "MCP error -32602:", and the SDK client adds that prefix again.
 */
export function protocolError(code: ErrorCode, message: string): Error & { code: ErrorCode } {
  return Object.assign(new Error(message), { code });
}

function kindOf(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}

/**
 * tools/call as the SDK defines it, except for `arguments`: null (which some
 * clients send for tools without arguments) means {}, and anything else that
 * is not an object is a one-line InvalidParams error, where the SDK's own
 * schema would answer with an internal error carrying a raw zod dump. The
 * object itself reaches the tool as parsed: a zod record would rebuild it
 * without its "__proto__" key, which the tool must see to refuse it.
 */
const LenientCallToolRequestSchema = CallToolRequestSchema.extend({
  params: CallToolRequestParamsSchema.extend({
    arguments: z.preprocess((value) => {
      if (value === null) return {};
      if (value !== undefined && (typeof value !== 'object' || Array.isArray(value))) {
        throw protocolError(ErrorCode.InvalidParams, `tools/call arguments must be a JSON object (or left out), not ${kindOf(value)}.`);
      }
      return value;
    }, z.custom<Record<string, unknown> | undefined>()),
  }),
});

export interface JitMcpServer {
  server: Server;
  /** Resolves once every tool call started so far has answered. */
  idle(): Promise<void>;
}

/**
 * `getTracker` is called per tool call; it may throw a JitError (e.g.
 * NOT_INITIALIZED), which that call then reports.
 */
export function createJitMcpServer(getTracker: () => TrackerApi, version: string): JitMcpServer {
  const server = new Server({ name: 'jit', version }, { capabilities: { tools: {} }, instructions: SERVER_INSTRUCTIONS });
  const toolsByName = new Map<string, (typeof TOOLS)[number]>(TOOLS.map((tool) => [tool.name, tool]));
  const inFlight = new Set<Promise<CallToolResult>>();

  server.setRequestHandler(ListToolsRequestSchema, () => ({
    tools: TOOLS.map(({ name, title, description, inputSchema, annotations }) => ({
      name,
      title,
      description,
      inputSchema: inputSchema as { type: 'object' },
      annotations,
    })),
  }));

  server.setRequestHandler(LenientCallToolRequestSchema, (request, extra) => {
    const tool = toolsByName.get(request.params.name);
    // An unknown tool is a client bug, not a tracker failure: protocol error, as the MCP spec asks.
    if (!tool) throw protocolError(ErrorCode.InvalidParams, `Unknown tool ${request.params.name}; see tools/list.`);
    // Calls run concurrently; the store serialises conflicting transactions.
    const progressToken = request.params._meta?.progressToken;
    const context: ToolContext =
      progressToken === undefined
        ? {}
        : {
            progress: (progress, message) => {
              extra.sendNotification({ method: 'notifications/progress', params: { progressToken, progress, message } }).catch(() => undefined);
            },
          };
    const call = runTool(tool, getTracker, request.params.arguments, context);
    inFlight.add(call);
    void call.finally(() => inFlight.delete(call));
    return call;
  });

  return {
    server,
    async idle() {
      await Promise.allSettled([...inFlight]);
    },
  };
}

async function runTool(tool: JitTool, getTracker: () => TrackerApi, args: unknown, context: ToolContext): Promise<CallToolResult> {
  try {
    return successResult(await tool.call(getTracker(), args, context));
  } catch (error) {
    const jitError = toJitError(error);
    if (jitError.code === 'INTERNAL') logToStderr(`${tool.name} failed: ${(error as Error)?.stack ?? String(error)}`);
    return errorResult(jitError);
  }
}
