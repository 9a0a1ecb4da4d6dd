import { RAW_CODE, type CID } from '../codec/index.js'
import { LedgerError } from '../errors/index.js'
import type { BlockLoader } from './block-loader.js'
import { MAX_DEPTH, decodeIndex } from './index-block.js'

/** Children loaded per store (or fetch) request while walking a value. */
const LOAD_BATCH = 64

interface Part {
  readonly cid: CID
  readonly size: number
  /** The wanted byte range within this part. */
  readonly from: number
  readonly to: number
}

function mismatch(cid: CID, why: string): LedgerError {
  return LedgerError.integrity(`value block ${cid.toString()} ${why}`, { cid: cid.toString() })
}

/**
 * Yields, in order, the bytes `[from, to)` of the value whose root is `root` (`size` bytes), as
 * views into the loaded chunks. Only the index blocks and chunks overlapping the range are loaded,
 * LOAD_BATCH at a time, the next batch loading while the current one is consumed. Sizes are checked
 * on the way (index totals, chunk lengths), so the output is exactly `to - from` bytes or an error.
 */
export async function* walkRange(
  loader: BlockLoader,
  root: CID,
  size: number,
  from: number,
  to: number,
  fetch: boolean,
): AsyncGenerator<Uint8Array> {
  yield* walkParts(loader, [{ cid: root, size, from, to }], 0, fetch)
}

async function* walkParts(loader: BlockLoader, parts: Part[], depth: number, fetch: boolean): AsyncGenerator<Uint8Array> {
  const loadBatch = (b: number): Promise<Uint8Array[]> => {
    const p = loader.load(
      parts.slice(b, b + LOAD_BATCH).map((x) => x.cid),
      fetch,
    )
    p.catch(() => {}) // awaited below; this only keeps an abandoned prefetch from going unhandled
    return p
  }
  let next = loadBatch(0)
  for (let b = 0; b < parts.length; b += LOAD_BATCH) {
    const blocks = await next
    if (b + LOAD_BATCH < parts.length) next = loadBatch(b + LOAD_BATCH)
    for (let j = 0; j < blocks.length; j++) {
      const part = parts[b + j]!
      const bytes = blocks[j]!
      if (part.cid.code === RAW_CODE) {
        if (bytes.length !== part.size) throw mismatch(part.cid, `holds ${bytes.length} bytes, ${part.size} expected`)
        if (part.to > part.from) yield bytes.subarray(part.from, part.to)
        continue
      }
      if (depth >= MAX_DEPTH) throw mismatch(part.cid, `nests deeper than ${MAX_DEPTH} index levels`)
      const index = decodeIndex(bytes, part.cid)
      if (index.total !== part.size) throw mismatch(part.cid, `indexes ${index.total} bytes, ${part.size} expected`)
      yield* walkParts(loader, overlapping(index.children, index.sizes, part.from, part.to), depth + 1, fetch)
    }
  }
}

function overlapping(children: CID[], sizes: number[], from: number, to: number): Part[] {
  const out: Part[] = []
  let off = 0
  for (let i = 0; i < children.length && off < to; i++) {
    const size = sizes[i]!
    const end = off + size
    if (end > from) {
      out.push({ cid: children[i]!, size, from: Math.max(from - off, 0), to: Math.min(to, end) - off })
    }
    off = end
  }
  return out
}

/**
 * Walks the value's blocks level by level (root first), reading index blocks (and checking their
 * totals against the sizes their parents record) but not chunks. A missing index block is listed,
 * its children (unknown) are not. With `checkPresence` the walk stops at the first missing block
 * (`complete: false`), checks chunks are present and a raw root's length; otherwise chunks are
 * listed whether stored or not and `complete` only reflects index blocks.
 */
export async function walkBlocks(
  loader: BlockLoader,
  root: CID,
  size: number,
  checkPresence: boolean,
): Promise<{ cids: CID[]; complete: boolean }> {
  const cids: CID[] = []
  let complete = true
  if (checkPresence && root.code === RAW_CODE) {
    const [bytes] = await loader.local([root])
    if (bytes === undefined) return { cids, complete: false }
    if (bytes.length !== size) throw mismatch(root, `holds ${bytes.length} bytes, ${size} expected`)
    return { cids: [root], complete: true }
  }
  let level: { cid: CID; size: number }[] = [{ cid: root, size }]
  for (let depth = 0; level.length > 0; depth++) {
    if (depth > MAX_DEPTH) throw mismatch(root, `nests deeper than ${MAX_DEPTH} index levels`)
    const next: { cid: CID; size: number }[] = []
    for (let b = 0; b < level.length; b += LOAD_BATCH) {
      const batch = level.slice(b, b + LOAD_BATCH)
      const indexes = batch.filter((p) => p.cid.code !== RAW_CODE)
      const got = await loader.local(indexes.map((p) => p.cid))
      for (let i = 0; i < indexes.length; i++) {
        const { cid, size: expected } = indexes[i]!
        const bytes = got[i]
        if (bytes === undefined) {
          if (checkPresence) return { cids, complete: false }
          complete = false
          continue
        }
        const index = decodeIndex(bytes, cid)
        if (index.total !== expected) throw mismatch(cid, `indexes ${index.total} bytes, ${expected} expected`)
        for (let c = 0; c < index.children.length; c++) next.push({ cid: index.children[c]!, size: index.sizes[c]! })
      }
      if (checkPresence) {
        const chunks = batch.filter((p) => p.cid.code === RAW_CODE).map((p) => p.cid)
        if (!(await loader.present(chunks)).every(Boolean)) return { cids, complete: false }
      }
      for (const p of batch) cids.push(p.cid)
    }
    level = next
  }
  return { cids, complete }
}
