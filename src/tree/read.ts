import { compareBytes, type CID } from '../codec/index.js'
import type { RangeOptions, TreeEntry } from './interface.js'
import { checkPlace } from './node-check.js'
import type { Node } from './node.js'
import type { NodeStore } from './node-store.js'

/** Point lookup: one binary search per level, in place; allocates only the returned entry. */
export async function getEntry(store: NodeStore, root: CID, key: Uint8Array): Promise<TreeEntry | undefined> {
  let node = store.cached(root) ?? (await store.load(root))
  // Interval bounds of `node`, as keys of its ancestors.
  let loN: Node | null = null
  let loI = 0
  let hiN: Node | null = null
  let hiI = 0
  for (;;) {
    const s = node.search(key)
    if (s >= 0) return node.entryAt(s)
    const gap = ~s
    const c = node.child(gap)
    if (c === null) return undefined
    if (gap > 0) {
      loN = node
      loI = gap - 1
    }
    if (gap < node.n) {
      hiN = node
      hiI = gap
    }
    const child = store.cached(c) ?? (await store.load(c))
    checkPlace(child, node.level, loN, loI, hiN, hiI)
    node = child
  }
}

/** Children read ahead of a scan, per node, in one batch: reads overlap on a disk store. */
const READ_AHEAD = 16
/** Scans with a limit at most this small do not read ahead. */
const READ_AHEAD_MIN_LIMIT = 256

interface Frame {
  readonly node: Node
  /** Forward: index of the next entry to emit. Reverse: one past it. */
  i: number
  readonly loN: Node | null
  readonly loI: number
  readonly hiN: Node | null
  readonly hiI: number
  /** Read-ahead: children up to here (exclusive, in scan order) have been requested. */
  ahead: number
}

/**
 * A run of consecutive entries of one node that a scan emits together: entries [from, to), in
 * ascending order, or descending (to - 1 down to from) in a reverse scan.
 */
export interface EntryRun {
  readonly node: Node
  readonly from: number
  readonly to: number
}

/** In-order iteration over [start, end), entry by entry (see `iterateRuns`). */
export async function* iterateEntries(store: NodeStore, root: CID, opts: RangeOptions = {}): AsyncGenerator<TreeEntry> {
  const reverse = opts.reverse === true
  for await (const runs of iterateRuns(store, root, opts)) {
    for (const { node, from, to } of runs) {
      if (reverse) for (let i = to - 1; i >= from; i--) yield node.entryAt(i)
      else for (let i = from; i < to; i++) yield node.entryAt(i)
    }
  }
}

const ignore = (): void => {}

/** A batch of runs is handed out once it holds this many entries (or a node must be loaded). */
const RUN_BATCH_ENTRIES = 256

/** Where a descent stands: the next node to enter and the interval bounds it must lie in. */
interface Descent {
  cid: CID | null
  parent: Node | null
  loN: Node | null
  loI: number
  hiN: Node | null
  hiI: number
  readonly bound: Uint8Array | undefined
}

/**
 * In-order iteration over [start, end), ascending or descending, at most `limit` entries, as
 * runs of entries that need no node load between them (a leaf's entries come as one run),
 * batched: runs over cached nodes are collected without an async step, and a batch is handed
 * out when it holds `RUN_BATCH_ENTRIES` entries or before waiting for a load. Holds one path of
 * nodes (O(height)); loads each node when the walk reaches it.
 */
