// The issue store: the `.jit/` format, its transactions and the domain operations.
export * from './errors.js';
export * from './model.js';
export * from './tracker-api.js';
export type { Storage, IssueLocks, IssueTx, GraphTx, StorageCheck, EventFilter, FollowUp } from './storage.js';
export { Tracker } from './tracker.js';
export { JsonFileStorage, type JsonFileStorageOptions } from './json-file-storage.js';
export { InMemoryStorage } from './memory-storage.js';
export type { Locker, HeldLocks } from './locker.js';
export { RANK as LOCK_RANKS } from './locker.js';
export { findJitDir, resolveJitDir, initJit, openTracker, JIT_DIR_NAME } from './jit-dir.js';
export type { InitResult } from './jit-dir.js';
export { debugLocks, type LockFileState, type LockHolder } from './debug-locks.js';
export { parseState, parsePriority } from './rules.js';
export { SCHEMA_VERSION } from './schema.js';
export { bare, command, commandLine, hint, run, sentence, suggestionText, bareCommand } from './suggestions.js';
export type { Command as SuggestedCommand, Operation, OperationArgs, Suggestion, SuggestionPart, CommandPart } from './suggestions.js';
export { flattenBlocked, upstreamSubgraph, prerequisitesOf, reachFrom, type BlockedRow, type Graph } from './views.js';
