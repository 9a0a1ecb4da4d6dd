/**
 * dagkv: a commit-DAG versioned key-value store engine — Fuchsia Ledger's model (pages, commits,
 * snapshots, watchers, transactions, merge policies, lazy values, sync) on IPLD blocks and LevelDB.
 * @packageDocumentation
 */
export { Ledger, Page, Snapshot } from './ledger/index.js'
export type {
  Bytes,
  KeyLike,
  ValueLike,
  Priority,
  Entry,
  MergePolicy,
  SyncState,
  SyncMode,
  PageChange,
  ConflictResolver,
  ConflictRecord,
  ConflictWinner,
  ConflictsOptions,
  MergeContext,
  DiffEntry,
  Value,
  MergedValue,
  SyncStats,
  PageSyncState,
  Peer,
  Listener,
  ListenOptions,
  LedgerOptions,
  Reference,
  EntriesOptions,
} from './ledger/index.js'
export { LedgerError, type ErrorCode } from './errors/index.js'
export { MAX_KEY_SIZE } from './codec/index.js'
export { connectInMemory, type MemoryLink } from './sync/index.js'
