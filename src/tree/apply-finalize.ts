import type { CID } from '../codec/index.js'
import type { StoreBlock } from '../store/index.js'
import { Draft, Run, type Ref } from './draft.js'
import { writeNodeCid } from './node-cid.js'
import { CopyLog, draftSize, writeDraft } from './node-encode.js'
import { NODE_CID_BYTES } from './node-format.js'
import type { NodeStore } from './node-store.js'
import { Node } from './node.js'
import { Slab } from './slab.js'

/** The drafts under `d` not yet encoded, children before parents. */
function collectDrafts(d: Draft, order: Draft[]): void {
  const c = d.children
  if (c !== null) {
    for (let i = 0; i < c.length; i++) {
      const x = c[i]
      if (x instanceof Draft && x.cid === undefined) collectDrafts(x, order)
    }
  }
  order.push(d)
}

const cidSlab = new Slab(64 * NODE_CID_BYTES)
/**
 * Node blocks are carved from 16 KiB chunks: one off-heap allocation per ~5 nodes instead of one
 * per node of 4 KiB or more (Buffer.allocUnsafe's pool only serves smaller ones, and zero-fills
 * the rest). A chunk lives while any of its nodes does, so at worst 16 KiB is retained per live
 * node (Buffer's own pool does the same at 8 KiB); a node over 8 KiB gets its own buffer.
 */
const blockSlab = new Slab(16 * 1024)

/**
 * Encodes the drafts under `root` bottom-up into blocks (appended to `blocks`), and makes them readable (pending)
 * as nodes. Block bytes and CIDs are carved from shared chunks (see `blockSlab`); multiformats
 * copies a small standalone array when it builds a CID, not a view.
 */
export function finalizeDrafts(store: NodeStore, root: Ref, blocks: StoreBlock[]): CID {
  if (!(root instanceof Draft)) return root
  const order: Draft[] = []
  collectDrafts(root, order)
  return finalizeSlice(store, order, 0, order.length, blocks)
}

/** Drafts encoded between two hand-offs of `finalizeDraftsStreaming` (~2.5 MB of blocks). */
const SLICE_DRAFTS = 512

/**
 * `finalizeDrafts` that hands finished blocks to `onBlocks` as it goes, children before parents,
 * and lets the event loop run between slices, so the caller can write them while the rest is
 * encoded (a 100k-entry commit overlaps its ~150 ms LevelDB write with encoding). The last slice
 * (with the root) is not handed off: it stays in `blocks` for the caller to write with the commit.
 */
export async function finalizeDraftsStreaming(
  store: NodeStore,
  root: Ref,
  blocks: StoreBlock[],
  onBlocks: (blocks: StoreBlock[]) => void,
): Promise<CID> {
  if (!(root instanceof Draft)) return root
  const order: Draft[] = []
  collectDrafts(root, order)
  let from = 0
  while (order.length - from > SLICE_DRAFTS) {
    const start = blocks.length
    finalizeSlice(store, order, from, from + SLICE_DRAFTS, blocks)
    from += SLICE_DRAFTS
    onBlocks(blocks.slice(start))
    await new Promise<void>((resolve) => setImmediate(resolve))
  }
  return finalizeSlice(store, order, from, order.length, blocks)
}

/** Encodes drafts order[from, to) (their children already encoded); returns the last one's CID. */
function finalizeSlice(store: NodeStore, order: readonly Draft[], from: number, to: number, blocks: StoreBlock[]): CID {
  // The root is encoded last. (Its CID is kept in a local: reading `root.cid` after the loop
  // made V8 deoptimize this function on every call once it had been compiled mid-loop.)
  let last: CID | undefined
  for (let k = from; k < to; k++) {
    const d = order[k]!
    const c = d.children
    let children: (CID | null)[] | null = null
    if (c !== null) {
      children = new Array<CID | null>(c.length)
      for (let i = 0; i < c.length; i++) {
        const x = c[i]!
        children[i] = x === null ? null : x instanceof Draft ? (x.cid as CID) : x
      }
    }
    const size = draftSize(d)
    const bytes = blockSlab.take(size)
    const base = baseOf(d)
    const log = base === undefined ? undefined : new CopyLog(base)
    const { off, flags } = writeDraft(bytes, d, children, log)
    const cid = writeNodeCid(bytes, cidSlab.take(NODE_CID_BYTES))
    d.cid = cid
    store.addPending(new Node(d.level, bytes, d.n, off, flags, children, cid))
    blocks.push(log === undefined ? { cid, bytes } : { cid, bytes, base: { cid: base!.cid!, bytes: base!.bytes }, copies: log.ranges })
    last = cid
  }
  return last as CID
}

/**
 * The stored node a draft copies the most entries from: the store may keep the new node as a
 * delta of it (src/store/block-delta.ts).
 */
function baseOf(d: Draft): Node | undefined {
  let best: Run | undefined
  for (let s = 0; s < d.segs.length; s++) {
    const seg = d.segs[s]!
    if (seg instanceof Run && seg.node.cid !== undefined && (best === undefined || seg.to - seg.from > best.to - best.from)) best = seg
  }
  return best?.node
}
