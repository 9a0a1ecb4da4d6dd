import type { Block, CID } from '../codec/index.js'
import { compareCommits, makeCommit, sortCids, type Commit } from '../commit/index.js'
import type { TreeChange } from '../tree/interface.js'
import type { MergeCommitData, MergeTree } from './interface.js'

/** Orders two commits as merging sees them: `left` is the newer by (timestamp, commit id). */
export function orderHeads(a: Commit, b: Commit): { left: Commit; right: Commit } {
  return compareCommits(a, b) >= 0 ? { left: a, right: b } : { left: b, right: a }
}

/**
 * A merge commit's fields: parents sorted, the merged root, the larger parent timestamp,
 * 1 + the larger parent generation and no replica, so the same heads merged to the same root
 * give the same commit id on every replica.
 */
export function mergeCommitData(left: Commit, right: Commit, root: CID): MergeCommitData {
  return {
    parents: sortCids([left.cid, right.cid]),
    root,
    timestamp: Math.max(left.timestamp, right.timestamp),
    generation: 1 + Math.max(left.generation, right.generation),
  }
}

/** Encodes the merge commit of `left` and `right` with content `root`. */
export function makeMergeCommit(left: Commit, right: Commit, root: CID): { commit: Commit; block: Block } {
  return makeCommit(mergeCommitData(left, right, root))
}

/**
 * Applies a policy's changes to the left root (or to `from`, a tree already merged from it) and
 * encodes the merge commit. `blocks` holds the new tree nodes and the commit block, for the
 * caller to store.
 */
export async function buildMergeCommit(
  tree: Pick<MergeTree, 'apply'>,
  left: Commit,
  right: Commit,
  changes: TreeChange[],
  from: CID = left.root,
): Promise<{ commit: Commit; blocks: Block[] }> {
  const applied = changes.length === 0 ? { root: from, blocks: [] } : await tree.apply(from, changes)
  const { commit, block } = makeMergeCommit(left, right, applied.root)
  return { commit, blocks: [...applied.blocks, block] }
}
