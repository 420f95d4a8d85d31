/**
 * Parsing and checking every file in `.jit/`. A file that fails is reported
 * as CORRUPT_FILE naming the file; nothing is ever rewritten from a guess.
 *
 * Issue and gate files are defined by zod schemas (buildSchemas, the
 * definition of record), but checked on the hot path by hand (checkedIssue,
 * checkedGates): loading zod cost every write command ~300 M instructions,
 * as much as the rest of its run (docs/benchmarks.md). The hand check only ever accepts what zod accepts, and returns
 * what zod would (its key order, its stripped keys); anything it does not
 * accept goes to zod, loaded then, which words the error, so messages are
 * zod's. schema.test.ts checks the two agree on generated files.
 * index.json is checked by hand too (summaryProblem below): it is read by
 * every list, status and ready query, and zod costs about 5 us per summary,
 * 50 ms for 10,000 issues. So are event lines: validate reads millions.
 */
import { command, hint, run } from './suggestions.js';
import type * as Zod from 'zod';
import { JitError } from './errors.js';
import { EVENT_TYPES, GATE_MODES, GATE_STAGES, PRIORITIES, STATES } from './model.js';
import { isOriginalGates, isOriginalIndex, originalStoreError } from './original.js';
import type { GateDefinition, GateStatusValue, Issue, JitEvent, Lease } from './model.js';
import type { IssueSummary } from './tracker-api.js';
import { activeLease } from './leases.js';

/** The format version of gates.json (and of index.json before issue 13) this jit writes and understands. */
export const SCHEMA_VERSION = 1;
/**
 * The format of index.json: 1 held every summary (read, then upgraded);
 * 2 is a manifest naming the summary cache index.db. An older jit refuses
 * a version-2 store (UNSUPPORTED_SCHEMA) instead of serving a stale index.
 */
export const INDEX_SCHEMA_VERSION = 2;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function buildSchemas() {
  // Loaded here, not at the top: commands that only read the index never pay for zod.
  const { z } = require('zod') as typeof Zod;
  const uuid = z.string().regex(UUID);
  const timestamp = z.string().min(1);
  const date = timestamp.refine((text) => !Number.isNaN(Date.parse(text)), 'Invalid date: expected an ISO 8601 time such as 2026-01-01T00:00:00.000Z');
  // Loose: fields a newer jit added survive a rewrite by this one.
  const issue = z.looseObject({
    id: uuid,
    title: z.string(),
    description: z.string(),
    state: z.enum(STATES),
    priority: z.enum(PRIORITIES),
    assignee: z.string().nullable(),
    dependencies: z.array(uuid),
    gates_required: z.array(z.string()),
    gates_status: z.record(
      z.string(),
      z.looseObject({ status: z.enum(['pending', 'passed', 'failed']), updated_by: z.string().nullable(), updated_at: timestamp }),
    ),
    labels: z.array(z.string()),
    context: z.record(z.string(), z.string()),
    created_at: timestamp,
    updated_at: timestamp,
    lease: z
      // expires_at is compared with the clock: text that is not a date would make the claim never lapse, silently.
      .object({ holder: z.string().min(1), acquired_at: timestamp, expires_at: date.nullable(), agent: z.string().min(1).nullable() })
      .optional(),
  });
  // Loose, and the checker fields optional: the original jit's entries (stage, mode, checker, priority, ...)
  // are read as they are, and a newer jit's fields survive a rewrite by this one.
  const checker = z.looseObject({
    type: z.literal('exec'),
    command: z.string().min(1),
    timeout_seconds: z.number().positive().optional(),
    working_dir: z.string().nullable().optional(),
    env: z.record(z.string(), z.string()).nullable().optional(),
    pass_context: z.boolean().optional(),
  });
  const gate = z.looseObject({
    key: z.string().min(1),
    title: z.string(),
    description: z.string().default(''),
    auto: z.boolean().default(false),
    stage: z.enum(GATE_STAGES).optional(),
    mode: z.enum(GATE_MODES).optional(),
    checker: checker.nullable().optional(),
  });
  const gates = z.looseObject({ schema_version: z.number().int(), gates: z.record(z.string(), gate) });
  return { issue, gates };
}

let schemas: ReturnType<typeof buildSchemas> | undefined;
/** The zod schemas of issue and gate files (loads zod): what the hand checks must agree with. */
export const zodSchemas = (): ReturnType<typeof buildSchemas> => (schemas ??= buildSchemas());

export interface GatesFile {
  schema_version: number;
  gates: Record<string, GateDefinition>;
}

