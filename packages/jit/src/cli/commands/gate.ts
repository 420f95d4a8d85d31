/** `jit gate add|remove|pass|fail ID KEY`: the gates one issue must pass before done; `check`, `check-all`, `runs`, `trust`: gates that run checks. */
import type { Command } from 'commander';
import { action, type Invocation } from '../context.js';
import { inert, printIssue, renderTable, shortId } from '../output.js';
import { EXIT } from '../exit-codes.js';
import { progressOnTerminal } from '../gate-progress.js';
import type { GateCheckReport, GateRun, GateCheckOptions, UnreadableRun } from '../../store/core.js';

export function registerGateCommands(program: Command): void {
  const gate = program.command('gate').description('Gates on an issue: done waits until every required gate passed');

  gate
    .command('add')
    .description('Require registered gates on an issue, in turn (those added before a failure stay)')
    .argument('<id>', 'issue id or unique prefix')
    .argument('<keys...>', 'gate keys from the registry')
    .action(
      action(async (cli, id: string, keys: string[]) => {
        const tracker = cli.tracker();
        let result = await tracker.addGate(id, keys[0]!);
        let changed = result.changed;
        for (const key of keys.slice(1)) {
          result = await tracker.addGate(id, key);
          changed ||= result.changed;
        }
        // One result, the issue as it ends up: changed when any of the gates was new.
        printIssue(cli, { ...result, changed }, `Gate${keys.length > 1 ? 's' : ''} ${keys.join(', ')} required on`);
      }),
    );

  gate
    .command('remove')
    .alias('rm')
    .description('Stop requiring a gate on an issue (also one no longer in the registry); a gated issue whose last pending gate goes is done')
    .argument('<id>', 'issue id or unique prefix')
    .argument('<key>', 'gate key')
    .action(
      action(async (cli, id: string, key: string) => {
        printIssue(cli, await cli.tracker().removeGate(id, key), `Gate ${key} no longer required on`);
      }),
    );

  for (const verdict of ['pass', 'fail'] as const) {
    gate
      .command(verdict)
      .description(
        verdict === 'pass'
          ? 'Mark a gate passed; passing the last gate of a gated issue completes it'
          : 'Mark a gate failed; the issue cannot be done until it passes',
      )
      .argument('<id>', 'issue id or unique prefix')
      .argument('<key>', 'gate key')
      .option('--by <who>', 'who checked it, as kind:name')
      .action(
        action(async (cli, id: string, key: string, options: { by?: string }) => {
          const tracker = cli.tracker();
          const issue = verdict === 'pass' ? await tracker.passGate(id, key, options.by) : await tracker.failGate(id, key, options.by);
          printIssue(cli, issue, `Gate ${key} ${verdict === 'pass' ? 'passed' : 'failed'} on`);
        }),
      );
  }

  gate
    .command('check')
    .description('Run the checker of one gate, or of every auto gate the issue requires (exit 4 when one fails); untrusted commands are refused')
    .argument('<id>', 'issue id or unique prefix')
    .argument('[key]', 'gate key (default: every auto gate with a checker)')
    .option('--by <who>', 'who runs it, as kind:name')
    .option('--log', 'also keep the whole output in .jit/gate-runs/<issue>/<run>.log', false)
    .action(
      action(async (cli, id: string, key: string | undefined, options: { by?: string; log: boolean }) => {
        printReport(cli, await cli.tracker().checkGates(id, key, checkOptions(cli, options)));
      }),
    );

  gate
    .command('check-all')
    .description('Run every pending auto gate of every issue waiting on one: postchecks of gated issues, prechecks of ready and in-progress ones')
    .option('--by <who>', 'who runs them, as kind:name')
    .option('--log', 'also keep each whole output in .jit/gate-runs/<issue>/<run>.log', false)
    .action(
      action(async (cli, options: { by?: string; log: boolean }) => {
        printReport(cli, await cli.tracker().checkAllGates(checkOptions(cli, options)));
      }),
    );

  gate
    .command('runs')
    .description('The check history of an issue, newest first')
    .argument('<id>', 'issue id or unique prefix')
    .action(
      action(async (cli, id: string) => {
        const unreadable: UnreadableRun[] = [];
        const runs = await cli.tracker().gateRuns(id, unreadable);
        // A record broken by hand hides only itself: the rest of the history is listed, the broken file named.
        const broken = (data: { unreadable: UnreadableRun[] }): string => data.unreadable.map((bad) => `Unreadable run record: ${bad.message}\n`).join('');
        cli.print({ runs, count: runs.length, unreadable }, (data, paint) =>
          data.count === 0
            ? `${broken(data)}No checks have run for this issue.\n`
            : broken(data) + renderTable<GateRun>(
                data.runs,
                [
                  { header: 'STARTED', value: (run) => run.started_at },
                  { header: 'GATE', value: (run) => run.gate_key, style: () => 'cyan' },
                  { header: 'STATUS', value: (run) => run.status, style: (run) => (run.status === 'passed' ? 'green' : run.status === 'running' ? 'yellow' : 'red') },
                  { header: 'TIME', value: (run) => (run.duration_ms === null ? '-' : seconds(run.duration_ms)) },
                  { header: 'RESULT', value: (run) => inert(run.message ?? '-') },
                ],
                paint,
              ),
        );
      }),
    );

  gate
    .command('trust')
    .description("Trust the gate's checker command (as defined now) on this machine; shows the command first")
    .argument('<key>', 'gate key')
    .action(
      action(async (cli, key: string) => {
        const trusted = await cli.tracker().trustGate(key);
        cli.print(trusted, (data) => `${data.changed ? 'Trusted' : 'Already trusted:'} gate ${data.key} runs ${JSON.stringify(data.command)}\n`);
      }),
    );
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

/** On a terminal (and not --json), a live line per running check on stderr. */
function checkOptions(cli: Invocation, options: { by?: string; log: boolean }): GateCheckOptions {
  return { by: options.by, log: options.log, ...(cli.json ? {} : progressOnTerminal()) };
}

/** The runs (JSON: the report with its run records); exit 4 when a check failed, as a failed gate is a failed validation. */
export function printReport(cli: Invocation, report: GateCheckReport): void {
  cli.print(report, (data, paint) => {
    const lines = data.runs.map((run) => {
      const mark = run.status === 'passed' ? paint('green', 'passed') : paint('red', run.status);
      const tail = run.status === 'passed' ? '' : `: ${inert(run.message ?? '')}${lastLine(run.output) ? ` | ${inert(lastLine(run.output))}` : ''}`;
      return `${mark} ${run.gate_key} on ${paint('cyan', shortId(run.issue_id))} (${seconds(run.duration_ms ?? 0)})${tail}\n`;
    });
    const skipped = data.not_run.map(
      (gate) => `${paint('yellow', 'not run')} ${gate.gate_key} on ${shortId(gate.issue_id)}: its command ${JSON.stringify(gate.command)} is not trusted here (\`jit gate trust ${gate.gate_key}\` after reading it)\n`,
    );
    return lines.length + skipped.length === 0 ? 'No gate to check.\n' : [...lines, ...skipped].join('');
  });
  if (!report.passed) process.exitCode = EXIT.VALIDATION;
}

function lastLine(output: string): string {
  const lines = output.split(/\r?\n/).filter((line) => line.trim() !== '');
  return (lines[lines.length - 1] ?? '').slice(0, 200);
}
