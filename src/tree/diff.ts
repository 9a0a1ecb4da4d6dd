import { compareBytes, type CID } from '../codec/index.js'
import { diffLeaves, sameKeys } from './diff-leaves.js'
import type { DiffItem } from './interface.js'
import { checkPlace } from './node-check.js'
import type { Node } from './node.js'
import type { NodeStore } from './node-store.js'

// Diff walks both trees as two in-order sequences of items, each item an entry or a whole
// subtree (a CID with its key interval). Equal subtree CIDs on both sides hold equal entry sets
// (canonical trees), and everything before them has been compared already, so they are skipped
// without loading. Otherwise the subtree of higher level (both, on a tie; the subtree, against an
// entry) is opened into its children and entries. Only nodes on paths to changes are loaded:
// O(changes · height). Entries are compared in place (keys and encoded values).

const NONE = 0
const ENTRY = 1
const TREE = 2

type Bound = Uint8Array | undefined

interface Frame {
  readonly node: Node
  /** 2i: child i; 2i+1: entry i. */
  pos: number
  readonly loN: Node | null
  readonly loI: number
  readonly hiN: Node | null
  readonly hiI: number
  /** The other cursor's frame of a node with the same level, keys and bounds (see `skipTwins`). */
  twin: Frame | null
}

class Cursor {
  readonly #store: NodeStore
  readonly #start: Bound
  readonly #end: Bound
  readonly #stack: Frame[] = []
  #root: CID | null
  // The current item, as set by current(): an entry (node, index) or a subtree (cid, place).
  node: Node | undefined
  index = 0
  cid: CID | undefined
  #parentLevel = -1
  #loN: Node | null = null
  #loI = 0
  #hiN: Node | null = null
  #hiI = 0

  constructor(store: NodeStore, root: CID, start: Bound, end: Bound) {
    this.#store = store
    this.#root = root
    this.#start = start
    this.#end = end
  }

