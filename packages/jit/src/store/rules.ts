/**
 * Input normalisation and the pure parts of the domain rules: which states
 * and priorities exist, what counts as ready, blocked, a cycle. No I/O here.
 */
import { JitError } from './errors.js';
import { PRIORITIES, STATES, TERMINAL_STATES } from './model.js';
import type { Issue, Priority, State } from './model.js';
import type { IssueSummary } from './tracker-api.js';

const STATE_ALIASES: Record<string, State> = {
  open: 'backlog',
  'in-progress': 'in_progress',
  inprogress: 'in_progress',
};

export function parseState(input: unknown): State {
  const text = typeof input === 'string' ? input.trim().toLowerCase() : '';
  const state = STATE_ALIASES[text] ?? (STATES as readonly string[]).find((s) => s === text);
  if (!state) {
    throw new JitError('INVALID_ARGUMENT', `Unknown state ${preview(input)}.`, {
      suggestions: [`Use one of: ${STATES.join(', ')} (also open, in-progress, inprogress).`],
      details: { field: 'state', choices: [...STATES] },
    });
  }
  return state as State;
}

export function parsePriority(input: unknown): Priority {
  const text = typeof input === 'string' ? input.trim().toLowerCase() : '';
  const priority = (PRIORITIES as readonly string[]).find((p) => p === text);
  if (!priority) {
    throw new JitError('INVALID_ARGUMENT', `Unknown priority ${preview(input)}.`, {
      suggestions: [`Use one of: ${PRIORITIES.join(', ')}.`],
      details: { field: 'priority', choices: [...PRIORITIES] },
    });
  }
  return priority as Priority;
}

