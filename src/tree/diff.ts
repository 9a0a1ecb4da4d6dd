import { compareBytes, equalRanges, type CID } from '../codec/index.js'
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

  /** The node of the current subtree item, checked against its place. */
  async load(): Promise<Node> {
    const cid = this.cid as CID
    const node = this.#store.cached(cid) ?? (await this.#store.load(cid))
    if (this.#parentLevel >= 0) checkPlace(node, this.#parentLevel, this.#loN, this.#loI, this.#hiN, this.#hiI)
    return node
  }

  /** The current subtree items of both cursors span the same key interval. */
  sameBounds(other: Cursor): boolean {
    return sameBound(this.#loN, this.#loI, other.#loN, other.#loI) && sameBound(this.#hiN, this.#hiI, other.#hiN, other.#hiI)
  }

  /** Replaces the current subtree item by its children and entries. */
  open(node: Node): void {
    const frame = { node, pos: 0, loN: this.#loN, loI: this.#loI, hiN: this.#hiN, hiI: this.#hiI }
    this.advance()
    this.#stack.push(frame)
  }
}

function sameBound(a: Node | null, ai: number, b: Node | null, bi: number): boolean {
  if (a === null || b === null) return a === b
  return a.compareKeys(ai, b, bi) === 0
}

/**
 * The differing entries of two leaves over the same key interval, merged in one tight loop
 * (most leaf pairs of a small change: no cursor steps per entry). Keys outside [start, end) are
 * left out.
 */
function diffLeaves(a: Node, b: Node, start: Bound, end: Bound): DiffItem[] {
  const out: DiffItem[] = []
  const push = (item: DiffItem): void => {
    if ((start === undefined || compareBytes(item.key, start) >= 0) && (end === undefined || compareBytes(item.key, end) < 0)) {
      out.push(item)
    }
  }
  const an = a.n
  const bn = b.n
  const ka = a.kItem(0)
  const kLen = a.kItem(an) - ka
  if (an === bn && kLen === b.kItem(bn) - b.kItem(0) && equalRanges(a.bytes, ka, b.bytes, b.kItem(0), kLen)) {
    // Same keys (an update of values only): compare values alone.
    for (let i = 0; i < an; i++) {
      if (!a.sameValue(i, b, i)) {
        const before = a.entryAt(i)
        push({ key: before.key, before, after: b.entryAt(i) })
      }
    }
    return out
  }
  let i = 0
  let j = 0
  while (i < an || j < bn) {
    const c = i === an ? 1 : j === bn ? -1 : a.compareKeys(i, b, j)
    if (c < 0) {
      const before = a.entryAt(i++)
      push({ key: before.key, before })
    } else if (c > 0) {
      const after = b.entryAt(j++)
      push({ key: after.key, after })
    } else {
      if (!a.sameValue(i, b, j)) {
        const before = a.entryAt(i)
        push({ key: before.key, before, after: b.entryAt(j) })
      }
      i++
      j++
    }
  }
  return out
}

/** Keys whose entries differ between `a` (before) and `b` (after), ascending, within [start, end). */
export async function* diffTrees(store: NodeStore, a: CID, b: CID, start?: Bound, end?: Bound): AsyncGenerator<DiffItem> {
  if (start !== undefined && end !== undefined && compareBytes(start, end) >= 0) return
  const A = new Cursor(store, a, start, end)
  const B = new Cursor(store, b, start, end)
  for (;;) {
    const ka = A.current()
    const kb = B.current()
    if (ka === TREE && kb === TREE) {
      if ((A.cid as CID).equals(B.cid)) {
        A.advance()
        B.advance()
        continue
      }
      const na = await A.load()
      const nb = await B.load()
      if (na.children === null && nb.children === null && A.sameBounds(B)) {
        A.advance()
        B.advance()
        for (const item of diffLeaves(na, nb, start, end)) yield item
        continue
      }
      if (na.level >= nb.level) A.open(na)
      if (nb.level >= na.level) B.open(nb)
      continue
    }
    if (ka === TREE) {
      A.open(await A.load())
      continue
    }
    if (kb === TREE) {
      B.open(await B.load())
      continue
    }
    if (ka === NONE) {
      if (kb === NONE) return
      const after = (B.node as Node).entryAt(B.index)
      yield { key: after.key, after }
      B.advance()
      continue
    }
    const an = A.node as Node
    if (kb === NONE) {
      const before = an.entryAt(A.index)
      yield { key: before.key, before }
      A.advance()
      continue
    }
    const bn = B.node as Node
    const c = an.compareKeys(A.index, bn, B.index)
    if (c < 0) {
      const before = an.entryAt(A.index)
      yield { key: before.key, before }
      A.advance()
    } else if (c > 0) {
      const after = bn.entryAt(B.index)
      yield { key: after.key, after }
      B.advance()
    } else {
      if (!an.sameValue(A.index, bn, B.index)) {
        const before = an.entryAt(A.index)
        yield { key: before.key, before, after: bn.entryAt(B.index) }
      }
      A.advance()
      B.advance()
    }
  }
}
