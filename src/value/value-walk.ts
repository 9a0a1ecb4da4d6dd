import { RAW_CODE, type CID } from '../codec/index.js'
import { LedgerError } from '../errors/index.js'
import type { BlockLoader } from './block-loader.js'
import { MAX_DEPTH, decodeIndex } from './index-block.js'

/** Most blocks per store (or fetch) request while walking a value. */
const LOAD_BATCH = 256
/**
 * Chunks per request are also capped by bytes, which bounds a streaming reader's memory. Local
 * reads use smaller requests, so the LOAD_WINDOW requests in flight run on several threads; a
 * fetch keeps a whole 4 MiB in one request (one bad block from a peer → nothing of it stored).
 */
const LOAD_BATCH_BYTES = 4 * 1024 * 1024
const LOCAL_BATCH_BYTES = 1024 * 1024

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

/** Chunk batches loading at once ahead of the consumer (bounds a streaming reader's memory). */
const LOAD_WINDOW = 3

/** The bytes `[from, to)` of the value whose root is `root` (`size` bytes); `fetch` from peers. */
export interface ValueRange {
  readonly root: CID
  readonly size: number
  readonly from: number
  readonly to: number
  readonly fetch: boolean
}

/**
 * Yields, in order, the bytes `[from, to)` of the value whose root is `root` (`size` bytes), as
 * views into the loaded chunks. Only the index blocks and chunks overlapping the range are loaded:
 * index blocks as the walk reaches them, chunks in batches (≤ LOAD_BATCH blocks, ≤ LOAD_BATCH_BYTES)
 * with up to LOAD_WINDOW batches in flight ahead of the consumer. Sizes are checked on the way
 * (index totals, chunk lengths), so the output is exactly `to - from` bytes or an error.
 */
export async function* walkRange(
  loader: BlockLoader,
  root: CID,
  size: number,
  from: number,
  to: number,
  fetch: boolean,
): AsyncGenerator<Uint8Array> {
  const load = (parts: Part[]): Promise<Uint8Array[]> =>
    loader.load(
      parts.map((p) => p.cid),
      fetch,
    )
  const range = { root, size, from, to, fetch }
  for await (const { parts, result: blocks } of windowed(leafBatches(loader, range), load)) {
    for (let j = 0; j < blocks.length; j++) {
      const part = parts[j]!
      const bytes = blocks[j]!
      if (bytes.length !== part.size) throw mismatch(part.cid, `holds ${bytes.length} bytes, ${part.size} expected`)
      if (part.to > part.from) yield bytes.subarray(part.from, part.to)
    }
  }
}

/**
 * The bytes `[from, to)` of the value as one new array, checked as `walkRange` checks them. Whole
 * chunks are read straight into their place in it where the store can (its value log), so most
 * bytes are copied once, from the file.
 */
export async function collectRange(loader: BlockLoader, range: ValueRange): Promise<Uint8Array> {
  const { root, from, to, fetch } = range
  let out: Uint8Array | undefined
  let at = 0
  const load = async (parts: Part[]): Promise<{ got: (Uint8Array | undefined)[]; offsets: number[] }> => {
    // Allocated once the first batch exists: by then the root has been checked against `size`.
    const dest = (out ??= new Uint8Array(to - from))
    const offsets: number[] = []
    const targets: (Uint8Array | undefined)[] = []
    for (const p of parts) {
      const length = p.to - p.from
      if (at + length > dest.length) throw mismatch(root, `yields more than the ${to - from} bytes expected`)
      offsets.push(at)
      targets.push(p.from === 0 && p.to === p.size ? dest.subarray(at, at + length) : undefined)
      at += length
    }
    const got = await loader.loadInto(
      parts.map((p) => p.cid),
      targets,
      fetch,
    )
    return { got, offsets }
  }
  for await (const { parts, result } of windowed(leafBatches(loader, range), load)) {
    for (let j = 0; j < parts.length; j++) {
      const bytes = result.got[j]
      if (bytes === undefined) continue // read in place (the store checked its length)
      const part = parts[j]!
      if (bytes.length !== part.size) throw mismatch(part.cid, `holds ${bytes.length} bytes, ${part.size} expected`)
      out!.set(bytes.subarray(part.from, part.to), result.offsets[j])
    }
  }
  if (at !== to - from) throw mismatch(root, `yields ${at} bytes, ${to - from} expected`)
  return out ?? new Uint8Array(0)
}

/** The leaf parts of `[from, to)` in batches of ≤ LOAD_BATCH blocks and ≤ the batch bytes, in order. */
async function* leafBatches(loader: BlockLoader, range: ValueRange): AsyncGenerator<Part[]> {
  const { root, size, from, to, fetch } = range
  const batchBytes = fetch ? LOAD_BATCH_BYTES : LOCAL_BATCH_BYTES
  let parts: Part[] = []
  let bytes = 0
  for await (const part of leafParts(loader, [{ cid: root, size, from, to }], 0, fetch)) {
    if (parts.length > 0 && (parts.length >= LOAD_BATCH || bytes + part.size > batchBytes)) {
      yield parts
      parts = []
      bytes = 0
    }
    parts.push(part)
    bytes += part.size
  }
  if (parts.length > 0) yield parts
}

/**
 * Starts `load` on each batch with up to LOAD_WINDOW batches in flight ahead of the consumer and
 * yields the results in order. Loads abandoned by an early exit are left to settle unobserved.
 */
async function* windowed<R>(
  batches: AsyncGenerator<Part[]>,
  load: (parts: Part[]) => Promise<R>,
): AsyncGenerator<{ parts: Part[]; result: R }> {
  const window: { parts: Part[]; result: Promise<R> }[] = []
  let exhausted = false
  const fill = async (): Promise<void> => {
    while (!exhausted && window.length < LOAD_WINDOW) {
      const next = await batches.next()
      if (next.done === true) {
        exhausted = true
        break
      }
      const result = load(next.value)
      result.catch(() => {}) // awaited below; this only keeps an abandoned prefetch from going unhandled
      window.push({ parts: next.value, result })
    }
  }
  try {
    await fill()
    for (let batch = window.shift(); batch !== undefined; batch = window.shift()) {
      const result = await batch.result
      await fill()
      yield { parts: batch.parts, result }
    }
  } finally {
    await batches.return(undefined)
  }
}

/** The raw chunks overlapping the wanted ranges of `parts`, in order, loading index blocks as needed. */
async function* leafParts(loader: BlockLoader, parts: Part[], depth: number, fetch: boolean): AsyncGenerator<Part> {
  for (let i = 0; i < parts.length; ) {
    if (parts[i]!.cid.code === RAW_CODE) {
      yield parts[i++]!
      continue
    }
    if (depth >= MAX_DEPTH) throw mismatch(parts[i]!.cid, `nests deeper than ${MAX_DEPTH} index levels`)
    let j = i
    while (j < parts.length && j - i < LOAD_BATCH && parts[j]!.cid.code !== RAW_CODE) j++
    const group = parts.slice(i, j)
    const blocks = await loader.load(
      group.map((p) => p.cid),
      fetch,
    )
    for (let k = 0; k < group.length; k++) {
      const part = group[k]!
      const index = decodeIndex(blocks[k]!, part.cid)
      if (index.total !== part.size) throw mismatch(part.cid, `indexes ${index.total} bytes, ${part.size} expected`)
      yield* leafParts(loader, overlapping(index.children, index.sizes, part.from, part.to), depth + 1, fetch)
    }
    i = j
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
