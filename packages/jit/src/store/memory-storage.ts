/**
 * Storage in memory, for fast tests of the domain rules. JavaScript runs one
 * callback at a time, so every transaction is trivially atomic; values are
 * copied in and out so callers can never alias stored data.
 */
import { JitError } from './errors.js';
import type { GateDefinition, Issue, JitEvent } from './model.js';
import { summarize } from './schema.js';
import { eventMatches } from './event-log.js';
import * as queries from './queries.js';
import type { BlockedCandidate, EventFilter, FollowUp, GraphLookup, GraphTx, HeldClaims, IssueLocks, IssueTx, LabelNamespace, LabelValue, ReadyQuery, Storage, StorageCheck, SummariesPage, SummaryFilter, SummaryPage } from './storage.js';
import { activeLease, isClaim } from './leases.js';
import type { StoreConfig } from './config.js';
import type { IssueSummary, JsonList, StatusReport } from './tracker-api.js';
import type { AgentRecord } from './agents.js';

export class InMemoryStorage implements Storage {
  readonly description = 'memory';
  readonly kind = 'memory';
  private readonly issues = new Map<string, Issue>();
  private readonly gates = new Map<string, GateDefinition>();
  private readonly events: JitEvent[] = [];
  private readonly followUps = new Map<string, FollowUp>();
  private followUpCounter = 0;

  async loadSummaries(): Promise<ReadonlyMap<string, IssueSummary>> {
    return this.allSummaries();
  }

  // The targeted reads, over every summary: this store is for tests, its size is theirs.

  async summaries(ids: readonly string[]): Promise<Map<string, IssueSummary>> {
    return queries.pickSummaries(this.allSummaries(), ids);
  }

  async summariesByPrefix(prefix: string, limit: number): Promise<IssueSummary[]> {
    return queries.summariesByPrefix(this.allSummaries(), prefix, limit);
  }

  async dependentsOf(ids: readonly string[]): Promise<IssueSummary[]> {
    return queries.dependentsOf(this.allSummaries(), ids);
  }

  async downstreamOf(id: string): Promise<IssueSummary[]> {
    return queries.downstreamOf(this.allSummaries(), id);
  }

  async readyWork(query?: ReadyQuery): Promise<IssueSummary[]> {
    return queries.readyWork(this.allSummaries(), query);
  }

  async readyWorkJson(query?: ReadyQuery): Promise<JsonList> {
    return queries.jsonList(await this.readyWork(query));
  }

  async statusReport(options: Pick<ReadyQuery, 'excludeLabels'> = {}): Promise<StatusReport> {
    return queries.statusReport(this.allSummaries(), options);
  }

  async labelNamespaces(): Promise<LabelNamespace[]> {
    return queries.labelNamespaces(this.allSummaries());
  }

  async labelValues(namespace: string): Promise<LabelValue[]> {
    return queries.labelValues(this.allSummaries(), namespace);
  }

  /** The configuration, as tests set it (setConfig): memory has no config.toml. */
  private config: StoreConfig = { path: 'memory', exists: false, data: {} };

  setConfig(config: Omit<StoreConfig, 'path' | 'exists' | 'data'>): void {
    this.config = { path: 'memory', exists: true, data: {}, ...config };
  }

  readConfig(): StoreConfig {
    return this.config;
  }

  async blockedCandidates(): Promise<BlockedCandidate[]> {
    return queries.blockedCandidates(this.allSummaries());
  }

  async lapsableClaims(now: string): Promise<IssueSummary[]> {
    return queries.lapsableClaims(this.allSummaries(), now);
  }

  async heldClaims(): Promise<HeldClaims> {
    const claims = [...this.issues.values()].filter(isClaim).map((issue) => ({ summary: summarize(issue), lease: activeLease(issue) ?? null }));
    return { claims, fromFiles: [] };
  }

  async listSummaries(filter?: SummaryFilter): Promise<IssueSummary[]> {
    return queries.listSummaries(this.allSummaries(), filter);
  }

  async pageSummaries(filter: SummaryFilter, page: SummaryPage): Promise<SummariesPage> {
    return queries.pageSummaries(this.allSummaries(), filter, page);
  }

  async readIssue(id: string): Promise<Issue | null> {
    const issue = this.issues.get(id);
    return issue ? structuredClone(issue) : null;
  }

  async readAllIssues(): Promise<Issue[]> {
    return [...this.issues.values()].map((issue) => structuredClone(issue));
  }

  async readGates(): Promise<ReadonlyMap<string, GateDefinition>> {
    return structuredClone(this.gates);
  }

