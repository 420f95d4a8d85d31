/** `jit mcp`: the MCP server on stdio (src/mcp), loaded only when asked for so other commands start fast. */
import type { Command } from 'commander';
import { JitError } from '../../store/core.js';
import { action } from '../context.js';

interface McpModule {
  runMcpServer(options: { dir?: string; agent?: string }): Promise<void>;
}

function loadMcp(): McpModule {
  try {
    return require('../../mcp/index.js') as McpModule;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' && String((error as Error).message).includes('mcp/index.js')) {
      throw new JitError('INTERNAL', 'This build of jit has no MCP server (dist/mcp/index.js is missing).', {
        suggestions: ['Rebuild with `npm run build`.'],
        cause: error,
      });
    }
    throw error;
  }
}

export function registerMcpCommand(program: Command): void {
  program
    .command('mcp')
    .description('Serve the tracker to AI agents over the Model Context Protocol on stdio')
    .option('--agent <id>', 'run as this agent (kind:name; default: JIT_AGENT_ID): it holds the agent lock while it serves, and its claims end when it does')
    .action(
      action(async (cli, options: { agent?: string }) => {
        await loadMcp().runMcpServer({ dir: cli.dir, agent: options.agent });
      }),
    );
}
