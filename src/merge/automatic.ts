import type { CID } from '../codec/index.js'
import type { AutomaticOutcome, MergeTree } from './interface.js'
import { lastOneWins } from './last-one-wins.js'

/**
 * The automatic merge: every non-conflicting change of right, as changes to apply to the left
 * root. These are exactly last-one-wins' changes (left's side is already in the left root, and
 * a key changed on both sides keeps left), so only the verdict differs: with `conflicting`
 * false they are the whole merge; with it true the resolver decides, from a session whose
 * `initial` changes are these (API.md: "with every non-conflicting change already merged").
 * `conflicts` then lists the conflicting keys as they stand before the resolver (left's
 * state); the session's `finish` gives the final record.
 */
export async function automatic(
  tree: Pick<MergeTree, 'diff'>,
  baseRoot: CID,
  leftRoot: CID,
  rightRoot: CID,
): Promise<AutomaticOutcome> {
  const { changes, conflicts } = await lastOneWins(tree, baseRoot, leftRoot, rightRoot)
  return { changes, conflicts, conflicting: conflicts.length > 0 }
}
