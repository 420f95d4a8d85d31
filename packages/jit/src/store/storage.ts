/**
 * The seam between the domain rules (tracker.ts) and where the data lives.
 * Three implementations: JsonFileStorage (`.jit/` on disk, OS file locks),
 * PgStorage (PostgreSQL, for several machines) and InMemoryStorage (fast
 * unit tests). One contract suite runs against all three
 * (storage.contract.test.ts).
 *
 * Transactions hand a synchronous callback the data as re-read under the
 * locks; whatever it `put`s or `remove`s is written when it returns, and
 * nothing is written when it throws.
 */
import type { GateDefinition, Issue, JitEvent, Lease, Priority, State } from './model.js';
import type { IssueSummary, JsonList, StatusReport, ValidationProblem } from './tracker-api.js';
import type { AgentRecord } from './agents.js';
import type { StoreConfig } from './config.js';
import type { ChangeFeedOptions, ChangeSource } from './change-feed.js';

export type StorageKind = 'files' | 'memory' | 'postgres';

export interface IssueLocks {
  /** Issues the transaction may change (exclusive locks). */
  write: readonly string[];
  /** Issues it only reads (shared locks). */
  read?: readonly string[];
  /**
   * Issues it reads without a lock, e.g. the dependencies of a claim: each
   * read is one committed version (files are replaced by rename), which may
   * change before the transaction commits. For rules whose every such change
   * re-checks this transaction's result afterwards (see Tracker); costs no
   * file descriptor while the transaction runs, however many there are.
   */
  peek?: readonly string[];
  /**
   * Of `write`, the issues a graph transaction creates under fresh ids
   * (batch create): nobody can name them before it commits, so they take no
   * lock (no descriptor each), and they are written whole or not at all
   * (JsonFileStorage journals them as one batch).
   */
  create?: readonly string[];
  /** Also read the gate registry (shared lock on gates.json). */
  gates?: boolean;
  /** false: fail with LOCK_TIMEOUT at once instead of waiting when a lock is busy. */
  wait?: boolean;
}

/**
 * Work a transaction owes after its commit point, kept in storage from
 * before the commit until it is finished, so that a kill, a lock timeout or
 * a full disk after the commit never loses it: the next reader or writer
 * finishes it (Tracker.settle). `dependents`: re-check the backlog/ready
 * state of every issue that waits for `issueId` (its finished-ness
 * changed). `self`: re-check the state of `issueId` itself (it was decided
 * from dependencies read before the issue existed for their follow-ups).
 */
export interface FollowUp {
  readonly kind: 'dependents' | 'self';
  readonly issueId: string;
  /** Names this follow-up in storage. */
  readonly token: string;
}

/** Follow-ups that owe the same work (same kind, same issue), in the order each first appears. */
export function groupFollowUps(followUps: readonly FollowUp[]): FollowUp[][] {
  const groups = new Map<string, FollowUp[]>();
  for (const followUp of followUps) {
    const key = `${followUp.kind}:${followUp.issueId}`;
    const group = groups.get(key);
    if (group) group.push(followUp);
    else groups.set(key, [followUp]);
  }
  return [...groups.values()];
}

export interface EventFilter {
  type?: string;
  /** Events whose issue_id starts with this. */
  issuePrefix?: string;
}

export interface IssueTx {
  /** A locked issue as stored now; null when it has no file (new or deleted). Throws for unlocked ids. */
  issue(id: string): Issue | null;
  put(issue: Issue): void;
  remove(id: string): void;
  /** Appended to the event log when the transaction commits. */
  event(event: JitEvent): void;
  /** Records a follow-up, stored before the transaction's first write (and not at all when it writes nothing). */
  followUp(kind: FollowUp['kind'], issueId: string): FollowUp;
  /** The gate registry; only when the transaction asked for `gates`. */
  gates(): ReadonlyMap<string, GateDefinition>;
}

/**
 * The dependency graph as a graph transaction sees it, frozen by the
 * exclusive index lock: no other graph transaction (dependency change,
 * delete) can run until this one has committed, so a cycle check against it
 * cannot race. Synchronous point lookups, so a walk costs what it reaches,
 * never the size of the store. An issue whose writer is still at work (a
 * marker names it and its lock is held) counts with the edges of both its
 * summary and its file, so no edge being written is missed.
 */
export interface GraphLookup {
  /** The issue's summary; undefined when no such issue exists (deleted, or a dangling dependency's target). */
  summary(id: string): IssueSummary | undefined;
  /** Ids of the issues whose dependencies name `id` (directly), in id order; `id` need not exist. */
  dependentsOf(id: string): string[];
}

export interface GraphTx extends IssueTx, GraphLookup {}

/**
 * Which summaries a list or ready query keeps; every field given must hold.
 * Values arrive checked and normalised (Tracker parses them).
 */
export interface SummaryFilter {
  state?: State;
  priority?: Priority;
  assignee?: string;
  /**
   * One label (`type:bug`: the issue has exactly this label) or a whole
   * namespace (`type:*`: the issue has some label starting with `type:`).
   * No other pattern reaches storage (checkLabelFilter refuses it).
   */
  label?: string;
  /** Any of these states (`query closed`: done, rejected, archived); with `state`, both must hold. */
  states?: readonly State[];
  /** The issue has at least one of these exact labels (`query strategic`: `type:epic`, `type:milestone`). */
  anyLabel?: readonly string[];
}

