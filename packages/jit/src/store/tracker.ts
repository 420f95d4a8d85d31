/**
 * The domain operations both faces call (TrackerApi), over any Storage.
 * Every rule lives here: readiness, state transitions, claims, gates,
 * dependency cycles. Storage only provides transactions.
 */
import { bare, command, hint, run } from './suggestions.js';
import { JitError } from './errors.js';
import { isFullId, newIssueId, newUuid, normalizeIdInput, resolveId } from './ids.js';
import { EVENT_TYPES, TERMINAL_STATES } from './model.js';
import { TYPE_NAMESPACE, directionViolation, enforce, hierarchyOf, labelViolations, typeLabel, typesOf, type Hierarchy, type HierarchyViolation } from './hierarchy.js';
import type { EventType, GateDefinition, Issue, JitEvent, State } from './model.js';
import {
  automaticState,
  byAge,
  byUrgency,
  checkAssignee,
  checkReason,
  checkContext,
  checkDescription,
  checkGateKey,
  checkBoolean,
  checkCount,
  checkInput,
  checkLabel,
  checkList,
  checkTitle,
  checkToken,
  describeCycle,
  findPath,
  isTerminal,
  checkLabelFilter,
  labelMatcher,
  parsePriority,
  parseState,
  pendingGates,
  preview,
  checkLabelNamespace,
  splitLabels,
  unfinishedDependencies,
} from './rules.js';
import { batchCycleError, entryError, findBatchCycle, parseBatch } from './batch.js';
import { parseFilter, type IssueMatcher } from './filter.js';
import { groupFollowUps, type EventFilter, type FollowUp, type IssueTx, type LabelNamespace, type LabelValue, type ReadyQuery, type Storage, type SummaryFilter } from './storage.js';
import type {
  AgentStatus,
  BatchCreateResult,
  BlockedIssue,
  FilteredUpdateOutcome,
  FilteredUpdateReport,
  ClaimInfo,
  ClaimOptions,
  ClaimNextFilter,
  CreateIssueInput,
  EventQuery,
  GateCheckOptions,
  GateCheckReport,
  GateDefinitionInput,
  GateRun,
  UnreadableRun,
  GraphEdge,
  IssueChange,
  IssueFilter,
  IssueSummary,
  IssueUpdate,
  JsonList,
  GateDefinitionRemoval,
  PendingFollowUp,
  QueryFilter,
  RemoveGateDefinitionOptions,
  StatusReport,
  TrackerApi,
  UpdateIssueInput,
  ValidationReport,
} from './tracker-api.js';
import { blockedIssues, dependencyGraph, jsonList, rootIssues } from './queries.js';
import { validateStore } from './validate.js';
import { AGENT_ID_VARIABLE, activeLease, checkTtl, claimLapse, isClaim, leaseLapse, newLease, summaryLease, withoutStaleLease, type LapseReason } from './leases.js';
import type { Lease } from './model.js';
import { gateDefinition, pendingPrechecks, prechecksPending } from './gate-defs.js';
import type { GateCheckHost } from './gate-checks.js';

const short = (id: string): string => id.slice(0, 8);
/** How many matches of an id prefix are read to resolve it: one is unique, more are ambiguous (and listed, up to this many). */
const PREFIX_MATCHES_READ = 100;
/** Ready work claim-next reads at a time, on top of the candidates it already lost to other claimers. */
const CLAIM_CANDIDATES_READ = 20;
let lastTimestamp = 0;
/** Strictly increasing within a process, so "oldest first" is well defined even for issues made in one millisecond. */
function now(): string {
  lastTimestamp = Math.max(Date.now(), lastTimestamp + 1);
  return new Date(lastTimestamp).toISOString();
}

function notFound(id: string, code: 'ISSUE_NOT_FOUND' | 'DEPENDENCY_NOT_FOUND' = 'ISSUE_NOT_FOUND'): JitError {
  return new JitError(code, `No issue with id ${id}.`, { suggestions: [hint`${run(command('issue.list'))} to see the ids.`], details: { id } });
}

/**
 * A new id that an issue already has: random ids never repeat unless the OS's
 * random source does (a device that is no random one), and then refusing is
 * what keeps the existing issue from being written over.
 */
function idTaken(id: string): JitError {
  return new JitError('INTERNAL', `The new issue's random id ${id} is already taken: nothing was created. The system's random source repeats itself: check /dev/urandom.`, {
    details: { id },
  });
}

/** Asked by a transaction whose dependency locks went stale: run it again with fresh ones. */
class DependenciesMoved extends Error {}
/** Asked by a transaction that needs the gate registry (prechecks): run it again with the registry's lock. */
class RegistryNeeded extends Error {}

/** The transaction as it is, except that reading the registry asks for it to run again with the registry's lock. */
function withoutRegistry(tx: IssueTx): IssueTx {
  return {
    issue: (id) => tx.issue(id),
    put: (issue) => tx.put(issue),
    remove: (id) => tx.remove(id),
    event: (event) => tx.event(event),
    followUp: (kind, issueId) => tx.followUp(kind, issueId),
    gates: () => {
      throw new RegistryNeeded();
    },
  };
}

export interface TrackerOptions {
  /**
   * The agent this process works for (JIT_AGENT_ID, `jit mcp --agent`): the
   * default assignee of claims, and, while that agent runs (holds its agent
   * lock: agents.ts), the agent every claim made here is bound to.
   */
  agent?: string;
}

export class Tracker implements TrackerApi {
  /** The settle() under way, shared by concurrent calls in this process. */
  private settling: Promise<void> | undefined;

  constructor(
    readonly storage: Storage,
    private readonly options: TrackerOptions = {},
  ) {}

  // ---------------------------------------------------------------- issues

  async createIssue(input: CreateIssueInput): Promise<IssueChange> {
    checkInput(input);
    const title = checkTitle(input.title);
    const description = input.description === undefined ? '' : checkDescription(input.description);
    const priority = input.priority === undefined ? 'normal' : parsePriority(input.priority);
    const hierarchy = this.hierarchy();
    const labels = unique([...splitLabels(checkList('labels', input.labels)).map(checkLabel), ...(input.type === undefined ? [] : [typeLabel(input.type, hierarchy)])]);

    const gates = unique(checkList('gates', input.gates).map(checkGateKey));
    const assignee = input.assignee === undefined ? null : checkAssignee('assignee', input.assignee);
    const context = input.context === undefined ? {} : dropEmpty(checkContext(input.context));
    const wanted = checkList('dependencies', input.dependencies).map(normalizeIdInput);
    await this.settle();
    const resolved: string[] = [];
    for (const d of wanted) resolved.push((await this.lookUp(d, 'DEPENDENCY_NOT_FOUND')).id);
    const dependencies = unique(resolved);
    const id = newIssueId();
    const warnings = enforce(labelViolations({ id, labels }, hierarchy), hierarchy);
    const { issue: created, followUps, directionWarnings } = await this.storage.issueTransaction({ write: [id], peek: dependencies, gates: gates.length > 0 }, (tx) => {
      if (tx.issue(id)) throw idTaken(id);
      for (const dep of dependencies) if (!tx.issue(dep)) throw notFound(dep, 'DEPENDENCY_NOT_FOUND');
      const directionWarnings = enforce(dependencyViolations({ id, labels }, dependencies.map((d) => tx.issue(d)!), hierarchy), hierarchy);
      const registry = gates.length > 0 ? tx.gates() : new Map<string, GateDefinition>();
      for (const key of gates) if (!registry.has(key)) throw gateNotFound(key);
      const timestamp = now();
      const issue: Issue = {
        id,
        title,
        description,
        state: unfinishedDependencies({ dependencies }, (d) => tx.issue(d)?.state).length === 0 ? 'ready' : 'backlog',
        priority,
        assignee,
        dependencies,
        gates_required: gates,
        gates_status: Object.fromEntries(gates.map((key) => [key, { status: 'pending' as const, updated_by: null, updated_at: timestamp }])),
        labels,
        context,
        created_at: timestamp,
        updated_at: timestamp,
      };
      tx.put(issue);
      tx.event(makeEvent('issue_created', id, { title, state: issue.state }));
      // Its dependencies were read without locks, before it existed for their follow-ups: re-check it once it does.
      return { issue, followUps: dependencies.length > 0 ? [tx.followUp('self', id)] : [], directionWarnings };
    });
    const checked = new Map<string, Issue>();
    const pending = await this.runFollowUps(followUps, true, checked);
    return withWarnings(changeResult(checked.get(id) ?? created, true, pending), [...warnings, ...directionWarnings]);
  }

  async getIssue(idOrPrefix: string): Promise<Issue> {
    const { id } = await this.resolve(idOrPrefix);
    const issue = await this.storage.readIssue(id);
    if (!issue) throw notFound(id);
    return issue;
  }

  async updateIssue(idOrPrefix: string, input: UpdateIssueInput): Promise<IssueUpdate> {
    return (await this.updateIssueIf(idOrPrefix, input, () => true))!;
  }

