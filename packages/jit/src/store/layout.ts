/**
 * The `.jit` folder's layout, in one place: the name of every folder and file
 * jit keeps there, and the text of each file as jit writes it (empty at
 * `jit init`, or rebuilt). The store's modules take their paths from here,
 * so the on-disk format (docs: the `.jit` format) is read in one file.
 */
import path from 'node:path';
import type { GateDefinition } from './model.js';
import { INDEX_SCHEMA_VERSION, SCHEMA_VERSION } from './schema.js';

/**
 * The name of a store folder. A store is a folder with this name, and
 * nothing else: a folder that merely holds an index.json is someone else's
 * and is never written (every store `jit init` ever made is named so).
 */
export const JIT_DIR_NAME = '.jit';

/** One file per issue, `<uuid>.json`. */
export const ISSUES_DIR = 'issues';
/** In-flight markers of changes whose index update or follow-ups are not done yet. */
export const PENDING_DIR = 'pending';
/** The store's format manifest (schema_version 2: summaries live in index.db). Version 1 held every summary. */
export const INDEX_FILE = 'index.json';
/** The summary cache (summary-index.ts), rebuilt from the issue files whenever it is missing or unusable; not data. */
export const INDEX_DB_FILE = 'index.db';
/** SQLite's companions of index.db (write-ahead log, shared memory): part of the cache, never committed. */
export const INDEX_DB_COMPANIONS: readonly string[] = [`${INDEX_DB_FILE}-wal`, `${INDEX_DB_FILE}-shm`];
export const GATES_FILE = 'gates.json';
export const EVENTS_FILE = 'events.jsonl';
export const GITIGNORE_FILE = '.gitignore';
/** Running agents' locks and who holds each (agents.ts): about processes on this machine, never committed. */
export const AGENTS_DIR = 'agents';
/** The history of gate checks: `gate-runs/<issue-id>/<run-id>.json` (and a `.lock` held while it runs, a `.log` if asked). */
export const GATE_RUNS_DIR = 'gate-runs';
/** What belongs to this machine only, never to git: the trusted checker commands. Ignored by its own .gitignore. */
export const LOCAL_DIR = 'local';
export const TRUST_FILE = 'trusted-gates.json';
/** local/.gitignore: everything in it. */
export const LOCAL_GITIGNORE_TEXT = '# Written by jit: what this machine trusts is not shared through git.\n*\n';
/** gate-runs/.gitignore: the run records are history; their locks and full logs are not. */
export const GATE_RUNS_GITIGNORE_TEXT = '# Written by jit: locks of running checks and full logs stay on this machine.\n*.lock\n*.log\n';
/** Beside `.jit`: where `jit migrate` writes the new store before it swaps it in (store/migrate.ts). */
export const MIGRATION_DIR = '.jit-migrate';
/** In MIGRATION_DIR: present from the migration's commit point until the swap is done. */
export const MIGRATION_JOURNAL = 'journal.json';

/** The absolute paths of a store's parts. */
export interface StoreLayout {
  jitDir: string;
  issuesDir: string;
  pendingDir: string;
  indexPath: string;
  indexDbPath: string;
  gatesPath: string;
  eventsPath: string;
}

export function storeLayout(jitDir: string): StoreLayout {
  const root = path.resolve(jitDir);
  return {
    jitDir: root,
    issuesDir: path.join(root, ISSUES_DIR),
    pendingDir: path.join(root, PENDING_DIR),
    indexPath: path.join(root, INDEX_FILE),
    indexDbPath: path.join(root, INDEX_DB_FILE),
    gatesPath: path.join(root, GATES_FILE),
    eventsPath: path.join(root, EVENTS_FILE),
  };
}

/** index.json of format 2: which cache holds the summaries. Never changes after the upgrade, so it never conflicts in git. */
export function manifestText(): string {
  return `{"schema_version":${INDEX_SCHEMA_VERSION},"index":"${INDEX_DB_FILE}"}\n`;
}

/** gates.json: the registry, sorted by key, pretty-printed. */
export function gatesText(gates: ReadonlyMap<string, GateDefinition>): string {
  return JSON.stringify({ schema_version: SCHEMA_VERSION, gates: Object.fromEntries([...gates].sort(([a], [b]) => a.localeCompare(b))) }, null, 2) + '\n';
}

/** What .jit/.gitignore keeps out of git: locks, temp files, in-flight markers and the summary cache (rebuilt from the files). */
export const GITIGNORE_LINES: readonly string[] = ['*.lock', '.*.tmp', `${PENDING_DIR}/`, INDEX_DB_FILE, ...INDEX_DB_COMPANIONS];

function gitignoreText(): string {
  return `# Written by jit: lock files, unfinished temp files, in-flight markers and the summary cache are not data.\n${GITIGNORE_LINES.join('\n')}\n`;
}

/** The files `jit init` creates where missing, with their text when new. */
export const INITIAL_FILES: ReadonlyArray<readonly [name: string, text: string]> = [
  [INDEX_FILE, manifestText()],
  [GATES_FILE, gatesText(new Map())],
  [EVENTS_FILE, ''],
  [GITIGNORE_FILE, gitignoreText()],
];

/** `.gitignore` with the lines a store made by an older jit lacks appended (null when none is missing). */
export function upgradedGitignoreText(current: string | null): string | null {
  if (current === null) return gitignoreText();
  const present = new Set(current.split(/\r?\n/).map((line) => line.trim()));
  const missing = GITIGNORE_LINES.filter((line) => !present.has(line));
  if (missing.length === 0) return null;
  return `${current}${current === '' || current.endsWith('\n') ? '' : '\n'}# Added by jit (the summary cache is rebuilt from the issue files):\n${missing.join('\n')}\n`;
}

/** The folders `jit init` creates where missing. */
export const INITIAL_DIRS: readonly string[] = [ISSUES_DIR, PENDING_DIR];
