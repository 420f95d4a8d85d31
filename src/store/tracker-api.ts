/**
 * The domain operations both faces (CLI and MCP) call. One implementation
 * (`Tracker` in tracker.ts) over a `Storage` (JsonFileStorage or
 * InMemoryStorage). Every method is one transaction: it takes its locks,
 * re-reads under them, applies its rule, writes and releases.
 *
 * Ids in arguments may be full UUIDs or unique prefixes of 4+ hex
 * characters. State names accept `in-progress`/`in_progress`/`inprogress`
 * and `open` (= backlog). Errors are JitError (errors.ts).
 */
import type { GateDefinition, Issue, JitEvent, Priority, State, EventType } from './model.js';

export interface CreateIssueInput {
  title: string;
  description?: string;
  priority?: Priority | string;
  labels?: string[];
  gates?: string[]; // gate keys; must exist in the registry
  dependencies?: string[];
  assignee?: string;
  context?: Record<string, string>;
}

export interface UpdateIssueInput {
  title?: string;
  description?: string;
  state?: State | string;
  priority?: Priority | string;
  addLabels?: string[];
  removeLabels?: string[];
  assignee?: string | null;
  context?: Record<string, string>; // merged; a value of "" removes the key
}

export interface IssueFilter {
  state?: State | string;
  assignee?: string;
  priority?: Priority | string;
  label?: string;
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

/** An issue as a write left it. `pending` only when a follow-up could not be finished (see PendingFollowUp). */
export type IssueResult = Issue & { pending?: PendingFollowUp[] };

export interface BlockedIssue {
  issue: IssueSummary;
  reasons: string[]; // e.g. "waits for 1a2b3c4d (in_progress)", "gate tests pending"
}

export interface StatusReport {
  total: number;
  by_state: Record<State, number>;
  ready: number; // claimable now
  blocked: number;
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
    | 'missing_final_newline';
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

export interface ClaimNextFilter {
  label?: string;
  priority?: Priority | string;
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
  createIssue(input: CreateIssueInput): Promise<IssueResult>;
  getIssue(idOrPrefix: string): Promise<Issue>;
  /** A change of state into or out of done/rejected/archived also moves the issues that wait for it (backlog <-> ready). */
  updateIssue(idOrPrefix: string, input: UpdateIssueInput): Promise<IssueResult>;
  deleteIssue(idOrPrefix: string): Promise<{ id: string }>;
  listIssues(filter?: IssueFilter): Promise<IssueSummary[]>;
  searchIssues(query: string): Promise<Issue[]>;

  // Assignment
  assign(idOrPrefix: string, assignee: string): Promise<Issue>;
  /** Exactly one winner: fails with ALREADY_CLAIMED when someone else holds it. */
  claim(idOrPrefix: string, assignee: string): Promise<Issue>;
  unassign(idOrPrefix: string): Promise<Issue>;
  /** Gives the issue back (assignee cleared, state back to ready/backlog), recording why. */
  release(idOrPrefix: string, reason: string): Promise<Issue>;
  /** Highest priority, then oldest, of the ready work; NO_READY_ISSUE when none. */
  claimNext(assignee: string, filter?: ClaimNextFilter): Promise<Issue>;

  // Dependencies (from waits for to)
  addDependency(from: string, to: string): Promise<Issue>;
  removeDependency(from: string, to: string): Promise<Issue>;

  // Gates
  listGateDefinitions(): Promise<GateDefinition[]>;
  getGateDefinition(key: string): Promise<GateDefinition>;
  addGateDefinition(def: { key: string; title: string; description?: string; auto?: boolean }): Promise<GateDefinition>;
  removeGateDefinition(key: string): Promise<{ key: string }>;
  addGate(idOrPrefix: string, key: string): Promise<Issue>;
  passGate(idOrPrefix: string, key: string, by?: string): Promise<IssueResult>;
  failGate(idOrPrefix: string, key: string, by?: string): Promise<IssueResult>;

  // Queries
  queryReady(): Promise<IssueSummary[]>;
  queryBlocked(): Promise<BlockedIssue[]>;
  status(): Promise<StatusReport>;

  // Graph
  graphEdges(): Promise<{ nodes: IssueSummary[]; edges: GraphEdge[] }>;
  downstream(idOrPrefix: string): Promise<IssueSummary[]>; // issues that (transitively) wait for it
  roots(): Promise<IssueSummary[]>; // issues that wait for nothing

  // Events
  tailEvents(n?: number): Promise<JitEvent[]>;
  queryEvents(query?: EventQuery): Promise<JitEvent[]>;

  // Integrity
  validate(options?: { fix?: boolean }): Promise<ValidationReport>;
}
