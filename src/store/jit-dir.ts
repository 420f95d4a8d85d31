/** Finding, creating and opening a `.jit/` store. */
import fs from 'node:fs';
import path from 'node:path';
import { JitError } from './errors.js';
import { createFileIfMissing, fsError, makeDirectory, unsafePath } from './files.js';
import { JsonFileStorage } from './json-file-storage.js';
import { SCHEMA_VERSION } from './schema.js';
import { Tracker } from './tracker.js';

export const JIT_DIR_NAME = '.jit';

function isDirectory(dir: string): boolean {
  try {
    return fs.statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

/** The nearest `.jit/` at or above `startDir`, as git finds `.git/`; null when there is none. */
export function findJitDir(startDir: string): string | null {
  for (let dir = path.resolve(startDir); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, JIT_DIR_NAME);
    if (isDirectory(candidate)) return candidate;
    if (path.dirname(dir) === dir) return null;
  }
}

/** A project folder or a `.jit` folder given explicitly: the `.jit` path it means. */
function explicitJitDir(given: string, cwd: string, source: string): string {
  const resolved = path.resolve(cwd, given);
  const candidates = path.basename(resolved) === JIT_DIR_NAME ? [resolved] : [path.join(resolved, JIT_DIR_NAME), resolved];
  for (const candidate of candidates) {
    if (isDirectory(candidate) && (path.basename(candidate) === JIT_DIR_NAME || fs.existsSync(path.join(candidate, 'index.json')))) return candidate;
  }
  throw new JitError('NOT_INITIALIZED', `No jit store at ${resolved} (from ${source}).`, {
    suggestions: [`Run \`jit init\` in ${resolved}, or point ${source} at a folder that has a .jit/ directory.`],
    details: { path: resolved },
  });
}

/** Where the store is: --dir, then JIT_DIR, then walking up from the working directory. */
export function resolveJitDir(options: { dir?: string; cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  if (options.dir !== undefined && options.dir !== '') return explicitJitDir(options.dir, cwd, '--dir');
  if (env['JIT_DIR'] !== undefined && env['JIT_DIR'] !== '') return explicitJitDir(env['JIT_DIR'], cwd, 'JIT_DIR');
  const found = findJitDir(cwd);
  if (found) return found;
  throw new JitError('NOT_INITIALIZED', `No .jit/ directory in ${cwd} or any folder above it.`, {
    suggestions: ['Run `jit init` in your project folder.', 'Or pass --dir PATH / set JIT_DIR.'],
    details: { cwd },
  });
}

const GITIGNORE = '# Written by jit: lock files, unfinished temp files and in-flight markers are not data.\n*.lock\n.*.tmp\npending/\n';

/**
 * Creates `projectDir/.jit` with an empty index, gate registry and event log.
 * Idempotent and safe to run from several processes at once: it only ever
 * creates what is missing, never overwrites.
 */
export function initJit(projectDir: string): { path: string; created: boolean } {
  const project = path.resolve(projectDir);
  if (!isDirectory(project)) {
    throw new JitError('INVALID_ARGUMENT', `Cannot initialise ${project}: it is not a directory.`, { details: { path: project } });
  }
  const jitDir = path.join(project, JIT_DIR_NAME);
  try {
    if (fs.lstatSync(jitDir).isSymbolicLink()) throw unsafePath(jitDir, 'is a symbolic link');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw fsError(error, jitDir, 'inspect');
  }
  const created = makeDirectory(jitDir);
  makeDirectory(path.join(jitDir, 'issues'));
  makeDirectory(path.join(jitDir, 'pending'));
  createFileIfMissing(jitDir, 'index.json', `{"schema_version":${SCHEMA_VERSION},"issues":{\n}}\n`);
  createFileIfMissing(jitDir, 'gates.json', JSON.stringify({ schema_version: SCHEMA_VERSION, gates: {} }, null, 2) + '\n');
  createFileIfMissing(jitDir, 'events.jsonl', '');
  createFileIfMissing(jitDir, '.gitignore', GITIGNORE);
  return { path: jitDir, created };
}

/** A Tracker on the store at `jitDir`. Cheap: nothing is read until the first operation. */
export function openTracker(jitDir: string): Tracker {
  return new Tracker(new JsonFileStorage(jitDir));
}
