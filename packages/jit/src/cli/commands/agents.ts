/** `jit agents`: the agents that have run on this store, live (holding their agent lock) or gone, with their claims. */
import type { Command } from 'commander';
import type { AgentStatus } from '../../store/core.js';
import { action } from '../context.js';
import { renderTable, shortId } from '../output.js';

export function registerAgentsCommand(program: Command): void {
  program
    .command('agents')
    .description('Agents that have run on this store: live (holding their agent lock) or gone, with the claims each holds')
    .action(
      action(async (cli) => {
        const agents = await cli.tracker().agents();
        cli.print({ agents, count: agents.length }, (data, paint) =>
          data.count === 0
            ? 'No agent has run on this store (jit agent run --id agent:NAME -- COMMAND, or jit mcp --agent agent:NAME).\n'
            : renderTable<AgentStatus>(
                data.agents,
                [
                  { header: 'AGENT', value: (a) => a.id },
                  { header: 'STATE', value: (a) => (a.live ? 'live' : 'gone'), style: (a) => (a.live ? 'green' : 'dim') },
                  { header: 'PID', value: (a) => (a.holder ? String(a.holder.pid) : '-') },
                  { header: 'SINCE', value: (a) => a.holder?.started_at ?? '-' },
                  { header: 'CLAIMS', value: (a) => a.claims.map((c) => shortId(c.id) + (c.lapsed ? ' (lapsed)' : '')).join(', ') || '-' },
                ],
                paint,
              ),
        );
      }),
    );
}
