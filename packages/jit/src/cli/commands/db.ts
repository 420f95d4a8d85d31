/** `jit db init|migrate`: create or upgrade jit's schema in the PostgreSQL database JIT_DATABASE_URL or config.toml names. */
import type { Command } from 'commander';
import { action, loadStore, type Invocation } from '../context.js';

async function runMigration(cli: Invocation, create: boolean): Promise<void> {
  const storage = loadStore().openConfiguredDatabase({ dir: cli.dir, cwd: process.cwd(), env: process.env });
  try {
    const { from, to } = await storage.migrate({ create });
    const result = { database: storage.description, schema: storage.schema, from, to, changed: from !== to };
    cli.print(result, (data) =>
      data.changed
        ? `${data.from === null ? 'Created' : 'Upgraded'} jit's schema "${data.schema}" (version ${data.to}) in ${data.database}.\n`
        : `jit's schema "${data.schema}" in ${data.database} is up to date (version ${data.to}).\n`,
    );
  } finally {
    await storage.close();
  }
}

export function registerDbCommand(program: Command): void {
  const db = program.command('db').description('The PostgreSQL backend: create or upgrade its schema (JIT_DATABASE_URL or [storage] in .jit/config.toml)');
  db.command('init')
    .description("Create jit's schema in the database (idempotent; safe from several machines at once)")
    .action(action((cli) => runMigration(cli, true)));
  db.command('migrate')
    .description("Upgrade jit's schema in the database to this jit's version (a newer one is refused)")
    .action(action((cli) => runMigration(cli, false)));
}
