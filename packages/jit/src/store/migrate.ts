/**
 * `jit migrate`: converts a `.jit/` written by the original (Rust) jit into
 * this jit's format (docs: the `.jit` format, migration from the original).
 *
 * Lossless: issue files keep every field (ours read them loosely, so fields
 * we do not use, such as `documents`, stay in the file); only a state spelled
 * the original's way (`open`, `inprogress`) is renamed, and missing fields of
 * an older file get their defaults. Gate definitions keep their `stage`,
 * `mode`, `checker`, ...; events keep every line, those lacking `issue_id`
 * get `"issue_id": null`. Every other file (config.toml, rules.toml,
 * gate-runs/, schemas/, ...) is copied byte for byte, and the original's
 * index.json and gates.json are kept verbatim under `original/` (the index
 * holds `deleted_ids`, which we have no place for).
 *
 * The index is not written here: the store builds it from the issue files
 * through its public entry (initJit), so migration does not depend on how
 * the index is stored.
 *
 * Crash safety, as a database commits: the new store is written aside,
 * in `<project>/.jit-migrate/.jit`, and fsynced; then `journal.json` there
 * records the swap (the commit point); then the original `.jit` is renamed
 * to its backup and the new one into its place. A kill before the journal
 * leaves the source untouched (the next run deletes the half-written
 * folder); after it, whoever comes next rolls the swap forward
 * (finishInterruptedMigration: `jit migrate`, or any command that finds no
 * `.jit` but a journal). Nothing writes the source: its own locks (index,
 * gates, events, exclusive) keep our writers and the original's out while
 * the migration reads it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { CONFIG_FILE, parseStoreConfig } from './config.js';
import { JitError } from './errors.js';
import { fsError, fsyncDirectory, readTextIfExists } from './files.js';
import { initJit } from './jit-dir.js';
import {
  EVENTS_FILE,
  GATES_FILE,
  GITIGNORE_FILE,
  INDEX_FILE,
  INITIAL_FILES,
  ISSUES_DIR,
  JIT_DIR_NAME,
  MIGRATION_DIR as STAGING_DIR,
  MIGRATION_JOURNAL as JOURNAL_FILE,
  PENDING_DIR,
  gatesText,
} from './layout.js';
import { RANK, fileLocker } from './locker.js';
import type { GateDefinition, Issue } from './model.js';
import { isOriginalGates, isOriginalIndex } from './original.js';
import { describeCycle, findCycles, parseState } from './rules.js';
import { parseEventLine, parseGates, parseIssue, type GatesFile } from './schema.js';
import { command, hint, run } from './suggestions.js';

/** Inside the new store: the original's index.json and gates.json, verbatim. */
export const ORIGINAL_DIR = 'original';

const ISSUE_FILE = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.json$/;
/** The original's lock files, and ours: never data. */
const LOCK_FILE = /\.lock$/;

export interface MigrateOptions {
  /** The original's `.jit` folder. */
  from: string;
  /** A project folder (or its `.jit` path) to create the new store in; omitted: in place, the original kept as a backup. */
  to?: string;
  dryRun?: boolean;
}

export interface MigrationReport {
  /** The `.jit` migrated from. */
  from: string;
  /** The `.jit` that holds (or would hold) the result. */
  to: string;
  in_place: boolean;
  dry_run: boolean;
  /** False when there was nothing to migrate (the store is already in this jit's format). */
  changed: boolean;
  /** In place: where the original `.jit` was moved (or would be). */
  backup: string | null;
  issues: number;
  deleted_ids: number;
  gates: number;
  events: number;
  gate_runs: number;
  /** What was (or would be) converted, one line each. */
  changes: string[];
  /** Files and folders copied byte for byte, relative to `.jit`. */
  kept: string[];
  /** What the source already had wrong; `jit validate` reports these afterwards. */
  problems: string[];
}

