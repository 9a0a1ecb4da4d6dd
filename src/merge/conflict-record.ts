import type { TreeEntry } from '../tree/interface.js'
import type { ConflictRecord, ThreeWayEntry } from './interface.js'
import { sameEntry } from './three-way-diff.js'

/** Records a conflicting key with what the merge made of it (`result` undefined: deleted). */
export function conflictRecord(entry: ThreeWayEntry, result: TreeEntry | undefined): ConflictRecord {
  const winner =
    result === undefined
      ? 'deleted'
      : sameEntry(result, entry.left)
        ? 'left'
        : sameEntry(result, entry.right)
          ? 'right'
          : 'merged'
  return { key: entry.key, base: entry.base, left: entry.left, right: entry.right, winner }
}