  /** updateIssue, if the issue as read under its lock still `matches`; null (nothing written) when it does not. */
  private async updateIssueIf(idOrPrefix: string, input: UpdateIssueInput, matches: IssueMatcher): Promise<IssueUpdate | null> {
    checkInput(input);
    const title = input.title === undefined ? undefined : checkTitle(input.title);
    const description = input.description === undefined ? undefined : checkDescription(input.description);
    const state = input.state === undefined ? undefined : parseState(input.state);
    const priority = input.priority === undefined ? undefined : parsePriority(input.priority);
    const addLabels = splitLabels(checkList('addLabels', input.addLabels)).map(checkLabel);
    const removeLabels = new Set(splitLabels(checkList('removeLabels', input.removeLabels)).map((l) => checkToken('label', l)));
    const assignee = input.assignee === undefined || input.assignee === null ? input.assignee : checkAssignee('assignee', input.assignee);
    const context = input.context === undefined ? undefined : checkContext(input.context);
    const hierarchy = this.hierarchy();
    const setType = input.type === undefined ? undefined : typeLabel(input.type, hierarchy);
    if (setType !== undefined) addLabels.push(setType);
    // A type change is checked against the issues that wait for this one too (read before its lock: validate catches a race).
    const target = setType !== undefined || addLabels.some((l) => typesOf([l]).length > 0) ? await this.resolve(idOrPrefix) : undefined;
    const dependents = target ? await this.storage.dependentsOf([target.id]) : [];
    let warnings: HierarchyViolation[] = [];
    let gatesPending: string[] = [];
    let stillMatches = true;
    const { before, after, followUps } = await this.changeIssue(idOrPrefix, (issue, dependenciesDone, tx) => {
      stillMatches = matches(summarizeIssue(issue));
      if (!stillMatches) return issue;
      const { id } = issue;
      const next: Issue = { ...issue, labels: [...issue.labels], context: { ...issue.context } };
      if (title !== undefined) next.title = title;
      if (description !== undefined) next.description = description;
      if (priority !== undefined) next.priority = priority;
      if (assignee !== undefined) next.assignee = assignee;
      // --type replaces the issue's type: its other type: labels go.
      const replaced = setType === undefined ? [] : typesOf(next.labels).map((t) => `${TYPE_NAMESPACE}:${t}`).filter((l) => l !== setType);
      next.labels = unique([...next.labels, ...addLabels]).filter((l) => !removeLabels.has(l) && !replaced.includes(l));
      warnings = [];
      if (JSON.stringify(typesOf(next.labels)) !== JSON.stringify(typesOf(issue.labels))) {
        warnings = enforce(
          [
            ...labelViolations(next, hierarchy),
            ...dependencyViolations(next, next.dependencies.map((d) => tx.issue(d)).filter((d) => d !== null), hierarchy),
            ...dependents.flatMap((d) => directionViolation(d, next, hierarchy) ?? []),
          ],
          hierarchy,
        );
      }
      if (context) next.context = dropEmpty({ ...next.context, ...context });
      gatesPending = [];
      if (state !== undefined && state !== issue.state) {
        next.state = this.checkTransition(issue, state, dependenciesDone, tx);
        // Also when it already was gated: a retried "done" still waits for the same gates.
        if (state === 'done' && next.state === 'gated') gatesPending = pendingGates(issue);
      }
      // A claimed issue is given back as unassign/release give it back, never stranded:
      if (issue.state === 'in_progress') {
        // clearing its holder (and not moving it elsewhere) returns it to the queue, like unassign;
        if (next.state === 'in_progress' && issue.assignee !== null && next.assignee === null) next.state = dependenciesDone ? 'ready' : 'backlog';
        // moving it back to the queue lets go of its holder, like release (unless the update names a new one).
        else if ((next.state === 'ready' || next.state === 'backlog') && assignee === undefined) next.assignee = null;
      }
      const changed = changedFields(issue, next);
      if (changed.length === 0) return issue;
      next.updated_at = now();
      tx.event(makeEvent('issue_updated', id, { fields: changed }));
      recordStateChange(tx, issue, next);
      return next;
    });
    if (!stillMatches) return null;
    const pending = await this.runFollowUps(followUps, true);
    // Done with gates pending is stored as gated: a saved change, reported as one (never as a failure a caller would retry).
    return withWarnings({ ...changeResult(after, after !== before, pending), ...(gatesPending.length > 0 ? { pending_gates: gatesPending } : {}) }, warnings);
  }

  async deleteIssue(idOrPrefix: string): Promise<{ id: string; changed: true; pending?: PendingFollowUp[] }> {
    const { id } = await this.resolve(idOrPrefix);
    const followUps = await this.storage.graphTransaction(
      (graph) => ({ write: [id, ...graph.dependentsOf(id)] }),
      (tx) => {
        const issue = tx.issue(id);
        if (!issue) throw notFound(id);
        tx.remove(id);
        tx.event(makeEvent('issue_deleted', id, { title: issue.title }));
        // Dependents stop waiting for a deleted issue; those that waited only for it become ready.
        const stateOf = (d: string): State | undefined => (d === id ? undefined : tx.summary(d)?.state);
        for (const dependentId of tx.dependentsOf(id)) {
          const dependent = tx.issue(dependentId);
          if (!dependent) continue;
          const next = { ...dependent, dependencies: dependent.dependencies.filter((d) => d !== id), updated_at: now() };
          next.state = automaticState(next, unfinishedDependencies(next, stateOf).length === 0);
          tx.put(next);
          tx.event(makeEvent('dependency_removed', dependentId, { dependency: id, reason: 'issue deleted' }));
          recordStateChange(tx, dependent, next);
        }
        // A create reads its dependencies without locks, so one may still commit waiting for this issue after
        // the dependents above were chosen: once the file is gone, drop the edge from whoever still has it.
        return [tx.followUp('dependents', id)];
      },
    );
    const pending = await this.runFollowUps(followUps, true);
    return pending.length > 0 ? { id, changed: true, pending } : { id, changed: true };
  }

  async listIssues(filter: IssueFilter = {}): Promise<IssueSummary[]> {
    const checked = summaryFilter(filter);
    await this.settle();
    return this.storage.listSummaries(checked);
  }

  async listIssuesPage(filter: IssueFilter, page: { offset?: number; limit: number }): Promise<{ issues: IssueSummary[]; total: number }> {
    const checked = summaryFilter(filter);
    const offset = page.offset === undefined ? 0 : checkCount('offset', page.offset);
    const limit = checkCount('limit', page.limit);
    await this.settle();
    return this.storage.pageSummaries(checked, { offset, limit });
  }

  async searchIssues(query: string): Promise<Issue[]> {
    if (typeof query !== 'string' || query.trim() === '') throw new JitError('INVALID_ARGUMENT', 'The search query is empty.', { details: { field: 'query' } });
    const needle = query.trim().toLowerCase();
    await this.settle();
    const issues = await this.storage.readAllIssues();
    return issues
      .filter((issue) =>
        [issue.id, issue.title, issue.description, ...issue.labels, ...Object.values(issue.context)].some((text) => text.toLowerCase().includes(needle)),
      )
      .sort(byAge);
  }

  async batchCreate(input: unknown): Promise<BatchCreateResult> {
    const entries = parseBatch(input);
    const refs = new Map(entries.flatMap((e, i) => (e.ref === undefined ? [] : [[e.ref, i] as const])));
    // Every field through createIssue's own checks, each error naming its entry.
    const checked = entries.map((entry, i) => {
      const field = <T>(name: string, check: () => T): T => {
        try {
          return check();
        } catch (error) {
          if (error instanceof JitError && error.code === 'INVALID_ARGUMENT') throw entryError(i, name, error.message.replace(/\.$/, ''), error);
          throw error;
        }
      };
      return {
        title: field('title', () => checkTitle(entry.title)),
        description: entry.description === undefined ? '' : field('description', () => checkDescription(entry.description)),
        priority: entry.priority === undefined ? ('normal' as const) : field('priority', () => parsePriority(entry.priority)),
        labels: field('labels', () => unique(splitLabels(checkList('labels', entry.labels)).map(checkLabel))),
        gates: field('gates', () => unique(checkList('gates', entry.gates).map(checkGateKey))),
        assignee: entry.assignee === undefined ? null : field('assignee', () => checkAssignee('assignee', entry.assignee)),
        context: entry.context === undefined ? {} : field('context', () => dropEmpty(checkContext(entry.context))),
        local: [] as number[],
        existing: [] as string[],
      };
    });
    await this.settle();
    for (const [i, entry] of entries.entries()) {
      for (const dependency of checkList('dependencies', entry.dependencies) as string[]) {
        const local = refs.get(dependency);
        if (local === i) throw batchCycleError([i, i], entries);
        if (local !== undefined) {
          await this.refuseRefNamingAnIssue(dependency, local, i);
          checked[i]!.local.push(local);
        } else {
          try {
            checked[i]!.existing.push((await this.lookUp(dependency, 'DEPENDENCY_NOT_FOUND')).id);
          } catch (error) {
            if (!(error instanceof JitError)) throw error;
            throw new JitError(error.code, `Batch entry [${i}] dependency ${preview(dependency)} is neither a ref of the batch nor an issue: ${error.message}`, {
              suggestions: error.hints,
              details: { ...error.details, field: `[${i}].dependencies`, entry: i },
            });
          }
        }
      }
      checked[i]!.local = unique(checked[i]!.local);
      checked[i]!.existing = unique(checked[i]!.existing);
    }
    const cycle = findBatchCycle(checked.map((c) => c.local));
    if (cycle) throw batchCycleError(cycle, entries);
    const ids = entries.map(() => newIssueId());
    const anyGates = checked.some((c) => c.gates.length > 0);
    const hierarchy = this.hierarchy();
    let warnings: HierarchyViolation[] = [];
    const summaries = await this.storage.graphTransaction(
      () => ({ write: ids, create: ids, gates: anyGates }),
      (tx) => {
        // The rules create keeps, over the whole batch before anything is written: strict refuses it all.
        warnings = enforce(
          checked.flatMap((c, i) => {
            const issue = { id: ids[i]!, labels: c.labels };
            const dependencies = [...c.local.map((l) => ({ id: ids[l]!, labels: checked[l]!.labels })), ...c.existing.flatMap((d) => tx.summary(d) ?? [])];
            return [...labelViolations(issue, hierarchy), ...dependencyViolations(issue, dependencies, hierarchy)];
          }),
          hierarchy,
        );
        for (const [i, id] of ids.entries()) if (tx.summary(id) || ids.indexOf(id) !== i) throw idTaken(id);
        const registry = anyGates ? tx.gates() : new Map<string, GateDefinition>();
        const made: Issue[] = [];
        for (const [i, c] of checked.entries()) {
          for (const key of c.gates) if (!registry.has(key)) throw entryError(i, 'gates', gateNotFound(key).message.replace(/\.$/, ''));
          // Existing dependencies as the frozen graph has them (a later finish or reopen re-checks these through its follow-up).
          for (const d of c.existing) if (!tx.summary(d)) throw notFound(d, 'DEPENDENCY_NOT_FOUND');
          const waits = c.local.length > 0 || unfinishedDependencies({ dependencies: c.existing }, (d) => tx.summary(d)?.state).length > 0;
          const timestamp = now();
          const issue: Issue = {
            id: ids[i]!,
            title: c.title,
            description: c.description,
            state: waits ? 'backlog' : 'ready',
            priority: c.priority,
            assignee: c.assignee,
            dependencies: [...c.local.map((l) => ids[l]!), ...c.existing],
            gates_required: c.gates,
            gates_status: Object.fromEntries(c.gates.map((key) => [key, { status: 'pending' as const, updated_by: null, updated_at: timestamp }])),
            labels: c.labels,
            context: c.context,
            created_at: timestamp,
            updated_at: timestamp,
          };
          tx.put(issue);
          tx.event(makeEvent('issue_created', issue.id, { title: issue.title, state: issue.state, batch: true }));
          made.push(issue);
        }
        return made.map(summarizeIssue);
      },
    );
    const result: BatchCreateResult = { created: ids.length, ids: Object.fromEntries(entries.map((e, i) => [e.ref ?? `[${i}]`, ids[i]!])), issues: summaries };
    return warnings.length > 0 ? { ...result, warnings } : result;
  }

