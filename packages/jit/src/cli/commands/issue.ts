/** `jit issue ...`: create, read, change and hand out issues. */
import type { Command } from 'commander';
import type { GateNotRun, GateRun, Issue, IssueFilter, IssueUpdate } from '../../store/core.js';
import { progressOnTerminal } from '../gate-progress.js';
import { action } from '../context.js';
import { inert, printIssue, printIssueList, shortId, writeOut, STDOUT } from '../output.js';
import { contextOption, priorityOption, repeatableOption, stateOption } from '../options.js';
import { JitError } from '../../store/core.js';
import { pickFields, printFields, registerBatchCommands, updateByFilter } from './issue-batch.js';

interface CreateOptions {
  title: string;
  description?: string;
  priority?: string;
  label?: string[];
  gate?: string[];
  dep?: string[];
  assignee?: string;
  context?: Record<string, string>;
  quiet?: boolean;
  type?: string;
}

type LastRun = Pick<GateRun, 'run_id' | 'status' | 'reason' | 'exit_code' | 'started_at' | 'message'>;

interface UpdateOptions {
  run: boolean;
  title?: string;
  description?: string;
  state?: string;
  priority?: string;
  label?: string[];
  removeLabel?: string[];
  context?: Record<string, string>;
  filter?: string;
  dryRun?: boolean;
  type?: string;
}

interface ClaimFlags {
  assignee?: string;
  ttl?: string;
}

const CLAIMANT_HELP = 'claimant as kind:name (default: JIT_AGENT_ID)';
const TTL_HELP = 'how long the claim lasts unless renewed, e.g. 90s, 30m, 2h; 0 = no time limit (default: JIT_LEASE_TTL or 30m; none while bound to a running agent)';

