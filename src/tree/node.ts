import { CID, compareBytes, equalBytes } from '../codec/index.js'
import { LedgerError } from '../errors/index.js'
import type { TreeEntry, ValueRef } from './interface.js'

// In-memory node forms. A stored node is a `Node`: its block bytes plus an offset table, so
// reads compare keys in place and a rewrite copies runs of unchanged entries as byte ranges. A
// node being built by `apply` is a `Draft`: a list of segments (runs of a Node's entries, or new
// entries) and child refs; `finalize` encodes drafts into Nodes.

/** Entry flag bits (Node.flags). */
export const FLAG_LINK = 1
export const FLAG_LAZY = 2

/** A decoded node block. Immutable; shared by every tree that contains it. */
export class Node {
  readonly level: number
  readonly bytes: Uint8Array
  readonly n: number
  /**
   * Offsets into `bytes`: kItem[0..n] (start of key i's CBOR item; kItem[n] = end of "k"),
   * kData[0..n-1] (start of key i's bytes, which end at kItem[i+1]), vItem[0..n] and
   * vData[0..n-1] likewise for values (for a link value, vData is the CID tag's offset).
   * A plain array of small integers: a typed array would be one more off-heap allocation per
   * node, which costs more than the node's whole offset computation.
   */
  readonly off: readonly number[]
  /** Per-entry FLAG_LINK | FLAG_LAZY, or null when every value is inline and eager. */
  readonly flags: Uint8Array | null
  readonly children: readonly (CID | null)[] | null
  /** Undefined only for a node decoded without its CID (`nodeLinks`). */
  readonly cid: CID | undefined
  /** Approximate heap footprint, for the cache bound. */
  readonly size: number

  constructor(
    level: number,
    bytes: Uint8Array,
    n: number,
    off: readonly number[],
    flags: Uint8Array | null,
    children: readonly (CID | null)[] | null,
    cid: CID | undefined,
  ) {
    this.level = level
    this.bytes = bytes
    this.n = n
    this.off = off
    this.flags = flags
    this.children = children
    this.cid = cid
    this.size = 640 + bytes.length + 8 * off.length + (flags === null ? 0 : n + 64) + (children === null ? 0 : 160 * children.length)
  }

  kItem(i: number): number {
    return this.off[i]!
  }

  kData(i: number): number {
    return this.off[this.n + 1 + i]!
  }

  vItem(i: number): number {
    return this.off[2 * this.n + 1 + i]!
  }

  vData(i: number): number {
    return this.off[3 * this.n + 2 + i]!
  }

  child(i: number): CID | null {
    const c = this.children
    return c === null ? null : (c[i] ?? null)
  }

  /** compareBytes(key i, key) without a view. */
  compareKey(i: number, key: Uint8Array): number {
    const b = this.bytes
    const n = this.n
    const off = this.off
    const start = off[n + 1 + i]!
    const len = off[i + 1]! - start
    const m = len < key.length ? len : key.length
    for (let j = 0; j < m; j++) {
      const d = b[start + j]! - key[j]!
      if (d !== 0) return d
    }
    return len - key.length
  }

  /** compareBytes(key i of this, key j of other). */
  compareKeys(i: number, other: Node, j: number): number {
    const a = this.bytes
    const b = other.bytes
    const as = this.kData(i)
    const al = this.kItem(i + 1) - as
    const bs = other.kData(j)
    const bl = other.kItem(j + 1) - bs
    const m = al < bl ? al : bl
    for (let k = 0; k < m; k++) {
      const d = a[as + k]! - b[bs + k]!
      if (d !== 0) return d
    }
    return al - bl
  }

