import type { CID } from '../codec/index.js'
import type { StoreBlock } from '../store/index.js'
import { LedgerError } from '../errors/index.js'
import { childSlice, compareKeyOf, keyOf, matchesOf, pushEntries, searchOf } from './any-node.js'
import { buildFresh, maxLevel } from './apply-build.js'
import { finalizeDrafts, finalizeDraftsStreaming } from './apply-finalize.js'
import { validateChanges } from './apply-validate.js'
import { StagedChanges } from './staged-changes.js'
import { Draft, type AnyNode, type Ref, type Seg } from './draft.js'
import type { ApplyOptions, TreeChange } from './interface.js'
import { MAX_LEVEL } from './level.js'
import { checkChild } from './node-check.js'
import { EMPTY_BLOCK, type NodeStore } from './node-store.js'
import type { Node } from './node.js'

// Batch apply: one pass over the changes (sorted by key) and the paths they touch.
//
// `applySub(ref, changes)` returns the canonical subtree of (ref's entries + changes). With N the
// top node of ref (level L) and M the highest level among the inserted keys:
//   - M > L: the result's top node has level M; its keys are the level-M inserts, and between
//     them lie the pieces of ref split at those keys, each updated recursively ("raise").
//   - M <= L: walk N from change to change ("merge"), copying untouched entries and gaps as
//     they are. A new level-L key splits its gap's child in two; a deleted entry of N joins the
//     pieces on its two sides into one gap; other changes go down into their gap's child. If N
//     loses all its keys the result is the joined child, several levels lower (empty levels are
//     skipped, never stored).
// `split` and `join` are the usual O(height) path-copying operations of a Merkle search tree.
// Untouched subtrees keep their CIDs. New nodes are drafts (runs of old nodes' entries plus new
// entries) until `finalizeDrafts` (apply-finalize.ts) encodes them bottom-up; a run is copied as
// one byte range.

type Bound = Uint8Array | undefined

/** Batches smaller than this finalize in one go: too few nodes to gain from handing off blocks. */
const STREAM_MIN_CHANGES = 20_000

interface Piece {
  readonly ref: Ref | null
  readonly lo: Bound
  readonly hi: Bound
}

/** Lower bound of gap g of `node` (within the node's interval, from lo). */
function gapLoOf(node: AnyNode, lo: Bound, g: number): Bound {
  return g > 0 ? keyOf(node, g - 1) : lo
}

/** Upper bound of gap g of `node` (within the node's interval, to hi). */
function gapHiOf(node: AnyNode, hi: Bound, g: number): Bound {
  return g < node.n ? keyOf(node, g) : hi
}

function segsOf(x: AnyNode, from: number, to: number): Seg[] {
  const out: Seg[] = []
  pushEntries(out, x, from, to)
  return out
}

class Applier {
  readonly #store: NodeStore
  readonly #changes: readonly TreeChange[]
  readonly #levels: Int8Array
  /** The changes' new entries, encoded (see `ChangeStager`): entry i is staged's entry i. */
  readonly #staged: Node

  /** Stored nodes this batch rewrote (they are not in the result's tree). */
  readonly replaced: CID[] = []

  constructor(store: NodeStore, changes: readonly TreeChange[], levels: Int8Array, staged: Node) {
    this.#store = store
    this.#changes = changes
    this.#levels = levels
    this.#staged = staged
  }