/** A bad value as it appears in a message: quoted, and cut short so a 100 KB paste stays readable. */
export function preview(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function invalid(field: string, value: unknown, rule: string): JitError {
  return new JitError('INVALID_ARGUMENT', `Invalid ${field} ${preview(value)}: ${rule}.`, { details: { field } });
}

// Control characters are refused everywhere: they break terminals and line-based output.
// So is half a surrogate pair (from JSON's "\ud800"): it is not Unicode, and strict JSON
// parsers (jq, serde) reject every document that holds it, e.g. every later issue list.
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const TOKEN = /^[^\s\u0000-\u001f\u007f]{1,200}$/;

const LABEL_NAMESPACE = '[A-Za-z0-9][A-Za-z0-9_.-]*';
const NEW_LABEL = new RegExp(`^${LABEL_NAMESPACE}:[^,*]+$`);
const NAMESPACE_PATTERN = new RegExp(`^(${LABEL_NAMESPACE}):\\*$`);

/**
 * A label to add: `namespace:value`, as the original jit requires, so labels
 * group (`type:bug`, `area:auth`). No `,` (it separates labels in a list,
 * see splitLabels) and no `*` (`namespace:*` is a filter). Removing and
 * filtering accept any token, so labels written by hand or by older tools
 * can still be cleaned up.
 */
export function checkLabel(input: unknown): string {
  const label = checkToken('label', input);
  if (!NEW_LABEL.test(label)) throw invalid('label', input, 'use namespace:value, e.g. type:bug (a value holds no , or *)');
  return label;
}

/**
 * Label lists as the original jit takes them: an entry may name several
 * labels separated by commas (`type:task,epic:auth`), spaces around them
 * ignored. An entry with no label at all is kept, for the checks to refuse.
 */
export function splitLabels(entries: readonly unknown[]): unknown[] {
  return entries.flatMap((entry) => {
    if (typeof entry !== 'string') return [entry];
    const labels = entry.split(',').map((label) => label.trim()).filter((label) => label !== '');
    return labels.length > 0 ? labels : [entry];
  });
}

/**
 * A label filter: one label, or `namespace:*` for any label of that
 * namespace. Any other pattern, or several labels, is refused: a filter that
 * can never match would silently answer "nothing".
 */
export function checkLabelFilter(input: unknown): string {
  const filter = checkToken('label', input);
  if (!NAMESPACE_PATTERN.test(filter) && (filter.includes('*') || filter.includes(','))) {
    throw invalid('label filter', input, 'filter by one label (namespace:value) or by a whole namespace (namespace:*)');
  }
  return filter;
}

/**
 * A label namespace as `label values` takes it (`type`, `type:` or `type:*`):
 * the bare namespace. Any that `label namespaces` can list, those of labels
 * written by hand (área, "a b") included: a look-up, not a new label.
 */
export function checkLabelNamespace(input: unknown): string {
  const name = typeof input === 'string' ? input.trim().replace(/:\*?$/, '') : '';
  if (name === '' || name.length > 200 || /[:\t\n\r]/.test(name) || CONTROL.test(name)) {
    throw new JitError('INVALID_ARGUMENT', `Invalid label namespace ${preview(input)}: use the part before the colon, e.g. type or epic.`, { details: { field: 'namespace' } });
  }
  return name;
}

/** The test a label filter (checkLabelFilter) stands for. */
export function labelMatcher(input: unknown): (labels: readonly string[]) => boolean {
  const filter = checkLabelFilter(input);
  const namespace = NAMESPACE_PATTERN.exec(filter);
  if (namespace) {
    const prefix = `${namespace[1]}:`;
    return (labels) => labels.some((label) => label.startsWith(prefix));
  }
  return (labels) => labels.includes(filter);
}

export function checkTitle(input: unknown): string {
  const title = typeof input === 'string' ? input.trim() : '';
  if (title.length === 0 || title.length > 500 || CONTROL.test(title) || title.includes('\n')) {
    throw invalid('title', input, 'a title is 1-500 characters on one line');
  }
  return title;
}

export function checkDescription(input: unknown): string {
  if (typeof input !== 'string' || input.length > 100_000 || CONTROL.test(input)) {
    throw invalid('description', input, 'up to 100,000 characters of text');
  }
  return input;
}

/** Why a claim was given back: it goes into the event log, which every reader parses. */
export function checkReason(input: unknown): string {
  const reason = typeof input === 'string' ? input.trim() : '';
  if (reason.length === 0 || reason.length > 1000 || CONTROL.test(reason)) {
    throw invalid('reason', input, 'a reason is 1-1000 characters of text');
  }
  return reason;
}

/** Labels (`namespace:value`), assignees (`kind:name`) and `by` names: one word, no spaces. */
export function checkToken(field: string, input: unknown): string {
  const text = typeof input === 'string' ? input.trim() : '';
  const example = field === 'label' ? 'type:bug' : 'agent:worker-1';
  if (!TOKEN.test(text) || CONTROL.test(text)) throw invalid(field, input, `use 1-200 characters without spaces, e.g. ${example}`);
  return text;
}

const KIND_NAME = new RegExp(`^${LABEL_NAMESPACE}:\\S+$`);

/**
 * Who does or checked the work (`assignee`, `by`), in every operation and
 * filter: `kind:name` (`agent:worker-1`, `human:alice`), so the same agent is
 * always spelled the same way and "bob" is never silently a second person.
 */
export function checkAssignee(field: 'assignee' | 'by', input: unknown): string {
  const who = checkToken(field, input);
  if (!KIND_NAME.test(who)) throw invalid(field, input, 'use kind:name, e.g. agent:worker-1 or human:alice');
  return who;
}

export function checkGateKey(input: unknown): string {
  const text = typeof input === 'string' ? input.trim() : '';
  if (!/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/.test(text)) {
    throw invalid('gate key', input, 'use 1-64 letters, digits, _ . : - (starting with a letter or digit)');
  }
  return text;
}

/**
 * Names of JavaScript's object machinery. As keys they are dropped or rewire
 * the object they land in (`{"__proto__": ...}` sets a prototype), so a
 * caller's data silently changes on its way in: refused wherever a caller
 * names keys (context keys, MCP arguments), in every face.
 */
export const RESERVED_KEYS: readonly string[] = ['__proto__', 'constructor', 'prototype'];

export function isReservedKey(key: string): boolean {
  return RESERVED_KEYS.includes(key);
}

export function checkContext(input: unknown): Record<string, string> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw invalid('context', input, 'expected key=value pairs');
  const context: Record<string, string> = {};
  for (const [key, value] of Object.entries(input)) {
    if (isReservedKey(key)) throw invalid('context key', key, `${RESERVED_KEYS.join(', ')} are reserved names`);
    if (!/^[^\s=\u0000-\u001f]{1,100}$/.test(key) || CONTROL.test(key)) throw invalid('context key', key, 'use 1-100 characters without spaces or =');
    if (typeof value !== 'string' || value.length > 10_000 || CONTROL.test(value)) throw invalid('context value', value, 'up to 10,000 characters of text');
    context[key] = value;
  }
  return context;
}

