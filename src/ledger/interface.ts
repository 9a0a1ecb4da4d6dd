import type { Priority } from '../tree/interface.js'
import type { Reference } from '../value/interface.js'

export type { Priority, Reference }

/** Keys, values and ids as the API returns them: always a fresh, caller-owned array. */
export type Bytes = Uint8Array
/** Strings are UTF-8 encoded; keys order by unsigned bytes. */
export type KeyLike = string | Uint8Array
/** Strings are UTF-8 encoded; the bytes are copied at the call. */
export type ValueLike = string | Uint8Array
/** How a page joins concurrent heads (docs/merging.md). */
export type MergePolicy = 'last-one-wins' | 'automatic-with-fallback' | 'custom'
/** State of one direction of a page's sync with its peers. */
export type SyncState = 'idle' | 'pending' | 'in-progress' | 'error'
/** `push` sends, `pull` receives, `both` does both. */
export type SyncMode = 'push' | 'pull' | 'both'

/** One key of a snapshot. `value` is undefined only for a lazy value not present locally. */
export interface Entry {
  /** The key's bytes. */
  key: Bytes
  /** The value's bytes; undefined only for a lazy value not present locally. */
  value: Bytes | undefined
  /** 'lazy' values travel between replicas only when fetched. */
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
  /** 'completed', or the part of a change of more than 1000 entries delivered in key order. */
  state: 'completed' | 'partial-started' | 'partial-continued' | 'partial-completed'
  /** The state that includes the whole change. */
  snapshot(): Promise<import('./snapshot.js').Snapshot>
}

/** A key's state on one side of a merge. */
export interface Value {
  /** The bytes; undefined for a lazy value not present locally. */
  value: Bytes | undefined
  /** Its priority on that side. */
  priority: Priority
}

/** One key changed on either side of a merge (undefined: absent on that side). */
export interface DiffEntry {
  /** The key changed. */
  key: Bytes
  /** The key in the common ancestor. */
  base?: Value
  /** The key in the newer head. */
  left?: Value
  /** The key in the older head. */
  right?: Value
}

/** What a resolver decides for one key. 'right' takes the right side's state (absence included). */
export interface MergedValue {
  /** The key of the result to set. */
  key: KeyLike
  /** 'right': the right side's state; 'new': `value`; 'delete': no entry. */
  source: 'right' | 'new' | 'delete'
  /** Required with source 'new'. */
  value?: ValueLike | Reference
  /** @default 'eager' */
  priority?: Priority
}

/** What a resolver sees of one merge of two heads; the result starts from `left`. */
export interface MergeContext {
  /** The page being merged. */
  pageId: Bytes
  /** The newer head (by timestamp, then commit id). */
  left: import('./snapshot.js').Snapshot
  /** The older head. */
  right: import('./snapshot.js').Snapshot
  /** Their common ancestor (empty when they share no edit). */
  base: import('./snapshot.js').Snapshot
  /** Every key changed on either side, sorted. */
  fullDiff(): AsyncIterable<DiffEntry>
  /** Keys changed on both sides to different results, sorted. */
  conflictingDiff(): AsyncIterable<DiffEntry>
  /** Sets keys of the result; may be called many times, the last value for a key wins. */
  merge(values: MergedValue[]): Promise<void>
  /** Takes every change made on one side only into the result. */
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
  /** The key changed on both sides. */
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
  /** Commit id of the older parent. */
  rightCommit: string
  /** The merge commit's timestamp. */
  timestamp: number
}

/** Options of `page.conflicts()`. */
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

/** What one `page.sync()` call moved, counted for that page and call. */
export interface SyncStats {
  /** Commits sent to peers. */
  commitsSent: number
  /** Commits received from peers. */
  commitsReceived: number
  /** Content-addressed blocks sent (commits, tree nodes, value chunks). */
  blocksSent: number
  /** Content-addressed blocks received. */
  blocksReceived: number
  /** Bytes that crossed the transport outwards. */
  bytesSent: number
  /** Bytes that crossed the transport inwards. */
  bytesReceived: number
  /** Request/response exchanges the call waited on. */
  roundTrips: number
}

/** A page's sync state in each direction. */
export interface PageSyncState {
  /** Receiving from peers. */
  download: SyncState
  /** Sending to peers. */
  upload: SyncState
}

/** A connected remote replica. */
export interface Peer {
  /** The remote replica id. */
  readonly id: string
  /** Disconnects; may be called more than once. */
  close(): Promise<void>
}

/** Options of `ledger.listen()`. */
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

/** A running sync server. */
export interface Listener {
  /** `ws://host:port`, for `ledger.connect`. */
  url: string
  /** The port it listens on (the one chosen when 0 was asked). */
  port: number
  /** Stops serving and drops its peers. */
  close(): Promise<void>
}

/** Options of `Ledger.open()`. */
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
  /**
   * Store a rewritten tree node as a delta of the node it replaces (beyond API.md): history
   * takes ~5× less space, and a cold read of such a node costs a second LevelDB read (its bases,
   * all at once). `false` stores every node whole; stores keep reading deltas written before.
   * @default true
   */
  nodeDeltas?: boolean
}
