// Finding, creating and opening a `.jit/`: the part of the store's public
// surface (index.ts re-exports it) a CLI command needs before it runs. The CLI
// loads this module rather than index.ts, whose other exports (the in-memory
// storage, the change feed, agent locks, debug locks) no command's start-up
// should compile: start-up is most of a CLI run.
export { findJitDir, resolveJitDir, initJit, openTracker, openConfiguredTracker, openConfiguredDatabase, chooseBackend, DATABASE_URL_VARIABLE, type BackendChoice } from './jit-dir.js';
export type { InitResult, InitOptions } from './jit-dir.js';
export { JIT_DIR_NAME } from './layout.js';
import type { MigrateOptions, MigrationReport } from './migrate.js';

/** `jit migrate` (store/migrate.ts), loaded only by the command that runs it: every other one starts without it. */
export function migrateStore(options: MigrateOptions): Promise<MigrationReport> {
  return (require('./migrate.js') as typeof import('./migrate.js')).migrateStore(options);
}
