import type { CID } from '../codec/index.js'
import type { StoreBlock } from '../store/index.js'

/** Eager values travel with sync; lazy values only when fetched. */
export type Priority = 'eager' | 'lazy'

/**
 * How a value is held in a tree entry: small eager values inline, everything else as a link to
 * a value block (a raw chunk, or an index block over chunks) plus the value's total size.
 */
export type ValueRef = { readonly inline: Uint8Array } | { readonly link: CID; readonly size: number }

export interface TreeEntry {
  readonly key: Uint8Array
  readonly value: ValueRef
  readonly priority: Priority
}

/** One change for `apply`: `entry` undefined deletes `key`. */
export interface TreeChange {
  readonly key: Uint8Array
  readonly entry: TreeEntry | undefined
}

/** `start` inclusive, `end` exclusive; with `reverse` the same range from the top down. */
export interface RangeOptions {
  start?: Uint8Array | undefined
  end?: Uint8Array | undefined
  reverse?: boolean | undefined
  limit?: number | undefined
}

/** One key whose entry differs between two trees (absent side: undefined). */
export interface DiffItem {
  readonly key: Uint8Array
  readonly before?: TreeEntry | undefined
  readonly after?: TreeEntry | undefined
}

export interface ApplyOptions {
  /**
   * For large batches: called with finished node blocks while the rest is still being encoded,
   * children before parents, so the caller can start storing them (in order: a stored node's
   * subtree must already be stored). The blocks handed off are also in the result's `blocks`,
   * first; the rest (with the root) are not handed off.
   */
  onBlocks?: ((blocks: StoreBlock[]) => void) | undefined
  /**
   * Drops the base tree's rewritten nodes from the decoded-node cache at the next apply with this
   * option: a commit replaces them in the page's head, and kept they would push out the unchanged
   * nodes later commits read. Until then a diff against the old version still finds them.
   */
  evictReplaced?: boolean | undefined
}

export interface ApplyResult {
  readonly root: CID
  /** New node blocks the caller must store (with the commit, in one batch). */
  readonly blocks: StoreBlock[]
}

/**
 * The result of a key changed on both sides to different results (from `base` to `left` and to
 * `right`; absent: undefined): the merged entry, or undefined to delete it. Called only for
 * such keys; it must be a pure function (a key may be decided more than once).
 */
export type BothChanged = (base: TreeEntry | undefined, left: TreeEntry | undefined, right: TreeEntry | undefined) => TreeEntry | undefined
