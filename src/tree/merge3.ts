import { compareBytes, type CID } from '../codec/index.js'
import type { StoreBlock } from '../store/index.js'
import { applyChanges } from './apply.js'
import { finalizeDrafts } from './apply-finalize.js'
import { diffTrees } from './diff.js'
import { sameKeys } from './diff-leaves.js'
import { pushEntries } from './any-node.js'
import { Draft, type Ref, type Seg } from './draft.js'
import { equalEntry } from './entry-equal.js'
import type { BothChanged, DiffItem, TreeChange, TreeEntry } from './interface.js'
import { EMPTY_BLOCK, type NodeStore } from './node-store.js'
import type { Node } from './node.js'

// Three-way merge of trees, structurally. A key changed on one side only takes that side's
// entry; a key changed on both takes `bothChanged`'s. Subtrees are merged before entries are:
// a subtree unchanged on one side (same CID as base) is the other side's, untouched, so only the
// nodes where both sides changed something are visited and rewritten. Where base, left and right
// have a node of the same level and keys at the same place (a small change keeps the shape),
// the merged node has those keys too (none deleted) and its gaps are merged recursively; canonical
// trees make it the very node a key-by-key apply would give. Elsewhere (different shapes, a
// deleted key) the subtree is merged by a three-way diff applied to left's subtree.

/** Root of the merge of `left` and `right` from `base`, and the new node blocks it needs. */
export async function mergeTrees(
  store: NodeStore,
  base: CID,
  left: CID,
  right: CID,
  bothChanged: BothChanged,
): Promise<{ root: CID; blocks: StoreBlock[] }> {
  const blocks: StoreBlock[] = []
  const empty = (c: CID): CID | null => (c.equals(EMPTY_BLOCK.cid) ? null : c)
  const merged = await new Merger(store, bothChanged, blocks).ref(empty(base), empty(left), empty(right))
  if (merged === null) return { root: EMPTY_BLOCK.cid, blocks: [EMPTY_BLOCK] }
  return { root: finalizeDrafts(store, merged, blocks), blocks }
}

const same = (a: CID | null, b: CID | null): boolean => (a === null || b === null ? a === b : a.equals(b))

class Merger {
  constructor(
    readonly store: NodeStore,
    readonly bothChanged: BothChanged,
    readonly blocks: StoreBlock[],
  ) {}

  /** The merged subtree of one place; synchronous when one side left it unchanged (most places). */
  ref(b: CID | null, l: CID | null, r: CID | null): Ref | null | Promise<Ref | null> {
    if (same(l, b)) return r
    if (same(r, b) || same(l, r)) return l
    if (b === null || l === null || r === null) return this.byDiff(b, l, r)
    return this.#changedOnBoth(b, l, r)
  }

  async #changedOnBoth(b: CID, l: CID, r: CID): Promise<Ref | null> {
    const nb = this.store.cached(b) ?? (await this.store.load(b))
    const nl = this.store.cached(l) ?? (await this.store.load(l))
    const nr = this.store.cached(r) ?? (await this.store.load(r))
    if (nb.level !== nl.level || nb.level !== nr.level || !sameKeys(nb, nl) || !sameKeys(nb, nr)) return this.byDiff(b, l, r)
    return this.node(nb, nl, nr)
  }

  /** Nodes of the same level and keys at one place: entries key by key, gaps recursively. */
  async node(nb: Node, nl: Node, nr: Node): Promise<Ref | null> {
    const n = nb.n
    const pick: Node[] = new Array<Node>(n)
    const fresh: (TreeEntry | undefined)[] = new Array<TreeEntry | undefined>(n)
    for (let i = 0; i < n; i++) {
      if (nl.sameValue(i, nb, i)) pick[i] = nr
      else if (nr.sameValue(i, nb, i) || nl.sameValue(i, nr, i)) pick[i] = nl
      else {
        const e = this.bothChanged(nb.entryAt(i), nl.entryAt(i), nr.entryAt(i))
        // A deleted key changes this node's keys: the general path rebuilds it.
        if (e === undefined) return this.byDiff(nb.cid as CID, nl.cid as CID, nr.cid as CID)
        pick[i] = nl
        if (!equalEntry(e, nl.entryAt(i))) fresh[i] = e
      }
    }
    const children: (Ref | null)[] = new Array<Ref | null>(n + 1)
    let leaf = true
    for (let i = 0; i <= n; i++) {
      const merged = this.ref(nb.child(i), nl.child(i), nr.child(i))
      const c = merged instanceof Promise ? await merged : merged
      children[i] = c
      if (c !== null) leaf = false
    }
    const segs: Seg[] = []
    let asLeft = true
    for (let i = 0; i < n; i++) {
      const e = fresh[i]
      if (e !== undefined) {
        segs.push(e)
        asLeft = false
        continue
      }
      const from = pick[i]!
      if (from !== nl) asLeft = false
      pushEntries(segs, from, i, i + 1)
    }
    for (let i = 0; i <= n && asLeft; i++) {
      const c = children[i]!
      if (c instanceof Draft || !same(c, nl.child(i))) asLeft = false
    }
    if (asLeft) return nl.cid as CID
    return new Draft(nb.level, segs, leaf ? new Array<null>(n + 1).fill(null) : children)
  }

  /** The general path: the three-way diff of the subtrees, applied to left's. */
  async byDiff(b: CID | null, l: CID | null, r: CID | null): Promise<CID | null> {
    const empty = EMPTY_BLOCK.cid
    const lefts = diffTrees(this.store, b ?? empty, l ?? empty)
    const rights = diffTrees(this.store, b ?? empty, r ?? empty)
    const changes: TreeChange[] = []
    let dl = await step(lefts)
    let dr = await step(rights)
    while (dr !== undefined) {
      const order = dl === undefined ? 1 : compareBytes(dl.key, dr.key)
      if (order < 0) {
        dl = await step(lefts) // changed on the left only: left's subtree has it
      } else if (order > 0) {
        changes.push({ key: dr.key, entry: dr.after })
        dr = await step(rights)
      } else {
        const left = dl!.after
        const right = dr.after
        const agree = left === undefined || right === undefined ? left === right : equalEntry(left, right)
        const e = agree ? left : this.bothChanged(dr.before, left, right)
        if (e === undefined ? left !== undefined : left === undefined || !equalEntry(e, left)) changes.push({ key: dr.key, entry: e })
        dl = await step(lefts)
        dr = await step(rights)
      }
    }
    await lefts.return(undefined)
    if (changes.length === 0) return l
    const applied = await applyChanges(this.store, l ?? empty, changes)
    for (const block of applied.blocks) this.blocks.push(block)
    return applied.root.equals(empty) ? null : applied.root
  }

}

async function step(it: AsyncGenerator<DiffItem>): Promise<DiffItem | undefined> {
  const r = await it.next()
  return r.done === true ? undefined : r.value
}
