/** `jit dep add|rm FROM TO`: FROM waits for TO. */
import type { Command } from 'commander';
import { action } from '../context.js';
import { printIssue } from '../output.js';

export function registerDepCommands(program: Command): void {
  const dep = program.command('dep').description('Dependencies between issues (FROM waits for TO)');

  dep
    .command('add')
    .description('Make FROM wait for TO; refused with exit 4 if it would close a cycle')
    .argument('<from>', 'id of the issue that waits')
    .argument('<to>', 'id of the issue it waits for')
    .action(
      action(async (cli, from: string, to: string) => {
        printIssue(cli, await cli.tracker().addDependency(from, to), 'Now waits:');
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