/** The converted store: text of each file to write, relative to `.jit`, and what to copy verbatim. */
interface Plan {
  files: Map<string, string>;
  copies: string[];
  report: Omit<MigrationReport, 'from' | 'to' | 'in_place' | 'dry_run' | 'changed' | 'backup'>;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function corrupt(filePath: string, why: string, cause?: unknown): JitError {
  return new JitError('CORRUPT_FILE', `Cannot migrate: ${filePath} ${why}. Nothing was changed.`, {
    suggestions: [`Fix or restore ${filePath} (the original jit's validate command may help), then run the migration again.`],
    details: { path: filePath },
    cause,
  });
}

function readJson(filePath: string): unknown {
  const text = readTextIfExists(filePath);
  if (text === null) return undefined;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw corrupt(filePath, `is not valid JSON (${(error as Error).message})`, error);
  }
}

// ------------------------------------------------------------------ format

type Format = 'original' | 'ours' | 'none';

/** Which jit wrote the store at `jitDir`, by the shape of its index.json and gates.json. */
function storeFormat(jitDir: string): Format {
  const index = readJson(path.join(jitDir, INDEX_FILE));
  if (isOriginalIndex(index)) return 'original';
  const gates = readJson(path.join(jitDir, GATES_FILE));
  if (isOriginalGates(gates)) return 'original';
  // Ours by either file: the index may one day live elsewhere (index.json a manifest, or absent).
  if ((isRecord(index) && 'schema_version' in index) || (isRecord(gates) && 'schema_version' in gates)) return 'ours';
  if (index === undefined && gates === undefined) return 'none';
  throw corrupt(path.join(jitDir, INDEX_FILE), 'is neither the original jit\'s index (with "all_ids") nor this jit\'s');
}

// ---------------------------------------------------------------- convert

/** Defaults for fields an older original wrote without (added at the end of the object, as they were absent). */
const ISSUE_DEFAULTS: ReadonlyArray<readonly [string, () => unknown]> = [
  ['description', () => ''],
  ['priority', () => 'normal'],
  ['assignee', () => null],
  ['dependencies', () => []],
  ['gates_required', () => []],
  ['gates_status', () => ({})],
  ['labels', () => []],
  ['context', () => ({})],
];

function convertIssue(filePath: string, id: string, changes: string[]): Issue {
  const raw = readJson(filePath);
  if (!isRecord(raw)) throw corrupt(filePath, 'is not an issue (not a JSON object)');
  if (raw['id'] !== id) throw corrupt(filePath, `holds issue ${JSON.stringify(raw['id'])}, not ${id}`);
  // Same keys in the same order: only the state's spelling changes.
  const issue: Record<string, unknown> = { ...raw };
  let state: string;
  try {
    state = parseState(raw['state']);
  } catch (error) {
    throw corrupt(filePath, `has an unknown state ${JSON.stringify(raw['state'])}`, error);
  }
  if (state !== raw['state']) {
    issue['state'] = state;
    changes.push(`issue ${id}: state "${String(raw['state'])}" -> "${state}"`);
  }
  const filled = ISSUE_DEFAULTS.filter(([field]) => !(field in raw)).map(([field, value]) => ((issue[field] = value()), field));
  if (filled.length > 0) changes.push(`issue ${id}: added the missing ${filled.join(', ')} with default values`);
  if (!('updated_at' in raw) && typeof raw['created_at'] === 'string') issue['updated_at'] = raw['created_at'];
  if (state === 'archived') {
    const from = raw['archived_from'];
    if (from !== 'done' && from !== 'rejected') {
      changes.push(
        `issue ${id}: archived${typeof from === 'string' ? ` from ${from}` : ''}; the original counts it unfinished, this jit counts every archived issue finished (issues waiting for it can start)`,
      );
    }
  }
  // Our own schema decides: what it refuses is named with the source file.
  let parsed: Issue;
  try {
    parsed = parseIssue(JSON.stringify(issue), filePath, id);
  } catch (error) {
    throw corrupt(filePath, `is not a valid issue: ${(error as Error).message.replace(/^Corrupt file [^:]*: /, '').replace(/\.$/, '')}`, error);
  }
  refuseLoss(filePath, issue, parsed);
  return parsed;
}

