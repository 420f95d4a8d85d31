/**
 * The JSON API under /api/: each answer has the shape of the matching CLI
 * command's --json output (docs/web.md lists them), computed by the same
 * TrackerApi calls, so scripts can use either. Everything is read-only except
 * the supervisor's actions: pass/fail a gate, release a claim, change the
 * priority, reject an issue.
 */
import { flattenBlocked, JitError, PRIORITIES, type Issue, type IssueFilter, type IssueSummary, type JitErrorCode, type TrackerApi } from '../store/core.js';

/** Every JitErrorCode has an HTTP status; the `Record` makes a new code a compile error until it is mapped here. */
export const HTTP_STATUS_BY_ERROR: Record<JitErrorCode, number> = {
  INVALID_ARGUMENT: 400,
  INVALID_ID: 400,
  AMBIGUOUS_ID: 400,
  INVALID_ENV: 400,
  NOT_INITIALIZED: 404,
  ISSUE_NOT_FOUND: 404,
  GATE_NOT_FOUND: 404,
  DEPENDENCY_NOT_FOUND: 404,
  NO_READY_ISSUE: 404,
  CYCLE: 422,
  HIERARCHY_VIOLATION: 422,
  GATES_PENDING: 422,
  GATE_IN_USE: 422,
  INVALID_TRANSITION: 422,
  PERMISSION_DENIED: 403,
  // Refused until a person trusts the command on this machine.
  GATE_UNTRUSTED: 403,
  ALREADY_EXISTS: 409,
  ALREADY_CLAIMED: 409,
  NOT_LEASE_HOLDER: 409,
  AGENT_ALREADY_RUNNING: 409,
  CORRUPT_FILE: 500,
  UNSUPPORTED_SCHEMA: 500,
  ORIGINAL_JIT_STORE: 500,
  IO_ERROR: 500,
  UNSAFE_PATH: 500,
  LOCK_TIMEOUT: 503,
  INVALID_DATABASE_URL: 500,
  DATABASE_UNREACHABLE: 503,
  DATABASE_AUTH_FAILED: 500,
  DATABASE_NOT_FOUND: 500,
  DATABASE_ERROR: 500,
  RESULT_TOO_LARGE: 413, // MCP only today; Payload Too Large should the web view ever raise it
  INTERNAL: 500,
};

/** Issue files read at once to fill the board's gate badges. */
const GATE_READERS = 16;

/** How many events GET /api/events returns unless asked (the most recent). */
export const DEFAULT_EVENT_LIMIT = 200;
const MAX_EVENT_LIMIT = 10_000;

export type Query = URLSearchParams;
export type Body = Record<string, unknown>;

/**
 * An issue summary with its gates, for the board's badges (fields added to the list shape, none renamed);
 * `gates_error` when the issue's file cannot be read (the board still shows the issue; its page shows the whole error).
 */
export type BoardIssue = IssueSummary & Pick<Issue, 'gates_required' | 'gates_status'> & { gates_error?: { code: string; message: string } };

interface Route {
  method: 'GET' | 'POST';
  pattern: RegExp;
  handle(api: ApiContext, params: string[], query: Query, body: Body): Promise<unknown>;
}

export interface ApiContext {
  tracker: TrackerApi;
  /** Who the supervisor's actions are recorded as (`--as`, kind:name). */
  actor: string;
  gateCache: GateCache;
}

/**
 * Gates are not in the index, so the board reads them from the issue files;
 * an issue is read again only when its `updated_at` moved, so a change costs
 * one file read, not one per issue.
 */
export class GateCache {
  private readonly cache = new Map<string, { updatedAt: string; gates: Pick<Issue, 'gates_required' | 'gates_status'> }>();
  private warming: Promise<unknown> | undefined;

