/** `jit init`: create .jit/, or the parts an existing one lacks (idempotent: says what it created, or that nothing changed). */
import path from 'node:path';
import type { Command } from 'commander';
import { action, loadStore } from '../context.js';

/** --dir and JIT_DIR may name the project or its .jit folder, as for every other command. */
function projectDirFor(target: string): string {
  const resolved = path.resolve(target);
  return path.basename(resolved) === loadStore().JIT_DIR_NAME ? path.dirname(resolved) : resolved;
}

function describeIndex(rebuilt: { issues: number; unreadable: string[] } | undefined): string {
  if (!rebuilt) return 'index.json';
  const files = `${rebuilt.issues} issue file${rebuilt.issues === 1 ? '' : 's'}`;
  if (rebuilt.unreadable.length === 0) return `index.json (rebuilt from ${files})`;
  return `index.json (rebuilt from ${files}; could not read ${rebuilt.unreadable.join(', ')}: \`jit validate\` says why)`;
}

export function registerInitCommand(program: Command): void {
  program
    .command('init')
    .description('Create .jit/ in the current directory (or --dir / $JIT_DIR); safe to run again')
    .option('--hierarchy-template <name>', 'also write .jit/config.toml with a starter type hierarchy: default, agile or minimal')
    .option('--force', 'with --hierarchy-template: replace an existing config.toml')
    .action(
      action((cli, options: { hierarchyTemplate?: string; force?: boolean }) => {
        const target = cli.dir || process.env['JIT_DIR'] || process.cwd();
        const result = loadStore().initJit(projectDirFor(target), { hierarchyTemplate: options.hierarchyTemplate, force: options.force === true });
        cli.print(result, (data) =>
          (data.config ? `Wrote ${data.config.path} (hierarchy template ${data.config.template}).\n` : '') +
          (data.created
            ? `Initialized an empty jit tracker in ${data.path}\n`
            : data.repaired.length > 0
              ? `Repaired the jit tracker in ${data.path}: created ${data.repaired.map((part) => (part === 'index.json' ? describeIndex(data.rebuilt_index) : part)).join(', ')}.\n`
              : data.config
                ? ''
                : `A jit tracker already exists in ${data.path}; nothing changed.\n`),
        );
      }),
    );
}