  /** Binary search in entries [from, n): index of `key`, or ~insertion index. */
  search(key: Uint8Array, from = 0): number {
    let lo = from
    let hi = this.n
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      const c = this.compareKey(mid, key)
      if (c < 0) lo = mid + 1
      else if (c > 0) hi = mid
      else return mid
    }
    return ~lo
  }

  /** Index of the first key >= `key`. */
  lowerBound(key: Uint8Array): number {
    const s = this.search(key)
    return s >= 0 ? s : ~s
  }

  /** Key i as a view of the block. */
  keyAt(i: number): Uint8Array {
    return this.bytes.subarray(this.kData(i), this.kItem(i + 1))
  }

  isLazy(i: number): boolean {
    const f = this.flags
    return f !== null && (f[i]! & FLAG_LAZY) !== 0
  }

  /** The value of entry i (views of the block; a link's CID is decoded). */
  valueAt(i: number): ValueRef {
    const f = this.flags
    if (f === null || (f[i]! & FLAG_LINK) === 0) return { inline: this.bytes.subarray(this.vData(i), this.vItem(i + 1)) }
    return parseLink(this.bytes, this.vData(i), this.vItem(i + 1))
  }

  /** Entry i, materialised (its byte arrays are views of the block: do not mutate). */
  entryAt(i: number): TreeEntry {
    return { key: this.keyAt(i), value: this.valueAt(i), priority: this.isLazy(i) ? 'lazy' : 'eager' }
  }

  /** Same value and priority as entry j of `other` (keys are assumed equal). */
  sameValue(i: number, other: Node, j: number): boolean {
    const fa = this.flags === null ? 0 : this.flags[i]!
    const fb = other.flags === null ? 0 : other.flags[j]!
    if (fa !== fb) return false
    const as = this.vItem(i)
    const al = this.vItem(i + 1) - as
    const bs = other.vItem(j)
    if (other.vItem(j + 1) - bs !== al) return false
    const a = this.bytes
    const b = other.bytes
    for (let k = 0; k < al; k++) if (a[as + k] !== b[bs + k]) return false
    return true
  }

  /** Entry i has the same value and priority as `entry` (keys are assumed equal). */
  matches(i: number, entry: TreeEntry): boolean {
    const f = this.flags === null ? 0 : this.flags[i]!
    if (((f & FLAG_LAZY) !== 0) !== (entry.priority === 'lazy')) return false
    const v = entry.value as { inline?: Uint8Array; link: CID; size: number }
    if (v.inline !== undefined) {
      if ((f & FLAG_LINK) !== 0) return false
      const start = this.vData(i)
      const len = this.vItem(i + 1) - start
      if (len !== v.inline.length) return false
      for (let k = 0; k < len; k++) if (this.bytes[start + k] !== v.inline[k]) return false
      return true
    }
    if ((f & FLAG_LINK) === 0) return false
    const mine = parseLink(this.bytes, this.vData(i), this.vItem(i + 1))
    return mine.size === v.size && mine.link.equals(v.link)
  }
}

/** Parses a [CID, size] value item whose CID tag starts at `at` (already validated). */
function parseLink(bytes: Uint8Array, at: number, end: number): { link: CID; size: number } {
  // d8 2a, byte-string head (decodeNode allows CIDs < 64 KiB), 0x00, CID bytes, then the size.
  let p = at + 2
  const ai = bytes[p]! & 31
  let len: number
  if (ai < 24) {
    len = ai
    p += 1
  } else if (ai === 24) {
    len = bytes[p + 1]!
    p += 2
  } else {
    len = (bytes[p + 1]! << 8) | bytes[p + 2]!
    p += 3
  }
  const link = CID.decode(bytes.subarray(p + 1, p + len))
  p += len
  const head = bytes[p]!
  const sai = head & 31
  let size = 0
  if (sai < 24) size = sai
  else for (let k = p + 1; k < end; k++) size = size * 256 + bytes[k]!
  return { link, size }
}

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
  /** Set by `finalize`. */
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

/** Locates entry i of a draft: its segment and the index within a run. */
function locate(d: Draft, i: number): { seg: Seg; at: number } {
  let base = 0
  const segs = d.segs
  for (let s = 0; s < segs.length; s++) {
    const seg = segs[s]!
    const len = seg instanceof Run ? seg.to - seg.from : 1
    if (i < base + len) return { seg, at: seg instanceof Run ? seg.from + (i - base) : 0 }
    base += len
  }
  throw new Error(`draft entry ${i} out of range`)
}

export function keyOf(x: AnyNode, i: number): Uint8Array {
  if (x instanceof Node) return x.keyAt(i)
  const { seg, at } = locate(x, i)
  return seg instanceof Run ? seg.node.keyAt(at) : seg.key
}

export function compareKeyOf(x: AnyNode, i: number, key: Uint8Array): number {
  if (x instanceof Node) return x.compareKey(i, key)
  const { seg, at } = locate(x, i)
  return seg instanceof Run ? seg.node.compareKey(at, key) : compareBytes(seg.key, key)
}