  /**
   * Reads every issue's gates once in the background (`jit serve` calls it at start), so the first page load does
   * not wait for a thousand file reads. A failure is left for the first request to meet and report.
   */
  warm(tracker: TrackerApi): void {
    this.warming = tracker
      .listIssues({})
      .then((summaries) => this.fill(tracker, summaries))
      .catch(() => undefined)
      .finally(() => (this.warming = undefined));
  }

  async withGates(tracker: TrackerApi, summaries: IssueSummary[]): Promise<BoardIssue[]> {
    // A request during the warm-up waits for it rather than reading the same files a second time.
    await this.warming;
    return this.fill(tracker, summaries);
  }

  private async fill(tracker: TrackerApi, summaries: IssueSummary[]): Promise<BoardIssue[]> {
    const unreadable = new Map<string, { code: string; message: string }>();
    const live = new Set(summaries.map((summary) => summary.id));
    const stale = summaries.filter((summary) => this.cache.get(summary.id)?.updatedAt !== summary.updated_at);
    // A few reads at a time: a first load of a large store must not open every issue file at once.
    let next = 0;
    const reader = async (): Promise<void> => {
      while (next < stale.length) {
        const summary = stale[next++]!;
        try {
          const issue = await tracker.getIssue(summary.id);
          this.cache.set(summary.id, { updatedAt: summary.updated_at, gates: { gates_required: issue.gates_required, gates_status: issue.gates_status } });
        } catch (error) {
          // Deleted between the list and the read: shown without gates until the next refresh drops it.
          if (error instanceof JitError && error.code === 'ISSUE_NOT_FOUND') continue;
          // One damaged file must not take the whole board away: that issue is shown without gates, and says why.
          if (error instanceof JitError && (error.code === 'CORRUPT_FILE' || error.code === 'UNSUPPORTED_SCHEMA')) {
            this.cache.delete(summary.id);
            unreadable.set(summary.id, { code: error.code, message: error.message });
            continue;
          }
          throw error;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(GATE_READERS, stale.length) }, reader));
    const result = summaries.map((summary): BoardIssue => {
      const problem = unreadable.get(summary.id);
      return { ...summary, ...(this.cache.get(summary.id)?.gates ?? { gates_required: [], gates_status: {} }), ...(problem ? { gates_error: problem } : {}) };
    });
    for (const id of this.cache.keys()) if (!live.has(id)) this.cache.delete(id);
    return result;
  }
}

function list<T>(key: string, items: T[]): Record<string, unknown> {
  return { [key]: items, count: items.length };
}

function stringField(body: Body, field: string, required: boolean): string | undefined {
  const value = body[field];
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'string' || value.trim() === '') {
    throw new JitError('INVALID_ARGUMENT', `The request body needs "${field}" as a non-empty string.`, { details: { field } });
  }
  return value;
}

function limitParam(query: Query): number {
  const raw = query.get('limit');
  if (raw === null) return DEFAULT_EVENT_LIMIT;
  const limit = Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_EVENT_LIMIT) {
    throw new JitError('INVALID_ARGUMENT', `limit must be a whole number from 1 to ${MAX_EVENT_LIMIT}, not "${raw}".`, { details: { field: 'limit' } });
  }
  return limit;
}

const ID = '([^/]+)';