/** A namespace of labels (the part before the first `:`), as `label namespaces` lists it. */
export interface LabelNamespace {
  namespace: string;
  /** How many distinct labels it holds, and how many issues carry at least one. */
  values: number;
  issues: number;
}

/** One label of a namespace, as `label values NS` lists it. */
export interface LabelValue {
  label: string;
  value: string;
  issues: number;
}

/** Which part of a list to return (Storage.pageSummaries): `limit` items from `offset` on. */
export interface SummaryPage {
  offset: number;
  limit: number;
}

/** A page of a list, with how many items the whole list has. */
export interface SummariesPage {
  issues: IssueSummary[];
  total: number;
}

/** A claim with its lease (Lease | null: what activeLease gives for its issue). */
export interface HeldClaim {
  summary: IssueSummary;
  lease: Lease | null;
}

/** Storage.heldClaims: the claims with their leases, and the ids of those only their files can tell. */
export interface HeldClaims {
  claims: HeldClaim[];
  /** Read each one's file: it may be a claim (or have just stopped being one) and the index may lag it. */
  fromFiles: string[];
}

/** Which ready work Storage.readyWork returns (claim-next's filter, and a page size). */
export interface ReadyQuery extends Pick<SummaryFilter, 'priority' | 'label'> {
  limit?: number;
  /** Leave out issues carrying any of these exact labels (the strategic types: containers are not work). */
  excludeLabels?: readonly string[];
}

/** An issue that waits, as readers list it (see Storage.blockedCandidates). */
export interface BlockedCandidate {
  issue: IssueSummary;
  /** Its unfinished dependencies (existing, not done/rejected/archived), in the order its `dependencies` lists them. */
  waitsFor: { id: string; state: State }[];
}

export interface StorageCheck {
  problems: ValidationProblem[];
  fixed: string[];
  /** Crash leftovers cleaned up whether or not `fix` was asked (see ValidationReport.recovered). */
  recovered: string[];
}

export interface Storage {
  /** A short name for messages ("files at /x/.jit", "memory"). */
  readonly description: string;
  /** Which backend this is (`jit status` reports it). */
  readonly kind: StorageKind;
  /** The project's `.jit/` folder, when there is one (a database may have none). */
  readonly jitDir?: string;

  /**
   * Every issue's summary, never stale: left-overs of a crashed writer are
   * read from the issue files. Only for reads that are about the whole store
   * by nature (graph export, roots, validate): everything else uses the
   * targeted reads below, whose cost does not grow with the store.
   */
  loadSummaries(): Promise<ReadonlyMap<string, IssueSummary>>;

  // Targeted reads. Each answers exactly as the same question asked of
  // loadSummaries() at that moment would: never stale (an issue a marker
  // names is read from its file, added or dropped as the file says), and
  // the cost is what is returned (plus index look-ups), not the store.
  // Shared definitions:
  // - finished: state done, rejected or archived (TERMINAL_STATES);
  // - an unfinished dependency: one that names an existing issue that is
  //   not finished. A dangling dependency (its issue deleted) never blocks;
  // - byAge: created_at ascending, then id (code-unit order);
  // - byUrgency: priority critical, high, normal, low, then byAge.