/**
 * Lossless or nothing: a value the store's reader would not keep as it
 * is (a key named `__proto__`, which an object cannot hold as data) is
 * refused, with the field named, instead of being dropped on the way.
 */
function refuseLoss(filePath: string, source: Record<string, unknown>, kept: object, where = ''): void {
  const keptRecord = JSON.parse(JSON.stringify(kept)) as Record<string, unknown>;
  for (const field of Object.keys(source)) {
    if (!isDeepStrictEqual(JSON.parse(JSON.stringify(source[field])), keptRecord[field]) || !Object.hasOwn(keptRecord, field)) {
      throw corrupt(filePath, `holds a value this jit cannot keep as it is (${where}${field}: its reader would drop part of it, such as a key named "__proto__")`);
    }
  }
}

function convertGates(filePath: string, changes: string[]): Map<string, GateDefinition> {
  const raw = readJson(filePath);
  const gates = new Map<string, GateDefinition>();
  if (raw === undefined) return gates;
  if (!isRecord(raw) || !isRecord(raw['gates'])) throw corrupt(filePath, 'is not a gate registry ({"gates": {...}})');
  for (const [key, value] of Object.entries(raw['gates'])) {
    if (!isRecord(value)) throw corrupt(filePath, `has a gate ${key} that is not an object`);
    if (value['key'] !== undefined && value['key'] !== key) throw corrupt(filePath, `has entry ${key} holding gate ${JSON.stringify(value['key'])}`);
    const def: Record<string, unknown> = { ...value, key };
    if (typeof def['title'] !== 'string') def['title'] = key;
    if (typeof def['description'] !== 'string') def['description'] = '';
    if (typeof def['auto'] !== 'boolean') {
      def['auto'] = def['mode'] === 'auto';
      changes.push(`gate ${key}: auto = ${String(def['auto'])} (from its mode)`);
    }
    gates.set(key, def as unknown as GateDefinition);
  }
  let parsed: GatesFile;
  try {
    parsed = parseGates(gatesText(gates), filePath);
  } catch (error) {
    throw corrupt(filePath, `is not a valid gate registry: ${(error as Error).message}`, error);
  }
  refuseLoss(filePath, Object.fromEntries(gates), parsed.gates, 'gate ');
  return gates;
}

/**
 * events.jsonl line by line: lines that need nothing are kept byte for
 * byte; an event without `issue_id` (the original's registry and
 * repository events) gets `"issue_id": null`, one without an `id` a new one.
 */
function convertEvents(filePath: string, changes: string[], problems: string[]): { text: string; count: number } | null {
  const read = readTextIfExists(filePath);
  if (read === null) return null;
  // A byte order mark (an editor on Windows) would make the first event unreadable: no reader of ours expects one.
  const text = read.startsWith('\ufeff') ? read.slice(1) : read;
  if (text !== read) changes.push('events: the byte order mark at the start of events.jsonl was dropped');
  const lines = text.split('\n');
  const last = lines.pop()!; // '' when the file ends with a newline
  const out: string[] = [];
  let count = 0;
  let withoutIssue = 0;
  const convert = (line: string, n: number): string => {
    if (line.trim() === '') return line;
    let data: unknown;
    try {
      data = JSON.parse(line);
    } catch {
      problems.push(`${filePath} line ${n} is not valid JSON; kept as it is (readers skip it)`);
      return line;
    }
    if (!isRecord(data) || typeof data['type'] !== 'string') {
      problems.push(`${filePath} line ${n} is not an event; kept as it is (readers skip it)`);
      return line;
    }
    count++;
    let converted = line;
    if (!('issue_id' in data) || data['id'] === undefined) {
      const event = { ...data };
      if (!('issue_id' in data)) (event['issue_id'] = null), withoutIssue++;
      if (data['id'] === undefined) event['id'] = randomUUID();
      converted = JSON.stringify(event);
    }
    if (parseEventLine(converted) === null) problems.push(`${filePath} line ${n} (type ${JSON.stringify(data['type'])}) is not an event this jit reads; kept as it is (readers skip it)`);
    return converted;
  };
  lines.forEach((line, i) => out.push(convert(line, i + 1)));
  const tail = last === '' ? '' : convert(last, lines.length + 1);
  if (withoutIssue > 0) changes.push(`events: ${withoutIssue} event(s) without an issue got "issue_id": null`);
  return { text: out.map((line) => line + '\n').join('') + tail, count };
}

