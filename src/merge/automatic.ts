import type { CID } from '../codec/index.js'
import type { TreeChange } from '../tree/interface.js'
import { conflictRecord } from './conflict-record.js'
import type { AutomaticOutcome, ConflictRecord, MergeTree } from './interface.js'
import { conflicting, sameEntry, ThreeWayCache } from './three-way-diff.js'

/**
 * The automatic merge: every non-conflicting change of right, as changes to apply to the left
 * root. These are exactly last-one-wins' changes (left's side is already in the left root, and
 * a key changed on both sides keeps left), so only the verdict differs: with `conflicting`
 * false they are the whole merge; with it true the resolver decides, from a session whose
 * `initial` changes are these (API.md: "with every non-conflicting change already merged").
 * `conflicts` then lists the conflicting keys as they stand before the resolver (left's
 * state); the session's `finish` gives the final record. `threeWay` is shared with that session.
 */
export async function automatic(
  tree: Pick<MergeTree, 'diff'>,
  baseRoot: CID,
  leftRoot: CID,
  rightRoot: CID,
  threeWay = new ThreeWayCache(tree, { base: baseRoot, left: leftRoot, right: rightRoot }),
): Promise<AutomaticOutcome> {
  const changes: TreeChange[] = []
  const conflicts: ConflictRecord[] = []
  for await (const entry of threeWay.entries()) {
    if (sameEntry(entry.base, entry.left)) changes.push({ key: entry.key, entry: entry.right })
    else if (conflicting(entry)) conflicts.push(conflictRecord(entry, entry.left))
  }
  return { changes, conflicts, conflicting: conflicts.length > 0 }
}