export const isTerminal = (state: State): boolean => TERMINAL_STATES.includes(state);

/** Most urgent first: the order of byUrgency (and of index.db's priority_rank column). */
export const PRIORITY_RANK: Readonly<Record<Priority, number>> = { critical: 0, high: 1, normal: 2, low: 3 };

/** Code-unit order: RFC 3339 timestamps and ids sort correctly, and much faster than localeCompare. */
const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Order of ready work: highest priority first, then oldest, then id (stable). */
export function byUrgency(a: IssueSummary, b: IssueSummary): number {
  return PRIORITY_RANK[a.priority] - PRIORITY_RANK[b.priority] || byAge(a, b);
}

export function byAge(a: IssueSummary, b: IssueSummary): number {
  return compareText(a.created_at, b.created_at) || compareText(a.id, b.id);
}

/**
 * Dependencies that still block `issue`. A dependency whose issue no longer
 * exists (deleted) does not block; `jit validate` reports it as dangling.
 */
export function unfinishedDependencies(issue: { dependencies: readonly string[] }, stateOf: (id: string) => State | undefined): string[] {
  return issue.dependencies.filter((dep) => {
    const state = stateOf(dep);
    return state !== undefined && !isTerminal(state);
  });
}

/** The state an automatically managed issue (backlog/ready) should be in. */
export function automaticState(issue: Pick<Issue, 'state' | 'assignee'>, dependenciesDone: boolean): State {
  if (issue.state === 'backlog' && dependenciesDone) return 'ready';
  if (issue.state === 'ready' && !dependenciesDone) return 'backlog';
  return issue.state;
}

/**
 * For validate: the backlog/ready move an issue missed (a process died
 * between finishing a dependency and moving its dependents), or null. A
 * `ready` issue with unfinished dependencies is always wrong. A `backlog`
 * issue whose dependencies are all finished missed its move when one of them
 * finished after the issue entered backlog (`enteredBacklogAt`) and after the
 * edge to it was added (`addedAt`, when known): the running system would have
 * promoted it then. One put in backlog after they had all finished, or given
 * an edge to work already finished, was parked on purpose. Later edits of the
 * issue (a label, a gate pass) do not matter.
 */
export function missedAutomaticMove(
  issue: Pick<Issue, 'state' | 'dependencies'> & { enteredBacklogAt: string },
  dependency: (id: string) => { state: State; finishedAt: string; addedAt?: string } | undefined,
): State | null {
  const dependencies = issue.dependencies.map(dependency).filter((d) => d !== undefined);
  const finished = dependencies.every((d) => isTerminal(d.state));
  if (issue.state === 'ready' && !finished) return 'backlog';
  const missedBy = (d: { finishedAt: string; addedAt?: string }) => d.finishedAt > issue.enteredBacklogAt && (d.addedAt === undefined || d.finishedAt > d.addedAt);
  if (issue.state === 'backlog' && finished && dependencies.some(missedBy)) return 'ready';
  return null;
}

