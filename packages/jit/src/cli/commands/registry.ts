/** `jit registry ...`: the gate definitions that issues can require. */
import { Option, type Command } from 'commander';
import { GATE_MODES, GATE_STAGES, JitError, type CheckerInput, type GateDefinition } from '../../store/core.js';
import { action } from '../context.js';
import { repeatableOption } from '../options.js';
import { renderFields, renderTable } from '../output.js';

/** --timeout as decimal seconds: Number() would take "0x10" and " 5", and turn "abc" into a NaN the error shows as null. */
function secondsOf(text: string): number {
  if (!/^\d+(\.\d+)?$/.test(text)) {
    throw new JitError('INVALID_ARGUMENT', `--timeout expects seconds as a decimal number (for example 900), not ${JSON.stringify(text)}.`, { details: { field: 'timeout' } });
  }
  return Number(text);
}

interface RegistryAddOptions {
  title: string;
  description?: string;
  auto: boolean;
  checker?: string;
  timeout?: string;
  stage?: string;
  mode?: string;
  env?: string[];
  cwd?: string;
  passContext: boolean;
}

/** The checker options as the store's input; they mean nothing without --checker. The store checks every value. */
function checkerInput(options: RegistryAddOptions): CheckerInput | undefined {
  if (options.checker === undefined) {
    const stray = (['timeout', 'env', 'cwd'] as const).find((name) => options[name] !== undefined) ?? (options.passContext ? 'pass-context' : undefined);
    if (stray) throw new JitError('INVALID_ARGUMENT', `--${stray} applies to a checker: give --checker COMMAND too.`, { details: { field: stray } });
    return undefined;
  }
  const env: Record<string, string> = {};
  for (const pair of options.env ?? []) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new JitError('INVALID_ARGUMENT', `--env expects NAME=value, not ${JSON.stringify(pair)}.`, { suggestions: ['For example: --env CI=1'], details: { field: 'env' } });
    env[pair.slice(0, at)] = pair.slice(at + 1);
  }
  const timeout = options.timeout === undefined ? undefined : secondsOf(options.timeout);
  return {
    command: options.checker,
    ...(timeout === undefined ? {} : { timeout_seconds: timeout }),
    ...(options.cwd === undefined ? {} : { working_dir: options.cwd }),
    env,
    pass_context: options.passContext,
  };
}

export function registerRegistryCommands(program: Command): void {
  const registry = program.command('registry').description('Gate definitions (quality checks issues can require)');

  registry
    .command('add')
    .description('Define a gate')
    .argument('<key>', 'gate key, e.g. tests or code-review')
    .requiredOption('-t, --title <title>', 'what the gate checks')
    .option('-d, --description <text>', 'how to pass it')
    .option('--auto', 'checked by automation rather than a person', false)
    .option('--checker <command>', 'a command that decides the gate: exit 0 passes (run by a shell in the project folder)')
    .option('--timeout <seconds>', `the checker's time limit in seconds (default ${600}); past it the whole process tree is killed`)
    .addOption(new Option('--stage <stage>', 'precheck: must pass before work starts; postcheck: before done').choices(GATE_STAGES))
    .addOption(new Option('--mode <mode>', 'auto: jit runs the checker (default with --checker); manual: passed by hand').choices(GATE_MODES))
    .addOption(repeatableOption('--env <name=value>', "an environment variable of the checker"))
    .option('--cwd <dir>', "the checker's working folder, relative to the project folder")
    .option('--pass-context', 'give the checker the issue as JSON on its standard input', false)
    .action(
      action(async (cli, key: string, options: RegistryAddOptions) => {
        const gate = await cli.tracker().addGateDefinition({
          key,
          title: options.title,
          description: options.description,
          auto: options.auto || undefined,
          stage: options.stage,
          mode: options.mode,
          checker: checkerInput(options),
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
                  // Only once some gate has them: a registry of hand-passed gates looks as it always did.
                  ...(data.gates.some((gate) => gate.stage !== undefined || gate.checker)
                    ? [
                        { header: 'STAGE', value: (gate: GateDefinition) => gate.stage ?? 'postcheck' },
                        { header: 'CHECKER', value: (gate: GateDefinition) => gate.checker?.command ?? '-' },
                      ]
                    : []),
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
              ['stage', data.stage ?? 'postcheck'],
              ['mode', data.mode ?? (data.auto ? 'auto' : 'manual')],
              ['checker', data.checker ? data.checker.command : '-'],
              ...(data.checker
                ? ([
                    ['timeout', `${data.checker.timeout_seconds ?? 600}s`],
                    ['folder', data.checker.working_dir ?? '(the project folder)'],
                    ['env', Object.entries(data.checker.env ?? {}).map(([k, v]) => `${k}=${v}`).join('\n') || '-'],
                    ['context', data.checker.pass_context ? 'the issue as JSON on stdin' : 'no'],
                  ] as Array<[string, string]>)
                : []),
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