  /**
   * A ref wins over an issue id prefix of the same spelling (refs such as
   * "1001" are common and a big store has issues starting with most of
   * them), but a ref that is the whole id of an existing issue is a mix-up:
   * which one was meant is a guess.
   */
  private async refuseRefNamingAnIssue(dependency: string, local: number, i: number): Promise<void> {
    const id = dependency.trim().toLowerCase();
    if (!isFullId(id)) return;
    const [issue] = await this.storage.summariesByPrefix(id, 1);
    if (!issue) return;
    throw new JitError('INVALID_ARGUMENT', `Batch entry [${i}] dependency ${preview(dependency)} is both the ref of entry [${local}] and the id of existing issue ${issue.id}: rename the ref.`, {
      suggestions: ['Give refs that are not issue ids (e.g. "api", "step-2"); name an existing issue by its id.'],
      details: { field: `[${i}].dependencies`, entry: i, ref_entry: local, issue: issue.id },
    });
  }

  async updateMatching(filter: string, input: UpdateIssueInput, options: { dryRun?: boolean } = {}): Promise<FilteredUpdateReport> {
    const matches = parseFilter(filter);
    checkInput(input);
    checkInput(options);
    const dryRun = options.dryRun === undefined ? false : checkBoolean('dryRun', options.dryRun);
    if (Object.values(input).every((value) => value === undefined)) {
      throw new JitError('INVALID_ARGUMENT', 'Nothing to change: give at least one field to set (state, priority, labels, ...).', { details: { field: 'input' } });
    }
    await this.settle();
    const matched = (await this.storage.listSummaries()).filter(matches);
    const report: FilteredUpdateReport = { filter, dry_run: dryRun, matched: matched.length, changed: [], unchanged: [], refused: [] };
    for (const summary of matched) {
      const outcome: FilteredUpdateOutcome = { id: summary.id, title: summary.title, state: summary.state };
      try {
        const before = await this.storage.readIssue(summary.id);
        // Changed since the list was read (claimed or deleted, say): judged again as it is now, under its lock for a write.
        if (!before || !matches(summarizeIssue(before))) {
          report.matched--;
          continue;
        }
        if (dryRun) {
          const fields = predictedChanges(before, input);
          (fields.length > 0 ? report.changed : report.unchanged).push(fields.length > 0 ? { ...outcome, fields } : outcome);
          continue;
        }
        const after = await this.updateIssueIf(summary.id, input, matches);
        if (!after) {
          report.matched--;
          continue;
        }
        const fields = changedFields(before, after);
        if (after.changed) report.changed.push({ ...outcome, state: after.state, fields });
        else report.unchanged.push({ ...outcome, state: after.state });
      } catch (error) {
        if (!(error instanceof JitError)) throw error;
        if (error.code === 'ISSUE_NOT_FOUND') {
          report.matched--; // deleted since it was read: it matches nothing now
          continue;
        }
        report.refused.push({ ...outcome, error: { code: error.code, message: error.message } });
      }
    }
    return report;
  }

  // ------------------------------------------------------------ assignment

  async assign(idOrPrefix: string, who: string): Promise<IssueChange> {
    const assignee = checkAssignee('assignee', who);
    const { before, after } = await this.changeIssue(idOrPrefix, (issue, _done, tx) => {
      const { id } = issue;
      if (issue.assignee === assignee) return issue;
      tx.event(makeEvent('issue_updated', id, { fields: ['assignee'], assignee, previous: issue.assignee }));
      return { ...issue, assignee, updated_at: now() };
    });
    return changeResult(after, after !== before);
  }

  async claim(idOrPrefix: string, who?: string, options: ClaimOptions = {}): Promise<IssueChange> {
    checkInput(options);
    const assignee = this.assigneeOrAgent(who);
    const ttl = options.ttl === undefined ? undefined : checkTtl(options.ttl);
    const agent = this.runningAgent();
    const { before, after } = await this.changeIssue(idOrPrefix, (issue, dependenciesDone, tx) => this.claimLocked(issue, assignee, dependenciesDone, tx, ttl, agent));
    return changeResult(after, after !== before);
  }

  async renew(idOrPrefix: string, who?: string, options: ClaimOptions = {}): Promise<IssueChange> {
    checkInput(options);
    const holder = this.assigneeOrAgent(who);
    const ttl = options.ttl === undefined ? undefined : checkTtl(options.ttl);
    const agent = this.runningAgent();
    const { before, after } = await this.changeIssue(idOrPrefix, (issue, _done, tx, stored) => {
      if (issue.assignee !== holder || isTerminal(issue.state)) {
        const lapsed = stored.assignee === holder && issue.assignee === null;
        throw new JitError(
          'NOT_LEASE_HOLDER',
          lapsed
            ? `The claim of ${holder} on issue ${short(issue.id)} has lapsed: claim it again.`
            : `Only the holder of a claim may renew it: issue ${short(issue.id)} is ${issue.assignee === null ? 'not claimed' : `held by ${issue.assignee}`}${isTerminal(issue.state) ? ` and ${issue.state}` : ''}.`,
          {
            suggestions: issue.assignee === null && !isTerminal(issue.state) ? ['Claim it again: it is free.'] : [hint`Pick other work: ${command('query.ready')}.`],
            details: { id: issue.id, holder: issue.assignee, asked_by: holder },
          },
        );
      }
      const timestamp = now();
      const current = activeLease(issue);
      const bound = current?.agent ?? agent;
      const fresh = newLease(holder, timestamp, ttl, bound);
      const lease: Lease = { ...fresh, acquired_at: current?.acquired_at ?? timestamp };
      tx.event(makeEvent('claim_renewed', issue.id, { holder, expires_at: lease.expires_at, agent: lease.agent }));
      return { ...issue, lease, updated_at: timestamp };
    });
    return changeResult(after, after !== before);
  }

  async evict(idOrPrefix: string, reason: string, by?: string): Promise<IssueChange> {
    const why = checkReason(reason);
    const who = by === undefined ? (this.options.agent === undefined || this.options.agent === '' ? null : this.assigneeOrAgent(undefined)) : checkAssignee('by', by);
    const { before, after } = await this.changeIssue(idOrPrefix, (issue, dependenciesDone, tx) => {
      if (issue.assignee === null) return issue; // nobody holds it (e.g. its claim lapsed just now): already free
      const next = givenBack(issue, dependenciesDone);
      tx.event(makeEvent('claim_evicted', issue.id, { holder: issue.assignee, lease: issue.lease ?? null, reason: why, by: who }));
      recordStateChange(tx, issue, next);
      return next;
    });
    return changeResult(after, after !== before);
  }

  async unassign(idOrPrefix: string): Promise<IssueChange> {
    const { before, after } = await this.changeIssue(idOrPrefix, (issue, dependenciesDone, tx) => {
      const { id } = issue;
      if (issue.assignee === null) return issue;
      const next: Issue = { ...issue, assignee: null, updated_at: now() };
      if (issue.state === 'in_progress') next.state = dependenciesDone ? 'ready' : 'backlog';
      tx.event(makeEvent('issue_updated', id, { fields: ['assignee'], previous: issue.assignee }));
      recordStateChange(tx, issue, next);
      return next;
    });
    return changeResult(after, after !== before);
  }

  async release(idOrPrefix: string, reason: string): Promise<IssueChange> {
    const why = checkReason(reason);
    const { before, after } = await this.changeIssue(idOrPrefix, (issue, dependenciesDone, tx) => {
      const { id } = issue;
      // Not claimed (no holder, not in progress): already given back, e.g. a retried release.
      if (issue.assignee === null && issue.state !== 'in_progress') return issue;
      const next: Issue = { ...issue, assignee: null, updated_at: now() };
      if (issue.state === 'in_progress') next.state = dependenciesDone ? 'ready' : 'backlog';
      tx.event(makeEvent('issue_released', id, { assignee: issue.assignee, reason: why }));
      recordStateChange(tx, issue, next);
      return next;
    });
    return changeResult(after, after !== before);
  }

  async rejectIssue(idOrPrefix: string, reason: string): Promise<IssueChange> {
    const why = checkReason(reason);
    const { before, after, followUps } = await this.changeIssue(idOrPrefix, (issue, _done, tx) => {
      if (issue.state === 'rejected') return issue; // already rejected, e.g. a retried reject
      if (issue.state === 'archived') {
        throw new JitError('INVALID_TRANSITION', `Issue ${short(issue.id)} is archived: it is filed away, there is nothing to reject.`, { details: { id: issue.id, state: issue.state } });
      }
      // Gates do not apply: rejecting is deciding not to do the work, not finishing it.
      const next: Issue = { ...issue, state: 'rejected', context: { ...issue.context, [REJECTION_REASON_KEY]: why }, updated_at: now() };
      tx.event(makeEvent('issue_updated', issue.id, { fields: ['state', 'context'], reason: why }));
      tx.event(makeEvent('issue_state_changed', issue.id, { from: issue.state, to: 'rejected', reason: why }));
      return next;
    });
    return changeResult(after, after !== before, await this.runFollowUps(followUps, true));
  }