const ROUTES: Route[] = [
  // jit query all / jit issue list [--state --assignee --priority --label] --json; ?gates=1 adds each issue's gates
  {
    method: 'GET',
    pattern: /^\/api\/issues$/,
    handle: async ({ tracker, gateCache }, _params, query) => {
      const filter: IssueFilter = {};
      for (const key of ['state', 'assignee', 'priority', 'label'] as const) {
        const value = query.get(key);
        if (value !== null) filter[key] = value;
      }
      const issues = await tracker.listIssues(filter);
      return list('issues', query.get('gates') === '1' ? await gateCache.withGates(tracker, issues) : issues);
    },
  },
  // jit issue show ID --json
  { method: 'GET', pattern: new RegExp(`^/api/issues/${ID}$`), handle: ({ tracker }, [id]) => tracker.getIssue(id!) },
  // jit graph downstream ID --json
  { method: 'GET', pattern: new RegExp(`^/api/issues/${ID}/downstream$`), handle: async ({ tracker }, [id]) => list('issues', await tracker.downstream(id!)) },
  // jit status --json
  { method: 'GET', pattern: /^\/api\/status$/, handle: async ({ tracker }) => ({ ...(await tracker.status()), backend: tracker.backend().kind }) },
  // jit query ready --json
  { method: 'GET', pattern: /^\/api\/ready$/, handle: async ({ tracker }) => list('issues', await tracker.queryReady()) },
  // jit query blocked --json
  { method: 'GET', pattern: /^\/api\/blocked$/, handle: async ({ tracker }) => list('issues', flattenBlocked(await tracker.queryBlocked())) },
  // jit graph show --json, whole (no depth cut): every issue and every "waits for" edge
  { method: 'GET', pattern: /^\/api\/graph$/, handle: ({ tracker }) => tracker.graphEdges() },
  // jit registry list --json
  { method: 'GET', pattern: /^\/api\/gates$/, handle: async ({ tracker }) => list('gates', await tracker.listGateDefinitions()) },
  // jit events query [--type --issue] --limit N --json (the most recent N, oldest first)
  {
    method: 'GET',
    pattern: /^\/api\/events$/,
    handle: async ({ tracker }, _params, query) =>
      list('events', await tracker.queryEvents({ type: query.get('type') ?? undefined, issueId: query.get('issue') ?? undefined, limit: limitParam(query) })),
  },
  // jit gate pass|fail ID KEY --by ACTOR --json
  {
    method: 'POST',
    pattern: new RegExp(`^/api/issues/${ID}/gates/${ID}/(pass|fail)$`),
    handle: ({ tracker, actor }, [id, key, verdict]) => (verdict === 'pass' ? tracker.passGate(id!, key!, actor) : tracker.failGate(id!, key!, actor)),
  },
  // jit issue release ID --reason R --json
  {
    method: 'POST',
    pattern: new RegExp(`^/api/issues/${ID}/release$`),
    handle: ({ tracker, actor }, [id], _query, body) => tracker.release(id!, stringField(body, 'reason', false) ?? `released by ${actor} from the web view`),
  },
  // jit issue update ID --priority P --json
  {
    method: 'POST',
    pattern: new RegExp(`^/api/issues/${ID}/priority$`),
    handle: ({ tracker }, [id], _query, body) => {
      const priority = stringField(body, 'priority', true)!;
      if (!(PRIORITIES as readonly string[]).includes(priority)) {
        throw new JitError('INVALID_ARGUMENT', `Unknown priority "${priority}": use ${PRIORITIES.join(', ')}.`, { details: { field: 'priority' } });
      }
      return tracker.updateIssue(id!, { priority });
    },
  },
  // jit issue update ID --state rejected --json
  { method: 'POST', pattern: new RegExp(`^/api/issues/${ID}/reject$`), handle: ({ tracker }, [id]) => tracker.updateIssue(id!, { state: 'rejected' }) },
];

function decodePart(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new JitError('INVALID_ARGUMENT', `"${part}" in the path is not valid percent-encoding.`, { details: { field: 'path' } });
  }
}

export type RouteMatch = { route: Route; params: string[] } | { methods: string[] } | undefined;

/** The route for a method and path; the allowed methods when only the method is wrong; undefined for no such path. */
export function findRoute(method: string, pathname: string): RouteMatch {
  const methods: string[] = [];
  for (const route of ROUTES) {
    const match = route.pattern.exec(pathname);
    if (!match) continue;
    if (route.method === method) return { route, params: match.slice(1).map(decodePart) };
    methods.push(route.method);
  }
  return methods.length > 0 ? { methods } : undefined;
}