function corrupt(path: string, why: string, cause?: unknown): JitError {
  return new JitError('CORRUPT_FILE', `Corrupt file ${path}: ${why}.`, {
    suggestions: path.endsWith('index.json')
      ? [hint`${run(command('validate', { fix: true }))} to rebuild the index from the issue files.`]
      : [hint`Restore the file from version control or a backup; ${command('validate')} lists every problem.`],
    details: { path },
    cause,
  });
}

function parseJson(text: string, path: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw corrupt(path, text.length === 0 ? 'the file is empty' : `not valid JSON (${(error as Error).message})`, error);
  }
}

function describeIssues(error: Zod.ZodError): string {
  const first = error.issues[0];
  return first ? `${first.path.join('.') || '(top level)'}: ${first.message}` : 'schema mismatch';
}

function checkVersion(data: unknown, path: string, newest = SCHEMA_VERSION): number {
  const version = isRecord(data) ? data['schema_version'] : undefined;
  if (typeof version !== 'number' || !Number.isInteger(version)) throw corrupt(path, 'schema_version is missing or not an integer');
  if (version > newest || version < 1) {
    throw new JitError('UNSUPPORTED_SCHEMA', `${path} has schema_version ${version}; this jit understands version ${newest === 1 ? '1' : `1 to ${newest}`}.`, {
      suggestions: ['Upgrade jit-tracker to a version that knows this format.'],
      details: { path, schema_version: version },
    });
  }
  return version;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const STATE_NAMES = new Set<unknown>(STATES);
const PRIORITY_NAMES = new Set<unknown>(PRIORITIES);

// The index checks below run once per issue on every cold read (10,000 times
// for a big store, on the path of `jit status`): plain loops, no closures or
// temporary arrays.
function isStringArray(value: unknown): value is string[] {
  if (!Array.isArray(value)) return false;
  for (let i = 0; i < value.length; i++) if (typeof value[i] !== 'string') return false;
  return true;
}

/** Every entry a UUID: a dependency id names a file (issues/<id>.json), so junk here must be CORRUPT_FILE, not a crash later. */
function isIdArray(value: unknown): value is string[] {
  if (!Array.isArray(value)) return false;
  for (let i = 0; i < value.length; i++) if (typeof value[i] !== 'string' || !UUID.test(value[i])) return false;
  return true;
}

const isTimestamp = (value: unknown): boolean => typeof value === 'string' && value !== '';
/** A timestamp the clock is compared with (a lease's end): it must parse, as zod's `date` checks. */
const isDate = (value: unknown): boolean => isTimestamp(value) && !Number.isNaN(Date.parse(value as string));

/** What is wrong with one index entry, or null. Mirrors `summarize` below. */
function summaryProblem(key: string, value: unknown): string | null {
  if (!isRecord(value)) return 'not an object';
  if (value['id'] !== key || !UUID.test(key)) return 'its id is not a UUID equal to its key';
  if (typeof value['title'] !== 'string') return 'title is not a string';
  if (!STATE_NAMES.has(value['state'])) return `unknown state ${JSON.stringify(value['state'])}`;
  if (!PRIORITY_NAMES.has(value['priority'])) return `unknown priority ${JSON.stringify(value['priority'])}`;
  if (value['assignee'] !== null && typeof value['assignee'] !== 'string') return 'assignee is not a string or null';
  if (!isStringArray(value['labels'])) return 'labels is not a list of strings';
  // Checked again before any of them names a file (JsonFileStorage.checkId).
  if (!isIdArray(value['dependencies'])) return 'dependencies is not a list of issue ids (UUIDs)';
  if (!isTimestamp(value['created_at'])) return 'created_at is missing';
  if (!isTimestamp(value['updated_at'])) return 'updated_at is missing';
  const expires = value['lease_expires_at'];
  if (expires !== undefined && expires !== null && !isDate(expires)) return 'lease_expires_at is not a date or null';
  const agent = value['lease_agent'];
  if (agent !== undefined && agent !== null && typeof agent !== 'string') return 'lease_agent is not a string or null';
  return null;
}

function parseWith<T>(schema: Zod.ZodType<T>, data: unknown, path: string): T {
  const result = schema.safeParse(data);
  if (!result.success) throw corrupt(path, describeIssues(result.error), result.error);
  return result.data;
}

// The hand checks below mirror buildSchemas field by field. They return
// undefined rather than explain: zod then decides and words the error. A key
// __proto__ (JSON.parse makes it an own property) also goes to zod, so that
// whatever zod makes of it stays the one behaviour.

const ISSUE_KEYS = ['id', 'title', 'description', 'state', 'priority', 'assignee', 'dependencies', 'gates_required', 'gates_status', 'labels', 'context', 'created_at', 'updated_at'] as const;
/** Optional schema keys, after ISSUE_KEYS in the schema's order. */
const ISSUE_KEY_SET = new Set<string>([...ISSUE_KEYS, 'lease']);
const GATE_STATUS_NAMES = new Set<unknown>(['pending', 'passed', 'failed']);

const hasProtoKey = (value: Record<string, unknown>): boolean => Object.prototype.hasOwnProperty.call(value, '__proto__');

/**
 * `known` followed by the keys of `data` it lacks, in file order: what a zod
 * looseObject returns, so that fields of the original jit (or of a newer
 * one) survive this jit's rewrites.
 */
function withUnknownKeys<T extends object>(known: T, data: Record<string, unknown>): T {
  const copy = { ...known } as Record<string, unknown>;
  for (const key in data) if (!(key in known)) copy[key] = data[key];
  return copy as unknown as T;
}

/** z.record(z.string(), z.string()), copied as zod copies it. */
function checkedStringRecord(value: unknown): Record<string, string> | undefined {
  if (!isRecord(value) || hasProtoKey(value)) return undefined;
  const copy: Record<string, string> = {};
  for (const key in value) {
    const entry = value[key];
    if (typeof entry !== 'string') return undefined;
    copy[key] = entry;
  }
  return copy;
}

/** The gates_status record, each entry loose like the zod schema's. */
function checkedGatesStatus(value: unknown): Issue['gates_status'] | undefined {
  if (!isRecord(value) || hasProtoKey(value)) return undefined;
  const copy: Issue['gates_status'] = {};
  for (const key in value) {
    const entry = value[key];
    if (!isRecord(entry) || hasProtoKey(entry) || !GATE_STATUS_NAMES.has(entry['status'])) return undefined;
    const updatedBy = entry['updated_by'];
    if ((updatedBy !== null && typeof updatedBy !== 'string') || !isTimestamp(entry['updated_at'])) return undefined;
    copy[key] = withUnknownKeys({ status: entry['status'] as GateStatusValue, updated_by: updatedBy, updated_at: entry['updated_at'] as string }, entry);
  }
  return copy;
}

/** A claim's lease (zod's lease object: its four keys, in order), or undefined. */
function checkedLease(value: unknown): Lease | undefined {
  if (!isRecord(value)) return undefined;
  const { holder, acquired_at: acquiredAt, expires_at: expiresAt, agent } = value;
  if (typeof holder !== 'string' || holder === '' || !isTimestamp(acquiredAt)) return undefined;
  if ((expiresAt !== null && !isDate(expiresAt)) || (agent !== null && (typeof agent !== 'string' || agent === ''))) return undefined;
  return { holder, acquired_at: acquiredAt as string, expires_at: expiresAt as string | null, agent: agent as string | null };
}

/** An issue file's data as zod's issue schema returns it (schema keys first, then unknown ones in file order), or undefined. */
export function checkedIssue(data: unknown): Issue | undefined {
  if (!isRecord(data) || hasProtoKey(data)) return undefined;
  const id = data['id'];
  if (typeof id !== 'string' || !UUID.test(id)) return undefined;
  if (typeof data['title'] !== 'string' || typeof data['description'] !== 'string') return undefined;
  if (!STATE_NAMES.has(data['state']) || !PRIORITY_NAMES.has(data['priority'])) return undefined;
  if (data['assignee'] !== null && typeof data['assignee'] !== 'string') return undefined;
  if (!isIdArray(data['dependencies']) || !isStringArray(data['gates_required']) || !isStringArray(data['labels'])) return undefined;
  if (!isTimestamp(data['created_at']) || !isTimestamp(data['updated_at'])) return undefined;
  const gatesStatus = checkedGatesStatus(data['gates_status']);
  const context = checkedStringRecord(data['context']);
  if (!gatesStatus || !context) return undefined;
  const lease = data['lease'] === undefined ? undefined : checkedLease(data['lease']);
  if (data['lease'] !== undefined && !lease) return undefined;
  const issue: Record<string, unknown> = {};
  for (const key of ISSUE_KEYS) issue[key] = data[key];
  issue['dependencies'] = [...(data['dependencies'] as string[])];
  issue['gates_required'] = [...(data['gates_required'] as string[])];
  issue['labels'] = [...(data['labels'] as string[])];
  issue['gates_status'] = gatesStatus;
  issue['context'] = context;
  if (lease) issue['lease'] = lease;
  for (const key in data) if (!ISSUE_KEY_SET.has(key)) issue[key] = data[key]; // loose: a newer jit's fields survive
  return issue as unknown as Issue;
}

const GATE_STAGE_NAMES = new Set<unknown>(GATE_STAGES);
const GATE_MODE_NAMES = new Set<unknown>(GATE_MODES);

function checkedChecker(value: unknown): Record<string, unknown> | null | undefined {
  if (value === null) return null;
  if (!isRecord(value) || hasProtoKey(value) || value['type'] !== 'exec') return undefined;
  const { command, timeout_seconds: timeout, working_dir: dir, env, pass_context: passContext } = value;
  if (typeof command !== 'string' || command === '') return undefined;
  if (timeout !== undefined && (typeof timeout !== 'number' || !(timeout > 0))) return undefined;
  if (dir !== undefined && dir !== null && typeof dir !== 'string') return undefined;
  if (passContext !== undefined && typeof passContext !== 'boolean') return undefined;
  if (env !== undefined && env !== null && (!isRecord(env) || hasProtoKey(env) || Object.values(env).some((v) => typeof v !== 'string'))) return undefined;
  const copy: Record<string, unknown> = { type: 'exec', command };
  if ('timeout_seconds' in value) copy['timeout_seconds'] = timeout;
  if ('working_dir' in value) copy['working_dir'] = dir;
  if ('env' in value) copy['env'] = env === null || env === undefined ? env : { ...env };
  if ('pass_context' in value) copy['pass_context'] = passContext;
  return withUnknownKeys(copy, value);
}

function checkedGate(gate: unknown): GateDefinition | undefined {
  if (!isRecord(gate) || hasProtoKey(gate) || typeof gate['key'] !== 'string' || gate['key'] === '' || typeof gate['title'] !== 'string') return undefined;
  const { description = '', auto = false, stage, mode, checker } = gate;
  if (typeof description !== 'string' || typeof auto !== 'boolean') return undefined;
  if ((stage !== undefined && !GATE_STAGE_NAMES.has(stage)) || (mode !== undefined && !GATE_MODE_NAMES.has(mode))) return undefined;
  const copy: Record<string, unknown> = { key: gate['key'], title: gate['title'], description, auto };
  if ('stage' in gate) copy['stage'] = stage;
  if ('mode' in gate) copy['mode'] = mode;
  if ('checker' in gate) {
    const checked = checkedChecker(checker);
    if (checked === undefined) return undefined;
    copy['checker'] = checked;
  }
  return withUnknownKeys(copy, gate) as unknown as GateDefinition;
}

/** gates.json as zod's loose gates schema returns it (known keys in the schema's order with its defaults, then unknown ones as they came), or undefined. */
export function checkedGates(data: unknown): GatesFile | undefined {
  if (!isRecord(data) || hasProtoKey(data) || !Number.isSafeInteger(data['schema_version'])) return undefined;
  const gates = data['gates'];
  if (!isRecord(gates) || hasProtoKey(gates)) return undefined;
  const copy: Record<string, GateDefinition> = {};
  for (const name in gates) {
    const gate = checkedGate(gates[name]);
    if (gate === undefined) return undefined;
    copy[name] = gate;
  }
  return withUnknownKeys({ schema_version: data['schema_version'] as number, gates: copy }, data);
}

export function parseIssue(text: string, path: string, expectedId?: string): Issue {
  const data = parseJson(text, path);
  const issue = checkedIssue(data) ?? (parseWith(zodSchemas().issue, data, path) as Issue);
  if (expectedId !== undefined && issue.id !== expectedId) throw corrupt(path, `it holds issue ${issue.id}, not ${expectedId}`);
  return issue;
}

/** How every index.json jit writes begins (JsonFileStorage.writeIndex, initJit). */
const INDEX_HEADER = '{"schema_version":';

/**
 * Whether a damaged index.json is jit's own, which validate --fix may rebuild
 * from the issue files: empty, begun as jit begins it, or still shaped like
 * an index. Anything else (another tool's JSON, a CSV) is somebody's data.
 */
function isOwnIndex(text: string, data: unknown): boolean {
  return text.trim() === '' || text.startsWith(INDEX_HEADER) || (isRecord(data) && 'schema_version' in data && (isRecord(data['issues']) || 'index' in data));
}

/** CORRUPT_FILE for an index.json jit did not write: never replaced, so the remedy is to move it away. */
function foreignIndex(path: string, why: string, cause?: unknown): JitError {
  return new JitError('CORRUPT_FILE', `${path} is not an index jit wrote (${why}), so jit will not replace it.`, {
    suggestions: [
      hint`If the file is yours, move it out of .jit/; otherwise move it aside (\`mv ${path} ${path}.bak\`). Then ${command('validate', { fix: true })} rebuilds the index from the issue files.`,
    ],
    // validate --fix reads this: false means "not jit's, do not replace".
    details: { path, written_by_jit: false },
    cause,
  });
}

/** index.json: the manifest of format 2, or a format-1 index with its summaries (read-only callers use them; the upgrade rebuilds). */
export type IndexManifest = { version: 2 } | { version: 1; summaries: Map<string, IssueSummary> };

export function parseManifest(text: string, path: string): IndexManifest {
  let data: unknown;
  try {
    data = parseJson(text, path);
    if (isOriginalIndex(data)) throw originalStoreError(path);
    if (checkVersion(data, path, INDEX_SCHEMA_VERSION) === 1) return { version: 1, summaries: parseIndex(text, path) };
    const index = (data as Record<string, unknown>)['index'];
    if (index !== 'index.db') throw corrupt(path, `index is ${JSON.stringify(index)}, not "index.db"`);
    return { version: 2 };
  } catch (error) {
    if (error instanceof JitError && error.code === 'CORRUPT_FILE' && !isOwnIndex(text, data)) {
      throw foreignIndex(path, error.message.replace(/^Corrupt file .*?: /, '').replace(/\.$/, ''), error);
    }
    throw error;
  }
}

/** index.json of format 1 as a map of read-only summaries (shared with callers, so frozen). */
export function parseIndex(text: string, path: string): Map<string, IssueSummary> {
  let data: unknown;
  try {
    data = parseJson(text, path);
    if (isOriginalIndex(data)) throw originalStoreError(path);
    checkVersion(data, path);
    const issues = (data as Record<string, unknown>)['issues'];
    if (!isRecord(issues)) throw corrupt(path, 'issues is not an object');
    const summaries = new Map<string, IssueSummary>();
    for (const id in issues) {
      const summary = issues[id];
      const problem = summaryProblem(id, summary);
      if (problem) throw corrupt(path, `entry ${id}: ${problem}`);
      summaries.set(id, freezeSummary(summary as IssueSummary));
    }
    return summaries;
  } catch (error) {
    if (error instanceof JitError && error.code === 'CORRUPT_FILE' && !isOwnIndex(text, data)) {
      throw foreignIndex(path, error.message.replace(/^Corrupt file .*?: /, '').replace(/\.$/, ''), error);
    }
    throw error;
  }
}

export function freezeSummary(summary: IssueSummary): IssueSummary {
  Object.freeze(summary.labels);
  Object.freeze(summary.dependencies);
  return Object.freeze(summary);
}

export function parseGates(text: string, path: string): GatesFile {
  const data = parseJson(text, path);
  if (isOriginalGates(data)) throw originalStoreError(path);
  checkVersion(data, path);
  const gates = checkedGates(data) ?? (parseWith(zodSchemas().gates, data, path) as GatesFile);
  for (const [key, def] of Object.entries(gates.gates)) {
    if (def.key !== key) throw corrupt(path, `entry ${key} holds gate ${def.key}`);
  }
  return gates;
}

const EVENT_TYPE_NAMES = new Set<unknown>(EVENT_TYPES);

/** One line of events.jsonl, or null when the line is not a valid event. Other fields are kept as they are. */
export function parseEventLine(line: string): JitEvent | null {
  let data: unknown;
  try {
    data = JSON.parse(line);
  } catch {
    return null;
  }
  if (!isRecord(data) || !EVENT_TYPE_NAMES.has(data['type']) || typeof data['id'] !== 'string') return null;
  if ((data['issue_id'] !== null && typeof data['issue_id'] !== 'string') || !isTimestamp(data['timestamp'])) return null;
  return data as unknown as JitEvent;
}

export function summarize(issue: Issue): IssueSummary {
  return {
    id: issue.id,
    title: issue.title,
    state: issue.state,
    priority: issue.priority,
    assignee: issue.assignee,
    labels: [...issue.labels],
    dependencies: [...issue.dependencies],
    created_at: issue.created_at,
    updated_at: issue.updated_at,
    // Only for a claim whose lease can end: readers find lapsed claims in the index, without opening files.
    ...leaseFields(activeLease(issue)),
  };
}

function leaseFields(lease: Lease | undefined): Pick<IssueSummary, 'lease_expires_at' | 'lease_agent'> {
  return lease && (lease.expires_at !== null || lease.agent !== null) ? { lease_expires_at: lease.expires_at, lease_agent: lease.agent } : {};
}