  async claimNext(who?: string, filter: ClaimNextFilter = {}): Promise<IssueChange> {
    checkInput(filter);
    const assignee = this.assigneeOrAgent(who);
    const priority = filter.priority === undefined ? undefined : parsePriority(filter.priority);
    const hierarchy = this.hierarchy();
    const label = this.labelOrType(filter, hierarchy);
    // Containers are not work: only a claimer who asks for a strategic type gets one.
    const excludeLabels = hierarchy.strategicLabels.filter((l) => l !== label);
    const ttl = filter.ttl === undefined ? undefined : checkTtl(filter.ttl);
    const agent = this.runningAgent();
    await this.settle();
    // Claims that lapsed are free work too: they compete by urgency with the ready list.
    const lapsed = (await this.lapsedClaims({ priority, label }))
      .filter((claim) => claim.claimable && !claim.summary.labels.some((l) => excludeLabels.includes(l)))
      .map((claim) => claim.summary);
    // The index is only a hint: each candidate is re-checked under its own lock, so exactly one claimer wins it.
    // Read a page of the most urgent at a time; one lost to another claimer leaves the ready list, but every
    // candidate tried is skipped on the next page all the same, so each read brings new ones (or none: done).
    // A candidate another process holds locked right now is passed over, not waited for (SKIP LOCKED on
    // PostgreSQL): most often another claimer is taking it. Only when no other candidate could be claimed are
    // the busy ones tried again, waiting for their locks, so "no ready issue" still means none was claimable.
    const tried = new Set<string>();
    const busy: IssueSummary[] = [];
    const skipped = { prechecks: 0 };
    for (;;) {
      const page = await this.storage.readyWork({ priority, label, excludeLabels, limit: tried.size + CLAIM_CANDIDATES_READ });
      const candidates = [...page, ...lapsed].filter((s) => !tried.has(s.id)).sort(byUrgency);
      if (candidates.length === 0) break;
      for (const candidate of candidates) {
        tried.add(candidate.id);
        const claimed = await this.claimCandidate(candidate, assignee, skipped, ttl, agent, false);
        if (claimed === 'busy') busy.push(candidate);
        else if (claimed) return claimed;
      }
    }
    for (const candidate of busy) {
      const claimed = await this.claimCandidate(candidate, assignee, skipped, ttl, agent, true);
      if (claimed && claimed !== 'busy') return claimed;
    }
    const waiting = skipped.prechecks;
    const prechecks = waiting > 0 ? ` (${waiting} ready issue${waiting === 1 ? ' waits' : 's wait'} for prechecks)` : '';
    throw new JitError('NO_READY_ISSUE', 'No ready issue to claim' + (priority || label ? ' matching the filter' : '') + prechecks + '.', {
      suggestions: [
        ...(waiting > 0 ? [hint`${run(command('gate.checkAll'))} to run the prechecks, or pass them by hand (${command('gate.pass', { id: 'ID', key: 'KEY' })}).`] : []),
        hint`${run(command('query.blocked'))} to see what waits on what.`,
      ],
      ...(waiting > 0 ? { details: { waiting_for_prechecks: waiting } } : {}),
    });
  }

  /**
   * Claims a candidate of claim-next if it is still ready, unassigned and unblocked under its lock: the candidate
   * claimed, or null: taken or deleted meanwhile, or waiting for its prechecks (counted in `skipped`; gate
   * check-all runs them); 'busy' when told not to wait and another process holds its lock.
   */
  private async claimCandidate(
    candidate: IssueSummary,
    assignee: string,
    skipped: { prechecks: number },
    ttl: number | null | undefined,
    agent: string | null,
    wait: boolean,
  ): Promise<IssueChange | null | 'busy'> {
    try {
      let won = false;
      const { after } = await this.changeWithDependencies(
        candidate.id,
        (issue, dependenciesDone, tx) => {
          // This may run more than once (again with the registry's lock, for prechecks): only the last run counts.
          won = false;
          // (A claim that lapsed arrives here given back: see changeWithDependencies.)
          if (issue.state !== 'ready' || issue.assignee !== null || !dependenciesDone) return issue;
          const claimed = this.claimLocked(issue, assignee, dependenciesDone, tx, ttl, agent);
          won = true;
          return claimed;
        },
        candidate.dependencies,
        wait,
      );
      return won ? changeResult(after, true) : null;
    } catch (error) {
      if (!wait && error instanceof JitError && error.code === 'LOCK_TIMEOUT') return 'busy';
      if (error instanceof JitError && error.code === 'GATES_PENDING') skipped.prechecks++;
      else if (!(error instanceof JitError && error.code === 'ISSUE_NOT_FOUND')) throw error;
      return null;
    }
  }

  // ---------------------------------------------------------- dependencies

  async addDependency(from: string, to: string): Promise<IssueChange> {
    const [fromId, toId] = await this.resolvePair(from, to);
    if (fromId === toId) throw cycleError([fromId, fromId]);
    const hierarchy = this.hierarchy();
    return this.storage.graphTransaction(
      () => ({ write: [fromId], read: [toId] }),
      (tx) => {
        const issue = tx.issue(fromId);
        if (!issue) throw notFound(fromId);
        const dependency = tx.issue(toId);
        if (!dependency) throw notFound(toId, 'DEPENDENCY_NOT_FOUND');
        if (issue.dependencies.includes(toId)) return changeResult(issue, false);
        const warnings = enforce(dependencyViolations(issue, [dependency], hierarchy), hierarchy);
        const path = findPath(toId, fromId, (id) => (id === fromId ? issue.dependencies : (tx.summary(id)?.dependencies ?? [])));
        if (path) throw cycleError([fromId, ...path]);
        const next: Issue = { ...issue, dependencies: [...issue.dependencies, toId], updated_at: now() };
        if (!isTerminal(dependency.state)) next.state = automaticState(next, false);
        tx.put(next);
        tx.event(makeEvent('dependency_added', fromId, { dependency: toId }));
        recordStateChange(tx, issue, next);
        return withWarnings(changeResult(next, true), warnings);
      },
    );
  }

  /** TO must name an issue (or one of FROM's dependencies, for an edge to a deleted issue); an edge already gone is `changed: false`. */
  async removeDependency(from: string, to: string): Promise<IssueChange> {
    const [fromId, toId] = await this.resolvePair(from, to);
    return this.storage.graphTransaction(
      () => ({ write: [fromId] }),
      (tx) => {
        const issue = tx.issue(fromId);
        if (!issue) throw notFound(fromId);
        if (!issue.dependencies.includes(toId)) return changeResult(issue, false);
        const next: Issue = { ...issue, dependencies: issue.dependencies.filter((d) => d !== toId), updated_at: now() };
        // The index lock freezes every dependency edge, and states of other issues are read from it.
        next.state = automaticState(next, unfinishedDependencies(next, (d) => tx.summary(d)?.state).length === 0);
        tx.put(next);
        tx.event(makeEvent('dependency_removed', fromId, { dependency: toId }));
        recordStateChange(tx, issue, next);
        return changeResult(next, true);
      },
    );
  }

  // ----------------------------------------------------------------- gates

  async listGateDefinitions(): Promise<GateDefinition[]> {
    return [...(await this.storage.readGates()).values()].sort((a, b) => a.key.localeCompare(b.key));
  }

  async getGateDefinition(key: string): Promise<GateDefinition> {
    const gateKey = checkGateKey(key);
    const def = (await this.storage.readGates()).get(gateKey);
    if (!def) throw gateNotFound(gateKey);
    return def;
  }

  async addGateDefinition(def: GateDefinitionInput): Promise<GateDefinition & { changed: boolean }> {
    checkInput(def);
    const gate = gateDefinition(def);
    // Defined here, by whoever runs this: this machine trusts its command (gate-trust.ts).
    if (gate.checker) await this.gateCheckModule().trustDefinition(this.gateHost(), gate);
    return this.storage.gatesTransaction((gates, _issues, event) => {
      const existing = gates.get(gate.key);
      if (existing && JSON.stringify(existing) === JSON.stringify(gate)) return { ...existing, changed: false };
      if (existing) {
        throw new JitError('ALREADY_EXISTS', `Gate ${gate.key} is already in the registry, with another definition.`, {
          suggestions: [bare(command('registry.show', { key: gate.key }))],
          details: { key: gate.key },
        });
      }
      gates.set(gate.key, gate);
      // Logged (with the original jit's type) so that a live view (jit serve) hears of the registry's change.
      event(makeEvent('gate_definition_created', null, { gate_key: gate.key, title: gate.title }));
      return { ...gate, changed: true };
    });
  }

  async removeGateDefinition(key: string, options: RemoveGateDefinitionOptions = {}): Promise<GateDefinitionRemoval> {
    const gateKey = checkGateKey(key);
    checkInput(options);
    const drop = options.dropRequirements === undefined ? false : checkBoolean('dropRequirements', options.dropRequirements);
    // Under the registry's exclusive lock no issue can start or stop requiring the gate, so the list is exact.
    const requiring = await this.storage.gatesTransaction((gates, issues, event) => {
      const ids = issues()
        .filter((issue) => issue.gates_required.includes(gateKey))
        .map((issue) => issue.id);
      // Without a definition, issues that still name the gate (an interrupted removal) can still be freed of it.
      if (!gates.has(gateKey) && ids.length === 0) throw gateNotFound(gateKey);
      if (ids.length > 0 && !drop) throw gateInUse(gateKey, ids);
      if (gates.delete(gateKey)) event(makeEvent('gate_definition_removed', null, { gate_key: gateKey, requirements_dropped: ids }));
      return ids;
    });
    // The gate is out of the registry, so nothing can require it anew; now free each issue, with gate remove's rules.
    for (const id of requiring) {
      try {
        await this.removeGate(id, gateKey);
      } catch (error) {
        if (!(error instanceof JitError && error.code === 'ISSUE_NOT_FOUND')) throw error; // deleted meanwhile
      }
    }
    return { key: gateKey, changed: true, requirements_dropped: requiring };
  }