export function searchOf(x: AnyNode, key: Uint8Array, from = 0): number {
  if (x instanceof Node) return x.search(key, from)
  let lo = from
  let hi = x.n
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    const c = compareKeyOf(x, mid, key)
    if (c < 0) lo = mid + 1
    else if (c > 0) hi = mid
    else return mid
  }
  return ~lo
}

/** Entry i of x equals `entry` in value and priority (keys assumed equal). */
export function matchesOf(x: AnyNode, i: number, entry: TreeEntry): boolean {
  if (x instanceof Node) return x.matches(i, entry)
  const { seg, at } = locate(x, i)
  return seg instanceof Run ? seg.node.matches(at, entry) : equalEntry(seg, entry)
}

export function childOf(x: AnyNode, i: number): Ref | null {
  return x.child(i)
}

/** Appends entries [from, to) of x to `out` as segments (adjacent runs of one node coalesce). */
export function pushEntries(out: Seg[], x: AnyNode, from: number, to: number): void {
  if (from >= to) return
  if (x instanceof Node) {
    pushRun(out, x, from, to)
    return
  }
  let base = 0
  const segs = x.segs
  for (let s = 0; s < segs.length && base < to; s++) {
    const seg = segs[s]!
    const len = seg instanceof Run ? seg.to - seg.from : 1
    const a = Math.max(from, base)
    const b = Math.min(to, base + len)
    if (a < b) {
      if (seg instanceof Run) pushRun(out, seg.node, seg.from + (a - base), seg.from + (b - base))
      else out.push(seg)
    }
    base += len
  }
}

function pushRun(out: Seg[], node: Node, from: number, to: number): void {
  const last = out[out.length - 1]
  if (last instanceof Run && last.node === node && last.to === from) out[out.length - 1] = new Run(node, last.from, to)
  else out.push(new Run(node, from, to))
}

/** Child slots [from, to) of x (nulls for a leaf). */
export function childSlice(x: AnyNode, from: number, to: number): (Ref | null)[] {
  const c = x.children
  if (c !== null) return c.slice(from, to)
  const out = new Array<Ref | null>(to - from)
  for (let i = 0; i < out.length; i++) out[i] = null
  return out
}

export function equalValue(a: ValueRef, b: ValueRef): boolean {
  if (a === b) return true
  const ai = (a as { inline?: Uint8Array }).inline
  const bi = (b as { inline?: Uint8Array }).inline
  if (ai !== undefined || bi !== undefined) return ai !== undefined && bi !== undefined && equalBytes(ai, bi)
  const al = a as { link: CID; size: number }
  const bl = b as { link: CID; size: number }
  return al.size === bl.size && al.link.equals(bl.link)
}

/** Same key, value and priority. */
export function equalEntry(a: TreeEntry, b: TreeEntry): boolean {
  return a === b || (a.priority === b.priority && equalBytes(a.key, b.key) && equalValue(a.value, b.value))
}

/**
 * Checks a stored node reached as a child of a node at `parentLevel`, in the key interval
 * (lo, hi): it must be non-empty, lower than its parent and inside the interval. With the
 * per-node checks of `decodeNode` this makes every reachable tree a valid one, and descent
 * always terminates.
 */
export function checkChild(node: Node, parentLevel: number, lo: Uint8Array | undefined, hi: Uint8Array | undefined): void {
  const n = node.n
  if (
    n === 0 ||
    node.level >= parentLevel ||
    (lo !== undefined && node.compareKey(0, lo) <= 0) ||
    (hi !== undefined && node.compareKey(n - 1, hi) >= 0)
  ) {
    throw new LedgerError('DATA_INTEGRITY_ERROR', 'malformed tree: child node out of place', {
      data: { cid: node.cid?.toString() },
    })
  }
}

/**
 * `checkChild` with the interval bounds given as keys of stored nodes (loNode's key loI,
 * hiNode's key hiI; null: unbounded), so readers descend without allocating.
 */
export function checkPlace(node: Node, parentLevel: number, loNode: Node | null, loI: number, hiNode: Node | null, hiI: number): void {
  const n = node.n
  if (
    n === 0 ||
    node.level >= parentLevel ||
    (loNode !== null && node.compareKeys(0, loNode, loI) <= 0) ||
    (hiNode !== null && node.compareKeys(n - 1, hiNode, hiI) >= 0)
  ) {
    throw new LedgerError('DATA_INTEGRITY_ERROR', 'malformed tree: child node out of place', {
      data: { cid: node.cid?.toString() },
    })
  }
}
