import { CID, compareRanges, equalRanges } from '../codec/index.js'
import type { TreeEntry, ValueRef } from './interface.js'

// In-memory node forms. A stored node is a `Node`: its block bytes plus an offset table, so
// reads compare keys in place and a rewrite copies runs of unchanged entries as byte ranges. A
// node being built by `apply` is a `Draft` (draft.ts); any-node.ts reads either form, and
// node-check.ts checks a stored node against its place in a tree.

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
    const off = this.off
    const start = off[this.n + 1 + i]!
    return compareRanges(this.bytes, start, off[i + 1]! - start, key, 0, key.length)
  }

  /** compareBytes(key i of this, key j of other). */
  compareKeys(i: number, other: Node, j: number): number {
    const as = this.kData(i)
    const bs = other.kData(j)
    return compareRanges(this.bytes, as, this.kItem(i + 1) - as, other.bytes, bs, other.kItem(j + 1) - bs)
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
    return equalRanges(this.bytes, as, other.bytes, bs, al)
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