  /** The summaries of those of `ids` that exist (unknown ids are left out, no error); keyed by id. */
  summaries(ids: readonly string[]): Promise<Map<string, IssueSummary>>;
  /**
   * Summaries whose id starts with `prefix` (lower-case hex and dashes; "" matches all), in id
   * order, at most `limit` of them (resolving a prefix needs only a few:
   * one means unique, more means ambiguous; a full id matches only itself).
   */
  summariesByPrefix(prefix: string, limit: number): Promise<IssueSummary[]>;
  /**
   * Summaries of the issues whose dependencies name any of `ids` (directly),
   * each once, byAge; dangling dependencies count (a deleted id still has the
   * dependents that name it). Downstream walks call it once per level.
   */
  dependentsOf(ids: readonly string[]): Promise<IssueSummary[]>;
  /**
   * Summaries of the issues that wait for `id` directly or transitively
   * (never `id` itself, even on a cycle), each once, byAge: one call however
   * deep the chain (a recursive query, not one read per level).
   */
  downstreamOf(id: string): Promise<IssueSummary[]>;
  /**
   * Claimable work: state ready, no assignee, no unfinished dependency, and
   * the query's priority and label (as in SummaryFilter) when given.
   * byUrgency; at most `limit` (a positive integer) when given.
   */
  readyWork(query?: ReadyQuery): Promise<IssueSummary[]>;
  /** readyWork as JSON text (JsonList): the same summaries, parsed. */
  readyWorkJson(query?: ReadyQuery): Promise<JsonList>;
  /**
   * Counts over every issue: total, by_state (every state present, 0 when
   * none), ready (as readyWork counts it), blocked (gated, or with an
   * unfinished dependency while not finished itself).
   * `excludeLabels` as in ReadyQuery (the ready count only).
   */
  statusReport(options?: Pick<ReadyQuery, 'excludeLabels'>): Promise<StatusReport>;
  /** Every label namespace in use, by name; from the index (no issue file is read). */
  labelNamespaces(): Promise<LabelNamespace[]>;
  /** The labels of one namespace in use, by label; the cost is that namespace's labels, not the store. */
  labelValues(namespace: string): Promise<LabelValue[]>;
  /** `.jit/config.toml` as it is now (config.ts); an empty configuration where there is none. */
  readConfig(): StoreConfig;
  /**
   * Issues that may be blocked, byAge: every gated issue, and every
   * unfinished issue with an unfinished dependency (listed in waitsFor).
   * Whether a gated one still has pending gates is in its file only: the
   * tracker reads those few files.
   */
  blockedCandidates(): Promise<BlockedCandidate[]>;
  /**
   * Claims that may have lapsed at `now` (an ISO timestamp): in progress or
   * gated with an assignee, whose lease expired by `now` (lease_expires_at <=
   * now) or is bound to an agent (lease_agent set; the tracker checks whether
   * it runs); byAge. The cost is those claims, not the store.
   */
  lapsableClaims(now: string): Promise<IssueSummary[]>;
  /**
   * Every claim (in progress or gated, with an assignee) with its lease, in
   * any order. The file store answers from its index and names in
   * `fromFiles` the claims whose row may lag their file (a marker names
   * them) or knows no lease, or every claim when it has no usable index:
   * the caller reads those files. The others read no file.
   */
  heldClaims(): Promise<HeldClaims>;
  /** Summaries that pass `filter` (all of them for an empty one), byAge. */
  listSummaries(filter?: SummaryFilter): Promise<IssueSummary[]>;
  /**
   * One page of listSummaries and the whole list's length, without reading
   * the whole list where the backend can count (MCP issue_list's `total`).
   */
  pageSummaries(filter: SummaryFilter, page: SummaryPage): Promise<SummariesPage>;

  readIssue(id: string): Promise<Issue | null>;
  /** Every issue, from the issue files themselves (search, validate). A corrupt file throws CORRUPT_FILE unless skipped. */
  readAllIssues(options?: { skipCorrupt?: boolean }): Promise<Issue[]>;
  readGates(): Promise<ReadonlyMap<string, GateDefinition>>;
  /**
   * Events that pass `filter`, oldest first; lines that are not events (a
   * torn last line) are skipped. With `last`, only the most recent `last`
   * of them, read back from the end of the log: the cost is what is returned.
   */
  readEvents(filter?: EventFilter & { last?: number }): Promise<JitEvent[]>;
  /** Every event that passes `filter`, oldest first, one at a time: memory stays flat at any log size. */
  scanEvents(filter: EventFilter, visit: (event: JitEvent) => void): Promise<void>;

  /** Changes issues under their own locks only (Pattern 1: different issues in parallel). */
  issueTransaction<T>(locks: IssueLocks, apply: (tx: IssueTx) => T): Promise<T>;
  /**
   * Changes the dependency graph: takes the index lock exclusively, then the
   * issues `plan` names from the graph as it stands under that lock (the
   * same GraphLookup that `apply` then gets in its tx), so the plan cannot
   * go stale.
   */
  graphTransaction<T>(plan: (graph: GraphLookup) => IssueLocks, apply: (tx: GraphTx) => T): Promise<T>;
  /**
   * Changes the gate registry under its exclusive lock. `issues()` reads every
   * issue (corrupt files skipped) while the lock is held: whatever requires a
   * gate took the registry lock shared to check it, so none can change that
   * answer until the transaction ends. `event` appends to the event log with
   * the registry's change (gate_definition_created/removed), so a change feed
   * hears of it.
   */
  gatesTransaction<T>(apply: (gates: Map<string, GateDefinition>, issues: () => Issue[], event: (event: JitEvent) => void) => T): Promise<T>;

  /**
   * Follow-ups left by transactions that committed (or were killed) before
   * they finished them, oldest first. Only those whose issue nobody is
   * writing right now: its transaction has then committed or died, so work
   * done after this call sees what it wrote.
   */
  listFollowUps(): Promise<FollowUp[]>;
  /** Forgets finished follow-ups (one already forgotten is no error). */
  finishFollowUps(followUps: readonly FollowUp[]): Promise<void>;

  /** Storage-level integrity: index vs files, corrupt files, torn event line, temp files. */
  check(options: { fix: boolean }): Promise<StorageCheck>;

  /** Whether the agent `id` runs now (agents.ts: its agent lock is held); never waits. */
  isAgentLive(id: string): boolean;
  /** Every agent that has run on this store, live or gone, by id. */
  listAgents(): AgentRecord[];

  /**
   * The store's change signal for long-running faces (`jit serve`), started
   * from now: resolves once it listens. Absent where nothing else can write
   * (memory).
   */
  watchChanges?(options?: ChangeFeedOptions): Promise<ChangeSource>;
}
