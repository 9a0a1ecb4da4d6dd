import { compareBytes } from '../codec/index.js'
import type { TreeEntry } from './interface.js'
import { Draft, Run, type AnyNode, type Ref, type Seg } from './draft.js'
import { equalEntry } from './entry-equal.js'
import { Node } from './node.js'

// Reads and slices of a node being worked on by `apply`, stored (`Node`) or draft (`Draft`).

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