export function pendingGates(issue: Pick<Issue, 'gates_required' | 'gates_status'>): string[] {
  return issue.gates_required.filter((key) => issue.gates_status[key]?.status !== 'passed');
}

/**
 * A path `start -> ... -> target` along dependency edges, or null. Adding the
 * edge `target -> start` would close exactly this cycle.
 */
export function findPath(start: string, target: string, dependenciesOf: (id: string) => readonly string[]): string[] | null {
  const cameFrom = new Map<string, string | null>([[start, null]]);
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    const current = queue[i]!;
    if (current === target) {
      const path: string[] = [];
      for (let node: string | null = current; node !== null; node = cameFrom.get(node) ?? null) path.push(node);
      return path.reverse();
    }
    for (const next of dependenciesOf(current)) {
      if (!cameFrom.has(next)) {
        cameFrom.set(next, current);
        queue.push(next);
      }
    }
  }
  return null;
}

/**
 * Every cycle-closing edge found by one depth-first pass (for validate).
 * Iterative, with its own stack: a dependency chain 100,000 issues deep
 * would overflow the call stack of a recursive walk.
 */
export function findCycles(ids: Iterable<string>, dependenciesOf: (id: string) => readonly string[]): string[][] {
  const done = new Set<string>();
  /** The issues on the current path, each with its place in `path`. */
  const onPath = new Map<string, number>();
  const path: string[] = [];
  const frames: { dependencies: readonly string[]; next: number }[] = [];
  const cycles: string[][] = [];
  const enter = (id: string): void => {
    onPath.set(id, path.length);
    path.push(id);
    frames.push({ dependencies: dependenciesOf(id), next: 0 });
  };
  for (const start of ids) {
    if (done.has(start) || onPath.has(start)) continue;
    enter(start);
    while (frames.length > 0) {
      const frame = frames[frames.length - 1]!;
      if (frame.next < frame.dependencies.length) {
        const dep = frame.dependencies[frame.next++]!;
        const at = onPath.get(dep);
        if (at !== undefined) cycles.push([...path.slice(at), dep]);
        else if (!done.has(dep)) enter(dep);
        continue;
      }
      frames.pop();
      const id = path.pop()!;
      onPath.delete(id);
      done.add(id);
    }
  }
  return cycles;
}

/** A cycle for a message: whole when short, its ends around a count when long (the details carry it whole). */
export function describeCycle(cycle: readonly string[], name: (id: string) => string): string {
  const shown = cycle.length <= 13 ? cycle.map(name) : [...cycle.slice(0, 6).map(name), '...', ...cycle.slice(-6).map(name)];
  return shown.join(' -> ') + (cycle.length > 13 ? ` (${cycle.length - 1} issues)` : '');
}

// Input checks shared by the operations (TrackerApi arguments come from both faces, and from library callers unchecked).

export function checkInput(input: unknown): void {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new JitError('INVALID_ARGUMENT', `Invalid input ${preview(input)}: expected an object of fields.`, { details: { field: 'input' } });
  }
}

export function checkList(field: string, value: unknown): unknown[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.length > 1000) {
    throw new JitError('INVALID_ARGUMENT', `Invalid ${field} ${preview(value)}: expected a list (up to 1000 entries).`, { details: { field } });
  }
  return value;
}

export function checkBoolean(field: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new JitError('INVALID_ARGUMENT', `Invalid ${field} ${preview(value)}: expected true or false.`, { details: { field } });
  return value;
}

/** The largest count (a limit, a number of events) an operation takes. */
export const COUNT_MAX = 1_000_000;

export function checkCount(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > COUNT_MAX) {
    throw new JitError('INVALID_ARGUMENT', `Invalid ${field} ${preview(value)}: expected a whole number from 0 to ${COUNT_MAX}.`, { details: { field } });
  }
  return value;
}
