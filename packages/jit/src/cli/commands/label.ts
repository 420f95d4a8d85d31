/** `jit label ...`: which labels are in use, answered from the index (no issue file is read). */
import type { Command } from 'commander';
import { checkLabelNamespace, type LabelNamespace, type LabelValue } from '../../store/core.js';
import { action } from '../context.js';
import { renderTable } from '../output.js';

export function registerLabelCommands(program: Command): void {
  const label = program.command('label').description('Label namespaces and values in use');

  label
    .command('namespaces')
    .description('Every label namespace in use (the part before the colon), with its distinct labels and issues')
    .action(
      action(async (cli) => {
        const namespaces = await cli.tracker().labelNamespaces();
        cli.print({ namespaces, count: namespaces.length }, (data, paint) =>
          data.count === 0
            ? 'No labels in use.\n'
            : renderTable<LabelNamespace>(
                data.namespaces,
                [
                  { header: 'NAMESPACE', value: (ns) => ns.namespace, style: () => 'cyan' },
                  { header: 'VALUES', value: (ns) => String(ns.values) },
                  { header: 'ISSUES', value: (ns) => String(ns.issues) },
                ],
                paint,
              ),
        );
      }),
    );

  label
    .command('values')
    .description('The labels of one namespace in use, with how many issues carry each')
    .argument('<namespace>', 'label namespace, e.g. type or epic')
    .action(
      action(async (cli, namespace: string) => {
        const values = await cli.tracker().labelValues(namespace);
        cli.print({ namespace: checkLabelNamespace(namespace), values, count: values.length }, (data, paint) =>
          data.count === 0
            ? `No labels in namespace ${data.namespace}.\n`
            : renderTable<LabelValue>(
                data.values,
                [
                  { header: 'LABEL', value: (v) => v.label, style: () => 'cyan' },
                  { header: 'ISSUES', value: (v) => String(v.issues) },
                ],
                paint,
              ),
        );
      }),
    );
}
