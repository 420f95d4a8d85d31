/** The tracker's data, as stored in `.jit/` (specified in docs/format.md). */

export const STATES = ['backlog', 'ready', 'in_progress', 'gated', 'done', 'rejected', 'archived'] as const;
export type State = (typeof STATES)[number];
/** Finished states: they unblock dependents. Archiving a finished issue keeps it finished. */
export const TERMINAL_STATES: readonly State[] = ['done', 'rejected', 'archived'];

export const PRIORITIES = ['low', 'normal', 'high', 'critical'] as const;
export type Priority = (typeof PRIORITIES)[number];

export type GateStatusValue = 'pending' | 'passed' | 'failed';
export interface GateStatus {
  status: GateStatusValue;
  updated_by: string | null;
  updated_at: string; // RFC 3339
}

export interface Issue {
  id: string; // UUID v4
  title: string;
  description: string;
  state: State;
  priority: Priority;
  assignee: string | null; // "kind:name", e.g. "agent:worker-1"
  dependencies: string[]; // ids this issue waits for
  gates_required: string[]; // gate keys
  gates_status: Record<string, GateStatus>;
  labels: string[]; // "namespace:value"
  context: Record<string, string>;
  created_at: string;
  updated_at: string;
  /** The claim's lease (see leases.ts); absent when the issue is not claimed, or was claimed by a jit without leases. */
  lease?: Lease;
}

/**
 * A claim's lease: it ends at `expires_at` unless renewed, or as soon as the
 * running agent it is bound to (`agent`, see agents.ts) is gone.
 */
export interface Lease {
  holder: string; // the assignee who claimed
  acquired_at: string;
  expires_at: string | null; // null: no time limit
  agent: string | null; // the running agent whose life bounds the claim, or null
}

/** When a gate is checked: before work starts (claim, in_progress) or before done. */
export const GATE_STAGES = ['precheck', 'postcheck'] as const;
export type GateStage = (typeof GATE_STAGES)[number];
/** auto: jit runs its checker; manual: someone passes it by hand. */
export const GATE_MODES = ['auto', 'manual'] as const;
export type GateMode = (typeof GATE_MODES)[number];

/** A command that decides a gate (the original jit's shape): exit 0 passes, anything else fails. */
export interface GateChecker {
  type: 'exec';
  command: string;
  timeout_seconds: number;
  /** Relative to the project (the folder holding .jit/), or absolute; null: the project folder. */
  working_dir: string | null;
  env: Record<string, string>;
  /** Whether the checker gets the issue as JSON on its standard input. */
  pass_context: boolean;
}

export interface GateDefinition {
  key: string;
  title: string;
  description: string;
  auto: boolean;
  /** Absent in files written before gates could run checks: postcheck. */
  stage?: GateStage;
  /** Absent: auto when `auto` is true, otherwise manual. */
  mode?: GateMode;
  checker?: GateChecker | null;
}

/** The events this jit writes. */
export const JIT_EVENT_TYPES = [
  'issue_created',
  'issue_updated',
  'issue_state_changed',
  'issue_claimed',
  'issue_released',
  'issue_deleted',
  'issue_completed',
  'gate_added',
  'gate_removed',
  'gate_passed',
  'gate_failed',
  'dependency_added',
  'dependency_removed',
  'claim_renewed',
  'claim_expired',
  'claim_evicted',
  'gate_check_started',
  'gate_check_finished',
  'gate_definition_created',
  'gate_definition_removed',
] as const;

/** Every event type this jit reads: its own, and those of the original (Rust) jit that a migrated log holds. */
export const EVENT_TYPES = [
  ...JIT_EVENT_TYPES,
  'dependency_reduced',
  'document_archived',
  'artifact_archive_executed',
  'local_rule_bypassed',
  'transition_blocked',
  'graph_rule_bypassed',
  'gate_definition_updated',
  'lifecycle_timestamps_backfilled',
  'profile_applied',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export interface JitEvent {
  type: EventType;
  id: string; // event UUID
  issue_id: string | null;
  timestamp: string; // RFC 3339
  [extra: string]: unknown;
}
