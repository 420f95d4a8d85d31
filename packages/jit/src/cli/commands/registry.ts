/** `jit registry ...`: the gate definitions that issues can require. */
import type { Command } from 'commander';
import type { GateDefinition } from '../../store/core.js';
import { action } from '../context.js';
import { renderFields, renderTable } from '../output.js';

export function registerRegistryCommands(program: Command): void {
  const registry = program.command('registry').description('Gate definitions (quality checks issues can require)');

  registry
    .command('add')
    .description('Define a gate')
    .argument('<key>', 'gate key, e.g. tests or code-review')
    .requiredOption('-t, --title <title>', 'what the gate checks')
    .option('-d, --description <text>', 'how to pass it')
    .option('--auto', 'checked by automation rather than a person', false)
    .action(
      action(async (cli, key: string, options: { title: string; description?: string; auto: boolean }) => {
        const gate = await cli.tracker().addGateDefinition({
          key,
          title: options.title,
          description: options.description,
          auto: options.auto,
        });
        cli.print(gate, (data) => `${data.changed ? 'Added' : 'No change (already so):'} gate ${data.key}: ${data.title}\n`);
      }),
    );

  registry
    .command('list')
    .description('List the gate definitions')
    .action(
      action(async (cli) => {
        const gates = await cli.tracker().listGateDefinitions();
        cli.print({ gates, count: gates.length }, (data, paint) =>
          data.count === 0
            ? 'No gates defined. Add one with `jit registry add KEY --title T`.\n'
            : renderTable<GateDefinition>(
                data.gates,
                [
                  { header: 'KEY', value: (gate) => gate.key, style: () => 'cyan' },
                  { header: 'AUTO', value: (gate) => (gate.auto ? 'yes' : 'no') },
                  { header: 'TITLE', value: (gate) => gate.title },
                ],
                paint,
              ),
        );
      }),
    );

  registry
    .command('show')
    .description('Show one gate definition')
    .argument('<key>', 'gate key')
    .action(
      action(async (cli, key: string) => {
        const gate = await cli.tracker().getGateDefinition(key);
        cli.print(gate, (data, paint) =>
          renderFields(
            [
              ['key', data.key],
              ['title', data.title],
              ['auto', data.auto ? 'yes' : 'no'],
              ['description', data.description || '-'],
            ],
            paint,
          ),
        );
      }),
    );

  registry
    .command('remove')
    .alias('rm')
    .description('Remove a gate definition; refused (exit 4, naming them) while issues require it, unless --drop-requirements')
    .argument('<key>', 'gate key')
    .option('--drop-requirements', 'also stop requiring the gate on every issue that does (as `jit gate remove` would)', false)
    .action(
      action(async (cli, key: string, options: { dropRequirements: boolean }) => {
        const removed = await cli.tracker().removeGateDefinition(key, { dropRequirements: options.dropRequirements });
        cli.print(removed, (data) => {
          const dropped = data.requirements_dropped.length;
          return `Removed gate ${data.key}${dropped > 0 ? `; no longer required on ${dropped} issue${dropped === 1 ? '' : 's'}` : ''}\n`;
        });
      }),
    );
}
