/** `jit gate add|remove|pass|fail ID KEY`: the gates one issue must pass before done. */
import type { Command } from 'commander';
import { action } from '../context.js';
import { printIssue } from '../output.js';

export function registerGateCommands(program: Command): void {
  const gate = program.command('gate').description('Gates on an issue: done waits until every required gate passed');

  gate
    .command('add')
    .description('Require a registered gate on an issue')
    .argument('<id>', 'issue id or unique prefix')
    .argument('<key>', 'gate key from the registry')
    .action(
      action(async (cli, id: string, key: string) => {
        printIssue(cli, await cli.tracker().addGate(id, key), `Gate ${key} required on`);
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
}
