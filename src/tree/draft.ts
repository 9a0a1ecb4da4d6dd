import type { CID } from '../codec/index.js'
import type { TreeEntry } from './interface.js'
import type { Node } from './node.js'

// A node being built by `apply` is a `Draft`: a list of segments (runs of a Node's entries, or new
// entries) and child refs; `finalizeDrafts` (apply-finalize.ts) encodes drafts into Nodes.

/** A run of consecutive entries [from, to) of a stored node. */
export class Run {
  readonly node: Node
  readonly from: number
  readonly to: number

  constructor(node: Node, from: number, to: number) {
    this.node = node
    this.from = from
    this.to = to
  }
}

/** A segment of a draft's entries: a run of a stored node, or one new entry. */
export type Seg = Run | TreeEntry

/** A node built by `apply`, not yet encoded. */
export class Draft {
  readonly level: number
  readonly segs: readonly Seg[]
  readonly n: number
  readonly children: readonly (Ref | null)[] | null
  /** Set by `finalizeDrafts`. */
  cid: CID | undefined

  /** `children` with no subtree at all makes a leaf. */
  constructor(level: number, segs: readonly Seg[], children: readonly (Ref | null)[]) {
    let n = 0
    for (let s = 0; s < segs.length; s++) {
      const seg = segs[s]!
      n += seg instanceof Run ? seg.to - seg.from : 1
    }
    let leaf = true
    for (let i = 0; i < children.length; i++) {
      if (children[i] !== null) {
        leaf = false
        break
      }
    }
    this.level = level
    this.segs = segs
    this.n = n
    this.children = leaf ? null : children
    this.cid = undefined
  }

  child(i: number): Ref | null {
    const c = this.children
    return c === null ? null : (c[i] ?? null)
  }
}

/** A subtree reference: a stored node by CID, or a draft. */
export type Ref = CID | Draft

/** A node being worked on by `apply`: stored or draft. */
export type AnyNode = Node | Draft