  async addGate(idOrPrefix: string, key: string): Promise<IssueChange> {
    const gateKey = checkGateKey(key);
    const { id } = await this.resolve(idOrPrefix);
    return this.storage.issueTransaction({ write: [id], gates: true }, (tx) => {
      const issue = tx.issue(id);
      if (!issue) throw notFound(id);
      // Already required (done or not): nothing to add, e.g. a retried gate add.
      if (issue.gates_required.includes(gateKey)) return changeResult(issue, false);
      if (!tx.gates().has(gateKey)) throw gateNotFound(gateKey);
      if (issue.state === 'done') {
        // A done issue has passed all its gates; a new one would make that false.
        throw new JitError('INVALID_TRANSITION', `Issue ${short(id)} is done: reopen it before adding gate ${gateKey}.`, {
          suggestions: [bare(command('issue.update', { id: short(id), state: 'in_progress' }))],
          details: { id, state: issue.state, key: gateKey },
        });
      }
      const timestamp = now();
      const next: Issue = {
        ...issue,
        gates_required: [...issue.gates_required, gateKey],
        gates_status: { ...issue.gates_status, [gateKey]: { status: 'pending', updated_by: null, updated_at: timestamp } },
        updated_at: timestamp,
      };
      tx.put(next);
      tx.event(makeEvent('gate_added', id, { gate: gateKey }));
      return changeResult(next, true);
    });
  }

  /**
   * Stops requiring a gate (registered or not: this is how an issue is freed
   * of a gate removed from the registry). Removing the last pending gate of
   * a gated issue completes it, as passing it would.
   */
  async removeGate(idOrPrefix: string, key: string): Promise<IssueChange> {
    const gateKey = checkGateKey(key);
    const { before, after, followUps } = await this.changeIssue(idOrPrefix, (issue, _done, tx) => {
      if (!issue.gates_required.includes(gateKey)) return issue; // not required: already so
      const { [gateKey]: _removed, ...gatesStatus } = issue.gates_status;
      const next: Issue = { ...issue, gates_required: issue.gates_required.filter((k) => k !== gateKey), gates_status: gatesStatus, updated_at: now() };
      if (issue.state === 'gated' && pendingGates(next).length === 0) next.state = 'done';
      tx.event(makeEvent('gate_removed', issue.id, { gate: gateKey }));
      recordStateChange(tx, issue, next);
      return next;
    });
    return changeResult(after, after !== before, await this.runFollowUps(followUps, true));
  }

  async checkGates(idOrPrefix: string, key?: string, options?: GateCheckOptions): Promise<GateCheckReport> {
    return this.gateCheckModule().checkIssue(this.gateHost(), idOrPrefix, key, options);
  }

  async checkAllGates(options?: GateCheckOptions): Promise<GateCheckReport> {
    await this.settle();
    return this.gateCheckModule().checkAll(this.gateHost(), options);
  }

  async runPostchecks(idOrPrefix: string, options?: GateCheckOptions): Promise<GateCheckReport> {
    return this.gateCheckModule().checkPostchecks(this.gateHost(), (await this.resolve(idOrPrefix)).id, options);
  }

  async gateRuns(idOrPrefix: string, unreadable?: UnreadableRun[]): Promise<GateRun[]> {
    // Run records live in a project's .jit/ folder; a database chosen by JIT_DATABASE_URL alone has none to show.
    if ((this.storage as { jitDir?: string }).jitDir === undefined) return (await this.resolve(idOrPrefix), []);
    return this.gateCheckModule().gateRuns(this.gateHost(), idOrPrefix, unreadable);
  }

  async trustGate(key: string): Promise<{ key: string; command: string; hash: string; changed: boolean }> {
    return this.gateCheckModule().trustGate(this.gateHost(), key);
  }

  /** Loaded on first use: only commands that run checks need the runner. */
  private gateCheckModule(): typeof import('./gate-checks.js') {
    return require('./gate-checks.js') as typeof import('./gate-checks.js');
  }

  /** What the gate checks may do with this tracker (gate-checks.ts). */
  private gateHost(): GateCheckHost {
    const jitDir = (this.storage as { jitDir?: string }).jitDir;
    if (jitDir === undefined) {
      // Checkers run in a project folder, and their runs and trust are recorded in its .jit/ (docs/postgres.md).
      throw new JitError('NOT_INITIALIZED', `Gate checks run in a project folder with a .jit/ directory; this tracker is ${this.storage.description} alone.`, {
        suggestions: ['Run the command in the project (a .jit/ folder whose config.toml [storage] names the database, or with JIT_DATABASE_URL set there).'],
      });
    }
    return {
      storage: this.storage,
      jitDir,
      resolve: async (idOrPrefix) => (await this.resolve(idOrPrefix)).id,
      changeIssue: async (id, change) => {
        const { after, followUps } = await this.changeWithDependencies(id, (issue, _done, tx) => change(issue, tx.gates(), tx), undefined, true, true);
        await this.runFollowUps(followUps, true);
        return after;
      },
    };
  }

  async passGate(idOrPrefix: string, key: string, by?: string): Promise<IssueChange> {
    return this.setGate(idOrPrefix, key, 'passed', by);
  }

  async failGate(idOrPrefix: string, key: string, by?: string): Promise<IssueChange> {
    return this.setGate(idOrPrefix, key, 'failed', by);
  }

  // --------------------------------------------------------------- queries

  async queryReady(options: QueryFilter = {}): Promise<IssueSummary[]> {
    const { query, lapsed } = await this.readyParts(options);
    if (query.limit === 0) return [];
    const ready = await this.storage.readyWork(query);
    return lapsed.length === 0 ? ready : withLapsed(ready, lapsed, query.limit);
  }

  async queryReadyJson(options: QueryFilter = {}): Promise<JsonList> {
    const { query, lapsed } = await this.readyParts(options);
    if (query.limit === 0) return jsonList([]);
    if (lapsed.length === 0) return this.storage.readyWorkJson(query);
    return jsonList(withLapsed(await this.storage.readyWork(query), lapsed, query.limit));
  }

  /** queryReady's options checked and turned into the storage's query, the store settled, and the lapsed claims to show. */
  private async readyParts(options: QueryFilter): Promise<{ query: ReadyQuery; lapsed: IssueSummary[] }> {
    checkInput(options);
    const limit = options.limit === undefined ? undefined : checkCount('limit', options.limit);
    const priority = options.priority === undefined ? undefined : parsePriority(options.priority);
    const hierarchy = this.hierarchy();
    const label = this.labelOrType(options, hierarchy);
    // As claim-next hands work out: containers only when asked for by type.
    const excludeLabels = hierarchy.strategicLabels.filter((l) => l !== label);
    await this.settle();
    const query = { priority, label, excludeLabels, limit };
    if (limit === 0) return { query, lapsed: [] };
    // A lapsed claim is free work: shown as the next claimer will find it (ready, nobody's), with the claim that lapsed.
    const lapsed = (await this.lapsedClaims({ priority, label }))
      .filter((claim) => claim.claimable && !claim.summary.labels.some((l) => excludeLabels.includes(l)))
      .map(({ summary, holder, reason }): IssueSummary => {
        const { lease_expires_at: _expires, lease_agent: _agent, ...rest } = summary;
        return { ...rest, state: 'ready', assignee: null, lapsed_claim: { holder, reason } };
      });
    return { query, lapsed };
  }

  async queryClaims(options: { lapsed?: boolean } = {}): Promise<ClaimInfo[]> {
    checkInput(options);
    const onlyLapsed = options.lapsed === undefined ? false : checkBoolean('lapsed', options.lapsed);
    await this.settle();
    const claims = await this.claims();
    return onlyLapsed ? claims.filter((claim) => claim.lapsed !== null) : claims;
  }

  async agents(): Promise<AgentStatus[]> {
    const records = new Map(this.storage.listAgents().map((record) => [record.id, record]));
    const claims = await this.queryClaims();
    const holding = (id: string): ClaimInfo[] => claims.filter((claim) => (claim.lease?.agent ?? claim.assignee) === id);
    // An agent known only from the claims bound to it (its lock file gone with a clone of the store) is gone.
    for (const claim of claims) {
      const agent = claim.lease?.agent;
      if (agent && !records.has(agent)) records.set(agent, { id: agent, live: this.storage.isAgentLive(agent), holder: null });
    }
    return [...records.values()]
      .sort((a, b) => a.id.localeCompare(b.id))
      .map((record) => ({ ...record, claims: holding(record.id).map(({ id, title, state, lapsed }) => ({ id, title, state, lapsed })) }));
  }

  async queryBlocked(): Promise<BlockedIssue[]> {
    await this.settle();
    return blockedIssues(await this.storage.blockedCandidates(), (id) => this.storage.readIssue(id));
  }

  backend(): { kind: 'files' | 'memory' | 'postgres'; description: string } {
    return { kind: this.storage.kind, description: this.storage.description };
  }

  async exportSnapshot(file: string): Promise<{ issues: number; gates: number; events: number }> {
    await this.settle();
    return (require('./transfer.js') as typeof import('./transfer.js')).exportSnapshot(this.storage, file);
  }

  async importSnapshot(file: string): Promise<{ issues: number; gates: number; events: number }> {
    return (require('./transfer.js') as typeof import('./transfer.js')).importSnapshot(this.storage, file);
  }

  async status(): Promise<StatusReport> {
    const { strategicLabels } = this.hierarchy();
    await this.settle();
    const report = await this.storage.statusReport({ excludeLabels: strategicLabels });
    // A lapsed claim is claimable work (query ready lists it, claim-next hands it out): counted as ready,
    // while by_state keeps the stored state until the next writer gives it back.
    const lapsed = (await this.lapsedClaims({})).filter((claim) => claim.claimable && !claim.summary.labels.some((l) => strategicLabels.includes(l)));
    return { ...report, ready: report.ready + lapsed.length, lapsed_claims: lapsed.length };
  }

  async queryStrategic(filter: QueryFilter = {}): Promise<IssueSummary[]> {
    return this.queryList(filter, { anyLabel: this.hierarchy().strategicLabels });
  }

