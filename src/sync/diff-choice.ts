import type { CID } from '../codec/index.js'
import type { Commit } from '../commit/index.js'
import { Tree, type TreeChange } from '../tree/index.js'

/**
 * Largest diff sent (about 30 MB of entries held in memory while sending); a bigger change is
 * sent in node mode, whose blocks the receiver fetches level by level.
 */
export const MAX_DIFF_ENTRIES = 1 << 18
/**
 * A first commit (no parent: its diff is from the empty tree, its whole content) of more entries
 * than this travels in node mode: as many bytes within 5 %, a round trip per tree level, but
 * about half the receiver's CPU (it verifies nodes instead of rebuilding the tree), and stored
 * subtrees are skipped (bench/sync.ts, `initial` and `initialAsNodes`).
 */
export const FIRST_COMMIT_DIFF_ENTRIES = 2048

/** How a commit's tree travels: as changes from one of its parents' trees, or as its root. */
export type Body = { readonly base: number; readonly changes: TreeChange[] } | { readonly root: CID }

/**
 * Picks how to send `commit`'s tree. A diff costs about the changed entries; node mode (the
 * root, then the nodes the receiver lacks, level by level) costs a whole node (~32 entries) per
 * scattered change, so it wins only when the receiver already holds the tree: when the commit's
 * root is one the receiver said it has (`receiverRoots`: two replicas that wrote the same
 * content, a revert, a clear), nothing but the commit travels. Otherwise: the smallest diff from
 * one of its parents' trees, or node mode past MAX_DIFF_ENTRIES, or for a big first commit
 * (FIRST_COMMIT_DIFF_ENTRIES).
 */
export async function chooseBody(
  tree: Tree,
  commit: Commit,
  parents: readonly Commit[],
  receiverRoots: ReadonlySet<string>,
  mode: 'auto' | 'never' | 'always',
): Promise<Body> {
  if (mode === 'always' || (mode === 'auto' && receiverRoots.has(commit.root.toString()))) return { root: commit.root }
  const bases = parents.length === 0 ? [Tree.emptyRoot] : parents.map((p) => p.root)
  let best: { base: number; changes: TreeChange[] } | undefined
  for (let b = 0; b < bases.length; b++) {
    const limit = parents.length === 0 && mode === 'auto' ? FIRST_COMMIT_DIFF_ENTRIES : MAX_DIFF_ENTRIES
    const cap = best === undefined ? limit : best.changes.length - 1
    const changes = await boundedDiff(tree, bases[b]!, commit.root, cap)
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
