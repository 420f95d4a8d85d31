/** `jit migrate`: convert a `.jit/` of the original (Rust) jit, in place (original kept as a backup) or into a new folder. */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { MigrationReport } from '../../store/index.js';
import { action, loadStore } from '../context.js';
import { oneLine, type Paint } from '../output.js';

/** --from, like --dir, names the project folder or its .jit folder. */
function sourceJitDir(from: string): string {
  const resolved = path.resolve(from);
  // A file is passed on as it is, for the store to refuse by its own name (not "<file>/.jit").
  if (fs.statSync(resolved, { throwIfNoEntry: false })?.isFile()) return resolved;
  return path.basename(resolved) === loadStore().JIT_DIR_NAME ? resolved : path.join(resolved, loadStore().JIT_DIR_NAME);
}

function render(report: MigrationReport, paint: Paint): string {
  if (!report.changed) return `${report.from} is already in this jit's format; nothing to migrate.\n`;
  const counts = `${report.issues} issue(s), ${report.gates} gate(s), ${report.events} event(s), ${report.gate_runs} gate run(s), ${report.deleted_ids} deleted id(s)`;
  const lines = [
    report.dry_run
      ? `Would migrate the original jit store ${report.from} to ${report.to}: ${counts}.`
      : `Migrated the original jit store ${report.from} to ${report.to}: ${counts}.`,
    ...report.changes.map((line) => `  ${paint('green', report.dry_run ? 'would' : 'changed')}  ${oneLine(line)}`),
    ...report.kept.map((name) => `  ${paint('dim', 'kept')}     ${name} (byte for byte)`),
    ...report.problems.map((line) => `  ${paint('red', 'problem')}  ${oneLine(line)} (in the source; \`jit validate\` reports it)`),
  ];
  if (report.backup) lines.push(report.dry_run ? `The original would be kept as ${report.backup}.` : `The original is kept as ${report.backup}.`);
  lines.push(report.dry_run ? 'Nothing was changed (--dry-run).' : 'Run `jit validate` to check the result.');
  return lines.join('\n') + '\n';
}

export function registerMigrateCommand(program: Command): void {
  program
    .command('migrate')
    .description("Convert a .jit/ of the original (Rust) jit to this jit's format, losing nothing; the original is kept as a backup")
    .option('--from <path>', 'the original store: its project folder or .jit folder (default: --dir, $JIT_DIR or the nearest .jit/)')
    .option('--to <path>', 'write the converted store into this project folder (or .jit path) instead of in place; the source is left as it is')
    .option('--dry-run', 'say what would change, and change nothing', false)
    .action(
      action(async (cli, options: { from?: string; to?: string; dryRun: boolean }) => {
        const from = options.from !== undefined ? sourceJitDir(options.from) : cli.jitDir();
        const report = await loadStore().migrateStore({ from, to: options.to, dryRun: options.dryRun });
        cli.print(report, render);
      }),
    );
}
