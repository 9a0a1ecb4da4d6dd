import { pushEntries } from './any-node.js'
import { Draft, type Ref, type Seg } from './draft.js'
import type { Node } from './node.js'

// Bulk build: a subtree made only of new entries (an empty gap, or an empty tree), built
// top-down from the changes' key levels with no node reads.

/** The highest level among levels[from, to) (-1: deletes only). */
export function maxLevel(levels: Int8Array, from: number, to: number): number {
  let top = -1
  for (let i = from; i < to; i++) {
    const l = levels[i]!
    if (l > top) top = l
  }
  return top
}

/**
 * A fresh subtree from the inserts among changes[from, to) (deletes of absent keys drop out);
 * `staged` holds their encoded entries (see `ChangeStager`).
 */
export function buildFresh(levels: Int8Array, staged: Node, from: number, to: number): Draft | null {
  const top = maxLevel(levels, from, to)
  if (top < 0) return null
  const segs: Seg[] = []
  const children: (Ref | null)[] = []
  let seg = from
  for (let i = from; i < to; i++) {
    if (levels[i] !== top) continue
    children.push(seg === i ? null : buildFresh(levels, staged, seg, i))
    pushEntries(segs, staged, i, i + 1)
    seg = i + 1
  }
  children.push(seg === to ? null : buildFresh(levels, staged, seg, to))
  return new Draft(top, segs, children)
}
