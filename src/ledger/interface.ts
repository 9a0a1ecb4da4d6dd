import type { Priority } from '../tree/interface.js'
import type { Reference } from '../value/interface.js'

export type { Priority, Reference }

export type Bytes = Uint8Array
/** Strings are UTF-8 encoded; keys order by unsigned bytes. */
export type KeyLike = string | Uint8Array
export type ValueLike = string | Uint8Array
export type MergePolicy = 'last-one-wins' | 'automatic-with-fallback' | 'custom'
export type SyncState = 'idle' | 'pending' | 'in-progress' | 'error'
export type SyncMode = 'push' | 'pull' | 'both'

/** One key of a snapshot. `value` is undefined only for a lazy value not present locally. */
export interface Entry {
  key: Bytes
  value: Bytes | undefined
  priority: Priority
}

/** A change delivered to a watcher. */
export interface PageChange {
  /** Timestamp of the newest commit in the change. */
  timestamp: number
  /** Entries put or changed, sorted by key. */
  changed: Entry[]
  /** Keys deleted, sorted. */
  deleted: Bytes[]
  /** 'remote' when the change holds commits made on another replica. */
  origin: 'local' | 'remote'
  state: 'completed' | 'partial-started' | 'partial-continued' | 'partial-completed'
  /** The state that includes the whole change. */
  snapshot(): Promise<import('./snapshot.js').Snapshot>
}

export interface Value {
  value: Bytes | undefined
  priority: Priority
}

/** One key changed on either side of a merge (undefined: absent on that side). */
export interface DiffEntry {
  key: Bytes
  base?: Value
  left?: Value
  right?: Value
}

/** What a resolver decides for one key. 'right' takes the right side's state (absence included). */
export interface MergedValue {
  key: KeyLike
  source: 'right' | 'new' | 'delete'
  value?: ValueLike | Reference
  priority?: Priority
}

export interface MergeContext {
  pageId: Bytes
  left: import('./snapshot.js').Snapshot
  right: import('./snapshot.js').Snapshot
  base: import('./snapshot.js').Snapshot
  fullDiff(): AsyncIterable<DiffEntry>
  conflictingDiff(): AsyncIterable<DiffEntry>
  merge(values: MergedValue[]): Promise<void>
  mergeNonConflictingEntries(): Promise<void>
}

/** Called to join two heads; the merge commits when it resolves; if it throws, it is retried. */
export type ConflictResolver = (merge: MergeContext) => Promise<void> | void

/** What became of a key changed on both sides of a merge to different results. */
export type ConflictWinner = 'left' | 'right' | 'merged' | 'deleted'

/**
 * A key changed on both sides of a merge to different results (`page.conflicts()`): both
 * sides' states stay readable here, whichever won. An absent side is a missing property.
 */
export interface ConflictRecord {
  key: Bytes
  /** The key's state in the merge base. */
  base?: Value
  /** Its state in the newer parent. */
  left?: Value
  /** Its state in the older parent. */
  right?: Value
  /** 'left' / 'right': the merge kept that side; 'deleted': no entry; 'merged': a new value. */
  winner: ConflictWinner
  /** Commit id of the merge commit. */
  mergeCommit: string
  /** Commit ids of its parents (readable with `page.snapshot({ at })`). */
  leftCommit: string
  rightCommit: string
  /** The merge commit's timestamp. */
  timestamp: number
}

export interface ConflictsOptions {
  /**
   * At most this many records.
   * @default 100
   */
  limit?: number
  /** Only records of this key. */
  key?: KeyLike
  /**
   * Examine at most this many merge commits, newest first.
   * @default 1000
   */
  merges?: number
}

export interface SyncStats {
  commitsSent: number
  commitsReceived: number
  blocksSent: number
  blocksReceived: number
  bytesSent: number
  bytesReceived: number
  roundTrips: number
}

export interface PageSyncState {
  download: SyncState
  upload: SyncState
}

/** A connected remote replica. */
export interface Peer {
  /** The remote replica id. */
  readonly id: string
  close(): Promise<void>
}

export interface ListenOptions {
  /** @default '127.0.0.1' */
  host?: string
  /** @default 0 (any free port) */
  port?: number
  /** Peers must prove this shared secret (challenge-response; never sent in clear). */
  token?: string
  /** @default 16 MiB */
  maxFrameBytes?: number
}

export interface Listener {
  url: string
  port: number
  close(): Promise<void>
}

export interface LedgerOptions {
  /** LevelDB directory (classic-level); omitted → an in-memory store. */
  path?: string
  /** Stable id of this replica; generated once and persisted when omitted. */
  replicaId?: string
  /** @default 'last-one-wins' */
  mergePolicy?: MergePolicy
  /** Used by 'automatic-with-fallback' and 'custom'. */
  resolver?: ConflictResolver
  /** @default true: pages sync with connected peers by themselves. */
  autoSync?: boolean
  /** Wall clock in ms, injectable for tests. @default Date.now */
  clock?: () => number
  /**
   * Bound of the decoded tree-node cache, in bytes (beyond API.md; LevelDB's `cacheSize` plays
   * the same part). Pages larger than it are read from the store node by node.
   * @default 33554432 (32 MiB)
   */
  cacheBytes?: number
}
