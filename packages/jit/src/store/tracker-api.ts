/**
 * The domain operations both faces (CLI and MCP) call. One implementation
 * (`Tracker` in tracker.ts) over a `Storage` (JsonFileStorage or
 * InMemoryStorage). Every method is one transaction: it takes its locks,
 * re-reads under them, applies its rule, writes and releases.
 *
 * Ids in arguments may be full UUIDs or unique prefixes of 4+ hex
 * characters. State names accept `in-progress`/`in_progress`/`inprogress`
 * and `open` (= backlog). Assignees (and `by`) are `kind:name`. Errors are
 * JitError (errors.ts).
 *
 * Agents retry, so a change asks for a state, not an action: when that state
 * already holds (a dependency already there, a gate already required or
 * passed by the same checker, an unclaimed issue released, ...) the call
 * succeeds, writes and logs nothing, and says `changed: false`. Only names
 * must exist: an unknown id or gate key is still an error, as is a request
 * that contradicts what is stored (another claimant, a different gate
 * definition under the same key).
 */
import type { GateDefinition, GateMode, GateStage, Issue, JitEvent, Lease, Priority, State, EventType } from './model.js';
import type { AgentRecord } from './agents.js';
import type { LapseReason } from './leases.js';
import type { GateCheckOptions, GateCheckReport } from './gate-checks.js';
import type { GateRun, UnreadableRun } from './gate-runs.js';
import type { CheckerInput } from './gate-defs.js';
import type { HierarchyViolation } from './hierarchy.js';
import type { LabelNamespace, LabelValue } from './storage.js';

export type { HierarchyViolation, HierarchyRule } from './hierarchy.js';
export type { LabelNamespace, LabelValue } from './storage.js';

export type { GateCheckOptions, GateCheckProgress, GateCheckReport, GateNotRun } from './gate-checks.js';
export type { GateRun, GateRunStatus, UnreadableRun } from './gate-runs.js';
export type { CheckerInput } from './gate-defs.js';

export interface GateDefinitionInput {
  key: string;
  title: string;
  description?: string;
  auto?: boolean;
  /** precheck: before work starts; postcheck (default): before done. */
  stage?: GateStage | string;
  /** auto: jit runs the checker (default when there is one); manual: passed by hand. */
  mode?: GateMode | string;
  checker?: CheckerInput | null;
}

export interface CreateIssueInput {
  title: string;
  description?: string;
  priority?: Priority | string;
  labels?: string[];
  gates?: string[]; // gate keys; must exist in the registry
  dependencies?: string[];
  assignee?: string;
  context?: Record<string, string>;
  /** Shorthand for the label `type:<type>` (issue types: hierarchy.ts). */
  type?: string;
}

/**
 * A change's result, the issue as stored now: `changed: false` when its effect already held;
 * `pending` only when a follow-up could not be finished (see PendingFollowUp).
 */
export type IssueChange = Issue & {
  changed: boolean;
  pending?: PendingFollowUp[];
  /** Rules of the type hierarchy the change breaks, saved anyway because config.toml's validation is loose (hierarchy.ts). */
  warnings?: HierarchyViolation[];
};

export type IssueUpdate = IssueChange & {
  /**
   * Present when the update asked for `done` while gates were pending: the
   * issue was stored as `gated` (with the rest of the update) and completes
   * when these gates pass.
   */
  pending_gates?: string[];
};

export interface UpdateIssueInput {
  title?: string;
  description?: string;
  state?: State | string;
  priority?: Priority | string;
  addLabels?: string[];
  removeLabels?: string[];
  assignee?: string | null;
  context?: Record<string, string>; // merged; a value of "" removes the key
  /** Sets the issue's type: the label `type:<type>` replaces any other `type:` label. */
  type?: string;
}

export interface IssueFilter {
  state?: State | string;
  assignee?: string;
  priority?: Priority | string;
  label?: string;
}

/** The filters of query ready/available/strategic/closed: as IssueFilter, plus a type and a page size. */
export interface QueryFilter extends Omit<IssueFilter, 'state'> {
  /** Shorthand for the label filter `type:<type>` (not with `label`). */
  type?: string;
  limit?: number;
}

/** Summary as kept in index.json: enough for list/status/ready without opening issue files. */
export interface IssueSummary {
  id: string;
  title: string;
  state: State;
  priority: Priority;
  assignee: string | null;
  labels: string[];
  dependencies: string[];
  created_at: string;
  updated_at: string;
  /** The claim's lease, when it has one (see Issue.lease): when it expires (null: no time limit) and the agent that bounds it. */
  lease_expires_at?: string | null;
  lease_agent?: string | null;
  /** Only in query ready results: this issue's claim lapsed (shown as the next claimer finds it: ready, nobody's). */
  lapsed_claim?: { holder: string; reason: LapseReason };
}

