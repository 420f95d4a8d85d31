/**
 * The seam between the domain rules (tracker.ts) and where the data lives.
 * Two implementations: JsonFileStorage (`.jit/` on disk, OS file locks) and
 * InMemoryStorage (fast unit tests). One contract suite runs against both
 * (storage.contract.test.ts).
 *
 * Transactions hand a synchronous callback the data as re-read under the
 * locks; whatever it `put`s or `remove`s is written when it returns, and
 * nothing is written when it throws.
 */
import type { GateDefinition, Issue, JitEvent } from './model.js';
import type { IssueSummary, ValidationProblem } from './tracker-api.js';

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

export interface GraphTx extends IssueTx {
  /**
   * Every issue's summary, frozen by the exclusive index lock: no other
   * graph transaction (dependency change, delete) can run until this one
   * has committed, so a cycle check against it cannot race.
   */
  readonly summaries: ReadonlyMap<string, IssueSummary>;
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

  /** Every issue's summary, never stale: left-overs of a crashed writer are read from the issue files. */
  loadSummaries(): Promise<ReadonlyMap<string, IssueSummary>>;
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
   * issues `plan` names for the current summaries, so the plan cannot go stale.
   */
  graphTransaction<T>(plan: (summaries: ReadonlyMap<string, IssueSummary>) => IssueLocks, apply: (tx: GraphTx) => T): Promise<T>;
  /**
   * Changes the gate registry under its exclusive lock. `issues()` reads every
   * issue (corrupt files skipped) while the lock is held: whatever requires a
   * gate took the registry lock shared to check it, so none can change that
   * answer until the transaction ends.
   */
  gatesTransaction<T>(apply: (gates: Map<string, GateDefinition>, issues: () => Issue[]) => T): Promise<T>;

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
}
