import { compareBytes, equalRanges } from '../codec/index.js'
import type { DiffItem } from './interface.js'
import type { Node } from './node.js'

type Bound = Uint8Array | undefined

/** Nodes a and b hold exactly the same keys (compared as one byte range). */
export function sameKeys(a: Node, b: Node): boolean {
  const n = a.n
  if (n !== b.n) return false
  const ka = a.kItem(0)
  const kb = b.kItem(0)
  const len = a.kItem(n) - ka
  return len === b.kItem(n) - kb && equalRanges(a.bytes, ka, b.bytes, kb, len)
}

/**
 * The entries in [lo, hi) whose values (or priorities) differ between a and b, which hold the same
 * keys. A run of equal entries is recognised by one comparison of its encoded values (CBOR items
 * are self-delimiting, so equal concatenations mean equal items), long runs natively; a run that
 * differs is halved. A leaf with one changed value of ~30 costs ~10 range comparisons instead of
 * a byte loop over every value.
 */
function diffValues(a: Node, b: Node, lo: number, hi: number, start: Bound, end: Bound, out: DiffItem[]): void {
  const as = a.vItem(lo)
  const bs = b.vItem(lo)
  const len = a.vItem(hi) - as
  if (len === b.vItem(hi) - bs && sameFlags(a, b, lo, hi) && equalRanges(a.bytes, as, b.bytes, bs, len)) return
  if (hi - lo === 1) {
    const before = a.entryAt(lo)
    pushInRange(out, { key: before.key, before, after: b.entryAt(lo) }, start, end)
    return
  }
  const mid = (lo + hi) >>> 1
  diffValues(a, b, lo, mid, start, end, out)
  diffValues(a, b, mid, hi, start, end, out)
}

/**
 * Appends `item` if its key is in [start, end). A module function, not a closure per call: under
 * a loader that keeps function names (tsx), each closure costs a defineProperty and reshapes.
 */
function pushInRange(out: DiffItem[], item: DiffItem, start: Bound, end: Bound): void {
  if ((start === undefined || compareBytes(item.key, start) >= 0) && (end === undefined || compareBytes(item.key, end) < 0)) out.push(item)
}

function sameFlags(a: Node, b: Node, lo: number, hi: number): boolean {
  const fa = a.flags
  const fb = b.flags
  if (fa === fb) return true
  for (let i = lo; i < hi; i++) if ((fa === null ? 0 : fa[i]!) !== (fb === null ? 0 : fb[i]!)) return false
  return true
}

/**
 * The differing entries of two leaves over the same key interval, merged in one tight loop
 * (most leaf pairs of a small change: no cursor steps per entry), appended to `out`. Keys
 * outside [start, end) are left out.
 */
export function diffLeaves(a: Node, b: Node, start: Bound, end: Bound, out: DiffItem[] = []): DiffItem[] {
  const an = a.n
  const bn = b.n
  if (sameKeys(a, b)) {
    // Same keys (an update of values only): compare values alone, in runs, within the range.
    const lo = start === undefined ? 0 : a.lowerBound(start)
    const hi = end === undefined ? an : a.lowerBound(end)
    if (lo < hi) diffValues(a, b, lo, hi, start, end, out)
    return out
  }
  let i = 0
  let j = 0
  while (i < an || j < bn) {
    const c = i === an ? 1 : j === bn ? -1 : a.compareKeys(i, b, j)
    if (c < 0) {
      const before = a.entryAt(i++)
      pushInRange(out, { key: before.key, before }, start, end)
    } else if (c > 0) {
      const after = b.entryAt(j++)
      pushInRange(out, { key: after.key, after }, start, end)
    } else {
      if (!a.sameValue(i, b, j)) {
        const before = a.entryAt(i)
        pushInRange(out, { key: before.key, before, after: b.entryAt(j) }, start, end)
      }
      i++
      j++
    }
  }
  return out
}