  async queryClosed(filter: QueryFilter = {}): Promise<IssueSummary[]> {
    return this.queryList(filter, { states: TERMINAL_STATES });
  }

  async labelNamespaces(): Promise<LabelNamespace[]> {
    await this.settle();
    return this.storage.labelNamespaces();
  }

  async labelValues(namespace: string): Promise<LabelValue[]> {
    const name = checkLabelNamespace(namespace);
    await this.settle();
    return this.storage.labelValues(name);
  }

  /** A list query (strategic, closed): the filters checked, the fixed part added, `limit` applied. */
  private async queryList(filter: QueryFilter, fixed: Pick<SummaryFilter, 'anyLabel' | 'states'>): Promise<IssueSummary[]> {
    checkInput(filter);
    const limit = filter.limit === undefined ? undefined : checkCount('limit', filter.limit);
    const priority = filter.priority === undefined ? undefined : parsePriority(filter.priority);
    const assignee = filter.assignee === undefined ? undefined : checkAssignee('assignee', filter.assignee);
    const label = this.labelOrType(filter, this.hierarchy());
    await this.settle();
    if (fixed.anyLabel?.length === 0) return [];
    const found = await this.storage.listSummaries({ ...fixed, priority, assignee, label });
    return limit === undefined ? found : found.slice(0, limit);
  }

  /** The type hierarchy of this store, config.toml read now (hierarchy.ts). */
  private hierarchy(): Hierarchy {
    return hierarchyOf(this.storage.readConfig());
  }

  /** A filter's label: `label`, or `type:<type>` for `type`; not both. */
  private labelOrType(filter: { label?: string; type?: string }, hierarchy: Hierarchy): string | undefined {
    if (filter.type !== undefined && filter.label !== undefined) {
      throw new JitError('INVALID_ARGUMENT', 'Give a type or a label filter, not both (a type is the label type:<name>).', { details: { field: 'type' } });
    }
    if (filter.type !== undefined) return typeLabel(filter.type, hierarchy);
    return filter.label === undefined ? undefined : checkLabelFilter(filter.label);
  }

  // ----------------------------------------------------------------- graph

  async graphEdges(): Promise<{ nodes: IssueSummary[]; edges: GraphEdge[] }> {
    return dependencyGraph(await this.loadSummaries());
  }

  async downstream(idOrPrefix: string): Promise<IssueSummary[]> {
    const { id } = await this.resolve(idOrPrefix);
    return this.storage.downstreamOf(id);
  }

  async roots(): Promise<IssueSummary[]> {
    return rootIssues(await this.loadSummaries());
  }

  // ---------------------------------------------------------------- events

  async tailEvents(n = 10): Promise<JitEvent[]> {
    const count = checkCount('n', n);
    return count === 0 ? [] : this.storage.readEvents({ last: count });
  }

  async queryEvents(query: EventQuery = {}): Promise<JitEvent[]> {
    const filter = eventFilter(query);
    const limit = query.limit === undefined ? undefined : checkCount('limit', query.limit);
    if (limit === 0) return [];
    return this.storage.readEvents({ ...filter, last: limit });
  }

  async scanEvents(query: Omit<EventQuery, 'limit'>, visit: (event: JitEvent) => void): Promise<void> {
    if ((query as EventQuery | undefined)?.limit !== undefined) {
      throw new JitError('INVALID_ARGUMENT', 'scanEvents hands over every matching event: for the most recent ones, use queryEvents with a limit.', { details: { field: 'limit' } });
    }
    await this.storage.scanEvents(eventFilter(query), visit);
  }

  // ------------------------------------------------------------- integrity

  /** The store's integrity check and crash recovery: see validate.ts. */
  async validate(options: { fix?: boolean } = {}): Promise<ValidationReport> {
    return validateStore(
      this.storage,
      {
        finishFollowUps: async (alike) => (await this.runFollowUps(alike, true)).length === 0,
        reconcile: async (id) => {
          await this.reconcile(id);
        },
      },
      options,
    );
  }

  // -------------------------------------------------------------- internal

  /** The claimant named, else the agent this process works for (JIT_AGENT_ID); INVALID_ARGUMENT when neither. */
  private assigneeOrAgent(who: string | undefined): string {
    if (who !== undefined) return checkAssignee('assignee', who);
    const agent = this.options.agent;
    if (agent === undefined || agent === '') {
      throw new JitError('INVALID_ARGUMENT', `No claimant: name one (kind:name, e.g. agent:worker-1) or set ${AGENT_ID_VARIABLE}.`, { details: { field: 'assignee' } });
    }
    try {
      return checkAssignee('assignee', agent);
    } catch (error) {
      throw new JitError('INVALID_ENV', `${AGENT_ID_VARIABLE}=${JSON.stringify(agent)} is not an agent id: use kind:name, e.g. agent:worker-1.`, {
        details: { variable: AGENT_ID_VARIABLE },
        cause: error,
      });
    }
  }

  /** The agent claims made here are bound to: ours, while it runs; null otherwise (then the lease's TTL is the only limit). */
  private runningAgent(): string | null {
    const agent = this.options.agent;
    if (agent === undefined || agent === '') return null;
    return this.storage.isAgentLive(this.assigneeOrAgent(undefined)) ? agent : null;
  }

  /**
   * Every claim in progress or gated, with its lease and whether it has
   * lapsed, oldest first. The storage gives the leases; the claims it names
   * in `fromFiles` (rows that may lag their files) are read from their files:
   * as many reads as those, never the store.
   */
  private async claims(): Promise<ClaimInfo[]> {
    const live = memoLiveness(this.storage);
    const at = Date.now();
    const held = await this.storage.heldClaims();
    const claims: ClaimInfo[] = held.claims.map(({ summary, lease }) => ({ ...summary, lease, lapsed: leaseLapse(lease ?? undefined, at, live) }));
    for (const id of held.fromFiles) {
      const issue = await this.storage.readIssue(id);
      if (issue && isClaim(issue)) claims.push({ ...summarizeIssue(issue), lease: activeLease(issue) ?? null, lapsed: claimLapse(issue, at, live) });
    }
    return claims.sort(byAge);
  }

  /**
   * Claims in progress that have lapsed, matching the filter, from the index
   * alone (lapsableClaims: those past their expiry or bound to an agent, whose
   * lock is probed once per agent); `claimable` when their dependencies are all
   * finished. Each is re-checked under its lock before anyone takes it.
   */
  private async lapsedClaims(filter: { priority?: IssueSummary['priority']; label?: string }): Promise<{ summary: IssueSummary; holder: string; reason: LapseReason; claimable: boolean }[]> {
    const at = Date.now();
    const wanted = filter.label === undefined ? undefined : labelMatcher(filter.label);
    const candidates = (await this.storage.lapsableClaims(new Date(at).toISOString())).filter(
      (s) => s.state === 'in_progress' && (filter.priority === undefined || s.priority === filter.priority) && (wanted === undefined || wanted(s.labels)),
    );
    const live = memoLiveness(this.storage);
    const lapsed = [];
    for (const summary of candidates) {
      const reason = leaseLapse(summaryLease(summary), at, live);
      if (!reason) continue;
      const dependencies = await this.storage.summaries(summary.dependencies);
      const claimable = unfinishedDependencies(summary, (d) => dependencies.get(d)?.state).length === 0;
      lapsed.push({ summary, holder: summary.assignee!, reason, claimable });
    }
    return lapsed;
  }

  /** The summary of the issue an id or unique prefix names, once settled (see settle). */
  private async resolve(idOrPrefix: string): Promise<IssueSummary> {
    normalizeIdInput(idOrPrefix); // refuse junk before reading anything
    await this.settle();
    return this.lookUp(idOrPrefix);
  }

  /** resolve without settling first (the caller has). */
  private async lookUp(idOrPrefix: string, code: 'ISSUE_NOT_FOUND' | 'DEPENDENCY_NOT_FOUND' = 'ISSUE_NOT_FOUND'): Promise<IssueSummary> {
    const matches = await this.storage.summariesByPrefix(normalizeIdInput(idOrPrefix), PREFIX_MATCHES_READ);
    const id = this.resolveAmong(
      matches.map((s) => s.id),
      matches.length >= PREFIX_MATCHES_READ,
      idOrPrefix,
      code,
    );
    return matches.find((s) => s.id === id)!;
  }

  /** resolveId, failing with `code` when nothing matches. */
  private resolveAmong(known: Iterable<string>, cut: boolean, idOrPrefix: string, code: 'ISSUE_NOT_FOUND' | 'DEPENDENCY_NOT_FOUND' = 'ISSUE_NOT_FOUND'): string {
    try {
      return resolveId(idOrPrefix, known, cut);
    } catch (error) {
      if (error instanceof JitError && error.code === 'ISSUE_NOT_FOUND' && code !== error.code) {
        throw new JitError(code, error.message, { suggestions: error.hints, details: error.details });
      }
      throw error;
    }
  }

  /**
   * FROM among the issues; TO among the issues and, so that an edge to a
   * deleted issue can still be removed, FROM's own dependencies.
   */
  private async resolvePair(from: string, to: string): Promise<[string, string]> {
    normalizeIdInput(from);
    const wanted = normalizeIdInput(to);
    const fromIssue = await this.resolve(from);
    const matches = await this.storage.summariesByPrefix(wanted, PREFIX_MATCHES_READ);
    const targets = new Set([...matches.map((s) => s.id), ...fromIssue.dependencies.filter((d) => d.startsWith(wanted))]);
    return [fromIssue.id, this.resolveAmong(targets, matches.length >= PREFIX_MATCHES_READ, to, 'DEPENDENCY_NOT_FOUND')];
  }

  /** Resolves the id and runs `change` on it (see changeWithDependencies). */
  private async changeIssue(idOrPrefix: string, change: (issue: Issue, dependenciesDone: boolean, tx: IssueTx, stored: Issue) => Issue): Promise<Changed> {
    const { id, dependencies } = await this.resolve(idOrPrefix);
    return this.changeWithDependencies(id, change, dependencies);
  }