export async function* iterateRuns(store: NodeStore, root: CID, opts: RangeOptions = {}): AsyncGenerator<EntryRun[]> {
  const { start, end } = opts
  let left = opts.limit ?? Infinity
  if (!(left > 0)) return
  if (start !== undefined && end !== undefined && compareBytes(start, end) >= 0) return
  const stack: Frame[] = []
  const reverse = opts.reverse === true
  const readAhead = left > READ_AHEAD_MIN_LIMIT
  // About to visit child `i` of the frame's node: request the next window of children, in one
  // batch, when the walk gets near the end of the window already requested.
  const prefetch = (f: Frame, i: number): void => {
    const node = f.node
    if (!readAhead || node.children === null) return
    const pos = reverse ? node.n - i : i
    if (pos + READ_AHEAD / 4 < f.ahead) return
    const from = Math.max(f.ahead, pos + 1)
    const to = Math.min(node.n + 1, pos + 1 + READ_AHEAD)
    const cids: CID[] = []
    for (let k = from; k < to; k++) {
      const c = node.child(reverse ? node.n - k : k)
      if (c !== null) cids.push(c)
    }
    f.ahead = to
    if (cids.length > 0) store.prefetch(cids)
  }

  // Enters `node` (the node `d.cid` names) on a descent to the first entry at or after the
  // bound (in reverse: the last before it): pushes its frame and moves `d` to the child to enter.
  const enter = (d: Descent, node: Node): void => {
    if (d.parent !== null) checkPlace(node, d.parent.level, d.loN, d.loI, d.hiN, d.hiI)
    const i = d.bound === undefined ? (reverse ? node.n : 0) : node.lowerBound(d.bound)
    const frame: Frame = { node, i, loN: d.loN, loI: d.loI, hiN: d.hiN, hiI: d.hiI, ahead: 0 }
    stack.push(frame)
    prefetch(frame, i)
    d.cid = node.child(i)
    if (i > 0) {
      d.loN = node
      d.loI = i - 1
    }
    if (i < node.n) {
      d.hiN = node
      d.hiI = i
    }
    d.parent = node
  }
  const descendLoading = async (d: Descent): Promise<void> => {
    while (d.cid !== null) enter(d, store.cached(d.cid) ?? (await store.load(d.cid)))
  }
  // Descends through cached nodes without an async step; the promise when a node must be loaded.
  const descend = (d: Descent): Promise<void> | undefined => {
    while (d.cid !== null) {
      const node = store.cached(d.cid)
      if (node === undefined) return descendLoading(d)
      enter(d, node)
    }
    return undefined
  }

  let batch: EntryRun[] = []
  let inBatch = 0
  const first = descend({ cid: root, parent: null, loN: null, loI: 0, hiN: null, hiI: 0, bound: reverse ? end : start })
  if (first !== undefined) await first
  // Each step emits the frame's entries up to the next child to visit (or a bound), then
  // descends into that child. Child i lies between entries i - 1 and i.
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!
    const node = top.node
    let stop = false
    let loading: Promise<void> | undefined
    if (reverse) {
      if (top.i === 0) {
        stack.pop()
        continue
      }
      const to = top.i
      let i = to
      while (i > 0) {
        if (start !== undefined && node.compareKey(i - 1, start) < 0) {
          stop = true
          break
        }
        i--
        if (--left === 0) {
          stop = true
          break
        }
        if (node.child(i) !== null) break
      }
      top.i = i
      if (i < to) {
        batch.push({ node, from: i, to })
        inBatch += to - i
      }
      if (stop) break
      const c = node.child(i)
      prefetch(top, i)
      if (c !== null) loading = descend({ cid: c, parent: node, loN: i > 0 ? node : top.loN, loI: i > 0 ? i - 1 : top.loI, hiN: node, hiI: i, bound: undefined })
    } else {
      if (top.i === node.n) {
        stack.pop()
        continue
      }
      const from = top.i
      let i = from
      while (i < node.n) {
        if (end !== undefined && node.compareKey(i, end) >= 0) {
          stop = true
          break
        }
        i++
        if (--left === 0) {
          stop = true
          break
        }
        if (node.child(i) !== null) break
      }
      top.i = i
      if (i > from) {
        batch.push({ node, from, to: i })
        inBatch += i - from
      }
      if (stop) break
      const c = node.child(i)
      prefetch(top, i)
      if (c !== null) {
        const hi = i < node.n
        loading = descend({ cid: c, parent: node, loN: node, loI: i - 1, hiN: hi ? node : top.hiN, hiI: hi ? i : top.hiI, bound: undefined })
      }
    }
    if (batch.length > 0 && (loading !== undefined || inBatch >= RUN_BATCH_ENTRIES)) {
      // The load runs while the caller holds the batch; if the caller stops there, a failed
      // load must not surface as an unhandled rejection (awaiting it below still throws).
      loading?.catch(ignore)
      yield batch
      batch = []
      inBatch = 0
    }
    if (loading !== undefined) await loading
  }
  if (batch.length > 0) yield batch
}