  async readEvents(filter: EventFilter & { last?: number } = {}): Promise<JitEvent[]> {
    const matching = this.events.filter((event) => eventMatches(event, filter));
    return structuredClone(filter.last === undefined ? matching : filter.last <= 0 ? [] : matching.slice(-filter.last));
  }

  async scanEvents(filter: EventFilter, visit: (event: JitEvent) => void): Promise<void> {
    for (const event of this.events) if (eventMatches(event, filter)) visit(structuredClone(event));
  }

  async issueTransaction<T>(locks: IssueLocks, apply: (tx: IssueTx) => T): Promise<T> {
    return this.run(locks, (tx) => apply(tx));
  }

  async graphTransaction<T>(plan: (graph: GraphLookup) => IssueLocks, apply: (tx: GraphTx) => T): Promise<T> {
    const graph = queries.graphLookup(this.allSummaries());
    return this.run(plan(graph), (tx) => apply({ ...tx, ...graph }));
  }

  async gatesTransaction<T>(apply: (gates: Map<string, GateDefinition>, issues: () => Issue[], event: (event: JitEvent) => void) => T): Promise<T> {
    const draft = structuredClone(this.gates);
    const events: JitEvent[] = [];
    const result = apply(
      draft,
      () => [...this.issues.values()].map((issue) => structuredClone(issue)),
      (event) => void events.push(structuredClone(event)),
    );
    this.gates.clear();
    for (const [key, def] of draft) this.gates.set(key, def);
    this.events.push(...events);
    return result;
  }

  async listFollowUps(): Promise<FollowUp[]> {
    return [...this.followUps.values()];
  }

  async finishFollowUps(followUps: readonly FollowUp[]): Promise<void> {
    for (const { token } of followUps) this.followUps.delete(token);
  }

  async check(): Promise<StorageCheck> {
    return { problems: [], fixed: [], recovered: [] };
  }

  /** Agents that run "now", as tests set them (setAgentLive): memory has no processes to lock for. */
  private readonly agents = new Map<string, boolean>();

  setAgentLive(id: string, live: boolean): void {
    this.agents.set(id, live);
  }

  isAgentLive(id: string): boolean {
    return this.agents.get(id) === true;
  }

  listAgents(): AgentRecord[] {
    return [...this.agents].sort(([a], [b]) => a.localeCompare(b)).map(([id, live]) => ({ id, live, holder: null }));
  }

  private allSummaries(): Map<string, IssueSummary> {
    return new Map([...this.issues].map(([id, issue]) => [id, summarize(issue)]));
  }

  private run<T>(locks: IssueLocks, apply: (tx: IssueTx) => T): T {
    const writable = new Set(locks.write);
    const readable = new Set([...writable, ...(locks.read ?? []), ...(locks.peek ?? [])]);
    const changes = new Map<string, Issue | null>();
    const newEvents: JitEvent[] = [];
    const newFollowUps: FollowUp[] = [];
    const tx: IssueTx = {
      issue: (id) => {
        if (!readable.has(id)) throw new JitError('INTERNAL', `Transaction read issue ${id} without locking it.`);
        const changed = changes.get(id);
        if (changed !== undefined) return changed && structuredClone(changed);
        const stored = this.issues.get(id);
        return stored ? structuredClone(stored) : null;
      },
      put: (issue) => {
        if (!writable.has(issue.id)) throw new JitError('INTERNAL', `Transaction wrote issue ${issue.id} without locking it.`);
        changes.set(issue.id, structuredClone(issue));
      },
      remove: (id) => {
        if (!writable.has(id)) throw new JitError('INTERNAL', `Transaction removed issue ${id} without locking it.`);
        changes.set(id, null);
      },
      event: (event) => newEvents.push(structuredClone(event)),
      followUp: (kind, issueId) => {
        const followUp = { kind, issueId, token: `${issueId}.${++this.followUpCounter}.${kind}` };
        newFollowUps.push(followUp);
        return followUp;
      },
      gates: () => {
        if (!locks.gates) throw new JitError('INTERNAL', 'Transaction read the gate registry without locking it.');
        return structuredClone(this.gates);
      },
    };
    const result = apply(tx);
    for (const [id, issue] of changes) {
      if (issue) this.issues.set(id, issue);
      else this.issues.delete(id);
    }
    this.events.push(...newEvents);
    if (changes.size > 0) for (const followUp of newFollowUps) this.followUps.set(followUp.token, followUp);
    return result;
  }
}
