/**
 * The part of the store's public surface that loads without the file store,
 * its schemas or the lock addon: errors, the model, the rules that check
 * input, the hints and the shapes the faces show. The CLI imports it at
 * start-up (`jit --version`, `--help`, usage errors never open a store);
 * everything else comes from index.ts, which re-exports this module.
 */
export * from './errors.js';
export * from './model.js';
export * from './tracker-api.js';
export { parseState, parsePriority, isReservedKey, RESERVED_KEYS, checkLabelNamespace, COUNT_MAX } from './rules.js';
export { withHints, pendingNotes } from './hints.js';
export { bare, command, commandLine, hint, run, sentence, suggestionText, bareCommand } from './suggestions.js';
export type { Command as SuggestedCommand, Operation, OperationArgs, Suggestion, SuggestionPart, CommandPart } from './suggestions.js';
export { flattenBlocked, upstreamSubgraph, prerequisitesOf, reachFrom, type BlockedRow, type Graph } from './views.js';
export type { LockFileState, LockHolder } from './debug-locks.js';
export { AGENT_ID_VARIABLE, AGENT_PID_VARIABLE, LEASE_TTL_VARIABLE, type LapseReason } from './leases.js';
export type { AgentRecord, AgentHolder, RunningAgent } from './agents.js';
