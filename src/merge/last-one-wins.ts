import type { CID } from '../codec/index.js'
import type { TreeChange } from '../tree/interface.js'
import { conflictRecord } from './conflict-record.js'
import type { ConflictRecord, MergeOutcome, MergeTree } from './interface.js'
import { conflicting, sameEntry, threeWayDiff } from './three-way-diff.js'

/**
 * Last-one-wins, as changes to apply to the left (newer) root: a key changed on one side takes
 * that change; a key changed on both keeps left's change, deletions included. Conflicting keys
 * (changed on both sides to different results) are recorded with winner `left` or `deleted`.
 */
export async function lastOneWins(
  tree: Pick<MergeTree, 'diff'>,
  baseRoot: CID,
  leftRoot: CID,
  rightRoot: CID,
): Promise<MergeOutcome> {
  const changes: TreeChange[] = []
  const conflicts: ConflictRecord[] = []
  for await (const entry of threeWayDiff(tree, baseRoot, leftRoot, rightRoot)) {
    if (sameEntry(entry.base, entry.left)) changes.push({ key: entry.key, entry: entry.right })
    else if (conflicting(entry)) conflicts.push(conflictRecord(entry, entry.left))
  }
  return { changes, conflicts }
}
