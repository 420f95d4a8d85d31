/** `jit query ...`: the read-only questions an agent asks, answered from the index. */
import type { Argument, Command } from 'commander';
import { flattenBlocked, type IssueFilter, type BlockedRow } from '../../store/core.js';
import { action, type Invocation } from '../context.js';
import { printIssueList, renderTable, shortId, stateStyle } from '../output.js';

/**
 * `jit query ready`; main.ts also runs it directly, without commander (see
 * its fast path), which is why this module loads commander's classes and
 * options.js only when it registers the commands.
 */
export async function showReady(cli: Invocation, options: { limit?: number } = {}): Promise<void> {
  printIssueList(cli, await cli.tracker().queryReady(options), 'Nothing is ready.');
}

export function registerQueryCommands(program: Command): void {
  const { integerOption, priorityArgument, stateArgument } = require('../options.js') as typeof import('../options.js');
  const query = program.command('query').description('Read-only queries over all issues');

  query
    .command('all')
    .description('Every issue')
    .action(action(async (cli) => printIssueList(cli, await cli.tracker().listIssues())));

  query
    .command('ready')
    .description('Work that can be claimed now: ready, unassigned, every dependency finished; most urgent first')
    .addOption(integerOption('--limit <n>', 'only the first n (the most urgent)'))
    .action(action(showReady));

  query
    .command('blocked')
    .description('Issues that cannot proceed, with the reasons (unfinished dependencies, pending gates)')
    .action(
      action(async (cli) => {
        const blocked = await cli.tracker().queryBlocked();
        const issues = flattenBlocked(blocked);
        cli.print({ issues, count: issues.length }, (data, paint) =>
          data.count === 0
            ? 'Nothing is blocked.\n'
            : renderTable<BlockedRow>(
                data.issues,
                [
                  { header: 'ID', value: (row) => shortId(row.id), style: () => 'cyan' },
                  { header: 'STATE', value: (row) => row.state, style: (row) => stateStyle(row.state) },
                  { header: 'TITLE', value: (row) => row.title },
                  { header: 'BLOCKED BY', value: (row) => row.reasons.join('; ') },
                ],
                paint,
              ),
        );
      }),
    );

  const filtered = (name: string, describe: string, key: keyof IssueFilter, argument: Argument) =>
    query
      .command(name)
      .description(describe)
      .addArgument(argument)
      .action(action(async (cli, value: string) => printIssueList(cli, await cli.tracker().listIssues({ [key]: value }))));

  filtered('state', 'Issues in one state (open = backlog; in-progress, in_progress, inprogress)', 'state', stateArgument('<state>', 'state name'));
  filtered('assignee', 'Issues assigned to someone', 'assignee', query.createArgument('<who>', 'assignee as kind:name'));
  filtered('priority', 'Issues with one priority', 'priority', priorityArgument('<priority>', 'low, normal, high or critical'));
  filtered('label', 'Issues carrying a label, or any label of a namespace', 'label', query.createArgument('<label>', 'label as namespace:value, or namespace:* (e.g. epic:*)'));
}