  /**
   * One issue's read-modify-write under its exclusive lock. `dependenciesDone`
   * comes from its dependencies' files read without locks (peek); if the
   * file names other dependencies than expected (a racing change), run again
   * with the right ones.
   *
   * Why unlocked reads are enough: the only rule that reads other issues
   * here is "are all dependencies finished?", and an issue starts or stops
   * being finished only in a transaction that stores a `dependents`
   * follow-up with its change, which re-checks every issue waiting for it,
   * under that issue's exclusive lock, after its commit. This transaction
   * holds its own exclusive lock from before its reads until after its
   * write, so a change it read too early is re-checked right after it: a
   * ready/backlog decision is corrected, and a claim that saw a dependency
   * finished just before it was reopened ends as if the reopen came after
   * the claim (which the rules allow: a reopened dependency leaves work in
   * progress alone). Shared locks bought nothing more, and cost a file
   * descriptor per dependency (EMFILE past the open-file limit) while making
   * every reopen wait for every reader. A change into or out of a finished
   * state stores that follow-up here; the caller runs it (runFollowUps), and
   * if it cannot, the next reader or writer does.
   *
   * `change` may run more than once (a first run that reads the gate
   * registry without its lock starts over with it): whatever it records
   * outside the transaction must be reset at its start.
   */
  private async changeWithDependencies(
    id: string,
    change: (issue: Issue, dependenciesDone: boolean, tx: IssueTx, stored: Issue) => Issue,
    knownDependencies?: readonly string[],
    wait = true,
    registry = false,
  ): Promise<Changed> {
    // Unknown: the first attempt learns them from the file (and runs again), without waiting if told not to.
    let dependencies = knownDependencies ?? [];
    // The registry (shared lock) only for a change that asks for it: a rule about prechecks runs again with it.
    let gates = registry;
    for (;;) {
      try {
        return await this.storage.issueTransaction({ write: [id], peek: dependencies, wait, gates }, (locked) => {
          const tx = gates ? locked : withoutRegistry(locked);
          const before = tx.issue(id);
          if (!before) throw notFound(id);
          const expected = new Set(dependencies);
          if (before.dependencies.some((d) => !expected.has(d))) {
            dependencies = before.dependencies;
            throw new DependenciesMoved();
          }
          const dependenciesDone = unfinishedDependencies(before, (d) => tx.issue(d)?.state).length === 0;
          // The first writer after a claim lapsed gives it back (and says so in the log); the change then sees a free issue.
          const current = this.freeIfLapsed(before, dependenciesDone, tx);
          const after = withoutStaleLease(change(current, dependenciesDone, tx, before));
          if (after === before) return { before, after, followUps: [] };
          tx.put(after);
          return { before, after, followUps: isTerminal(before.state) === isTerminal(after.state) ? [] : [tx.followUp('dependents', id)] };
        });
      } catch (error) {
        if (error instanceof RegistryNeeded) gates = true;
        else if (!(error instanceof DependenciesMoved)) throw error;
      }
    }
  }

  private checkTransition(issue: Issue, wanted: State, dependenciesDone: boolean, tx: IssueTx): State {
    if ((wanted === 'ready' || wanted === 'in_progress') && !dependenciesDone) {
      const waiting = unfinishedDependencies(issue, (d) => tx.issue(d)?.state);
      throw new JitError('INVALID_TRANSITION', `Issue ${short(issue.id)} cannot be ${wanted}: it waits for ${waiting.map(short).join(', ')}.`, {
        suggestions: [hint`Finish the dependencies first, or remove them with ${command('dep.remove')}.`],
        details: { id: issue.id, state: issue.state, wanted, waiting_for: waiting },
      });
    }
    if (wanted === 'in_progress' && issue.gates_required.length > 0) {
      const prechecks = pendingPrechecks(issue, tx.gates());
      if (prechecks.length > 0) throw prechecksPending(issue, prechecks);
    }
    if (wanted === 'gated' && pendingGates(issue).length === 0) {
      throw new JitError('INVALID_TRANSITION', `Issue ${short(issue.id)} cannot be gated: it has no pending gates.`, {
        suggestions: [hint`Add a gate with ${command('gate.add')} first.`],
        details: { id: issue.id, state: issue.state, wanted },
      });
    }
    if (wanted === 'done' && pendingGates(issue).length > 0) return 'gated';
    return wanted;
  }

  /** The issue given back when its claim has lapsed (leases.ts), with claim_expired in the log; otherwise the issue itself. */
  private freeIfLapsed(issue: Issue, dependenciesDone: boolean, tx: IssueTx): Issue {
    const reason = claimLapse(issue, Date.now(), (agent) => this.storage.isAgentLive(agent));
    if (!reason) return issue;
    const lease = issue.lease!;
    const next = givenBack(issue, dependenciesDone);
    tx.event(makeEvent('claim_expired', issue.id, { holder: lease.holder, reason, expires_at: lease.expires_at, agent: lease.agent }));
    recordStateChange(tx, issue, next);
    return next;
  }

  private claimLocked(issue: Issue, assignee: string, dependenciesDone: boolean, tx: IssueTx, ttl?: number | null, agent: string | null = null): Issue {
    if (issue.assignee !== null && issue.assignee !== assignee) {
      throw new JitError('ALREADY_CLAIMED', `Issue ${short(issue.id)} is already claimed by ${issue.assignee}.`, {
        suggestions: [hint`Pick another issue (${command('query.ready')}) or ask its holder to release it.`],
        details: { id: issue.id, assignee: issue.assignee },
      });
    }
    if (isTerminal(issue.state)) {
      throw new JitError('INVALID_TRANSITION', `Issue ${short(issue.id)} is ${issue.state}: there is nothing to claim.`, { details: { id: issue.id, state: issue.state } });
    }
    if (issue.assignee === assignee && (issue.state === 'in_progress' || issue.state === 'gated')) return issue;
    const state: State = issue.state === 'gated' ? 'gated' : this.checkTransition(issue, 'in_progress', dependenciesDone, tx);
    const timestamp = now();
    const lease = newLease(assignee, timestamp, ttl, agent);
    const next: Issue = { ...issue, assignee, state, updated_at: timestamp, lease };
    tx.event(makeEvent('issue_claimed', issue.id, { assignee, expires_at: lease.expires_at, agent: lease.agent }));
    recordStateChange(tx, issue, next);
    return next;
  }

  private async setGate(idOrPrefix: string, key: string, status: 'passed' | 'failed', by: string | undefined): Promise<IssueChange> {
    const gateKey = checkGateKey(key);
    const who = by === undefined ? null : checkAssignee('by', by);
    const { before, after, followUps } = await this.changeIssue(idOrPrefix, (issue, _done, tx) => applyGateVerdict(issue, gateKey, status, who, tx));
    return changeResult(after, after !== before, await this.runFollowUps(followUps, true));
  }

  /** The summaries, once the follow-ups interrupted writers left are finished (see settle). */
  private async loadSummaries(): Promise<ReadonlyMap<string, IssueSummary>> {
    await this.settle();
    return this.storage.loadSummaries();
  }

  /**
   * Finishes the follow-ups that writers stopped by a kill, a lock timeout
   * or a full disk left behind (see FollowUp). Every operation, readers
   * included, runs it first, so an issue waiting for a finished one is
   * promoted without anyone running validate, and nobody is shown it
   * stranded. It never fails the caller and never waits for a busy issue:
   * what it cannot do now (a busy lock, a read-only store) stays for the
   * next caller.
   */
  private settle(): Promise<void> {
    this.settling ??= (async () => {
      try {
        const leftovers = await this.storage.listFollowUps();
        if (leftovers.length > 0) await this.runFollowUps(leftovers, false);
      } catch {
        // Deliberately ignored: see above.
      } finally {
        this.settling = undefined;
      }
    })();
    return this.settling;
  }

  /**
   * Does what committed changes owe (see FollowUp) and forgets each
   * follow-up once done. What cannot be done now stays stored and is
   * returned, never thrown: the change it follows has happened, and an error
   * would tell the caller to retry something that is already done.
   * `wait: false` skips busy issues instead of waiting for them; `checked`
   * receives each issue re-checked, as it stands afterwards.
   */
  private async runFollowUps(followUps: readonly FollowUp[], wait: boolean, checked?: Map<string, Issue>): Promise<PendingFollowUp[]> {
    const pending: PendingFollowUp[] = [];
    let patient = wait;
    // Many leftovers can owe the same work (one issue finished and reopened
    // over and over by killed writers): do it once, forget them all.
    for (const group of groupFollowUps(followUps)) {
      const { kind, issueId } = group[0]!;
      let left: string[] = [];
      let stopped: unknown;
      try {
        // Dependencies as the index has them: a hint that saves a retry (see changeWithDependencies).
        const targets = kind === 'dependents' ? await this.storage.dependentsOf([issueId]) : [{ id: issueId, dependencies: undefined }];
        for (const { id, dependencies } of targets) {
          try {
            // A dependency gone by now was deleted after the change read it (see deleteIssue): drop it.
            const gone = kind === 'self' ? 'any' : [issueId];
            const issue = await this.reconcile(id, patient, dependencies, gone);
            if (issue) checked?.set(id, issue);
          } catch (error) {
            left.push(id);
            stopped ??= error;
            // One wait ran out: try the rest without waiting, rather than one timeout each.
            if (error instanceof JitError && error.code === 'LOCK_TIMEOUT') patient = false;
          }
        }
      } catch (error) {
        left = [];
        stopped = error;
      }
      if (stopped === undefined) {
        // Done: forgetting it can fail only on a broken disk, and then it is simply done again later.
        await this.storage.finishFollowUps(group).catch(() => undefined);
        continue;
      }
      const reason = stopped instanceof JitError ? `${stopped.code}: ${stopped.message}` : stopped instanceof Error ? stopped.message : String(stopped);
      pending.push({ step: kind, issue_id: issueId, issues: left, reason });
    }
    return pending;
  }

