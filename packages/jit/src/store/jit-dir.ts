/** Finding, creating and opening a `.jit/` store. */
import { command, hint, run, type Suggestion } from './suggestions.js';
import fs from 'node:fs';
import path from 'node:path';
import { JitError } from './errors.js';
import { createFileIfMissing, fsError, listDirectory, makeDirectory, readTextIfExists, unsafePath, writeFileAtomic } from './files.js';
import { CONFIG_FILE } from './config.js';
import { hierarchyTemplateText } from './hierarchy.js';
import { JsonFileStorage } from './json-file-storage.js';
import { INDEX_FILE, INITIAL_DIRS, INITIAL_FILES, ISSUES_DIR, JIT_DIR_NAME, MIGRATION_DIR, MIGRATION_JOURNAL } from './layout.js';
import { Tracker, type TrackerOptions } from './tracker.js';

export { JIT_DIR_NAME };

function isDirectory(dir: string): boolean {
  try {
    return fs.statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

function isRegularFile(file: string): boolean {
  try {
    return fs.lstatSync(file).isFile();
  } catch {
    return false;
  }
}

/** What to do about a `.jit` that is a plain file: one message, one remedy (no hint that leads back here). */
function fileInTheWay(jitDir: string): { message: string; suggestions: Suggestion[]; details: Record<string, unknown> } {
  return {
    message: `${jitDir} is a file, not a directory: jit keeps its store in a .jit/ folder.`,
    suggestions: [hint`Move the file away (e.g. \`mv ${jitDir} ${jitDir}.old\`), then run ${command('init')} in ${path.dirname(jitDir)}.`],
    details: { path: jitDir },
  };
}

function notInitialized(message: string, suggestions: Suggestion[], details: Record<string, unknown>, fileAt: string | null): JitError {
  if (fileAt === null) return new JitError('NOT_INITIALIZED', message, { suggestions, details });
  const file = fileInTheWay(fileAt);
  return new JitError('NOT_INITIALIZED', `${message} ${file.message}`, { suggestions: file.suggestions, details: { ...details, ...file.details } });
}

/**
 * Whether `projectDir/.jit` is there after finishing a `jit migrate` that
 * was killed between moving the original aside and moving the new store in
 * (its journal says so): without this, the store would seem to be gone, and
 * the walk up could find another one.
 */
function finishedMigration(projectDir: string): boolean {
  if (!fs.existsSync(path.join(projectDir, MIGRATION_DIR, MIGRATION_JOURNAL))) return false;
  (require('./migrate.js') as typeof import('./migrate.js')).finishInterruptedMigration(projectDir);
  return isDirectory(path.join(projectDir, JIT_DIR_NAME));
}

/** The nearest `.jit/` at or above `startDir`, as git finds `.git/`; null when there is none. */
export function findJitDir(startDir: string): string | null {
  for (let dir = path.resolve(startDir); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, JIT_DIR_NAME);
    if (isDirectory(candidate) || finishedMigration(dir)) return candidate;
    if (path.dirname(dir) === dir) return null;
  }
}

/**
 * A project folder or a `.jit` folder given explicitly: the `.jit` path it
 * means. Only a folder named `.jit` is a store; any other folder, whatever
 * it holds (an index.json of its own), is a project that has none yet.
 */
function explicitJitDir(given: string, cwd: string, source: string): string {
  const resolved = path.resolve(cwd, given);
  const candidate = path.basename(resolved) === JIT_DIR_NAME ? resolved : path.join(resolved, JIT_DIR_NAME);
  if (isDirectory(candidate) || finishedMigration(path.dirname(candidate))) return candidate;
  const project = candidate === resolved ? path.dirname(resolved) : resolved;
  throw notInitialized(
    `No jit store at ${resolved} (from ${source}): there is no ${JIT_DIR_NAME}/ folder ${candidate === resolved ? 'there' : 'in it'}.`,
    [hint`${run(command('init'))} in ${project}, or point ${source} at a folder that has a .jit/ directory.`],
    { path: resolved },
    isRegularFile(candidate) ? candidate : null,
  );
}

/** Where the store is: --dir, then JIT_DIR, then walking up from the working directory. */
export function resolveJitDir(options: { dir?: string; cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  if (options.dir !== undefined && options.dir !== '') return explicitJitDir(options.dir, cwd, '--dir');
  if (env['JIT_DIR'] !== undefined && env['JIT_DIR'] !== '') return explicitJitDir(env['JIT_DIR'], cwd, 'JIT_DIR');
  const found = findJitDir(cwd);
  if (found) return found;
  // No store anywhere above: a `.jit` file on the way is most likely what stands in the way.
  let fileAt: string | null = null;
  for (let dir = path.resolve(cwd); fileAt === null; dir = path.dirname(dir)) {
    if (isRegularFile(path.join(dir, JIT_DIR_NAME))) fileAt = path.join(dir, JIT_DIR_NAME);
    if (path.dirname(dir) === dir) break;
  }
  throw notInitialized(
    `No .jit/ directory in ${cwd} or any folder above it.`,
    [
      hint`${run(command('init'))} in your project folder.`,
      { parts: ['Or pass --dir PATH / set JIT_DIR.'], agent: 'Or set JIT_DIR (or pass --dir PATH) in the configuration that starts this MCP server.' },
    ],
    { cwd },
    fileAt,
  );
}


/**
 * Creates `projectDir/.jit` with an empty index, gate registry and event log.
 * Idempotent and safe to run from several processes at once: it only ever
 * creates what is missing, never overwrites.
 */
export interface InitResult {
  path: string;
  /** True when `.jit/` itself was created. */
  created: boolean;
  /** Parts that were missing from an existing `.jit/` and were created (`issues/`, `index.json`, ...); empty otherwise. */
  repaired: string[];
  /** Only when a missing index.json was rebuilt from issue files: how many it lists, and the files it could not read. */
  rebuilt_index?: { issues: number; unreadable: string[] };
  /** Only with a hierarchy template: the config.toml written. */
  config?: { path: string; template: string };
}

export interface InitOptions {
  /** Also write `.jit/config.toml` from this starter hierarchy (hierarchy.ts HIERARCHY_TEMPLATES). */
  hierarchyTemplate?: string;
  /** Replace an existing config.toml with the template (else ALREADY_EXISTS). */
  force?: boolean;
}

export function initJit(projectDir: string, options: InitOptions = {}): InitResult {
  const project = path.resolve(projectDir);
  // Checked before anything is created: a bad name or a config in the way changes nothing.
  const template = options.hierarchyTemplate === undefined ? undefined : hierarchyTemplateText(options.hierarchyTemplate);
  if (!isDirectory(project)) {
    const exists = fs.existsSync(project);
    throw new JitError('INVALID_ARGUMENT', `Cannot initialise ${project}: it ${exists ? 'is not a directory' : 'does not exist'}.`, {
      suggestions: exists ? [] : [hint`Create it first (\`mkdir -p ${project}\`), then run ${command('init')} again.`],
      details: { path: project },
    });
  }
  const jitDir = path.join(project, JIT_DIR_NAME);
  try {
    const stat = fs.lstatSync(jitDir);
    if (stat.isSymbolicLink()) throw unsafePath(jitDir, 'is a symbolic link');
    if (stat.isFile()) throw new JitError('UNSAFE_PATH', `Cannot initialise ${project}: ${fileInTheWay(jitDir).message}`, fileInTheWay(jitDir));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw fsError(error, jitDir, 'inspect');
  }
  const configPath = path.join(jitDir, CONFIG_FILE);
  if (template !== undefined && fs.existsSync(configPath) && options.force !== true) {
    throw new JitError('ALREADY_EXISTS', `${configPath} already exists: it is not replaced by the template.`, {
      suggestions: [hint`Edit it by hand, or run ${command('init')} with --hierarchy-template ${options.hierarchyTemplate!} --force to replace it.`],
      details: { path: configPath },
    });
  }
  const created = makeDirectory(jitDir);
  const made: string[] = [];
  for (const dir of INITIAL_DIRS) if (makeDirectory(path.join(jitDir, dir))) made.push(`${dir}/`);
  // Issue files but no index (deleted, or lost in a copy): an empty index would hide them all.
  const rebuilt = !fs.existsSync(path.join(jitDir, INDEX_FILE)) && hasIssueFiles(jitDir) ? new JsonFileStorage(jitDir).createMissingIndex() : null;
  if (rebuilt) made.push(INDEX_FILE);
  for (const [name, text] of INITIAL_FILES) if (createFileIfMissing(jitDir, name, text)) made.push(name);
  if (template !== undefined) writeFileAtomic(jitDir, CONFIG_FILE, template);
  return {
    path: jitDir,
    created,
    repaired: created ? [] : made,
    ...(rebuilt ? { rebuilt_index: rebuilt } : {}),
    ...(template !== undefined ? { config: { path: configPath, template: options.hierarchyTemplate! } } : {}),
  };
}

function hasIssueFiles(jitDir: string): boolean {
  return listDirectory(path.join(jitDir, ISSUES_DIR)).some((name) => name.endsWith('.json') && !name.startsWith('.'));
}

/**
 * A Tracker on the store at `jitDir`, or on the database JIT_DATABASE_URL or
 * its config.toml names (chooseBackend). Cheap: nothing is read (and no
 * connection made) until the first operation.
 */
export function openTracker(jitDir: string | null, options: TrackerOptions = {}, env: NodeJS.ProcessEnv = process.env): Tracker {
  const backend = chooseBackend(jitDir, env);
  if (backend.kind === 'postgres') {
    const { openPgStorage } = require('./pg-config.js') as typeof import('./pg-config.js');
    return new Tracker(openPgStorage(backend, jitDir ?? undefined), options);
  }
  if (jitDir === null) throw new JitError('INTERNAL', 'A file store needs its .jit/ folder.');
  return new Tracker(new JsonFileStorage(jitDir), options);
}

export const DATABASE_URL_VARIABLE = 'JIT_DATABASE_URL';
export const DATABASE_SCHEMA_VARIABLE = 'JIT_DATABASE_SCHEMA';

/** Which backend a store uses, and where (`jit status`, `jit db`). */
export interface BackendChoice {
  kind: 'files' | 'postgres';
  /** postgres: the connection URL (its password, if any, only in memory). */
  url?: string;
  /** postgres: the schema jit's tables live in. */
  schema?: string;
  /** Where the choice came from: JIT_DATABASE_URL, or the config.toml that names the database. */
  source: string;
}

/**
 * JIT_DATABASE_URL (with JIT_DATABASE_SCHEMA), else `[storage]` in the
 * store's config.toml (`backend = "postgres"`, `url`, `schema`), else the
 * `.jit/` files. The config file is parsed only when it mentions storage, so
 * a file store pays no TOML parse for the question.
 */
export function chooseBackend(jitDir: string | null, env: NodeJS.ProcessEnv = process.env): BackendChoice {
  const fromEnv = env[DATABASE_URL_VARIABLE];
  if (fromEnv !== undefined && fromEnv !== '') {
    return { kind: 'postgres', url: fromEnv, schema: env[DATABASE_SCHEMA_VARIABLE] || undefined, source: DATABASE_URL_VARIABLE };
  }
  // pg-config (and the TOML parser) only for a config that has a [storage] table: the file store's path stays as it was.
  const config = jitDir === null ? null : readTextIfExists(path.join(jitDir, 'config.toml'));
  if (config !== null && /^\s*\[storage\]/m.test(config)) {
    const configured = (require('./pg-config.js') as typeof import('./pg-config.js')).configuredDatabase(jitDir!);
    if (configured) return configured;
  }
  return { kind: 'files', source: jitDir ?? '' };
}

/**
 * The tracker the environment and the store's configuration choose: on
 * PostgreSQL when JIT_DATABASE_URL is set (no `.jit/` needed; one found is
 * still the project for gate checks) or config.toml says so, otherwise on
 * the `.jit/` files found as resolveJitDir finds them.
 */
export function openConfiguredTracker(where: { dir?: string; cwd?: string; env?: NodeJS.ProcessEnv }, options: TrackerOptions = {}): Tracker {
  const env = where.env ?? process.env;
  const jitDir = env[DATABASE_URL_VARIABLE] ? optionalJitDir(where) : resolveJitDir(where);
  return openTracker(jitDir, options, env);
}

function optionalJitDir(where: { dir?: string; cwd?: string; env?: NodeJS.ProcessEnv }): string | null {
  try {
    return resolveJitDir(where);
  } catch (error) {
    if (error instanceof JitError && error.code === 'NOT_INITIALIZED') return null;
    throw error;
  }
}

/** The database the environment or config.toml names, for `jit db init|migrate`; INVALID_ARGUMENT when none is. */
export function openConfiguredDatabase(where: { dir?: string; cwd?: string; env?: NodeJS.ProcessEnv }): import('./pg-storage.js').PgStorage {
  const env = where.env ?? process.env;
  const jitDir = optionalJitDir(where);
  const backend = chooseBackend(jitDir, env);
  if (backend.kind !== 'postgres') {
    throw new JitError('INVALID_ARGUMENT', `No database is configured: this store keeps its issues in ${jitDir ?? 'a .jit/ folder'}.`, {
      suggestions: [`Set ${DATABASE_URL_VARIABLE}=postgres://USER@HOST:PORT/DATABASE, or add [storage] backend = "postgres" and url = "..." to .jit/config.toml (docs/postgres.md).`],
    });
  }
  return (require('./pg-config.js') as typeof import('./pg-config.js')).openPgStorage(backend, jitDir ?? undefined);
}
