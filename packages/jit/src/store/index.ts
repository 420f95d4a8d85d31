// The issue store: the `.jit/` format, its transactions and the domain operations.
// The faces (CLI, MCP) import the store only from here, or from core.ts (the
// part that loads without the file store and the lock addon) or open.ts (the
// part a CLI command starts with); the ESLint rule jit/layers enforces it.
export * from './core.js';
export type { Storage, IssueLocks, IssueTx, GraphTx, GraphLookup, SummaryFilter, ReadyQuery, BlockedCandidate, StorageCheck, EventFilter, FollowUp, HeldClaim, HeldClaims, SummariesPage, SummaryPage, LabelNamespace, LabelValue } from './storage.js';
export { Tracker } from './tracker.js';
export { JsonFileStorage, type JsonFileStorageOptions } from './json-file-storage.js';
export { InMemoryStorage } from './memory-storage.js';
export type { Locker, HeldLocks } from './locker.js';
export { RANK as LOCK_RANKS } from './locker.js';
export * from './open.js';
export { HIERARCHY_TEMPLATES, DEFAULT_HIERARCHY, DEFAULT_STRICTNESS } from './hierarchy.js';
export { debugLocks } from './debug-locks.js';
export { holdAgentLock, agentLockPath, runsUnderAgent } from './agents.js';
export type { TrackerOptions } from './tracker.js';
export { SCHEMA_VERSION } from './schema.js';
export { ChangeFeed, watchChanges, type ChangeBatch, type ChangeFeedOptions, type ChangeListener, type ChangeSource } from './change-feed.js';
export type { MigrateOptions, MigrationReport } from './migrate.js';
export { readStoreConfig, parseStoreConfig, type StoreConfig, type TypeHierarchy, type Strictness } from './config.js';