  current(): number {
    if (this.#root !== null) {
      this.cid = this.#root
      this.#parentLevel = -1
      this.#loN = null
      this.#hiN = null
      return TREE
    }
    const stack = this.#stack
    while (stack.length > 0) {
      const f = stack[stack.length - 1]!
      const node = f.node
      const n = node.n
      if (f.pos > 2 * n) {
        stack.pop()
        continue
      }
      if ((f.pos & 1) === 0) {
        const ci = f.pos >>> 1
        const c = node.child(ci)
        if (c === null) {
          f.pos++
          continue
        }
        const loN = ci > 0 ? node : f.loN
        const loI = ci > 0 ? ci - 1 : f.loI
        const hiN = ci < n ? node : f.hiN
        const hiI = ci < n ? ci : f.hiI
        if (
          (this.#start !== undefined && hiN !== null && hiN.compareKey(hiI, this.#start) <= 0) ||
          (this.#end !== undefined && loN !== null && loN.compareKey(loI, this.#end) >= 0)
        ) {
          f.pos++
          continue
        }
        this.cid = c
        this.#parentLevel = node.level
        this.#loN = loN
        this.#loI = loI
        this.#hiN = hiN
        this.#hiI = hiI
        return TREE
      }
      const i = f.pos >>> 1
      if (this.#start !== undefined && node.compareKey(i, this.#start) < 0) {
        f.pos++
        continue
      }
      if (this.#end !== undefined && node.compareKey(i, this.#end) >= 0) {
        stack.length = 0
        return NONE
      }
      this.node = node
      this.index = i
      return ENTRY
    }
    return NONE
  }

  advance(): void {
    if (this.#root !== null) this.#root = null
    else this.#stack[this.#stack.length - 1]!.pos++
  }

  /** The node of the current subtree item, checked against its place: a Node when in memory. */
  load(): Node | Promise<Node> {
    const cid = this.cid as CID
    const node = this.#store.cached(cid)
    if (node === undefined) return this.#loadStored(cid)
    this.#check(node)
    return node
  }

  async #loadStored(cid: CID): Promise<Node> {
    const node = await this.#store.load(cid)
    this.#check(node)
    return node
  }

  #check(node: Node): void {
    if (this.#parentLevel >= 0) checkPlace(node, this.#parentLevel, this.#loN, this.#loI, this.#hiN, this.#hiI)
  }

  /** The current subtree items of both cursors span the same key interval. */
  sameBounds(other: Cursor): boolean {
    return sameBound(this.#loN, this.#loI, other.#loN, other.#loI) && sameBound(this.#hiN, this.#hiI, other.#hiN, other.#hiI)
  }

  /** Replaces the current subtree item by its children and entries. */
  open(node: Node): Frame {
    const frame: Frame = { node, pos: 0, loN: this.#loN, loI: this.#loI, hiN: this.#hiN, hiI: this.#hiI, twin: null }
    this.advance()
    this.#stack.push(frame)
    return frame
  }

  /** The innermost open node's frame, once the root is open. */
  top(): Frame | undefined {
    return this.#root === null ? this.#stack[this.#stack.length - 1] : undefined
  }
}

/**
 * Inner nodes that differ but hold the same keys over the same interval (a change that only
 * updated values: every inner node on its paths) line up item by item. While both cursors stand
 * in such a pair, equal child links and equal entries are stepped over here in one loop, not
 * item by item through the cursors; the first differing item (or an entry at/after `end`) is
 * left to the general walk.
 */
function skipTwins(A: Cursor, B: Cursor, end: Bound): void {
  const fa = A.top()
  const fb = B.top()
  if (fa === undefined || fb === undefined || fa.twin !== fb || fb.twin !== fa) return
  const na = fa.node
  const nb = fb.node
  const last = 2 * na.n
  let pos = fa.pos
  while (pos <= last) {
    const i = pos >>> 1
    if ((pos & 1) === 0) {
      const ca = na.child(i)
      const cb = nb.child(i)
      if (ca === null ? cb !== null : cb === null || !ca.equals(cb)) break
    } else if ((end !== undefined && na.compareKey(i, end) >= 0) || !na.sameValue(i, nb, i)) {
      break
    }
    pos++
  }
  fa.pos = pos
  fb.pos = pos
}

/**
 * Starts loading, in one batch, the children of two nodes of one level that the walk will open:
 * a child link the other node does not have (at the same index, when the nodes hold the same
 * keys) is never skipped as an equal subtree. Without it a diff over nodes not in memory waited
 * for one read at a time. Children outside [start, end) are left alone; when the first such
 * child is already in memory, nothing is done (a warm diff).
 */
function prefetchDiffering(store: NodeStore, a: Node, b: Node, start: Bound, end: Bound): void {
  const todo: CID[] = []
  const aligned = sameKeys(a, b)
  for (const [x, y] of [[a, b], [b, a]] as const) {
    for (let i = 0; i <= x.n; i++) {
      const c = x.child(i)
      if (c === null || !inRange(x, i, start, end)) continue
      if (aligned ? sameLink(c, y.child(i)) : hasChild(y, c)) continue
      // The first of them in memory: a warm diff, where this would be pure overhead.
      if (todo.length === 0 && store.cached(c) !== undefined) return
      todo.push(c)
    }
  }
  if (todo.length > 1) store.prefetch(todo)
}

function inRange(node: Node, i: number, start: Bound, end: Bound): boolean {
  if (start !== undefined && i < node.n && node.compareKey(i, start) <= 0) return false
  return end === undefined || i === 0 || node.compareKey(i - 1, end) < 0
}

function sameLink(c: CID, d: CID | null): boolean {
  return d !== null && c.equals(d)
}

function hasChild(node: Node, c: CID): boolean {
  for (let i = 0; i <= node.n; i++) if (sameLink(c, node.child(i))) return true
  return false
}

function sameBound(a: Node | null, ai: number, b: Node | null, bi: number): boolean {
  if (a === null || b === null) return a === b
  return a.compareKeys(ai, b, bi) === 0
}

/** Keys whose entries differ between `a` (before) and `b` (after), ascending, within [start, end). */
export async function* diffTrees(store: NodeStore, a: CID, b: CID, start?: Bound, end?: Bound): AsyncGenerator<DiffItem> {
  for await (const batch of diffBatches(store, a, b, start, end)) for (const item of batch) yield item
}

const ignore = (): void => {}

/** A diff batch is handed out once it holds this many items (or a node must be loaded). */
const DIFF_BATCH_ITEMS = 256

/**
 * `diffTrees` in batches: items found over nodes in memory are collected without an async step;
 * a batch is handed out when it holds `DIFF_BATCH_ITEMS` items, before waiting for a load, and
 * at the end. Never yields an empty batch.
 */
export async function* diffBatches(store: NodeStore, a: CID, b: CID, start?: Bound, end?: Bound): AsyncGenerator<DiffItem[]> {
  if (start !== undefined && end !== undefined && compareBytes(start, end) >= 0) return
  const A = new Cursor(store, a, start, end)
  const B = new Cursor(store, b, start, end)
  let out: DiffItem[] = []
  for (;;) {
    if (out.length >= DIFF_BATCH_ITEMS) {
      yield out
      out = []
    }
    skipTwins(A, B, end)
    const ka = A.current()
    const kb = B.current()
    if (ka === TREE && kb === TREE) {
      if ((A.cid as CID).equals(B.cid)) {
        A.advance()
        B.advance()
        continue
      }
      const la = A.load()
      const lb = B.load()
      // Both loads run at once; either may fail while the other is awaited, or while the caller
      // holds a batch (and stops there): neither may surface as an unhandled rejection.
      if (la instanceof Promise) la.catch(ignore)
      if (lb instanceof Promise) lb.catch(ignore)
      if ((la instanceof Promise || lb instanceof Promise) && out.length > 0) {
        yield out
        out = []
      }
      const na = la instanceof Promise ? await la : la
      const nb = lb instanceof Promise ? await lb : lb
      if (na.children === null && nb.children === null && A.sameBounds(B)) {
        A.advance()
        B.advance()
        diffLeaves(na, nb, start, end, out)
        continue
      }
      if (na.level === nb.level && na.children !== null && nb.children !== null) prefetchDiffering(store, na, nb, start, end)
      if (na.level === nb.level && sameKeys(na, nb) && A.sameBounds(B)) {
        const fa = A.open(na)
        const fb = B.open(nb)
        fa.twin = fb
        fb.twin = fa
        continue
      }
      if (na.level >= nb.level) A.open(na)
      if (nb.level >= na.level) B.open(nb)
      continue
    }
    if (ka === TREE || kb === TREE) {
      const C = ka === TREE ? A : B
      const l = C.load()
      if (l instanceof Promise && out.length > 0) {
        l.catch(ignore)
        yield out
        out = []
      }
      C.open(l instanceof Promise ? await l : l)
      continue
    }
    if (ka === NONE) {
      if (kb === NONE) {
        if (out.length > 0) yield out
        return
      }
      const after = (B.node as Node).entryAt(B.index)
      out.push({ key: after.key, after })
      B.advance()
      continue
    }
    const an = A.node as Node
    if (kb === NONE) {
      const before = an.entryAt(A.index)
      out.push({ key: before.key, before })
      A.advance()
      continue
    }
    const bn = B.node as Node
    const c = an.compareKeys(A.index, bn, B.index)
    if (c < 0) {
      const before = an.entryAt(A.index)
      out.push({ key: before.key, before })
      A.advance()
    } else if (c > 0) {
      const after = bn.entryAt(B.index)
      out.push({ key: after.key, after })
      B.advance()
    } else {
      if (!an.sameValue(A.index, bn, B.index)) {
        const before = an.entryAt(A.index)
        out.push({ key: before.key, before, after: bn.entryAt(B.index) })
      }
      A.advance()
      B.advance()
    }
  }
}
