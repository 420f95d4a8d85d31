/**
 * The MCP tools: one entry per thing an agent does, each a thin call into
 * the same TrackerApi the CLI uses. Arguments are checked here with zod
 * (failures become INVALID_ARGUMENT); domain rules (state spellings,
 * assignee form, transitions) stay in the store so both faces agree.
 */
import { z } from 'zod';
import type { ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import { JitError, GATE_MODES, GATE_STAGES, PRIORITIES, STATES, isReservedKey, checkLabelNamespace, COUNT_MAX, parsePriority, RESERVED_KEYS, pendingNotes, flattenBlocked, type GateCheckProgress, type Issue, type PendingFollowUp, type TrackerApi, type UnreadableRun } from '../store/core.js';
import { processLockStats } from '../store/lock-stats.js';
import type { ToolOutput } from './tool-result.js';

/** Every tool's name: the suggestion renderer (suggestions.ts) names tools by this type, so renaming one breaks the build there. */
export type ToolName =
  | 'issue_create'
  | 'issue_show'
  | 'issue_update'
  | 'issue_batch_create'
  | 'issue_update_filter'
  | 'issue_list'
  | 'issue_search'
  | 'issue_claim'
  | 'issue_claim_next'
  | 'issue_release'
  | 'issue_unassign'
  | 'issue_renew'
  | 'issue_evict'
  | 'agents_list'
  | 'query_claims'
  | 'dep_add'
  | 'dep_remove'
  | 'gate_add'
  | 'gate_remove'
  | 'gate_pass'
  | 'gate_fail'
  | 'gate_check'
  | 'gate_runs'
  | 'registry_list'
  | 'registry_add'
  | 'query_ready'
  | 'query_strategic'
  | 'query_closed'
  | 'label_namespaces'
  | 'label_values'
  | 'issue_reject'
  | 'query_blocked'
  | 'status'
  | 'events_tail'
  | 'validate';

export interface JitTool {
  name: ToolName;
  title: string;
  description: string;
  /** JSON Schema of the arguments, as listed to clients. */
  inputSchema: Record<string, unknown>;
  annotations: ToolAnnotations;
  call(tracker: TrackerApi, args: unknown, context?: ToolContext): Promise<ToolOutput>;
}

/** What a call may do beyond answering: report progress (MCP progress notifications, when the client asked for them). */
export interface ToolContext {
  progress?(progress: number, message: string): void;
}

interface ToolSpec<Shape extends z.ZodRawShape> {
  name: ToolName;
  title: string;
  description: string;
  input: Shape;
  /** Only reads: clients may call it without asking the user. */
  readOnly?: boolean;
  run(tracker: TrackerApi, args: z.output<z.ZodObject<Shape>>, context: ToolContext): Promise<ToolOutput>;
}

function defineTool<Shape extends z.ZodRawShape>(spec: ToolSpec<Shape>): JitTool {
  // Strict: a misspelt argument (add_label for add_labels) must fail, not be silently ignored.
  const schema = z.strictObject(spec.input);
  const { $schema: _dialect, ...inputSchema } = z.toJSONSchema(schema, { io: 'input' });
  return {
    name: spec.name,
    title: spec.title,
    description: spec.description,
    inputSchema,
    annotations: {
      title: spec.title,
      readOnlyHint: spec.readOnly ?? false,
      // No tool deletes anything; writes are updates an agent can undo.
      destructiveHint: false,
      openWorldHint: false,
    },
    async call(tracker, args, context = {}) {
      rejectReservedKeys(spec.name, args);
      const parsed = schema.safeParse(args ?? {});
      if (!parsed.success) throw invalidArguments(spec.name, parsed.error);
      return spec.run(tracker, parsed.data, context);
    },
  };
}

/**
 * Refuses a reserved key (RESERVED_KEYS) anywhere in the arguments, before
 * zod runs: zod rebuilds objects and would drop "__proto__" silently, and
 * the CLI refuses the same names (as context keys).
 */
function rejectReservedKeys(toolName: string, args: unknown, at: readonly string[] = []): void {
  if (typeof args !== 'object' || args === null || at.length > 8) return;
  for (const key of Object.keys(args)) {
    const where = [...at, key].join('.');
    if (isReservedKey(key)) {
      const problem = `${where}: "${key}" is a reserved name (so are ${RESERVED_KEYS.filter((name) => name !== key).join(' and ')})`;
      throw new JitError('INVALID_ARGUMENT', `Invalid arguments for ${toolName}: ${problem}.`, {
        suggestions: [at.length === 0 ? `Check the argument names against the input schema of ${toolName} (tools/list).` : 'Rename the key, e.g. "branch" rather than "constructor".'],
        details: { field: at.length === 0 ? 'arguments' : `${at.join('.')} key`, problems: [problem] },
      });
    }
    rejectReservedKeys(toolName, (args as Record<string, unknown>)[key], [...at, key]);
  }
}

function invalidArguments(toolName: string, error: z.ZodError): JitError {
  const problems = error.issues.map((issue) => `${issue.path.join('.') || 'arguments'}: ${issue.message}`);
  return new JitError('INVALID_ARGUMENT', `Invalid arguments for ${toolName}: ${problems.join('; ')}.`, {
    suggestions: [`Check the argument names and types against the input schema of ${toolName} (tools/list).`],
    details: { problems },
  });
}

// Argument vocabulary shared by the tools; the descriptions are what an agent reads.
const issueId = z
  .string()
  .min(1)
  .describe('Issue id: the full UUID or a unique prefix of 4+ hex characters (e.g. "1a2b3c4d"), as shown by issue_list.');
const assignee = z
  .string()
  .min(1)
  .describe('Who does the work, as kind:name, e.g. "agent:worker-1" or "human:alice". Use the same value every time.');
const claimant = z
  .string()
  .min(1)
  .optional()
  .describe('Who takes the work, as kind:name, e.g. "agent:worker-1"; default: the agent this server runs as (jit mcp --agent / JIT_AGENT_ID).');
const ttl = z
  .union([z.string().min(1), z.number().min(0)])
  .optional()
  .describe('How long the claim lasts unless renewed: a duration ("90s", "30m", "2h") or seconds; 0 = no time limit. Default: JIT_LEASE_TTL or 30m, none when this server runs as an agent (the claim ends when the server does).');
const state = z
  .string()
  .min(1)
  .describe(
    `Issue state: one of ${STATES.join(', ')}. Also accepted: "in-progress"/"inprogress" (= in_progress) and "open" (= backlog).`,
  );
// Through the store's parser, as the CLI does: any case, surrounding spaces ignored.
const priority = z
  .string()
  .transform((value) => parsePriority(value))
  .describe(`Priority: ${PRIORITIES.join(', ')} (any case).`);
const label = z.string().min(1).describe('A label as namespace:value, e.g. "type:bug" or "area:store" (several in one string separated by commas).');
const labelFilter = z
  .string()
  .min(1)
  .describe('One label (namespace:value, e.g. "epic:auth"), or namespace:* for any label of that namespace (e.g. "epic:*").');
const issueType = z
  .string()
  .min(1)
  .describe('Issue type, e.g. "epic", "story", "task", "bug": the label type:<type> (.jit/config.toml lists the known types).');
/**
 * A list result is one page: MCP clients refuse a message above a few MB (the
 * TypeScript SDK's limit is 10 MB, and 50,000 summaries are 35 MB), and an
 * agent's context is smaller still. The CLI prints whole lists; here they are
 * paged, and every page says how many there are in all and where the next starts.
 */
export const PAGE_DEFAULT = 50;
export const PAGE_MAX = 1000;
/** A page also ends before its items' JSON passes this many characters (full issues can be long); it holds at least one. */
export const PAGE_CHARS = 1_000_000;
const page = {
  limit: z.number().int().min(1).max(PAGE_MAX).optional().describe(`At most this many (default ${PAGE_DEFAULT}, up to ${PAGE_MAX}); the result's total says how many match.`),
  offset: z.number().int().min(0).optional().describe("Skip this many first: to read the next page, pass the previous result's next_offset."),
};
const queryFilters = {
  label: labelFilter.optional(),
  type: issueType.optional().describe('Only issues of this type (the label type:<type>); not with label.'),
  priority: priority.optional().describe('Only issues of this priority.'),
  ...page,
};
const gateKey = z.string().min(1).describe('Gate key from the registry (registry_list), e.g. "tests" or "review".');
const context = z
  .record(z.string(), z.string())
  .describe('Free-form string facts about the issue (branch, pr, notes...). Merged into the existing context; a value of "" removes the key.');

function shortId(id: string): string {
  return id.slice(0, 8);
}

/** An issue result; a change whose effect already held (`changed: false`) says so rather than repeating the verb. */
function issueOutput(verb: string, issue: Issue & { changed?: boolean; pending_gates?: string[]; pending?: PendingFollowUp[]; warnings?: { message: string }[] }): ToolOutput {
  const holder = issue.assignee ? `, ${issue.assignee}` : '';
  const done = issue.changed === false ? 'No change (already so):' : verb;
  const gates = issue.pending_gates ? ` It is done once these gates pass: ${issue.pending_gates.join(', ')} (gate_pass).` : '';
  const warnings = (issue.warnings ?? []).map((w) => `Warning: ${w.message}`);
  return {
    data: issue,
    summary: [`${done} ${shortId(issue.id)} "${issue.title}" (${issue.state}, ${issue.priority}${holder}).${gates}`, ...warnings, ...pendingNotes(issue.pending)].join(' '),
  };
}

/** A running check's progress as MCP progress notifications: each start and end, output at most twice a second. */
function progressReporter(context: ToolContext): (progress: GateCheckProgress) => void {
  let lastSent = 0;
  let step = 0;
  return (p) => {
    if (!context.progress || (p.phase === 'output' && Date.now() - lastSent < 500)) return;
    lastSent = Date.now();
    const text = p.phase === 'finished' ? `${p.gate_key}: ${p.status}` : `${p.gate_key}: ${Math.round(p.elapsed_ms / 1000)}s${p.last_line ? ` ${p.last_line}` : ''}`;
    context.progress(++step, text);
  };
}

/** "1 ready issue", "3 ready issues". */
function counted(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/**
 * One page (see PAGE_DEFAULT, PAGE_CHARS) of `found`, the list from its start:
 * `issues`, `count` (on this page), `next_offset` while more follow, and
 * `total` when `found` is the whole list. A query the store can cut short
 * reads only up to the page's end and one more (see pagedQuery).
 */
function pagedOutput<T>(noun: string, found: readonly T[], paging: { limit?: number; offset?: number }, whole = true): ToolOutput {
  const offset = paging.offset ?? 0;
  return pageOutput(noun, found.slice(offset, offset + (paging.limit ?? PAGE_DEFAULT)), offset, whole ? found.length : undefined, found.length);
}

/**
 * The page whose items (up to the limit) start at `offset`, in a list of
 * `total` items (undefined: not known, the list has at least `known`).
 */
function pageOutput<T>(noun: string, window: readonly T[], offset: number, total: number | undefined, known = total ?? 0): ToolOutput {
  const items: T[] = [];
  let chars = 0;
  for (const item of window) {
    chars += JSON.stringify(item).length;
    if (items.length > 0 && chars > PAGE_CHARS) break;
    items.push(item);
  }
  const next = offset + items.length < known ? offset + items.length : undefined;
  const of = total !== undefined ? ` of ${counted(total, noun)}` : ` ${noun}s`;
  const shown = total !== undefined && items.length === total ? counted(total, noun) : `${items.length}${of} (from ${offset})`;
  const more = next === undefined ? '' : ` More: call again with offset ${next}.`;
  return {
    data: { issues: items, count: items.length, ...(total !== undefined ? { total } : {}), ...(next === undefined ? {} : { next_offset: next }) },
    summary: `${shown}.${more}`,
  };
}

/**
 * A store query that takes a limit, asked for the page and one more (to know
 * whether another page follows); past the largest limit the store takes, the
 * whole list (an offset that far is past the end of any real store).
 */
async function pagedQuery<T, F extends { limit?: number }>(
  noun: string,
  query: (filter: F) => Promise<T[]>,
  { limit, offset, ...filter }: Omit<F, 'limit'> & { limit?: number; offset?: number },
): Promise<ToolOutput> {
  const pageEnd = (offset ?? 0) + (limit ?? PAGE_DEFAULT);
  const found = await query({ ...filter, ...(pageEnd < COUNT_MAX ? { limit: pageEnd + 1 } : {}) } as F);
  return pagedOutput(noun, found, { limit, offset }, found.length <= pageEnd);
}

export const TOOLS: readonly JitTool[] = [
  defineTool({
    name: 'issue_create',
    title: 'Create an issue',
    description:
      'Create an issue. It starts in state "ready" (or "backlog" while it has unfinished dependencies). Returns the new issue with its id.',
    input: {
      title: z.string().min(1).describe('Short imperative title, e.g. "Fix login timeout".'),
      description: z.string().optional().describe('What to do and how to tell it is done.'),
      priority: priority.optional().describe(`Priority: ${PRIORITIES.join(', ')} (any case); default normal.`),
      labels: z.array(label).optional().describe('Labels as namespace:value, e.g. ["type:bug", "area:store"].'),
      gates: z.array(gateKey).optional().describe('Gate keys that must pass before the issue can be done; each must exist in the registry.'),
      dependencies: z.array(issueId).optional().describe('Ids of issues this one waits for.'),
      assignee: assignee.optional().describe('Assign it at once, as kind:name (e.g. when you create work you will do yourself).'),
      context: context.optional(),
      type: issueType.optional(),
    },
    run: async (tracker, args) => issueOutput('Created', await tracker.createIssue(args)),
  }),
  defineTool({
    name: 'issue_show',
    title: 'Show an issue',
    description: 'Everything about one issue: description, state, assignee, dependencies, gates and their status, labels, context.',
    input: { id: issueId },
    readOnly: true,
    run: async (tracker, args) => issueOutput('Issue', await tracker.getIssue(args.id)),
  }),
  defineTool({
    name: 'issue_update',
    title: 'Update an issue',
    description:
      'Change an issue\'s title, description, state, priority, labels or context. Setting state "done" while gates are pending stores it as "gated" (with the rest of the update) and returns the gates in pending_gates; it becomes done when the last one passes (gate_pass). ' +
      'Its auto postchecks (gates with a checker) then run at once (progress notifications meanwhile; run_checks: false skips them) and complete it if they pass: gate_runs lists the runs. changed: false means nothing needed changing. To take or give back an issue use issue_claim / issue_release instead.',
    input: {
      id: issueId,
      title: z.string().min(1).optional().describe('New title.'),
      description: z.string().optional().describe('New description (replaces the old one).'),
      state: state.optional(),
      priority: priority.optional(),
      add_labels: z.array(label).optional().describe('Labels to add, as namespace:value.'),
      remove_labels: z.array(label).optional().describe('Labels to remove.'),
      context: context.optional(),
      type: issueType.optional().describe('Set the type: the label type:<type> replaces any other type: label.'),
      run_checks: z.boolean().optional().describe('With state "done": run the auto postchecks now (default true).'),
    },
    run: async (tracker, { id, add_labels, remove_labels, run_checks, ...changes }, toolContext) => {
      const updated = await tracker.updateIssue(id, { ...changes, addLabels: add_labels, removeLabels: remove_labels });
      if (!updated.pending_gates || run_checks === false) return issueOutput('Updated', updated);
      const report = await tracker.runPostchecks(updated.id, { onProgress: progressReporter(toolContext) });
      if (report.runs.length === 0 && report.not_run.length === 0) return issueOutput('Updated', updated);
      const now = await tracker.getIssue(updated.id);
      const pending = now.state === 'gated' ? now.gates_required.filter((key) => now.gates_status[key]?.status !== 'passed') : [];
      const { pending_gates: _before, ...rest } = updated;
      const output = issueOutput('Updated', { ...rest, ...now, ...(pending.length > 0 ? { pending_gates: pending } : {}) });
      const ran = report.runs.map((run) => `${run.gate_key} ${run.status}`).join(', ');
      const untrusted = report.not_run.map((gate) => gate.gate_key).join(', ');
      return {
        data: { ...(output.data as object), gate_runs: report.runs, gates_not_run: report.not_run },
        summary: `${output.summary}${ran ? ` Checks: ${ran}.` : ''}${untrusted ? ` Not run (command not trusted on this machine; a person must run \`jit gate trust KEY\` after reading it): ${untrusted}.` : ''}`,
      };
    },
  }),
  defineTool({
    name: 'issue_batch_create',
    title: 'Create many issues at once',
    description:
      'Create a whole plan in one call, all or nothing: issues with their dependencies, gates and labels. An entry names the others it waits for by their "ref" (a local key you choose, e.g. "api"), or existing issues by id. ' +
      'The whole batch is checked first (fields, refs, gates, cycles: CYCLE names the refs); nothing is created when anything is wrong. Returns ids: each ref (or "[index]" for entries without one) -> the new issue id.',
    input: {
      issues: z
        .array(
          z.strictObject({
            ref: z.string().min(1).optional().describe('Local key other entries use in their dependencies.'),
            title: z.string().min(1).describe('Short imperative title.'),
            description: z.string().optional(),
            priority: z.string().optional().describe(`Priority: ${PRIORITIES.join(', ')}; default normal.`),
            labels: z.array(label).optional(),
            gates: z.array(gateKey).optional(),
            assignee: assignee.optional(),
            context: context.optional(),
            dependencies: z.array(z.string().min(1)).optional().describe('Refs of other entries of this batch, or ids of existing issues, this one waits for.'),
          }),
        )
        .min(1)
        .describe('The issues, in any order (dependencies may point forward).'),
    },
    run: async (tracker, args) => {
      const result = await tracker.batchCreate(args.issues);
      const warnings = (result.warnings ?? []).map((w) => `Warning: ${w.message}`);
      return { data: result, summary: [`Created ${counted(result.created, 'issue')}: ${Object.entries(result.ids).map(([key, id]) => `${key}=${shortId(id)}`).join(', ')}.`, ...warnings].join(' ') };
    },
  }),
  defineTool({
    name: 'issue_update_filter',
    title: 'Update every issue a filter matches',
    description:
      'Apply one update to every issue matching a filter, e.g. "state:ready AND label:epic:auth", "NOT label:type:*", "(priority:high OR priority:critical) AND assignee:none". Fields: state, priority, assignee (none = unassigned), label (namespace:* for a namespace), id (prefix), title (text); AND, OR, NOT, parentheses (NOT binds tighter than AND, AND than OR). ' +
      'Each issue is updated under its own rules; the result lists changed, unchanged and refused (with the error code) issues. dry_run: true shows what would change and writes nothing.',
    input: {
      filter: z.string().min(1).describe('The filter expression.'),
      state: state.optional(),
      priority: priority.optional(),
      add_labels: z.array(label).optional().describe('Labels to add, as namespace:value.'),
      remove_labels: z.array(label).optional().describe('Labels to remove.'),
      context: context.optional(),
      dry_run: z.boolean().optional().describe('Only report what would change (default false).'),
    },
    run: async (tracker, { filter, add_labels, remove_labels, dry_run, ...changes }) => {
      const report = await tracker.updateMatching(filter, { ...changes, addLabels: add_labels, removeLabels: remove_labels }, { dryRun: dry_run ?? false });
      const refused = report.refused.map((o) => `${shortId(o.id)} (${o.error!.code})`).join(', ');
      return {
        data: report,
        summary:
          `${counted(report.matched, 'issue')} matched: ${report.changed.length} ${report.dry_run ? 'would change' : 'changed'}, ${report.unchanged.length} unchanged, ${report.refused.length} refused` +
          `${refused ? `: ${refused}` : ''}.${report.dry_run ? ' Dry run: nothing was written.' : ''}`,
      };
    },
  }),
  defineTool({
    name: 'issue_list',
    title: 'List issues',
    description:
      'List issues (summaries), optionally filtered; filters combine. With no filter: all issues. Use it for "query all", "by state" and "by assignee".',
    input: {
      state: state.optional(),
      assignee: assignee.optional().describe('Only issues held by this assignee (kind:name).'),
      priority: priority.optional(),
      label: labelFilter.optional(),
      ...page,
    },
    readOnly: true,
    run: async (tracker, { limit, offset = 0, ...filter }) => {
      // The page and a COUNT: the total without reading every summary that matches.
      const page = await tracker.listIssuesPage(filter, { offset: Math.min(offset, COUNT_MAX), limit: limit ?? PAGE_DEFAULT });
      return pageOutput('issue', page.issues, offset, page.total);
    },
  }),
  defineTool({
    name: 'issue_search',
    title: 'Search issues',
    description: 'Case-insensitive text search over ids, titles, descriptions, labels and context values. Returns full issues, oldest first.',
    input: { query: z.string().min(1).describe('Text to look for, e.g. "timeout" or "area:auth".'), ...page },
    readOnly: true,
    run: async (tracker, args) => pagedOutput('matching issue', await tracker.searchIssues(args.query), args),
  }),
  defineTool({
    name: 'issue_claim',
    title: 'Claim an issue',
    description:
      'Take one specific issue: assigns it to you and moves it to in_progress. Fails with ALREADY_CLAIMED if someone else holds it. Prefer issue_claim_next to pick work.',
    input: { id: issueId, assignee: claimant, ttl },
    run: async (tracker, args) => issueOutput('Claimed', await tracker.claim(args.id, args.assignee, { ttl: args.ttl })),
  }),
  defineTool({
    name: 'issue_claim_next',
    title: 'Claim the next ready issue',
    description:
      'Atomically take the most important ready issue (highest priority, then oldest) and assign it to you; no two agents ever get the same one. Fails with NO_READY_ISSUE when nothing is ready.',
    input: {
      assignee: claimant,
      label: labelFilter.optional().describe('Only consider issues with this label (namespace:value), or any label of a namespace (namespace:*).'),
      priority: priority.optional().describe('Only consider issues of this priority.'),
      type: issueType.optional().describe('Only consider issues of this type. Strategic types (epic, milestone: containers) are handed out only when asked for this way (or by their label).'),
      ttl,
    },
    run: async (tracker, { assignee: who, ...filter }) => issueOutput('Claimed', await tracker.claimNext(who, filter)),
  }),
  defineTool({
    name: 'issue_renew',
    title: 'Renew a claim',
    description:
      'Extend the lease of a claim you hold (heartbeat) so it does not lapse. Only the holder may; fails with NOT_LEASE_HOLDER otherwise, or once the lease has lapsed (claim it again). A claim bound to this running server needs no renewal.',
    input: { id: issueId, assignee: claimant.describe('The holder, as kind:name; default: the agent this server runs as.'), ttl },
    run: async (tracker, args) => issueOutput('Renewed', await tracker.renew(args.id, args.assignee, { ttl: args.ttl })),
  }),
  defineTool({
    name: 'issue_evict',
    title: 'Evict a claim',
    description: 'Force a claim free when its holder is stuck or gone: clears the assignee, returns the issue to ready/backlog, and records who and why.',
    input: {
      id: issueId,
      reason: z.string().min(1).describe('Why the claim is taken away, for the log and its holder.'),
      by: assignee.optional().describe('Who evicts, as kind:name; default: the agent this server runs as.'),
    },
    run: async (tracker, args) => issueOutput('Evicted', await tracker.evict(args.id, args.reason, args.by)),
  }),
  defineTool({
    name: 'issue_release',
    title: 'Release an issue',
    description:
      'Give an issue back (you are giving up or were interrupted): clears the assignee, returns it to ready/backlog and records the reason so the next agent knows.',
    input: { id: issueId, reason: z.string().min(1).describe('Why you are giving it back, for whoever picks it up next.') },
    run: async (tracker, args) => issueOutput('Released', await tracker.release(args.id, args.reason)),
  }),
  defineTool({
    name: 'issue_unassign',
    title: 'Unassign an issue',
    description: 'Clear the assignee of an issue; an in_progress issue goes back to ready (or backlog). To give up work, prefer issue_release: it records why.',
    input: { id: issueId },
    run: async (tracker, args) => issueOutput('Unassigned', await tracker.unassign(args.id)),
  }),
  defineTool({
    name: 'dep_add',
    title: 'Add a dependency',
    description:
      '"from" waits for "to": "from" is not ready until "to" is finished (done, rejected or archived). Fails with CYCLE if "to" already (transitively) waits for "from".',
    input: {
      from: issueId.describe('Id (or prefix) of the issue that waits.'),
      to: issueId.describe('Id (or prefix) of the issue it waits for.'),
    },
    run: async (tracker, args) => issueOutput('Dependency added to', await tracker.addDependency(args.from, args.to)),
  }),
  defineTool({
    name: 'dep_remove',
    title: 'Remove a dependency',
    description: 'Remove the edge "from waits for to". If there is no such edge the call succeeds with changed: false (both ids must exist).',
    input: {
      from: issueId.describe('Id (or prefix) of the issue that waits.'),
      to: issueId.describe('Id (or prefix) of the issue it waits for.'),
    },
    run: async (tracker, args) => issueOutput('Dependency removed from', await tracker.removeDependency(args.from, args.to)),
  }),
  defineTool({
    name: 'gate_add',
    title: 'Require a gate',
    description: 'Require a gate (a check such as tests or review) on an issue before it can be done. The key must exist in the registry (registry_list / registry_add).',
    input: { id: issueId, key: gateKey },
    run: async (tracker, args) => issueOutput(`Gate ${args.key} added to`, await tracker.addGate(args.id, args.key)),
  }),
  defineTool({
    name: 'gate_remove',
    title: 'Stop requiring a gate',
    description:
      'Stop requiring a gate on an issue (also a gate no longer in the registry, which validate reports as unknown_gate). If the issue is "gated" and this was its last pending gate, it becomes done. Not required: changed: false.',
    input: { id: issueId, key: gateKey },
    run: async (tracker, args) => issueOutput(`Gate ${args.key} no longer required on`, await tracker.removeGate(args.id, args.key)),
  }),
  defineTool({
    name: 'gate_pass',
    title: 'Pass a gate',
    description: 'Record that a required gate has passed. If the issue is "gated" and this was the last pending gate, it becomes done.',
    input: { id: issueId, key: gateKey, by: assignee.optional().describe('Who checked it, as kind:name.') },
    run: async (tracker, args) => issueOutput(`Gate ${args.key} passed on`, await tracker.passGate(args.id, args.key, args.by)),
  }),
  defineTool({
    name: 'gate_fail',
    title: 'Fail a gate',
    description: 'Record that a required gate failed (e.g. tests are red). The issue cannot be done until the gate passes.',
    input: { id: issueId, key: gateKey, by: assignee.optional().describe('Who checked it, as kind:name.') },
    run: async (tracker, args) => issueOutput(`Gate ${args.key} failed on`, await tracker.failGate(args.id, args.key, args.by)),
  }),
  defineTool({
    name: 'gate_check',
    title: 'Run gate checks',
    description:
      "Run the checker command of one gate of an issue (key), or of every auto gate it requires, and record each run (gate_runs). The verdict is the gate's status: " +
      'exit 0 passed, anything else (or the timeout) failed; passing the last gate of a gated issue completes it, and a passed precheck lets work start. ' +
      'Sends progress notifications while a checker runs (other calls are not held up). A command this machine has not trusted fails with GATE_UNTRUSTED: a person must read it and run `jit gate trust KEY`.',
    input: {
      id: issueId,
      key: gateKey.optional().describe('One gate; default: every auto gate the issue requires.'),
      by: assignee.optional().describe('Who runs it, as kind:name.'),
    },
    run: async (tracker, args, context) => {
      const report = await tracker.checkGates(args.id, args.key, { by: args.by, onProgress: progressReporter(context) });
      const failed = report.runs.filter((run) => run.status !== 'passed');
      const summary =
        report.runs.length === 0
          ? 'No gate with a checker to run.'
          : `${counted(report.runs.length, 'check')} ran: ${report.runs.map((run) => `${run.gate_key} ${run.status}`).join(', ')}.` +
            (failed.length > 0 ? ` ${failed.map((run) => `${run.gate_key}: ${run.message ?? ''}`).join(' ')} See output in gate_runs.` : '');
      return { data: report, summary };
    },
  }),
  defineTool({
    name: 'gate_runs',
    title: 'Gate check history',
    description: "An issue's gate check runs, newest first: status (running, passed, failed, abandoned), reason, exit code, duration and the last 64 KiB of output.",
    input: { id: issueId },
    readOnly: true,
    run: async (tracker, args) => {
      const unreadable: UnreadableRun[] = [];
      const runs = await tracker.gateRuns(args.id, unreadable);
      return { data: { runs, count: runs.length, unreadable }, summary: `${counted(runs.length, 'run')}${unreadable.length > 0 ? `; ${counted(unreadable.length, 'record')} unreadable` : ''}.` };
    },
  }),
  defineTool({
    name: 'registry_list',
    title: 'List gate definitions',
    description: 'The gate registry: every gate key issues can require, with its title and description.',
    input: {},
    readOnly: true,
    run: async (tracker) => {
      const gates = await tracker.listGateDefinitions();
      return { data: { gates, count: gates.length }, summary: `${counted(gates.length, 'gate definition')}.` };
    },
  }),
  defineTool({
    name: 'registry_add',
    title: 'Define a gate',
    description: 'Add a gate definition to the registry so issues can require it. The same definition again is changed: false; a different one under a taken key fails with ALREADY_EXISTS.',
    input: {
      key: z.string().min(1).describe('Short key, e.g. "tests", "review", "security-scan".'),
      title: z.string().min(1).describe('What the gate checks, e.g. "Unit tests pass".'),
      description: z.string().optional().describe('How to check it.'),
      auto: z.boolean().optional().describe('True if a tool (CI) passes it rather than a person or agent; default false.'),
      stage: z.enum(GATE_STAGES).optional().describe('precheck: must pass before work starts (claim); postcheck (default): before done.'),
      mode: z.enum(GATE_MODES).optional().describe('auto: jit runs the checker (default with a checker); manual: passed by hand.'),
      checker: z
        .strictObject({
          command: z.string().min(1).describe('Shell command run in the project folder; exit 0 passes.'),
          timeout_seconds: z.number().positive().optional().describe('Default 600; past it the whole process tree is killed.'),
          working_dir: z.string().optional().describe('Relative to the project folder.'),
          env: z.record(z.string(), z.string()).optional(),
          pass_context: z.boolean().optional().describe('Give the checker the issue as JSON on standard input.'),
        })
        .optional()
        .describe('A command that decides the gate (gate_check runs it).'),
    },
    run: async (tracker, args) => {
      const gate = await tracker.addGateDefinition(args);
      return { data: gate, summary: `${gate.changed ? 'Gate' : 'No change (already so): gate'} ${gate.key} defined: ${gate.title}.` };
    },
  }),
  defineTool({
    name: 'query_ready',
    title: 'Ready issues',
    description:
      'Issues that can be started now (the original jit\'s "query available"): state ready, unassigned, every dependency done, not of a strategic type (epic, milestone) unless type asks for one; most urgent first. issue_claim_next takes the first of these.',
    input: queryFilters,
    readOnly: true,
    run: async (tracker, args) => pagedQuery('ready issue', (filter) => tracker.queryReady(filter), args),
  }),
  defineTool({
    name: 'query_strategic',
    title: 'Strategic issues',
    description: 'Issues of the strategic types (containers such as epics and milestones; .jit/config.toml strategic_types), oldest first.',
    input: { ...queryFilters, assignee: assignee.optional().describe('Only issues held by this assignee (kind:name).') },
    readOnly: true,
    run: async (tracker, args) => pagedQuery('strategic issue', (filter) => tracker.queryStrategic(filter), args),
  }),
  defineTool({
    name: 'query_closed',
    title: 'Closed issues',
    description: 'Finished issues: done, rejected or archived; oldest first.',
    input: { ...queryFilters, assignee: assignee.optional().describe('Only issues held by this assignee (kind:name).') },
    readOnly: true,
    run: async (tracker, args) => pagedQuery('closed issue', (filter) => tracker.queryClosed(filter), args),
  }),
  defineTool({
    name: 'label_namespaces',
    title: 'Label namespaces',
    description: 'Every label namespace in use (the part before the colon: type, epic, area...), with how many distinct labels and issues each has.',
    input: {},
    readOnly: true,
    run: async (tracker) => {
      const namespaces = await tracker.labelNamespaces();
      return { data: { namespaces, count: namespaces.length }, summary: `${counted(namespaces.length, 'label namespace')}: ${namespaces.map((n) => n.namespace).join(', ') || 'none'}.` };
    },
  }),
  defineTool({
    name: 'label_values',
    title: 'Labels of a namespace',
    description: 'The labels in use in one namespace (e.g. "epic" -> epic:auth, epic:billing), with how many issues carry each.',
    input: { namespace: z.string().min(1).describe('Label namespace, e.g. "type" or "epic".') },
    readOnly: true,
    run: async (tracker, args) => {
      const values = await tracker.labelValues(args.namespace);
      return { data: { namespace: checkLabelNamespace(args.namespace), values, count: values.length }, summary: `${counted(values.length, 'label')}: ${values.map((v) => v.label).join(', ') || 'none'}.` };
    },
  }),
  defineTool({
    name: 'issue_reject',
    title: 'Reject an issue',
    description:
      'Close an issue as rejected: the work will not be done. Terminal; gates do not apply; the reason is recorded (context rejection_reason and the event log). Issues waiting for it move on as if it were done.',
    input: { id: issueId, reason: z.string().min(1).describe('Why the work will not be done.') },
    run: async (tracker, args) => issueOutput('Rejected', await tracker.rejectIssue(args.id, args.reason)),
  }),
  defineTool({
    name: 'query_claims',
    title: 'Claims and their leases',
    description:
      'Claims in flight (in_progress or gated with an assignee), each with its lease (expires_at, the agent it is bound to) and `lapsed` (ttl: its time ran out; agent_gone: its agent stopped). With lapsed: true, only those: free for the next claimer.',
    input: { lapsed: z.boolean().optional().describe('Only claims that have lapsed.'), ...page },
    readOnly: true,
    run: async (tracker, args) => pagedOutput(args.lapsed ? 'lapsed claim' : 'claim', await tracker.queryClaims({ lapsed: args.lapsed }), args),
  }),
  defineTool({
    name: 'agents_list',
    title: 'Agents',
    description: 'Agents that have run on this store: live (their process holds the agent lock) or gone, with the claims each holds.',
    input: {},
    readOnly: true,
    run: async (tracker) => {
      const agents = await tracker.agents();
      const live = agents.filter((a) => a.live).length;
      return { data: { agents, count: agents.length }, summary: `${counted(agents.length, 'agent')}, ${live} live.` };
    },
  }),
  defineTool({
    name: 'query_blocked',
    title: 'Blocked issues',
    description: 'Issues that cannot proceed, each with its reasons (unfinished dependencies, pending gates).',
    input: { ...page },
    readOnly: true,
    // Flattened as the CLI's `query blocked --json` (store/views.ts): each summary carries its reasons.
    run: async (tracker, args) => pagedOutput('blocked issue', flattenBlocked(await tracker.queryBlocked()), args),
  }),
  defineTool({
    name: 'status',
    title: 'Tracker status',
    description:
      'Counts: total issues, issues per state, and how many are ready to claim or blocked; and this server\'s lock figures per lock file ' +
      '(taken, waited, timed out; wait percentiles in ms).',
    input: {},
    readOnly: true,
    run: async (tracker) => {
      const report = await tracker.status();
      const locks = processLockStats.current?.report() ?? [];
      const waited = locks.reduce((sum, lock) => sum + lock.contended, 0);
      const slowest = locks.reduce((max, lock) => Math.max(max, lock.wait_ms.p99), 0);
      const lockLine = locks.length === 0 ? '' : ` Locks: ${counted(waited, 'wait')} (worst p99 ${slowest} ms) over ${counted(locks.length, 'lock file')}.`;
      return {
        data: { ...report, backend: tracker.backend().kind, lock_stats: locks },
        summary: `${counted(report.total, 'issue')}: ${report.ready} ready, ${report.blocked} blocked, ${report.by_state.in_progress} in progress, ${report.by_state.done} done.${lockLine}`,
      };
    },
  }),
  defineTool({
    name: 'events_tail',
    title: 'Recent events',
    description: 'The last events of the tracker log (created, claimed, state changed, gate passed, ...), oldest first.',
    input: { n: z.number().int().min(1).max(1000).optional().describe('How many events; default 20.') },
    readOnly: true,
    run: async (tracker, args) => {
      const events = await tracker.tailEvents(args.n ?? 20);
      return { data: { events, count: events.length }, summary: `${counted(events.length, 'event')}.` };
    },
  }),
  defineTool({
    name: 'validate',
    title: 'Check the tracker',
    description:
      'Check .jit/ for problems (index vs issue files, dangling dependencies, cycles, unknown gates, torn event line, stray temp files). fix: true repairs what can be repaired without guessing.',
    input: { fix: z.boolean().optional().describe('Repair what can be repaired safely; default false (only report).') },
    run: async (tracker, args) => {
      const report = await tracker.validate({ fix: args.fix ?? false });
      const fixed = report.fixed.length > 0 ? ` Fixed: ${report.fixed.join('; ')}.` : '';
      return {
        data: report,
        summary: `${report.ok ? 'OK' : counted(report.problems.length, 'problem')}.${fixed}`,
      };
    },
  }),
];