/**
 * A list already written as JSON: `items` is the UTF-8 text of its items,
 * joined by commas (the array's text without its brackets; what
 * JSON.stringify gives for them, up to key order and escapes), `count` how
 * many. For lists long enough that building the objects and stringifying
 * them again is most of the cost (query ready at 50,000 issues); bytes, so
 * that a face writes them out without converting them twice.
 */
export interface JsonList {
  readonly count: number;
  readonly items: Uint8Array;
}

/** A claim in flight (in progress or gated, with a holder), as query claims lists it. */
export interface ClaimInfo extends IssueSummary {
  /** null: claimed by a jit without leases (it lasts until released or evicted). */
  lease: Lease | null;
  /** Why the claim has lapsed (`ttl`: its time ran out; `agent_gone`: its agent no longer runs), or null while it holds. */
  lapsed: LapseReason | null;
}

/** An agent that has run on this store, and the claims bound to it (or held in its name). */
export interface AgentStatus extends AgentRecord {
  claims: { id: string; title: string; state: State; lapsed: LapseReason | null }[];
}

export interface ClaimOptions {
  /** How long the claim lasts without a renewal: a duration (90s, 30m, 2h) or seconds; 0 = no time limit. Default: JIT_LEASE_TTL or 30m, none when bound to a running agent. */
  ttl?: string | number;
}

/**
 * A follow-up a committed change could not finish right away (a busy lock,
 * a full disk, a corrupt file). The change itself is saved; the follow-up
 * stays stored, and the next jit command that reads or writes the store
 * finishes it (so does `validate`).
 */
export interface PendingFollowUp {
  /** `dependents`: move the issues that wait for issue_id between backlog and ready; `self`: re-check issue_id against its dependencies. */
  step: 'dependents' | 'self';
  issue_id: string;
  /** The issues not re-checked yet (empty when they could not even be listed). */
  issues: string[];
  /** What stopped it: the error code and message. */
  reason: string;
}


export interface BlockedIssue {
  issue: IssueSummary;
  reasons: string[]; // e.g. "waits for 1a2b3c4d (in_progress)", "gate tests pending"
}

export interface StatusReport {
  total: number;
  by_state: Record<State, number>;
  ready: number; // claimable now, lapsed claims included
  blocked: number;
  /** Claims in progress whose lease lapsed and that are claimable (counted in `ready` too); set by the Tracker, not the storage. */
  lapsed_claims?: number;
}

export interface ValidationProblem {
  kind:
    | 'index_mismatch'
    | 'missing_issue_file'
    | 'unindexed_issue_file'
    | 'corrupt_file'
    | 'dangling_dependency'
    | 'cycle'
    | 'unknown_gate'
    | 'torn_event_line'
    | 'missing_final_newline'
    | 'lapsed_claim'
    | 'hierarchy';
  message: string;
  path?: string;
  issue_id?: string;
  fixable: boolean;
}

export interface ValidationReport {
  ok: boolean;
  problems: ValidationProblem[];
  fixed: string[]; // what --fix did, one line each
  /**
   * Crash leftovers that validate always cleans up, with or without --fix,
   * as SQLite rolls back a hot journal on open: temp files whose writer is
   * dead and index summaries behind their issue files (pending markers
   * whose writer is gone). Nothing here loses or guesses data.
   */
  recovered: string[];
}

export interface RemoveGateDefinitionOptions {
  /** Also drop the gate from every issue that requires it (else GATE_IN_USE names them). */
  dropRequirements?: boolean;
}

export interface GateDefinitionRemoval {
  key: string;
  changed: true;
  /** Ids of the issues the gate was dropped from (with dropRequirements). */
  requirements_dropped: string[];
}

export interface ClaimNextFilter extends ClaimOptions {
  label?: string;
  priority?: Priority | string;
  /** Shorthand for the label `type:<type>`; asking for a strategic type (or its label) is the only way claim-next hands one out. */
  type?: string;
}

export interface EventQuery {
  type?: EventType | string;
  issueId?: string;
  limit?: number;
}

export interface GraphEdge {
  from: string; // waits for `to`
  to: string;
}

