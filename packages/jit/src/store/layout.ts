/**
 * The `.jit` folder's layout, in one place: the name of every folder and file
 * jit keeps there, and the text of each file as jit writes it (empty at
 * `jit init`, or rebuilt). The store's modules take their paths from here,
 * so the on-disk format (docs: the `.jit` format) is read in one file.
 */
import path from 'node:path';
import type { GateDefinition } from './model.js';
import { SCHEMA_VERSION } from './schema.js';
import type { IssueSummary } from './tracker-api.js';

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
export const INDEX_FILE = 'index.json';
export const GATES_FILE = 'gates.json';
export const EVENTS_FILE = 'events.jsonl';
export const GITIGNORE_FILE = '.gitignore';
/** The history of gate checks: `gate-runs/<issue-id>/<run-id>.json` (and a `.lock` held while it runs, a `.log` if asked). */
export const GATE_RUNS_DIR = 'gate-runs';
/** What belongs to this machine only, never to git: the trusted checker commands. Ignored by its own .gitignore. */
export const LOCAL_DIR = 'local';
export const TRUST_FILE = 'trusted-gates.json';
/** local/.gitignore: everything in it. */
export const LOCAL_GITIGNORE_TEXT = '# Written by jit: what this machine trusts is not shared through git.\n*\n';
/** gate-runs/.gitignore: the run records are history; their locks and full logs are not. */
export const GATE_RUNS_GITIGNORE_TEXT = '# Written by jit: locks of running checks and full logs stay on this machine.\n*.lock\n*.log\n';

/** The absolute paths of a store's parts. */
export interface StoreLayout {
  jitDir: string;
  issuesDir: string;
  pendingDir: string;
  indexPath: string;
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
    gatesPath: path.join(root, GATES_FILE),
    eventsPath: path.join(root, EVENTS_FILE),
  };
}

/** index.json: one issue summary per line, sorted by id, so a change shows as a one-line diff. */
export function indexText(summaries: ReadonlyMap<string, IssueSummary>): string {
  const lines = [...summaries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([id, s]) => `${JSON.stringify(id)}:${JSON.stringify(s)}`);
  return `{"schema_version":${SCHEMA_VERSION},"issues":{\n${lines.join(',\n')}\n}}\n`;
}

/** gates.json: the registry, sorted by key, pretty-printed. */
export function gatesText(gates: ReadonlyMap<string, GateDefinition>): string {
  return JSON.stringify({ schema_version: SCHEMA_VERSION, gates: Object.fromEntries([...gates].sort(([a], [b]) => a.localeCompare(b))) }, null, 2) + '\n';
}

/** The files `jit init` creates where missing, with their text when new. */
export const INITIAL_FILES: ReadonlyArray<readonly [name: string, text: string]> = [
  [INDEX_FILE, `{"schema_version":${SCHEMA_VERSION},"issues":{\n}}\n`],
  [GATES_FILE, gatesText(new Map())],
  [EVENTS_FILE, ''],
  [GITIGNORE_FILE, `# Written by jit: lock files, unfinished temp files and in-flight markers are not data.\n*.lock\n.*.tmp\n${PENDING_DIR}/\n`],
];

/** The folders `jit init` creates where missing. */
export const INITIAL_DIRS: readonly string[] = [ISSUES_DIR, PENDING_DIR];