  /** `#load` without I/O (and without an async hop) when the node is in memory. */
  #loadCached(ref: Ref, parentLevel: number, lo: Bound, hi: Bound): AnyNode | undefined {
    if (ref instanceof Draft) return ref
    const node = this.#store.cached(ref)
    if (node !== undefined) checkChild(node, parentLevel, lo, hi)
    return node
  }

  async #loadStored(cid: CID, parentLevel: number, lo: Bound, hi: Bound): Promise<Node> {
    const node = await this.#store.load(cid)
    checkChild(node, parentLevel, lo, hi)
    return node
  }

  /** The node of `ref`; a stored one is checked against its place (below parentLevel, in (lo, hi)). */
  async #load(ref: Ref, parentLevel: number, lo: Bound, hi: Bound): Promise<AnyNode> {
    return this.#loadCached(ref, parentLevel, lo, hi) ?? this.#loadStored(ref as CID, parentLevel, lo, hi)
  }

  /** Appends change i's new entry to `segs` (a run of the staged entries). */
  #push(segs: Seg[], i: number): void {
    pushEntries(segs, this.#staged, i, i + 1)
  }

  async applySub(ref: Ref | null, parentLevel: number, lo: Bound, hi: Bound, from: number, to: number): Promise<Ref | null> {
    if (from === to) return ref
    if (ref === null) return buildFresh(this.#levels, this.#staged, from, to)
    const node = this.#loadCached(ref, parentLevel, lo, hi) ?? (await this.#loadStored(ref as CID, parentLevel, lo, hi))
    const top = maxLevel(this.#levels, from, to)
    if (top > node.level) return this.#raise(ref, top, lo, hi, from, to)
    return this.#merge(node, ref, lo, hi, from, to)
  }

  /** Inserts include keys above the subtree's top level: they become the new top node. */
  async #raise(ref: Ref, level: number, lo: Bound, hi: Bound, from: number, to: number): Promise<Ref> {
    const levels = this.#levels
    const segs: Seg[] = []
    const children: (Ref | null)[] = []
    let rest: Ref | null = ref
    let restLo = lo
    let seg = from
    for (let i = from; i < to; i++) {
      if (levels[i] !== level) continue
      const key = this.#changes[i]!.key
      const [left, right] = await this.#split(rest, level + 1, restLo, hi, key)
      children.push(await this.applySub(left, level, restLo, key, seg, i))
      this.#push(segs, i)
      rest = right
      restLo = key
      seg = i + 1
    }
    children.push(await this.applySub(rest, level, restLo, hi, seg, to))
    return new Draft(level, segs, children)
  }

  /** No insert above the node's level: merge the changes into its entries and gaps. */
  async #merge(node: AnyNode, ref: Ref, lo: Bound, hi: Bound, from: number, to: number): Promise<Ref | null> {
    const changes = this.#changes
    const levels = this.#levels
    const level = node.level
    const n = node.n
    const segs: Seg[] = []
    const kids: (Ref | null)[] = []
    // Pieces of the output gap being assembled (more than one only after a deletion).
    const pieces: Piece[] = []
    let changed = false
    // Gaps < e and entries < e of `node` are done.
    let e = 0
    let c = from

    if (to - from > 1 && node.children !== null) this.#prefetch(node, from, to)

    // (No closures here: run under tsx, each one created costs a defineProperty for its name.)

    while (c < to) {
      const s = searchOf(node, changes[c]!.key, e)
      const g = s >= 0 ? s : ~s
      if (g > e) {
        // Gaps and entries [e, g) are unchanged; gap g becomes the open one.
        if (pieces.length > 0) {
          pieces.push({ ref: node.child(e), lo: gapLoOf(node, lo, e), hi: gapHiOf(node, hi, e) })
          kids.push(await this.#close(pieces, level))
        } else {
          kids.push(node.child(e))
        }
        pushEntries(segs, node, e, g)
        for (let i = e + 1; i < g; i++) kids.push(node.child(i))
        e = g
      }
      if (s < 0) {
        // Changes strictly inside gap g.
        let end = to
        if (g < n) {
          end = c + 1
          while (end < to && compareKeyOf(node, g, changes[end]!.key) > 0) end++
        }
        const gHi = gapHiOf(node, hi, g)
        const original = node.child(g)
        let sub = original
        let subLo = gapLoOf(node, lo, g)
        let seg = c
        for (let i = c; i < end; i++) {
          if (levels[i] !== level) continue
          // A new key of this node's level splits the gap.
          const key = changes[i]!.key
          const [left, right] = await this.#split(sub, level, subLo, gHi, key)
          pieces.push({ ref: seg < i ? await this.applySub(left, level, subLo, key, seg, i) : left, lo: subLo, hi: key })
          const closed = this.#close(pieces, level)
          kids.push(closed instanceof Promise ? await closed : closed)
          this.#push(segs, i)
          changed = true
          sub = right
          subLo = key
          seg = i + 1
        }
        const piece = seg < end ? await this.applySub(sub, level, subLo, gHi, seg, end) : sub
        if (piece !== original) changed = true
        pieces.push({ ref: piece, lo: subLo, hi: gHi })
        c = end
      } else {
        pieces.push({ ref: node.child(g), lo: gapLoOf(node, lo, g), hi: gapHiOf(node, hi, g) })
      }
      e = g + 1
      if (g === n) break
      // Entry g.
      if (c < to && compareKeyOf(node, g, changes[c]!.key) === 0) {
        const next = changes[c++]!.entry
        if (next === undefined) {
          // Deleted: the pieces on its two sides end up in one gap.
          changed = true
          continue
        }
        const closed = this.#close(pieces, level)
        kids.push(closed instanceof Promise ? await closed : closed)
        if (matchesOf(node, g, next)) {
          pushEntries(segs, node, g, g + 1)
        } else {
          this.#push(segs, c - 1)
          changed = true
        }
      } else {
        const closed = this.#close(pieces, level)
        kids.push(closed instanceof Promise ? await closed : closed)
        pushEntries(segs, node, g, g + 1)
      }
    }
    if (e <= n) {
      if (pieces.length > 0) {
        pieces.push({ ref: node.child(e), lo: gapLoOf(node, lo, e), hi: gapHiOf(node, hi, e) })
        kids.push(await this.#close(pieces, level))
      } else {
        kids.push(node.child(e))
      }
      pushEntries(segs, node, e, n)
      for (let i = e + 1; i <= n; i++) kids.push(node.child(i))
    } else {
      const closed = this.#close(pieces, level)
      kids.push(closed instanceof Promise ? await closed : closed)
    }
    if (!changed) return ref
    if (!(ref instanceof Draft)) this.replaced.push(ref)
    if (segs.length === 0) return kids[0] ?? null
    return new Draft(level, segs, kids)
  }

  /** Requests, in one batch, the stored children of the gaps that changes[from, to) fall in. */
  #prefetch(node: AnyNode, from: number, to: number): void {
    const cids: CID[] = []
    let last = -1
    for (let c = from; c < to; c++) {
      const s = searchOf(node, this.#changes[c]!.key, Math.max(0, last))
      if (s >= 0) continue
      const g = ~s
      if (g === last) continue
      last = g
      const child = node.child(g)
      if (child !== null && !(child instanceof Draft)) cids.push(child)
    }
    if (cids.length > 1) this.#store.prefetch(cids)
  }

  /**
   * Closes an output gap: its one piece, or the join of its pieces (async only then: an await
   * costs a microtask even on a plain value, and this runs for every changed gap).
   */
  #close(pieces: Piece[], level: number): Ref | null | Promise<Ref | null> {
    return pieces.length === 1 ? (pieces.pop() as Piece).ref : this.#joinAll(pieces, level)
  }

  /** Joins the pieces left to right and empties the list. */
  async #joinAll(pieces: Piece[], parentLevel: number): Promise<Ref | null> {
    const first = pieces[0]!
    let acc = first.ref
    for (let j = 1; j < pieces.length; j++) {
      const p = pieces[j]!
      acc = await this.#join(acc, p.ref, parentLevel, first.lo, pieces[j - 1]!.hi, p.lo, p.hi)
    }
    pieces.length = 0
    return acc
  }

  /** Splits a subtree at a key it does not hold: (keys below, keys above). */
  async #split(ref: Ref | null, parentLevel: number, lo: Bound, hi: Bound, key: Uint8Array): Promise<[Ref | null, Ref | null]> {
    if (ref === null) return [null, null]
    const node = await this.#load(ref, parentLevel, lo, hi)
    const n = node.n
    const s = searchOf(node, key)
    if (s >= 0) throw LedgerError.integrity('malformed tree: key found below its level')
    const i = ~s
    const [l, r] = await this.#split(node.child(i), node.level, i > 0 ? keyOf(node, i - 1) : lo, i < n ? keyOf(node, i) : hi, key)
    if (i === n && r === null) return [ref, null]
    if (i === 0 && l === null) return [null, ref]
    const left = i === 0 ? l : new Draft(node.level, segsOf(node, 0, i), [...childSlice(node, 0, i), l])
    const right = i === n ? r : new Draft(node.level, segsOf(node, i, n), [r, ...childSlice(node, i + 1, n + 1)])
    return [left, right]
  }

  /** Joins two subtrees, every key of `a` below every key of `b`. */
  async #join(
    a: Ref | null,
    b: Ref | null,
    parentLevel: number,
    aLo: Bound,
    aHi: Bound,
    bLo: Bound,
    bHi: Bound,
  ): Promise<Ref | null> {
    if (a === null) return b
    if (b === null) return a
    const A = await this.#load(a, parentLevel, aLo, aHi)
    const B = await this.#load(b, parentLevel, bLo, bHi)
    const na = A.n
    const nb = B.n
    if (A.level === B.level) {
      const mid = await this.#join(A.child(na), B.child(0), A.level, keyOf(A, na - 1), aHi, bLo, keyOf(B, 0))
      const segs = segsOf(A, 0, na)
      pushEntries(segs, B, 0, nb)
      return new Draft(A.level, segs, [...childSlice(A, 0, na), mid, ...childSlice(B, 1, nb + 1)])
    }
    if (A.level > B.level) {
      const mid = await this.#join(A.child(na), b, A.level, keyOf(A, na - 1), aHi, bLo, bHi)
      return new Draft(A.level, segsOf(A, 0, na), [...childSlice(A, 0, na), mid])
    }
    const mid = await this.#join(a, B.child(0), B.level, aLo, aHi, bLo, keyOf(B, 0))
    return new Draft(B.level, segsOf(B, 0, nb), [mid, ...childSlice(B, 1, nb + 1)])
  }
}

