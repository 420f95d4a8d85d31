/** `jit export` / `jit import`: the whole tracker as a snapshot file, between any two backends (store/transfer.ts). */
import path from 'node:path';
import type { Command } from 'commander';
import { action } from '../context.js';

export function registerExportCommand(program: Command): void {
  program
    .command('export')
    .description('Write the whole tracker (issues, gates, events) to a JSON Lines snapshot, from files or PostgreSQL alike')
    .requiredOption('-o, --output <file>', 'the snapshot file to write (replaced only once complete)')
    .action(
      action(async (cli, options: { output: string }) => {
        const file = path.resolve(options.output);
        const report = await cli.tracker().exportSnapshot(file);
        cli.print({ file, ...report }, (data) => `Exported ${data.issues} issue(s), ${data.gates} gate(s), ${data.events} event(s) to ${data.file}.\n`);
      }),
    );
}

export function registerImportCommand(program: Command): void {
  program
    .command('import')
    .description('Load a snapshot (jit export) into this tracker, which must be empty: a new .jit/ or a new database schema')
    .argument('<file>', 'the snapshot file')
    .action(
      action(async (cli, file: string) => {
        const report = await cli.tracker().importSnapshot(path.resolve(file));
        cli.print({ file: path.resolve(file), ...report }, (data) => `Imported ${data.issues} issue(s), ${data.gates} gate(s), ${data.events} event(s) from ${data.file}.\n`);
      }),
    );
}
