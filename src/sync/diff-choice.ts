import type { CID } from '../codec/index.js'
import type { Commit } from '../commit/index.js'
import type { Store } from '../store/index.js'
import { Tree, type TreeChange } from '../tree/index.js'

/** A diff of at most this many entries is always sent as a diff. */
export const SMALL_DIFF_ENTRIES = 2048
/** Largest diff ever sent (beyond it: node mode, whatever the tree size). */
export const MAX_DIFF_ENTRIES = 1 << 20
/** Expected fan-out of the tree (src/tree/level.ts: base-16 levels). */
const FANOUT = 16

/** How a commit's tree travels: as changes from one of its parents' trees, or as its root. */
export type Body = { readonly base: number; readonly changes: TreeChange[] } | { readonly root: CID }

/**
 * Picks how to send `commit`'s tree: the smallest diff from one of its parents (from the empty
 * tree for a first commit), unless that diff is a near-complete rewrite (over SMALL_DIFF_ENTRIES
 * and at least half the estimated entries of the tree): then node mode, where the receiver walks
 * the new tree and fetches only the subtrees it does not have (a first sync, a clear and
 * rewrite, or content the receiver already holds from elsewhere). A diff is never larger than
 * the nodes it replaces otherwise: each changed entry would cost a whole node (~16 entries).
 */
export async function chooseBody(
  tree: Tree,
  store: Store,
  commit: Commit,
  parents: readonly Commit[],
  mode: 'auto' | 'never' | 'always',
): Promise<Body> {
  if (mode === 'always') return { root: commit.root }
  const bases = parents.length === 0 ? [Tree.emptyRoot] : parents.map((p) => p.root)
  let limit = mode === 'never' ? MAX_DIFF_ENTRIES : SMALL_DIFF_ENTRIES
  let estimated = mode === 'never'
  let best: { base: number; changes: TreeChange[] } | undefined
  for (let b = 0; b < bases.length; b++) {
    const cap = best === undefined ? limit : Math.min(limit, best.changes.length - 1)
    let changes = await boundedDiff(tree, bases[b]!, commit.root, cap)
    if (changes === undefined && best === undefined && !estimated) {
      estimated = true
      const entries = await estimateEntries(store, commit.root)
      limit = Math.max(SMALL_DIFF_ENTRIES, Math.min(MAX_DIFF_ENTRIES, Math.floor(entries / 2)))
      if (limit > SMALL_DIFF_ENTRIES) changes = await boundedDiff(tree, bases[b]!, commit.root, limit)
    }
    if (changes !== undefined) best = { base: b, changes }
  }
  return best ?? { root: commit.root }
}

/** The changes turning tree `from` into tree `to`, or undefined when there are more than `max`. */
export async function boundedDiff(tree: Tree, from: CID, to: CID, max: number): Promise<TreeChange[] | undefined> {
  const out: TreeChange[] = []
  if (max < 0) return undefined
  for await (const d of tree.diff(from, to)) {
    if (out.length >= max) return undefined
    out.push({ key: d.key, entry: d.after })
  }
  return out
}

/**
 * Estimated number of entries of the tree at `root`, from its top two levels: a Merkle search
 * tree of fan-out 16 has about 16^level entries per entry at `level`.
 */
export async function estimateEntries(store: Store, root: CID): Promise<number> {
  const bytes = await store.getBlock(root)
  if (bytes === undefined) return 0
  const node = Tree.decodeNode(bytes)
  const children = (node.children ?? []).filter((c): c is CID => c !== null)
  if (children.length === 0) return node.entries.length
  let below = 0
  let level = 0
  const got = await store.getBlocks(children)
  for (const b of got) {
    if (b === undefined) continue
    const child = Tree.decodeNode(b)
    below += child.entries.length
    level = Math.max(level, child.level)
  }
  return (node.entries.length + below) * FANOUT ** level
}