  /**
   * Moves an issue between backlog and ready to match its dependencies, if it is in the wrong one; null when it is gone.
   * `dropIfGone`: dependencies (or 'any') to remove when their issue no longer exists, as deleting it does.
   */
  private async reconcile(id: string, wait = true, knownDependencies?: readonly string[], dropIfGone: readonly string[] | 'any' = []): Promise<Issue | null> {
    try {
      const { after } = await this.changeWithDependencies(
        id,
        (issue, dependenciesDone, tx) => {
          const gone = issue.dependencies.filter((d) => (dropIfGone === 'any' || dropIfGone.includes(d)) && tx.issue(d) === null);
          const kept = gone.length > 0 ? { ...issue, dependencies: issue.dependencies.filter((d) => !gone.includes(d)) } : issue;
          // A missing dependency already counted as finished in dependenciesDone.
          const state = automaticState(kept, dependenciesDone);
          if (gone.length === 0 && state === issue.state) return issue;
          const next = { ...kept, state, updated_at: now() };
          for (const dependency of gone) tx.event(makeEvent('dependency_removed', id, { dependency, reason: 'issue deleted' }));
          recordStateChange(tx, issue, next);
          return next;
        },
        knownDependencies,
        wait,
      );
      return after;
    } catch (error) {
      // Deleted meanwhile: nothing left to reconcile.
      if (!(error instanceof JitError && error.code === 'ISSUE_NOT_FOUND')) throw error;
      return null;
    }
  }
}

interface Changed {
  before: Issue;
  after: Issue;
  /** Stored with the change; run them after it (runFollowUps). */
  followUps: FollowUp[];
}

/**
 * The result of a change: a copy of the stored issue (never itself stored)
 * with whether this call changed it, and the follow-ups it could not finish.
 */
function changeResult(issue: Issue, changed: boolean, pending: PendingFollowUp[] = []): IssueChange {
  return pending.length > 0 ? { ...issue, changed, pending } : { ...issue, changed };
}

export function makeEvent(type: EventType, issueId: string | null, extra: Record<string, unknown> = {}): JitEvent {
  return { type, id: newUuid(), issue_id: issueId, timestamp: now(), ...extra };
}

/** The issue with its claim given back (as release does): no holder, no lease, in progress back to ready or backlog. */
function givenBack(issue: Issue, dependenciesDone: boolean): Issue {
  const { lease: _lease, ...rest } = issue;
  const next: Issue = { ...rest, assignee: null, updated_at: now() };
  if (issue.state === 'in_progress') next.state = dependenciesDone ? 'ready' : 'backlog';
  return next;
}

/** Agent liveness asked once per agent per read (each answer is a lock probe). */
function memoLiveness(storage: Storage): (agent: string) => boolean {
  const known = new Map<string, boolean>();
  return (agent) => {
    let live = known.get(agent);
    if (live === undefined) known.set(agent, (live = storage.isAgentLive(agent)));
    return live;
  };
}


/**
 * A gate's verdict on the issue as it is now (gate pass/fail, and a checker's
 * result in gate-checks.ts): passing the last gate of a gated issue completes it.
 */
export function applyGateVerdict(issue: Issue, gateKey: string, status: 'passed' | 'failed', who: string | null, tx: IssueTx): Issue {
  const { id } = issue;
  if (!issue.gates_required.includes(gateKey)) {
    throw new JitError('GATE_NOT_FOUND', `Issue ${short(id)} does not require gate ${gateKey}.`, {
      suggestions: [bare(command('gate.add', { id: short(id), key: gateKey }))],
      details: { id, key: gateKey },
    });
  }
  const current = issue.gates_status[gateKey];
  // The same verdict by the same checker is already recorded, e.g. a retried gate pass
  // (unless a gated issue still waits for its completion, which this pass makes).
  const completes = issue.state === 'gated' && pendingGates(issue).length === 0;
  if (current?.status === status && current.updated_by === who && !completes) return issue;
  if (status === 'failed' && issue.state === 'done') {
    // A done issue has passed all its gates (as addGate keeps true); a failed one would make that false.
    throw new JitError('INVALID_TRANSITION', `Issue ${short(id)} is done: reopen it before failing gate ${gateKey}.`, {
      suggestions: [bare(command('issue.update', { id: short(id), state: 'in_progress' }))],
      details: { id, state: issue.state, key: gateKey },
    });
  }
  const timestamp = now();
  const next: Issue = { ...issue, gates_status: { ...issue.gates_status, [gateKey]: { status, updated_by: who, updated_at: timestamp } }, updated_at: timestamp };
  tx.event(makeEvent(status === 'passed' ? 'gate_passed' : 'gate_failed', id, { gate: gateKey, by: who }));
  // Passing the last gate of a gated issue completes it.
  if (issue.state === 'gated' && pendingGates(next).length === 0) next.state = 'done';
  recordStateChange(tx, issue, next);
  return next;
}

/** The context key reject records its reason under. */
export const REJECTION_REASON_KEY = 'rejection_reason';

/** The result with the hierarchy warnings a loose store let through, when there are any. */
function withWarnings<T extends IssueChange>(result: T, warnings: readonly HierarchyViolation[]): T {
  return warnings.length > 0 ? { ...result, warnings: [...warnings] } : result;
}

/** wrong_direction for each dependency of `issue` above its level. */
function dependencyViolations(issue: { id: string; labels: readonly string[] }, dependencies: readonly { id: string; labels: readonly string[] }[], hierarchy: Hierarchy): HierarchyViolation[] {
  return dependencies.flatMap((d) => directionViolation(issue, d, hierarchy) ?? []);
}

function recordStateChange(tx: IssueTx, before: Issue, after: Issue): void {
  if (before.state === after.state) return;
  tx.event(makeEvent('issue_state_changed', after.id, { from: before.state, to: after.state }));
  if (after.state === 'done') tx.event(makeEvent('issue_completed', after.id));
}




function cycleError(cycle: string[]): JitError {
  return new JitError('CYCLE', `Refused: the dependency would close a cycle ${describeCycle(cycle, short)}.`, {
    suggestions: [hint`Remove one of the edges on the cycle first (${command('dep.remove')}), or reverse the dependency.`],
    details: { cycle },
  });
}

function gateInUse(key: string, ids: readonly string[]): JitError {
  const shown = ids.slice(0, 10).map(short).join(', ') + (ids.length > 10 ? ` and ${ids.length - 10} more` : '');
  return new JitError('GATE_IN_USE', `Gate ${key} is still required by ${ids.length} issue${ids.length === 1 ? '' : 's'}: ${shown}.`, {
    suggestions: [
      bare(command('registry.remove', { key, dropRequirements: true })),
      ...ids.slice(0, 3).map((id) => bare(command('gate.remove', { id: short(id), key }))),
    ],
    details: { key, issues: [...ids] },
  });
}

function gateNotFound(key: string): JitError {
  return new JitError('GATE_NOT_FOUND', `Gate ${key} is not in the registry.`, {
    suggestions: [bare(command('registry.add', { key, title: '...' })), bare(command('registry.list'))],
    details: { key },
  });
}

function changedFields(before: Issue, after: Issue): string[] {
  return (['title', 'description', 'state', 'priority', 'assignee', 'labels', 'context'] as const).filter(
    (field) => JSON.stringify(before[field]) !== JSON.stringify(after[field]),
  );
}

/** What an update would change, judged from the issue as it is (a dry run: transitions the rules refuse show as changes). */
function predictedChanges(issue: Issue, input: UpdateIssueInput): string[] {
  const next: Issue = { ...issue, labels: [...issue.labels], context: { ...issue.context } };
  if (input.title !== undefined) next.title = checkTitle(input.title);
  if (input.description !== undefined) next.description = checkDescription(input.description);
  if (input.state !== undefined) next.state = parseState(input.state);
  if (input.priority !== undefined) next.priority = parsePriority(input.priority);
  if (input.assignee !== undefined) next.assignee = input.assignee === null ? null : checkAssignee('assignee', input.assignee);
  const removeLabels = new Set(splitLabels(checkList('removeLabels', input.removeLabels)).map((l) => checkToken('label', l)));
  next.labels = unique([...next.labels, ...splitLabels(checkList('addLabels', input.addLabels)).map(checkLabel)]).filter((l) => !removeLabels.has(l));
  if (input.context !== undefined) next.context = dropEmpty({ ...next.context, ...checkContext(input.context) });
  return changedFields(issue, next);
}

function summarizeIssue(issue: Issue): IssueSummary {
  const { id, title, state, priority, assignee, labels, dependencies, created_at, updated_at } = issue;
  return { id, title, state, priority, assignee, labels, dependencies, created_at, updated_at };
}

function unique<T>(values: T[]): T[] {
  return [...new Set(values)];
}

function dropEmpty(context: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(context).filter(([, value]) => value !== ''));
}


function eventFilter(query: Omit<EventQuery, 'limit'>): EventFilter {
  checkInput(query);
  if (query.type !== undefined && !(EVENT_TYPES as readonly string[]).includes(query.type)) {
    throw new JitError('INVALID_ARGUMENT', `Unknown event type ${preview(query.type)}.`, {
      suggestions: [`Use one of: ${EVENT_TYPES.join(', ')}.`],
      details: { field: 'type', choices: [...EVENT_TYPES] },
    });
  }
  return { type: query.type, issuePrefix: query.issueId === undefined ? undefined : normalizeIdInput(query.issueId) };
}

/** listIssues' filter checked and normalised as the store takes it. */
function summaryFilter(filter: IssueFilter): SummaryFilter {
  checkInput(filter);
  return {
    state: filter.state === undefined ? undefined : parseState(filter.state),
    priority: filter.priority === undefined ? undefined : parsePriority(filter.priority),
    assignee: filter.assignee === undefined ? undefined : checkAssignee('assignee', filter.assignee),
    label: filter.label === undefined ? undefined : checkLabelFilter(filter.label),
  };
}

/** Ready work with the lapsed claims merged in by urgency, at most `limit`. */
function withLapsed(ready: readonly IssueSummary[], lapsed: readonly IssueSummary[], limit: number | undefined): IssueSummary[] {
  const merged = [...ready, ...lapsed].sort(byUrgency);
  return limit === undefined ? merged : merged.slice(0, limit);
}
