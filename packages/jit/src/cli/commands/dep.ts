/** `jit dep add|rm FROM TO`: FROM waits for TO. */
import type { Command } from 'commander';
import { action } from '../context.js';
import { printIssue } from '../output.js';

export function registerDepCommands(program: Command): void {
  const dep = program.command('dep').description('Dependencies between issues (FROM waits for TO)');

  dep
    .command('add')
    .description('Make FROM wait for each TO, in turn; refused with exit 4 if one would close a cycle (those added before it stay)')
    .argument('<from>', 'id of the issue that waits')
    .argument('<to...>', 'ids of the issues it waits for')
    .action(
      action(async (cli, from: string, targets: string[]) => {
        const tracker = cli.tracker();
        let result = await tracker.addDependency(from, targets[0]!);
        let changed = result.changed;
        for (const to of targets.slice(1)) {
          result = await tracker.addDependency(from, to);
          changed ||= result.changed;
        }
        // One result, the issue as it ends up: changed when any of the edges was new.
        printIssue(cli, { ...result, changed }, 'Now waits:');
      }),
    );

  dep
    .command('rm')
    .alias('remove')
    .description('Stop FROM waiting for TO')
    .argument('<from>', 'id of the issue that waits')
    .argument('<to>', 'id of the issue it waits for')
    .action(
      action(async (cli, from: string, to: string) => {
        printIssue(cli, await cli.tracker().removeDependency(from, to), 'Dependency removed:');
      }),
    );
}
