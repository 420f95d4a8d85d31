/**
 * Claim leases: how long a claim lasts, and when it has lapsed. A lease ends
 * at its `expires_at` (a time limit, renewed by its holder), or at once when
 * the running agent it is bound to is gone (its agent lock is free: see
 * agents.ts). Nothing runs in the background: a lapsed claim is treated as
 * free by whoever reads it, and given back by whoever writes the issue next.
 */
import { JitError } from './errors.js';
import type { Issue, Lease } from './model.js';
import { isTerminal } from './rules.js';
import type { IssueSummary } from './tracker-api.js';

export const LEASE_TTL_VARIABLE = 'JIT_LEASE_TTL';
export const AGENT_ID_VARIABLE = 'JIT_AGENT_ID';
/** Set by `jit agent run` for its command: its own pid, the holder of the agent lock the command runs under (agents.ts). */
export const AGENT_PID_VARIABLE = 'JIT_AGENT_PID';
/** How long a claim lasts without a renewal, unless told otherwise. */
export const DEFAULT_LEASE_TTL_MS = 30 * 60 * 1000;
/** A lease no longer than a year: far enough for "a long time", near enough for Date arithmetic to stay exact. */
const MAX_TTL_MS = 366 * 24 * 60 * 60 * 1000;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * A duration as people write it: `90s`, `30m`, `1.5h`, `2d`, `500ms`, or a
 * bare number of seconds. `0` means no time limit (null). Undefined when the
 * text is not a duration. (Five units and a regular expression: not worth a
 * dependency.)
 */
export function parseDuration(text: string): number | null | undefined {
  const match = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|m|h|d)?\s*$/i.exec(text);
  if (!match) return undefined;
  const ms = Number(match[1]) * UNIT_MS[(match[2] ?? 's').toLowerCase()]!;
  if (!Number.isFinite(ms) || ms > MAX_TTL_MS) return undefined;
  return ms === 0 ? null : Math.max(1, Math.round(ms));
}

/** A --ttl / ttl argument: a duration string or a number of seconds; null = no time limit. */
export function checkTtl(input: unknown): number | null {
  const parsed = typeof input === 'number' ? (Number.isFinite(input) && input >= 0 ? parseDuration(String(input)) : undefined) : typeof input === 'string' ? parseDuration(input) : undefined;
  if (parsed === undefined) {
    throw new JitError('INVALID_ARGUMENT', `Invalid ttl ${JSON.stringify(input)}: give a duration such as 90s, 30m, 2h or 1d (up to a year), or 0 for no time limit.`, {
      details: { field: 'ttl' },
    });
  }
  return parsed;
}

/** JIT_LEASE_TTL, or the default (30 minutes); read on every claim so long-lived servers see changes. */
export function defaultLeaseTtlMs(env: NodeJS.ProcessEnv = process.env): number | null {
  const raw = env[LEASE_TTL_VARIABLE];
  if (raw === undefined || raw.trim() === '') return DEFAULT_LEASE_TTL_MS;
  const parsed = parseDuration(raw);
  if (parsed === undefined) {
    throw new JitError('INVALID_ENV', `${LEASE_TTL_VARIABLE}=${JSON.stringify(raw)} is not a duration: use e.g. 30m, 2h or 0 (no time limit). Fix or unset the variable.`, {
      suggestions: [`Unset ${LEASE_TTL_VARIABLE} for the default (30m).`],
      details: { variable: LEASE_TTL_VARIABLE },
    });
  }
  return parsed;
}

/**
 * The lease a claim gets. Without an explicit ttl: none when bound to a
 * running agent (its life is the limit), the default TTL otherwise.
 */
export function newLease(holder: string, at: string, ttlMs: number | null | undefined, agent: string | null): Lease {
  const ttl = ttlMs !== undefined ? ttlMs : agent !== null ? null : defaultLeaseTtlMs();
  return { holder, acquired_at: at, expires_at: ttl === null ? null : new Date(Date.parse(at) + ttl).toISOString(), agent };
}

/** The issue's lease when it still describes the claim (its holder holds the unfinished issue). */
export function activeLease(issue: Pick<Issue, 'assignee' | 'state' | 'lease'>): Lease | undefined {
  const { lease } = issue;
  return lease && lease.holder === issue.assignee && !isTerminal(issue.state) ? lease : undefined;
}

export type LapseReason = 'ttl' | 'agent_gone';

/** Why a lease has lapsed at `now`, or null while it holds (or there is none: claims from before leases last). */
export function leaseLapse(lease: Pick<Lease, 'expires_at' | 'agent'> | undefined, now: number, agentLive: (agent: string) => boolean): LapseReason | null {
  if (!lease) return null;
  if (lease.agent !== null && !agentLive(lease.agent)) return 'agent_gone';
  if (lease.expires_at !== null && Date.parse(lease.expires_at) <= now) return 'ttl';
  return null;
}

/** Why the issue's claim has lapsed at `now`, or null while it holds. */
export function claimLapse(issue: Pick<Issue, 'assignee' | 'state' | 'lease'>, now: number, agentLive: (agent: string) => boolean): LapseReason | null {
  return leaseLapse(activeLease(issue), now, agentLive);
}

/** A claim in flight: in progress or gated, with an assignee (what query claims lists). */
export function isClaim(issue: Pick<IssueSummary, 'state' | 'assignee'>): boolean {
  return (issue.state === 'in_progress' || issue.state === 'gated') && issue.assignee !== null;
}

/** The lease as the summary keeps it (its two fields are there exactly when the claim has an active lease). */
export function summaryLease(summary: Pick<IssueSummary, 'lease_expires_at' | 'lease_agent'>): Pick<Lease, 'expires_at' | 'agent'> | undefined {
  if (summary.lease_expires_at === undefined && summary.lease_agent === undefined) return undefined;
  return { expires_at: summary.lease_expires_at ?? null, agent: summary.lease_agent ?? null };
}

/** A lease that can lapse: it has a time limit, or an agent whose life bounds it. */
export function canLapse(summary: Pick<IssueSummary, 'lease_expires_at' | 'lease_agent'>): boolean {
  return (summary.lease_expires_at ?? null) !== null || (summary.lease_agent ?? null) !== null;
}

/** The issue without a lease that no longer describes its claim (holder changed, finished, given back). */
export function withoutStaleLease(issue: Issue): Issue {
  if (!issue.lease || activeLease(issue)) return issue;
  const { lease: _dropped, ...rest } = issue;
  return rest;
}