export interface TrackerApi {
  // Issues
  createIssue(input: CreateIssueInput): Promise<IssueChange>;
  getIssue(idOrPrefix: string): Promise<Issue>;
  /** A change of state into or out of done/rejected/archived also moves the issues that wait for it (backlog <-> ready). */
  updateIssue(idOrPrefix: string, input: UpdateIssueInput): Promise<IssueUpdate>;
  deleteIssue(idOrPrefix: string): Promise<{ id: string; changed: true; pending?: PendingFollowUp[] }>;
  listIssues(filter?: IssueFilter): Promise<IssueSummary[]>;
  /** One page of listIssues (`limit` from `offset` on) and how many match in all, counted without reading them. */
  listIssuesPage(filter: IssueFilter, page: { offset?: number; limit: number }): Promise<{ issues: IssueSummary[]; total: number }>;
  searchIssues(query: string): Promise<Issue[]>;
  /** Many issues in one graph transaction, all or none: dependencies by local key (`ref`) or existing id, cycle-checked as a whole. */
  batchCreate(entries: unknown): Promise<BatchCreateResult>;
  /** Each issue the filter (filter.ts) matches, updated under its own lock with updateIssue's rules; with dryRun, only what would change. */
  updateMatching(filter: string, input: UpdateIssueInput, options?: { dryRun?: boolean }): Promise<FilteredUpdateReport>;

  // Assignment
  assign(idOrPrefix: string, assignee: string): Promise<IssueChange>;
  /**
   * Exactly one winner: fails with ALREADY_CLAIMED when someone else holds it
   * (a claim whose lease lapsed is free). The claimant defaults to the agent
   * this tracker works for (JIT_AGENT_ID); the claim gets a lease (ClaimOptions).
   */
  claim(idOrPrefix: string, assignee?: string, options?: ClaimOptions): Promise<IssueChange>;
  /** Extends the holder's lease (NOT_LEASE_HOLDER for anyone else, or once it lapsed); a claim from before leases gets one. */
  renew(idOrPrefix: string, holder?: string, options?: ClaimOptions): Promise<IssueChange>;
  /** Forces a claim free, recording who (`by`, default the agent) and why. */
  evict(idOrPrefix: string, reason: string, by?: string): Promise<IssueChange>;
  unassign(idOrPrefix: string): Promise<IssueChange>;
  /** Gives the issue back (assignee cleared, state back to ready/backlog), recording why. */
  release(idOrPrefix: string, reason: string): Promise<IssueChange>;
  /** Closes the issue as rejected (terminal; gates do not apply), recording why; its dependents move on as for done. */
  rejectIssue(idOrPrefix: string, reason: string): Promise<IssueChange>;
  /**
   * Highest priority, then oldest, of the ready work; NO_READY_ISSUE when none.
   * Not a state but an action: each call claims one more issue.
   */
  claimNext(assignee?: string, filter?: ClaimNextFilter): Promise<IssueChange>;

  // Dependencies (from waits for to)
  addDependency(from: string, to: string): Promise<IssueChange>;
  removeDependency(from: string, to: string): Promise<IssueChange>;

  // Gates
  listGateDefinitions(): Promise<GateDefinition[]>;
  getGateDefinition(key: string): Promise<GateDefinition>;
  /** ALREADY_EXISTS when the key holds a different definition; the same one again is `changed: false`. */
  /** With a checker, the command is trusted on this machine (see checkGates). */
  addGateDefinition(def: GateDefinitionInput): Promise<GateDefinition & { changed: boolean }>;
  /**
   * GATE_IN_USE (naming the issues) while issues require the gate, unless
   * `dropRequirements`: then it is dropped from each of them as removeGate does.
   */
  removeGateDefinition(key: string, options?: RemoveGateDefinitionOptions): Promise<GateDefinitionRemoval>;
  addGate(idOrPrefix: string, key: string): Promise<IssueChange>;
  /** Stops requiring the gate (registered or not); the last pending gate of a gated issue gone completes it. */
  removeGate(idOrPrefix: string, key: string): Promise<IssueChange>;
  /** Passing a gate already passed by the same checker (`by`) changes nothing. */
  passGate(idOrPrefix: string, key: string, by?: string): Promise<IssueChange>;
  failGate(idOrPrefix: string, key: string, by?: string): Promise<IssueChange>;
  /**
   * Runs checkers (no lock held while they run) and records each run; the
   * verdict is applied to the issue as it is when the run ends. With KEY:
   * that gate (it must have a checker); without: every auto gate the issue
   * requires. GATE_UNTRUSTED before anything runs when a command is not
   * trusted on this machine (trustGate).
   */
  checkGates(idOrPrefix: string, key?: string, options?: GateCheckOptions): Promise<GateCheckReport>;
  /** Every pending auto gate of every issue waiting on one (gated: postchecks; ready, in progress: prechecks); untrusted ones are listed in not_run. */
  checkAllGates(options?: GateCheckOptions): Promise<GateCheckReport>;
  /** The pending auto postchecks of a gated issue (what done runs); untrusted ones are listed in not_run. */
  runPostchecks(idOrPrefix: string, options?: GateCheckOptions): Promise<GateCheckReport>;
  /** The issue's check history, newest first; a run whose runner died reads `abandoned`; corrupt records are skipped and pushed to `unreadable`. */
  gateRuns(idOrPrefix: string, unreadable?: UnreadableRun[]): Promise<GateRun[]>;
  /** Trusts the gate's checker as defined now, on this machine. */
  trustGate(key: string): Promise<{ key: string; command: string; hash: string; changed: boolean }>;

