import type { Block, CID } from '../codec/index.js'
import type { BlockReader } from '../store/index.js'
import { applyChanges } from './apply.js'
import { diffBatches, diffTrees } from './diff.js'
import { mergeTrees } from './merge3.js'
import type { ApplyOptions, ApplyResult, BothChanged, DiffItem, RangeOptions, TreeChange, TreeEntry } from './interface.js'
import { decodeNode, nodeLinks } from './node-decode.js'
import { DEFAULT_CACHE_BYTES, EMPTY_BLOCK, NodeStore } from './node-store.js'
import { ownedRun, scanSlab, type EntryMaker } from './owned-run.js'
import type { StagedChanges } from './staged-changes.js'
import { getEntry, iterateEntries, iterateRuns } from './read.js'

export interface TreeOptions {
  /**
   * Bound of the cache of decoded nodes, in approximate heap bytes (a node counts its block plus
   * ~32 bytes per entry and ~160 per child link; measured within ~10% of the heap it takes).
   * @default 32 MiB
   */
  cacheBytes?: number | undefined
}

/** What a node block says, decoded (see `Tree.decodeNode`). */
export interface DecodedNode {
  readonly level: number
  readonly entries: readonly TreeEntry[]
  /** null for a leaf; else `entries.length + 1` slots (null: no subtree in that gap). */
  readonly children: readonly (CID | null)[] | null
}

/**
 * A history-independent Merkle search tree of entries over content-addressed blocks
 * (docs/tree.md). A tree is named by its root CID; trees are immutable, `apply` returns a new
 * root and the new node blocks. One `Tree` serves any number of roots over one block reader.
 *
 * New blocks: `apply` returns the blocks the caller must store. Until the caller reports them
 * with `markStored` (after writing them, or after abandoning them), the tree keeps them in
 * memory outside the LRU, so every root `apply` returned stays readable. A caller that never
 * calls `markStored` keeps them for the life of the `Tree`.
 *
 * Returned entries' byte arrays are views of cached node blocks: treat them as immutable and copy
 * at the public API boundary. Entries passed to `apply` are copied into the new blocks.
 */
export class Tree {
  /** Root CID of the empty tree; the same everywhere (a level-0 node with no entries). */
  static readonly emptyRoot: CID = EMPTY_BLOCK.cid
  /** The block of `emptyRoot`, for stores that want it present. */
  static readonly emptyBlock: Block = EMPTY_BLOCK

  readonly #nodes: NodeStore

  constructor(reader: BlockReader, options: TreeOptions = {}) {
    this.#nodes = new NodeStore(reader, options.cacheBytes ?? DEFAULT_CACHE_BYTES)
  }

  /** The entry under `key`, or undefined. NEEDS_FETCH (`data.cid`) if a node on the path is missing. */
  get(root: CID, key: Uint8Array): Promise<TreeEntry | undefined> {
    return getEntry(this.#nodes, root, key)
  }

  /**
   * Entries in key order within [start, end) (descending with `reverse`), at most `limit`.
   * Streams node by node: memory is O(height).
   */
  entries(root: CID, opts?: RangeOptions): AsyncGenerator<TreeEntry> {
    return iterateEntries(this.#nodes, root, opts)
  }

  /**
   * The same entries as `entries`, in batches, built by `make` from byte arrays the caller owns
   * (copies, unlike `entries`' views): one async step and one allocation per batch, for scans
   * that hand entries out. With `keysOnly` values are neither copied nor passed.
   */
  async *ownedBatches<T>(root: CID, opts: RangeOptions, make: EntryMaker<T>, keysOnly = false): AsyncGenerator<T[]> {
    const reverse = opts.reverse === true
    const slab = scanSlab()
    for await (const runs of iterateRuns(this.#nodes, root, opts)) {
      if (runs.length === 1) {
        yield ownedRun(runs[0]!, reverse, make, keysOnly, slab)
        continue
      }
      const out: T[] = []
      for (const run of runs) ownedRun(run, reverse, make, keysOnly, slab, out)
      yield out
    }
  }

  /**
   * Applies changes sorted by key with unique keys (an absent `entry` deletes; deleting an
   * absent key is a no-op) in one pass. Returns the new root and the blocks it needs that the
   * old root did not have (none when nothing changed). INVALID_ARGUMENT on unsorted changes.
   * A `StagedChanges` batch (sorted and staged by a trusted writer) skips the checks.
   */
  apply(root: CID, changes: TreeChange[] | StagedChanges, options?: ApplyOptions): Promise<ApplyResult> {
    return applyChanges(this.#nodes, root, changes, options)
  }

  /**
   * Keys whose entries differ between `a` (before) and `b` (after), ascending, optionally within
   * [start, end). Skips subtrees with equal CIDs: O(changes · height) nodes loaded.
   */
  diff(a: CID, b: CID, range?: { start?: Uint8Array | undefined; end?: Uint8Array | undefined }): AsyncGenerator<DiffItem> {
    return diffTrees(this.#nodes, a, b, range?.start, range?.end)
  }

  /** `diff` in batches (never empty): one async step per batch, for diffs that hand items out. */
  diffBatches(a: CID, b: CID, range?: { start?: Uint8Array | undefined; end?: Uint8Array | undefined }): AsyncGenerator<DiffItem[]> {
    return diffBatches(this.#nodes, a, b, range?.start, range?.end)
  }

  /**
   * Three-way merge: the tree of `left` and `right` joined from `base`. A key changed on one
   * side takes that side's entry; a key changed on both takes `bothChanged`'s result. Returns
   * the root and the new blocks (as `apply`). Only nodes where both sides changed are rewritten.
   */
  merge(base: CID, left: CID, right: CID, bothChanged: BothChanged): Promise<ApplyResult> {
    return mergeTrees(this.#nodes, base, left, right, bothChanged)
  }

  /** The CIDs a node block references: child nodes, and value blocks with their laziness. */
  links(nodeBytes: Uint8Array): { children: CID[]; values: { cid: CID; lazy: boolean }[] } {
    return nodeLinks(nodeBytes)
  }

  /** Decodes and validates one node block (DATA_INTEGRITY_ERROR if malformed). */
  static decodeNode(nodeBytes: Uint8Array): DecodedNode {
    const node = decodeNode(nodeBytes, undefined)
    const entries: TreeEntry[] = []
    for (let i = 0; i < node.n; i++) entries.push(node.entryAt(i))
    return { level: node.level, entries, children: node.children }
  }

  /** Releases blocks returned by `apply` once stored (or abandoned); they are then read from the store. */
  markStored(blocks: Iterable<Block | CID>): void {
    const cids: CID[] = []
    for (const b of blocks) cids.push((b as Partial<Block>).cid ?? (b as CID))
    this.#nodes.markStored(cids)
  }

  /** Bytes of a block `apply` returned that has not been marked stored (for serving it early). */
  pendingBlock(cid: CID): Uint8Array | undefined {
    return this.#nodes.pendingBytes(cid)
  }

  /** Number of blocks held for `markStored`. */
  get pendingCount(): number {
    return this.#nodes.pendingCount
  }

  /** Decoded nodes in the LRU and their approximate bytes. */
  get cacheStats(): { nodes: number; bytes: number } {
    return this.#nodes.cacheStats
  }

  /** Drops every cached decoded node (pending ones stay). For benchmarks and tests. */
  clearCache(): void {
    this.#nodes.clearCache()
  }
}