/** The lines every store of ours ignores (.gitignore), added to the original's own. */
function gitignoreText(original: string | null): string | null {
  if (original === null) return null;
  const ours = INITIAL_FILES.find(([name]) => name === GITIGNORE_FILE)![1];
  const have = new Set(original.split('\n').map((line) => line.trim()));
  const missing = ours.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('#') && !have.has(line.trim()));
  if (missing.length === 0) return original;
  return `${original}${original === '' || original.endsWith('\n') ? '' : '\n'}# Added by jit migrate.\n${missing.join('\n')}\n`;
}

function plan(jitDir: string): Plan {
  const changes: string[] = [];
  const problems: string[] = [];
  const files = new Map<string, string>();
  const copies: string[] = [];

  const indexPath = path.join(jitDir, INDEX_FILE);
  const index = readJson(indexPath);
  const listed: string[] = isRecord(index) && Array.isArray(index['all_ids']) ? index['all_ids'].map(String) : [];
  const deleted: string[] = isRecord(index) && Array.isArray(index['deleted_ids']) ? index['deleted_ids'].map(String) : [];

  // Issues: every issue file (the files are the truth for this jit, as for the original).
  const issuesDir = path.join(jitDir, ISSUES_DIR);
  const issues = new Map<string, Issue>();
  for (const name of listOrEmpty(issuesDir)) {
    const id = ISSUE_FILE.exec(name)?.[1];
    if (id === undefined) {
      if (!LOCK_FILE.test(name)) copies.push(path.join(ISSUES_DIR, name));
      continue;
    }
    const issue = convertIssue(path.join(issuesDir, name), id, changes);
    issues.set(id, issue);
    files.set(path.join(ISSUES_DIR, name), JSON.stringify(issue, null, 2) + '\n');
  }
  const listedSet = new Set(listed);
  for (const id of listed) if (!issues.has(id)) problems.push(`the original index lists issue ${id}, but issues/${id}.json does not exist`);
  for (const id of issues.keys()) if (!listedSet.has(id)) changes.push(`issue ${id}: its file was not in the original index; it is listed now`);
  for (const id of deleted) {
    if (issues.has(id)) changes.push(`issue ${id}: the original lists it as deleted, but its file exists; kept as an issue (delete it if it should be gone)`);
  }
  for (const issue of issues.values()) {
    for (const dep of issue.dependencies) if (!issues.has(dep)) problems.push(`issue ${issue.id} waits for ${dep}, which has no issue file`);
  }
  // The same search as validate's, so both list the same cycles.
  for (const cycle of findCycles(issues.keys(), (id) => issues.get(id)?.dependencies ?? [])) problems.push(`dependency cycle: ${describeCycle(cycle, (id) => id)}`);

  const gates = convertGates(path.join(jitDir, GATES_FILE), changes);
  files.set(GATES_FILE, gatesText(gates));
  for (const issue of issues.values()) {
    for (const key of issue.gates_required) if (!gates.has(key)) problems.push(`issue ${issue.id} requires gate ${key}, which is not in gates.json`);
  }

  const events = convertEvents(path.join(jitDir, EVENTS_FILE), changes, problems);
  if (events) files.set(EVENTS_FILE, events.text);

  const configPath = path.join(jitDir, CONFIG_FILE);
  const config = readTextIfExists(configPath);
  if (config !== null) parseStoreConfig(config, configPath); // CORRUPT_FILE with line and column: nothing written

  const gitignore = gitignoreText(readTextIfExists(path.join(jitDir, GITIGNORE_FILE)));
  if (gitignore !== null) files.set(GITIGNORE_FILE, gitignore);

  for (const name of [INDEX_FILE, GATES_FILE]) {
    const text = readTextIfExists(path.join(jitDir, name));
    if (text !== null) files.set(path.join(ORIGINAL_DIR, name), text);
  }

  // Everything else, byte for byte: config.toml, rules.toml, templates.toml, gate-runs/, schemas/, ...
  const handled = new Set([INDEX_FILE, GATES_FILE, EVENTS_FILE, GITIGNORE_FILE, ISSUES_DIR, PENDING_DIR, ORIGINAL_DIR]);
  for (const name of listOrEmpty(jitDir)) if (!handled.has(name) && !LOCK_FILE.test(name)) copies.push(name);
  const gateRuns = listOrEmpty(path.join(jitDir, 'gate-runs')).length;

  changes.push(`index.json: rebuilt by this jit from ${issues.size} issue file(s); the original's kept as ${ORIGINAL_DIR}/${INDEX_FILE} (${deleted.length} deleted id(s))`);
  changes.push(`gates.json: ${gates.size} gate(s) in this jit's registry format; the original's kept as ${ORIGINAL_DIR}/${GATES_FILE}`);
  return {
    files,
    copies: copies.sort(),
    report: { issues: issues.size, deleted_ids: deleted.length, gates: gates.size, events: events?.count ?? 0, gate_runs: gateRuns, changes, kept: copies, problems },
  };
}

