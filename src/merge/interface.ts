import type { Block, CID } from '../codec/index.js'
import type { Commit, CommitReader } from '../commit/index.js'
import type { ApplyResult, BothChanged, DiffItem, Priority, TreeChange, TreeEntry, ValueRef } from '../tree/interface.js'
import type { Reference } from '../value/interface.js'

/** The merge policies of API.md. */
export type MergePolicy = 'last-one-wins' | 'automatic-with-fallback' | 'custom'

/**
 * The part of the tree layer merging needs; `Tree` from `src/tree/` satisfies it.
 * `diff` yields ascending keys and skips equal subtrees, so merges cost ∝ changes.
 */
export interface MergeTree {
  get(root: CID, key: Uint8Array): Promise<TreeEntry | undefined>
  apply(root: CID, sortedChanges: TreeChange[]): ApplyResult | Promise<ApplyResult>
  diff(a: CID, b: CID): AsyncIterable<DiffItem>
  /** Releases blocks `apply` returned once they are stored (or abandoned). */
  markStored?(blocks: Iterable<Block>): void
  /**
   * Structural three-way merge (Tree.merge): keys changed on one side take it, keys changed on
   * both take `bothChanged`'s result. Optional: without it merges diff and apply.
   */
  merge?(
    base: CID,
    left: CID,
    right: CID,
    bothChanged: BothChanged,
  ): Promise<ApplyResult>
}

/** What merging reads and writes through. */
export interface MergeEnv {
  /** Commit blocks, with the DAG walks. */
  readonly commits: CommitReader
  readonly tree: MergeTree
  /**
   * Stores blocks that are not heads: the intermediate (virtual-base) merge commits of a
   * criss-cross and their tree nodes. Writing an existing block again must be harmless.
   */
  writeBlocks(blocks: Block[]): Promise<void>
}

/** How two commits of one page are related in the DAG. */
export type Relation = 'equal' | 'a-ancestor' | 'b-ancestor' | 'diverged'

/** One key changed on at least one side of a three-way diff (absent side: undefined). */
export interface ThreeWayEntry {
  readonly key: Uint8Array
  readonly base?: TreeEntry | undefined
  readonly left?: TreeEntry | undefined
  readonly right?: TreeEntry | undefined
}

/**
 * What became of a key changed on both sides to different results: `deleted` when the merge
 * removed it, else `left` / `right` when the result is that side's entry, else `merged`.
 */
export type ConflictWinner = 'left' | 'right' | 'merged' | 'deleted'

/** A key changed differently on both sides: both sides' entries stay recoverable from it. */
export interface ConflictRecord extends ThreeWayEntry {
  readonly winner: ConflictWinner
}

/** The changes to apply to the left root, and the record of conflicting keys. */
export interface MergeOutcome {
  readonly changes: TreeChange[]
  readonly conflicts: ConflictRecord[]
}

/** `automatic`'s result: `conflicting` true means the resolver must decide. */
export interface AutomaticOutcome extends MergeOutcome {
  /** True when some key changed on both sides to different results. */
  readonly conflicting: boolean
}

/** A merge commit's fields, ready for `makeCommit`. */
export interface MergeCommitData {
  parents: CID[]
  root: CID
  timestamp: number
  generation: number
}

/**
 * What to do with two commits (two heads, or a head and a connection's state):
 * `same` nothing; `fast-forward` move to `head`; `take` join both in a merge commit whose content
 * is `content`'s, without the policy (one side's only changes are merges, Fuchsia's subset rule);
 * `merge` run the policy on `left` (newer) and `right` from `base`.
 */
export type MergePlan =
  | { readonly kind: 'same'; readonly head: Commit }
  | { readonly kind: 'fast-forward'; readonly head: Commit }
  | { readonly kind: 'take'; readonly left: Commit; readonly right: Commit; readonly content: Commit }
  | { readonly kind: 'merge'; readonly left: Commit; readonly right: Commit; readonly base: Commit }

/** One side's state of a key, as a resolver sees it. */
export interface Value {
  /** undefined only for a lazy value not present locally. */
  value: Uint8Array | undefined
  priority: Priority
}

/** A key changed on at least one side; an absent side is a missing property. */
export interface DiffEntry {
  key: Uint8Array
  base?: Value
  left?: Value
  right?: Value
}

/** One resolution: take right's state (absence included), a new value, or delete. */
export interface MergedValue {
  key: string | Uint8Array
  source: 'right' | 'new' | 'delete'
  value?: string | Uint8Array | Reference
  priority?: Priority
}

/** What a conflict resolver is given; `S` is the ledger's Snapshot. */
export interface MergeContext<S> {
  readonly pageId: Uint8Array
  readonly left: S
  readonly right: S
  readonly base: S
  /** Every key changed on either side, sorted. */
  fullDiff(): AsyncIterable<DiffEntry>
  /** Keys changed on both sides to different results, sorted. */
  conflictingDiff(): AsyncIterable<DiffEntry>
  /** May be called many times; the last value for a key wins. */
  merge(values: MergedValue[]): Promise<void>
  /** Takes every non-conflicting change (of either side) into the result. */
  mergeNonConflictingEntries(): Promise<void>
}

/** A conflict resolver of API.md, generic over the Snapshot type. */
export type ConflictResolver<S> = (merge: MergeContext<S>) => Promise<void> | void

/** A value the session stores for a `'new'` merged value. */
export interface EncodedValue {
  readonly ref: ValueRef
  readonly blocks: Block[]
}

/** Everything a `MergeSession` needs; the ledger layer supplies it. */
export interface MergeSessionOptions<S> {
  readonly pageId: Uint8Array
  readonly left: S
  readonly right: S
  readonly base: S
  readonly tree: MergeTree
  /** Tree roots of the base, left and right commits. */
  readonly roots: { readonly base: CID; readonly left: CID; readonly right: CID }
  /** A value's bytes; undefined for a lazy value not present locally. */
  readValue(ref: ValueRef): Promise<Uint8Array | undefined>
  /** Stores a new value (`source: 'new'` with bytes). */
  encodeValue(bytes: Uint8Array, priority: Priority): EncodedValue | Promise<EncodedValue>
  /** Turns a Reference into a ValueRef; REFERENCE_NOT_FOUND when this ledger never issued it. */
  resolveReference(ref: Reference, priority: Priority): Promise<ValueRef>
  /**
   * Changes already merged onto left before the resolver runs: `automatic(...).changes` for
   * 'automatic-with-fallback'; omitted ('custom') the result starts as left.
   */
  readonly initial?: readonly TreeChange[] | undefined
  /**
   * The conflicting keys (changed on both sides to different results), sorted, when the caller
   * found them already (Tree.merge reports them): `conflictingDiff` and `finish` use this list
   * instead of walking the three-way diff.
   */
  readonly conflicts?: readonly ThreeWayEntry[] | undefined
}

/** The session's result: changes to apply to the left root, the new value blocks they need. */
export interface SessionResult extends MergeOutcome {
  /** Value blocks written by `'new'` values that survive in `changes`. */
  readonly blocks: Block[]
}
