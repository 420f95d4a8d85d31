/** `jit query ...`: the read-only questions an agent asks, answered from the index. */
import type { Argument, Command } from 'commander';
import { flattenBlocked, type ClaimInfo, type IssueFilter, type BlockedRow, type QueryFilter } from '../../store/core.js';
import { action, type Invocation } from '../context.js';
import { printIssueList, renderTable, shortId, stateStyle } from '../output.js';

/**
 * `jit query ready`; main.ts also runs it directly, without commander (see
 * its fast path), which is why this module loads commander's classes and
 * options.js only when it registers the commands.
 */
export async function showReady(cli: Invocation, options: QueryFilter = {}): Promise<void> {
  if (cli.json) return cli.printJsonList('issues', await cli.tracker().queryReadyJson(options));
  printIssueList(cli, await cli.tracker().queryReady(options), 'Nothing is ready.');
}

/** The filters of query ready/available/strategic/closed as the store takes them. */
function queryFilter(options: QueryFilter): QueryFilter {
  const { label, type, priority, assignee, limit } = options;
  return { label, type, priority, assignee, limit };
}

export function registerQueryCommands(program: Command): void {
  const { integerOption, priorityArgument, priorityOption, stateArgument } = require('../options.js') as typeof import('../options.js');
  const query = program.command('query').description('Read-only queries over all issues');

  query
    .command('all')
    .description('Every issue')
    .action(action(async (cli) => printIssueList(cli, await cli.tracker().listIssues())));

  /** The usual filters (label, type, priority, limit; assignee where it can match). */
  const withFilters = (command: Command, assignee: boolean): Command => {
    command
      .option('-l, --label <label>', 'only issues with this label, or namespace:* for any label of the namespace')
      .option('--type <type>', 'only issues of this type (the label type:T)')
      .addOption(priorityOption('-p, --priority <priority>', 'only issues with this priority'))
      .addOption(integerOption('--limit <n>', 'only the first n'));
    if (assignee) command.option('-a, --assignee <who>', 'only issues assigned to kind:name');
    return command;
  };
  const READY_HELP = 'Work that can be claimed now: ready, unassigned, every dependency finished, not of a strategic type (epic, milestone) unless --type asks for it; most urgent first';
  for (const name of ['ready', 'available']) {
    withFilters(query.command(name).description(name === 'ready' ? READY_HELP : `The original jit's name for query ready. ${READY_HELP}`), false).action(
      action((cli, options: QueryFilter) => showReady(cli, queryFilter(options))),
    );
  }

  withFilters(query.command('strategic').description('Issues of the strategic types (config.toml strategic_types; default milestone, epic), oldest first'), true).action(
    action(async (cli, options: QueryFilter) => printIssueList(cli, await cli.tracker().queryStrategic(queryFilter(options)), 'No strategic issues.')),
  );

  withFilters(query.command('closed').description('Finished issues: done, rejected or archived, oldest first'), true).action(
    action(async (cli, options: QueryFilter) => printIssueList(cli, await cli.tracker().queryClosed(queryFilter(options)), 'Nothing is closed.')),
  );

  query
    .command('claims')
    .description('Claims in flight (in progress or gated) with their leases; --lapsed: only those whose lease ran out or whose agent is gone')
    .option('--lapsed', 'only lapsed claims (free for the next claimer, not given back yet)')
    .action(
      action(async (cli, options: { lapsed?: boolean }) => {
        const claims = await cli.tracker().queryClaims({ lapsed: options.lapsed === true });
        cli.print({ issues: claims, count: claims.length }, (data, paint) =>
          data.count === 0
            ? (options.lapsed ? 'No lapsed claims.\n' : 'Nothing is claimed.\n')
            : renderTable<ClaimInfo>(
                data.issues,
                [
                  { header: 'ID', value: (claim) => shortId(claim.id), style: () => 'cyan' },
                  { header: 'HOLDER', value: (claim) => claim.assignee ?? '-' },
                  { header: 'EXPIRES', value: (claim) => (claim.lease === null ? 'never (no lease)' : (claim.lease.expires_at ?? '-')) },
                  { header: 'AGENT', value: (claim) => claim.lease?.agent ?? '-' },
                  { header: 'LAPSED', value: (claim) => claim.lapsed ?? '-', style: (claim) => (claim.lapsed ? 'yellow' : 'dim') },
                  { header: 'TITLE', value: (claim) => claim.title },
                ],
                paint,
              ),
        );
      }),
    );

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