export function registerIssueCommands(program: Command): void {
  const issue = program.command('issue').description('Create, show, change and hand out issues');

  issue
    .command('create')
    .description('Create an issue; it starts ready unless it waits for unfinished work')
    .requiredOption('-t, --title <title>', 'one-line title')
    .option('-d, --description <text>', 'longer description')
    .addOption(priorityOption('-p, --priority <priority>', 'low, normal (default), high or critical'))
    .addOption(repeatableOption('-l, --label <labels>', 'label as namespace:value; several separated by commas'))
    .option('--type <type>', 'issue type (the label type:T), e.g. epic, story, task, bug (config.toml lists the known ones)')
    .addOption(repeatableOption('-g, --gate <key>', 'gate key from the registry that must pass before done'))
    .addOption(repeatableOption('--dep <id>', 'id of an issue this one waits for'))
    .option('-a, --assignee <who>', 'assignee as kind:name, e.g. agent:worker-1')
    .addOption(contextOption('-c, --context <key=value>', 'context entry'))
    .option('-q, --quiet', 'print only the new id (for scripts)')
    .action(
      action(async (cli, options: CreateOptions) => {
        const created = await cli.tracker().createIssue({
          title: options.title,
          description: options.description,
          priority: options.priority,
          labels: options.label,
          gates: options.gate,
          dependencies: options.dep,
          assignee: options.assignee,
          context: options.context,
          type: options.type,
        });
        if (options.quiet && !cli.json) writeOut(STDOUT, created.id + '\n');
        else printIssue(cli, created, 'Created');
      }),
    );

  registerBatchCommands(issue);

  issue
    .command('list')
    .description('List issues, optionally filtered (reads only the index)')
    .addOption(stateOption('-s, --state <state>', 'only issues in this state'))
    .option('-a, --assignee <who>', 'only issues assigned to kind:name')
    .addOption(priorityOption('-p, --priority <priority>', 'only issues with this priority'))
    .option('-l, --label <label>', 'only issues with this label, or namespace:* for any label of the namespace')
    .action(
      action(async (cli, options: IssueFilter) => {
        const filter: IssueFilter = {
          state: options.state,
          assignee: options.assignee,
          priority: options.priority,
          label: options.label,
        };
        printIssueList(cli, await cli.tracker().listIssues(filter));
      }),
    );

  issue
    .command('search')
    .description('Find issues whose title, description, labels or context contain the text')
    .argument('<query>', 'text to look for (case-insensitive)')
    .action(
      action(async (cli, query: string) => {
        printIssueList(cli, await cli.tracker().searchIssues(query), 'No matching issues.');
      }),
    );

  issue
    .command('show')
    .description('Show issues in full (several ids: a list), or only some fields for scripts')
    .argument('<ids...>', 'issue id or unique prefix (4+ characters); several are shown in turn')
    .option('-f, --field <field>', 'print only this field (its value alone; a string as it is)')
    .option('--fields <fields>', 'print only these fields, separated by commas (tab-separated; with --json an object)')
    .action(
      action(async (cli, ids: string[], options: { field?: string; fields?: string }) => {
        const tracker = cli.tracker();
        if (options.field !== undefined && options.fields !== undefined) {
          throw new JitError('INVALID_ARGUMENT', 'Give --field or --fields, not both.', { details: { field: 'fields' } });
        }
        const picked = options.field ?? options.fields;
        const fields = picked === undefined ? undefined : pickFields(picked);
        const shown: (Issue & { last_runs?: Record<string, LastRun> })[] = [];
        for (const id of ids) {
          const issue = await tracker.getIssue(id);
          if (fields) {
            shown.push(issue);
            continue;
          }
          // The result of each gate's last check, when any has run (the history: gate runs).
          const runs = issue.gates_required.length > 0 ? await tracker.gateRuns(issue.id) : [];
          const last: Record<string, LastRun> = {};
          for (const run of runs) {
            last[run.gate_key] ??= { run_id: run.run_id, status: run.status, reason: run.reason, exit_code: run.exit_code, started_at: run.started_at, message: run.message };
          }
          shown.push(Object.keys(last).length > 0 ? { ...issue, last_runs: last } : issue);
        }
        if (fields) printFields(cli, shown, fields, ids.length > 1);
        else if (ids.length === 1) printIssue(cli, shown[0]!);
        else if (cli.json) cli.print(shown, () => '');
        else shown.forEach((issue, i) => {
          if (i > 0) writeOut(STDOUT, '\n');
          printIssue(cli, issue);
        });
      }),
    );

  issue
    .command('update')
    .description('Change fields of an issue, or of every issue a --filter matches; labels and context are merged, not replaced')
    .argument('[id]', 'issue id or unique prefix (or --filter)')
    .option('--filter <expr>', 'update every matching issue, e.g. "state:ready AND label:epic:auth" (exit 4 when some were refused)')
    .option('--dry-run', 'with --filter: show what would change, write nothing')
    .option('-t, --title <title>', 'new title')
    .option('-d, --description <text>', 'new description')
    .addOption(stateOption('-s, --state <state>', 'new state (done waits for gates: the issue becomes gated)'))
    .addOption(priorityOption('-p, --priority <priority>', 'new priority'))
    .addOption(repeatableOption('-l, --label <labels>', 'label to add; several separated by commas'))
    .addOption(repeatableOption('--remove-label <labels>', 'label to remove; several separated by commas'))
    .option('--type <type>', 'set the issue type: the label type:T replaces any other type: label')
    .addOption(contextOption('-c, --context <key=value>', 'context entry to set; key= removes the key'))
    .option('--no-run', 'with --state done: do not run the auto postchecks (the issue waits, gated, for them)')
    .action(
      action(async (cli, id: string | undefined, options: UpdateOptions) => {
        if ((id === undefined) === (options.filter === undefined)) {
          throw new JitError('INVALID_ARGUMENT', 'Name one issue (ID) or give --filter EXPR, not both or neither.', { details: { field: 'filter' } });
        }
        if (options.dryRun && options.filter === undefined) throw new JitError('INVALID_ARGUMENT', '--dry-run goes with --filter.', { details: { field: 'dry-run' } });
        const input = {
          title: options.title,
          description: options.description,
          state: options.state,
          priority: options.priority,
          addLabels: options.label,
          removeLabels: options.removeLabel,
          context: options.context,
          type: options.type,
        };
        if (options.filter !== undefined) return updateByFilter(cli, options.filter, input, options.dryRun === true);
        const tracker = cli.tracker();
        let updated: IssueUpdate & { gate_runs?: GateRun[]; gates_not_run?: GateNotRun[] } = await tracker.updateIssue(id!, input);
        // Done with pending gates: the auto postchecks run now (no lock held while they do), and complete the issue if they pass.
        if (updated.pending_gates && options.run) {
          const report = await tracker.runPostchecks(updated.id, { ...(cli.json ? {} : progressOnTerminal()) });
          if (report.runs.length > 0 || report.not_run.length > 0) {
            const now = await tracker.getIssue(updated.id);
            const pending = now.state === 'gated' ? now.gates_required.filter((key) => now.gates_status[key]?.status !== 'passed') : [];
            const { pending_gates: _before, ...rest } = updated;
            updated = { ...rest, ...now, ...(pending.length > 0 ? { pending_gates: pending } : {}), gate_runs: report.runs, gates_not_run: report.not_run };
            if (!cli.json) for (const run of report.runs) writeOut(STDOUT, `Gate ${run.gate_key} ${run.status}: ${inert(run.message ?? '')}\n`);
          }
        }
        printIssue(cli, updated, 'Updated');
        // Done asked with gates pending: saved as gated (exit 0); say what it waits for.
        if (updated.pending_gates && !cli.json) {
          const id = shortId(updated.id);
          const commands = updated.pending_gates.map((key) => `\`jit gate pass ${id} ${key}\``).join(', ');
          writeOut(STDOUT, `It is done once these gates pass: ${updated.pending_gates.join(', ')} (${commands}).\n`);
        }
      }),
    );

  issue
    .command('delete')
    .description('Delete an issue and drop it from the dependencies of others')
    .argument('<id>', 'issue id or unique prefix')
    .action(
      action(async (cli, id: string) => {
        const deleted = await cli.tracker().deleteIssue(id);
        cli.print(deleted, (data, paint) => `Deleted ${paint('cyan', shortId(data.id))}\n`);
      }),
    );

  issue
    .command('assign')
    .description('Set the assignee, replacing any current one')
    .argument('<id>', 'issue id or unique prefix')
    .argument('<who>', 'assignee as kind:name, e.g. agent:worker-1')
    .action(
      action(async (cli, id: string, who: string) => {
        printIssue(cli, await cli.tracker().assign(id, who), 'Assigned');
      }),
    );

  issue
    .command('claim')
    .description('Take an issue and start it; fails if someone else holds it (exactly one winner); a lapsed claim is free')
    .argument('<id>', 'issue id or unique prefix')
    .argument('[who]', CLAIMANT_HELP)
    .option('-a, --assignee <who>', 'claimant as kind:name (overrides WHO and JIT_AGENT_ID)')
    .option('--ttl <duration>', TTL_HELP)
    .action(
      action(async (cli, id: string, who: string | undefined, options: ClaimFlags) => {
        printIssue(cli, await cli.tracker().claim(id, options.assignee ?? who, { ttl: options.ttl }), 'Claimed');
      }),
    );

  issue
    .command('renew')
    .alias('heartbeat')
    .description("Extend your claim's lease (only its holder may)")
    .argument('<id>', 'issue id or unique prefix')
    .argument('[who]', 'holder as kind:name (default: JIT_AGENT_ID)')
    .option('--ttl <duration>', 'new time limit from now, e.g. 30m; 0 = none (default: JIT_LEASE_TTL or 30m; none for a claim bound to a running agent)')
    .action(
      action(async (cli, id: string, who: string | undefined, options: { ttl?: string }) => {
        printIssue(cli, await cli.tracker().renew(id, who, { ttl: options.ttl }), 'Renewed');
      }),
    );

  issue
    .command('evict')
    .description('Force a claim free (its holder is stuck or gone), recording who and why')
    .argument('<id>', 'issue id or unique prefix')
    .requiredOption('-r, --reason <why>', 'why the claim is taken away, for the log and its holder')
    .option('--by <who>', 'who evicts, as kind:name (default: JIT_AGENT_ID)')
    .action(
      action(async (cli, id: string, options: { reason: string; by?: string }) => {
        printIssue(cli, await cli.tracker().evict(id, options.reason, options.by), 'Evicted');
      }),
    );

  issue
    .command('unassign')
    .description('Clear the assignee')
    .argument('<id>', 'issue id or unique prefix')
    .action(
      action(async (cli, id: string) => {
        printIssue(cli, await cli.tracker().unassign(id), 'Unassigned');
      }),
    );

  issue
    .command('release')
    .description('Give a claimed issue back (assignee cleared, ready again), recording why')
    .argument('<id>', 'issue id or unique prefix')
    .argument('<reason>', 'why the work is given back')
    .action(
      action(async (cli, id: string, reason: string) => {
        printIssue(cli, await cli.tracker().release(id, reason), 'Released');
      }),
    );

  issue
    .command('reject')
    .description('Close an issue as rejected (terminal; gates do not apply), recording why; its dependents move on as for done')
    .argument('<id>', 'issue id or unique prefix')
    .requiredOption('-r, --reason <text>', 'why the work will not be done')
    .action(
      action(async (cli, id: string, options: { reason: string }) => {
        printIssue(cli, await cli.tracker().rejectIssue(id, options.reason), 'Rejected');
      }),
    );

  issue
    .command('claim-next')
    .description('Claim the highest-priority, oldest ready issue, lapsed claims included (exit 3 when nothing is ready)')
    .argument('[who]', CLAIMANT_HELP)
    .option('-a, --assignee <who>', 'claimant as kind:name (overrides WHO and JIT_AGENT_ID)')
    .option('-l, --label <label>', 'only issues with this label, or namespace:* for any label of the namespace')
    .option('--type <type>', 'only issues of this type (type:T); the only way to be handed a strategic type (epic, milestone)')
    .addOption(priorityOption('-p, --priority <priority>', 'only issues with this priority'))
    .option('--ttl <duration>', TTL_HELP)
    .action(
      action(async (cli, who: string | undefined, options: ClaimFlags & { label?: string; priority?: string; type?: string }) => {
        const claimed = await cli.tracker().claimNext(options.assignee ?? who, { label: options.label, priority: options.priority, ttl: options.ttl, type: options.type });
        printIssue(cli, claimed, 'Claimed');
      }),
    );
}