const NO_CHANGES: readonly TreeChange[] = Object.freeze([])

/** Applies sorted, unique-key changes to the tree at `root` (see the header comment). */
export async function applyChanges(
  store: NodeStore,
  root: CID,
  changes: readonly TreeChange[] | StagedChanges,
  options: ApplyOptions = {},
): Promise<{ root: CID; blocks: StoreBlock[] }> {
  const batch = changes instanceof StagedChanges
  const { levels, staged } = batch ? changes : validateChanges(changes)
  if (changes.length === 0) return { root, blocks: [] }
  const rootNode = store.cached(root) ?? (await store.load(root))
  const start: Ref | null = rootNode.n === 0 ? null : root
  // A build from the empty tree reads only the staged entries and levels, never change objects.
  const list = !batch ? changes : start === null ? NO_CHANGES : changes.changes()
  const applier = new Applier(store, list, levels, staged)
  const result = await applier.applySub(start, MAX_LEVEL + 1, undefined, undefined, 0, changes.length)
  if (result === null) {
    return { root: EMPTY_BLOCK.cid, blocks: start === null ? [] : [EMPTY_BLOCK] }
  }
  const blocks: StoreBlock[] = []
  const onBlocks = options.onBlocks
  const cid =
    onBlocks !== undefined && changes.length >= STREAM_MIN_CHANGES
      ? await finalizeDraftsStreaming(store, result, blocks, onBlocks)
      : finalizeDrafts(store, result, blocks)
  if (options.evictReplaced === true) store.evict(applier.replaced)
  return { root: cid, blocks }
}