  // Queries
  /** Ready work (as claimNext takes it), most urgent first; with a limit, only the first `limit` (the cost is what is returned). */
  queryReady(options?: QueryFilter): Promise<IssueSummary[]>;
  /** queryReady as JSON text, for a face that prints it (the file store writes it in SQLite, never building the objects). */
  queryReadyJson(options?: QueryFilter): Promise<JsonList>;
  /** Issues of the strategic types (config.toml; default epic, milestone), oldest first. */
  queryStrategic(filter?: QueryFilter): Promise<IssueSummary[]>;
  /** Finished issues (done, rejected, archived), oldest first. */
  queryClosed(filter?: QueryFilter): Promise<IssueSummary[]>;
  /** Label namespaces in use, from the index. */
  labelNamespaces(): Promise<LabelNamespace[]>;
  /** The labels of one namespace in use, from the index. */
  labelValues(namespace: string): Promise<LabelValue[]>;
  queryBlocked(): Promise<BlockedIssue[]>;
  /** Claims in flight with their leases, oldest first; `lapsed`: only those whose lease lapsed (not given back yet). */
  queryClaims(options?: { lapsed?: boolean }): Promise<ClaimInfo[]>;
  /** Agents that have run on this store (live or gone), with their claims. */
  agents(): Promise<AgentStatus[]>;
  status(): Promise<StatusReport>;
  /** The whole tracker (issues, gates, events) as a JSON Lines snapshot in `file` (store/transfer.ts). */
  exportSnapshot(file: string): Promise<{ issues: number; gates: number; events: number }>;
  /** Loads a snapshot into this tracker, which must be empty. */
  importSnapshot(file: string): Promise<{ issues: number; gates: number; events: number }>;
  /** Where the issues are kept: `files` (.jit/), `postgres` or `memory`, and a description without secrets. */
  backend(): { kind: 'files' | 'memory' | 'postgres'; description: string };

  // Graph
  graphEdges(): Promise<{ nodes: IssueSummary[]; edges: GraphEdge[] }>;
  downstream(idOrPrefix: string): Promise<IssueSummary[]>; // issues that (transitively) wait for it
  roots(): Promise<IssueSummary[]>; // issues that wait for nothing

  // Events
  tailEvents(n?: number): Promise<JitEvent[]>;
  /** With a limit, the most recent matches (read back from the end of the log: the cost is what is returned). */
  queryEvents(query?: EventQuery): Promise<JitEvent[]>;
  /** Every matching event, oldest first, handed to `visit` one at a time: memory stays flat whatever the log's size. */
  scanEvents(query: Omit<EventQuery, 'limit'>, visit: (event: JitEvent) => void): Promise<void>;

  // Integrity
  validate(options?: { fix?: boolean }): Promise<ValidationReport>;
}

/** What batchCreate made. */
export interface BatchCreateResult {
  created: number;
  /** Each entry's key (its `ref`, else its position as "[i]") -> the new issue's id. */
  ids: Record<string, string>;
  /** The new issues, in the input's order. */
  issues: IssueSummary[];
  /** Hierarchy rules the batch breaks, under loose validation (as IssueChange.warnings). */
  warnings?: HierarchyViolation[];
}

/** One issue a filtered update matched. */
export interface FilteredUpdateOutcome {
  id: string;
  title: string;
  /** Its state afterwards (before, for refused ones and dry runs). */
  state: State;
  /** The fields changed (or, in a dry run, that would change). */
  fields?: string[];
  /** Why a refused one was refused (the JitError's code and message). */
  error?: { code: string; message: string };
}

export interface FilteredUpdateReport {
  filter: string;
  dry_run: boolean;
  matched: number;
  changed: FilteredUpdateOutcome[];
  unchanged: FilteredUpdateOutcome[];
  refused: FilteredUpdateOutcome[];
}