function listOrEmpty(dir: string): string[] {
  try {
    return fs.readdirSync(dir).sort();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw fsError(error, dir, 'open the directory');
  }
}

// ------------------------------------------------------------------ write

/** A new file in a folder nobody else writes: written and fsynced (the folder is fsynced once, by writeTree). */
function writeNew(filePath: string, data: string | Buffer): void {
  fs.mkdirSync(path.dirname(filePath), { recursive: true });
  const fd = fs.openSync(filePath, 'wx', 0o644);
  try {
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Copies `from` (a file, folder or symlink) to `to`, byte for byte. */
function copyVerbatim(from: string, to: string): void {
  const stat = fs.lstatSync(from);
  if (stat.isSymbolicLink()) fs.symlinkSync(fs.readlinkSync(from), to);
  else if (stat.isDirectory()) {
    fs.mkdirSync(to);
    for (const name of fs.readdirSync(from)) copyVerbatim(path.join(from, name), path.join(to, name));
    fsyncDirectory(to);
  } else if (stat.isFile()) writeNew(to, fs.readFileSync(from));
}

function writeStore(source: string, staged: string, planned: Plan): void {
  fs.mkdirSync(staged);
  fs.mkdirSync(path.join(staged, ISSUES_DIR));
  for (const [name, text] of planned.files) writeNew(path.join(staged, name), text);
  for (const name of planned.copies) copyVerbatim(path.join(source, name), path.join(staged, name));
  for (const dir of [path.join(staged, ISSUES_DIR), path.join(staged, ORIGINAL_DIR), staged]) if (fs.existsSync(dir)) fsyncDirectory(dir);
  // The index, and whatever else a new store has (pending/, ...): built by the store itself.
  initJit(path.dirname(staged));
}

interface Journal {
  from: string;
  to: string;
  backup: string | null;
}

function backupPath(jitDir: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const base = path.join(path.dirname(jitDir), `${JIT_DIR_NAME}-original-${stamp}`);
  let candidate = base;
  for (let n = 2; fs.existsSync(candidate); n++) candidate = `${base}-${n}`;
  return candidate;
}

/** rename(2) that counts "already done" (another process rolled the swap forward) as done. */
function renameOnce(from: string, to: string): void {
  try {
    fs.renameSync(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && !fs.existsSync(from) && fs.existsSync(to)) return;
    throw fsError(error, from, `rename to ${to}`);
  }
}

/** rename(2) into a --to target; false when another migration put a store there first (or already did this). */
function placeNew(staged: string, to: string): boolean {
  if (fs.existsSync(to)) return false;
  try {
    fs.renameSync(staged, to);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOTEMPTY' || code === 'EEXIST') return false;
    throw fsError(error, staged, `rename to ${to}`);
  }
}

/**
 * The swap recorded in `journal`, from wherever a kill left it. False when
 * the store was not put in place: a --to target that another migration
 * (from another source) filled meanwhile; the staged copy is dropped, as its
 * source was never touched.
 */
function swap(stagingDir: string, journal: Journal): boolean {
  const staged = path.join(stagingDir, JIT_DIR_NAME);
  let placed = true;
  if (fs.existsSync(staged)) {
    if (journal.backup !== null && fs.existsSync(journal.to) && !fs.existsSync(journal.backup)) renameOnce(journal.to, journal.backup);
    if (journal.backup === null) placed = placeNew(staged, journal.to);
    else renameOnce(staged, journal.to);
    fsyncDirectory(path.dirname(journal.to));
  }
  fs.rmSync(stagingDir, { recursive: true, force: true });
  return placed;
}

/**
 * A migration killed after its commit point left the new store in
 * `<projectDir>/.jit-migrate`: puts it in place (and the original aside).
 * True when there was one. Safe to run from several processes at once.
 */
export function finishInterruptedMigration(projectDir: string): boolean {
  const stagingDir = path.join(projectDir, STAGING_DIR);
  const text = readTextIfExists(path.join(stagingDir, JOURNAL_FILE));
  if (text === null) return false;
  let journal: Journal;
  try {
    journal = JSON.parse(text) as Journal;
  } catch {
    return false; // written by rename only, so never torn; someone else's file
  }
  swap(stagingDir, journal);
  return true;
}

// ------------------------------------------------------------------- main

/** A lock refused because the user may not write there (not because it is busy). */
function isCannotWrite(error: unknown): boolean {
  const errno = (error as JitError).details?.['errno'];
  return (error as JitError).code === 'PERMISSION_DENIED' || errno === 'EROFS' || errno === 'EACCES' || errno === 'EPERM';
}

/** True when `child` is `parent` or below it (both absolute). */
function isInside(child: string, parent: string): boolean {
  const relative = path.relative(parent, child);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

function targetJitDir(to: string): string {
  const resolved = path.resolve(to);
  return path.basename(resolved) === JIT_DIR_NAME ? resolved : path.join(resolved, JIT_DIR_NAME);
}

export async function migrateStore(options: MigrateOptions): Promise<MigrationReport> {
  const from = path.resolve(options.from);
  const to = options.to === undefined ? from : targetJitDir(options.to);
  const inPlace = to === from;
  const dryRun = options.dryRun === true;
  // Checked before anything is read or written (finishing an interrupted migration included).
  if (fs.statSync(from, { throwIfNoEntry: false })?.isDirectory() === false) {
    throw new JitError('INVALID_ARGUMENT', `${from} is a file, not a jit store: nothing to migrate.`, {
      suggestions: ['Point --from at the project folder (or the .jit folder) of the original jit.'],
      details: { field: 'from', path: from },
    });
  }
  if (!inPlace && isInside(to, from)) {
    throw new JitError('INVALID_ARGUMENT', `${to} is inside the store it migrates (${from}): the new store would be copied into itself by the next migration.`, {
      suggestions: ['Choose a --to folder outside the original .jit (for example beside the project), or migrate in place (without --to).'],
      details: { field: 'to', path: to },
    });
  }
  finishInterruptedMigration(path.dirname(from));
  if (!fs.existsSync(from)) {
    throw new JitError('NOT_INITIALIZED', `No jit store at ${from}: nothing to migrate.`, {
      suggestions: ['Point --from at the project folder (or the .jit folder) of the original jit.'],
      details: { path: from },
    });
  }
  const refuseExistingTarget = (): void => {
    if (inPlace || !fs.existsSync(to)) return;
    throw new JitError('ALREADY_EXISTS', `${to} already exists: jit migrate --to writes a new store only.`, {
      suggestions: ['Choose a folder without a .jit/, or migrate in place (without --to): the original is kept as a backup.'],
      details: { path: to },
    });
  };
  refuseExistingTarget();
  const base: Pick<MigrationReport, 'from' | 'to' | 'in_place' | 'dry_run'> = { from, to, in_place: inPlace, dry_run: dryRun };
  const mode = dryRun ? 'shared' : 'exclusive';
  // The original's locks and ours have the same names: neither jit writes while they are held.
  // Gates and events unranked: the new store's index is built (initJit) while they are held, and
  // its index lock (rank index) may not follow ranked ones. No writer of ours waits for a second
  // lock while holding one of these on an original store: each refuses it first (ORIGINAL_JIT_STORE).
  const lockSource = (lockMode: 'shared' | 'exclusive') =>
    fileLocker.lockAll([
      { path: path.join(from, '.index.lock'), mode: lockMode, rank: RANK.index },
      { path: path.join(from, '.gates.lock'), mode: lockMode },
      { path: path.join(from, '.events.lock'), mode: lockMode },
    ]);
  // Exclusive also serializes migrations of one source (they share the staging folder). --to only reads
  // the source: where the user may only read it (a checkout, a read-only disk), shared locks keep writers out.
  const held = await lockSource(mode).catch((error: unknown) => {
    if (inPlace || !isCannotWrite(error)) throw error;
    return lockSource('shared');
  });
  try {
    // Read under the locks: a migration that ran while we waited has left our format (or no store) here.
    const format = storeFormat(from);
    if (format !== 'original') {
      const why = format === 'ours' ? `${from} is already in this jit's format` : `${from} holds no index.json or gates.json`;
      if (format === 'none') {
        throw new JitError('NOT_INITIALIZED', `${why}: nothing to migrate.`, { suggestions: [hint`${run(command('init'))} to start a new store.`], details: { path: from } });
      }
      return { ...base, changed: false, backup: null, issues: 0, deleted_ids: 0, gates: 0, events: 0, gate_runs: 0, changes: [], kept: [], problems: [] };
    }
    // Again under the locks: a migration of the same source that ran while we waited may have written it.
    refuseExistingTarget();
    const planned = plan(from);
    const backup = inPlace ? backupPath(from) : null;
    const report: MigrationReport = { ...base, changed: true, backup, ...planned.report };
    if (dryRun) return report;
    const stagingDir = path.join(path.dirname(to), STAGING_DIR);
    if (!inPlace) fs.mkdirSync(path.dirname(to), { recursive: true });
    // No journal (finishInterruptedMigration found none): a killed attempt's leftovers, never data.
    fs.rmSync(stagingDir, { recursive: true, force: true });
    fs.mkdirSync(stagingDir);
    const journal: Journal = { from, to, backup };
    try {
      writeStore(from, path.join(stagingDir, JIT_DIR_NAME), planned);
      writeNew(path.join(stagingDir, `${JOURNAL_FILE}.tmp`), JSON.stringify(journal) + '\n');
      fs.renameSync(path.join(stagingDir, `${JOURNAL_FILE}.tmp`), path.join(stagingDir, JOURNAL_FILE));
      fsyncDirectory(stagingDir); // the commit point
    } catch (error) {
      // Before the commit point: the half-written store is no one's data.
      fs.rmSync(stagingDir, { recursive: true, force: true });
      throw error;
    }
    if (!swap(stagingDir, journal)) refuseExistingTarget();
    return report;
  } finally {
    held.release();
  }
}
