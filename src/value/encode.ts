import { rawBlock, type Block, type CID } from '../codec/index.js'
import { LedgerError } from '../errors/index.js'
import { cutPoint } from './fastcdc.js'
import { IndexBuilder } from './index-builder.js'
import type { BlockWriter } from './interface.js'
import { StreamChunker } from './stream-chunker.js'

/** Blocks are written in batches of about this many bytes while streaming. */
export const STREAM_BATCH_BYTES = 4 * 1024 * 1024
/** Pieces are fed to the chunker in slices of at most this, so batches stay near STREAM_BATCH_BYTES. */
const STREAM_SLICE = 1024 * 1024

/** Collects blocks once each (a value may repeat a chunk), in emission order. */
class BlockBatch {
  blocks: Block[] = []
  bytes = 0
  #seen = new Set<string>()

  add(block: Block): void {
    const key = block.cid.toString()
    if (this.#seen.has(key)) return
    this.#seen.add(key)
    this.blocks.push(block)
    this.bytes += block.bytes.length
  }

  take(): Block[] {
    const out = this.blocks
    this.blocks = []
    this.bytes = 0
    this.#seen = new Set()
    return out
  }
}

/**
 * Chunks a whole value: its root link and every block of it (each once). The blocks are views into
 * `bytes`, which the caller must not modify afterwards.
 */
export function encodeWhole(bytes: Uint8Array): { link: CID; blocks: Block[] } {
  const batch = new BlockBatch()
  const n = bytes.length
  const first = n === 0 ? 0 : cutPoint(bytes, 0, n)
  if (first === n) {
    const block = rawBlock(bytes)
    return { link: block.cid, blocks: [block] }
  }
  const builder = new IndexBuilder((b) => batch.add(b))
  for (let at = 0; at < n; ) {
    const len = at === 0 ? first : cutPoint(bytes, at, n)
    const block = rawBlock(bytes.subarray(at, at + len))
    batch.add(block)
    builder.add({ cid: block.cid, size: len })
    at += len
  }
  return { link: builder.finish()!.cid, blocks: batch.take() }
}

function sizeMismatch(expected: number, received: number, done: boolean): LedgerError {
  const got = done ? `${received}` : `more than ${expected}`
  return LedgerError.invalidArgument(`size is ${expected} but the data holds ${got} bytes`, { expected, received })
}

function pieces(source: unknown): AsyncIterable<unknown> | Iterable<unknown> {
  if (source instanceof Uint8Array) return [source]
  if (source !== null && typeof source === 'object') {
    if (Symbol.asyncIterator in source || Symbol.iterator in source) return source as AsyncIterable<unknown>
  }
  throw LedgerError.invalidArgument('data must be a Uint8Array or an (async) iterable of Uint8Array')
}

/**
 * Chunks a stream, writing blocks through `writer` in batches of about STREAM_BATCH_BYTES as it
 * goes (bounded memory). Same bytes → same link as `encodeWhole`. A size mismatch rejects with
 * INVALID_ARGUMENT; chunks already written then stay unreferenced (harmless, content-addressed).
 */
export async function encodeStream(
  writer: BlockWriter,
  source: unknown,
  expectedSize?: number,
): Promise<{ link: CID; size: number }> {
  if (expectedSize !== undefined && (!Number.isSafeInteger(expectedSize) || expectedSize < 0)) {
    throw LedgerError.invalidArgument('size must be a non-negative integer', { size: expectedSize })
  }
  const iterable = pieces(source)
  const batch = new BlockBatch()
  const builder = new IndexBuilder((b) => batch.add(b))
  const chunker = new StreamChunker()
  const onChunk = (chunk: Uint8Array): void => {
    const block = rawBlock(chunk)
    batch.add(block)
    builder.add({ cid: block.cid, size: chunk.length })
  }
  // One batch may be in flight while the next is chunked (hashing overlaps LevelDB's work).
  let inflight: Promise<void> | undefined
  const write = async (blocks: Block[]): Promise<void> => {
    if (inflight !== undefined) await inflight
    inflight = writer.putBlocks(blocks)
    inflight.catch(() => {}) // awaited before the next write or at the end
  }
  let total = 0
  try {
    for await (const piece of iterable) {
      if (!(piece instanceof Uint8Array)) throw LedgerError.invalidArgument('every piece of data must be a Uint8Array')
      total += piece.length
      if (expectedSize !== undefined && total > expectedSize) throw sizeMismatch(expectedSize, total, false)
      for (let at = 0; at < piece.length; at += STREAM_SLICE) {
        const slice = at === 0 && piece.length <= STREAM_SLICE ? piece : piece.subarray(at, at + STREAM_SLICE)
        // Write before a slice could take the batch past STREAM_BATCH_BYTES (plus one buffered chunk).
        if (batch.bytes > 0 && batch.bytes + slice.length > STREAM_BATCH_BYTES) await write(batch.take())
        chunker.push(slice, onChunk)
      }
    }
    if (expectedSize !== undefined && total !== expectedSize) throw sizeMismatch(expectedSize, total, true)
    chunker.finish(onChunk)
  } catch (err) {
    await inflight?.catch(() => {}) // nothing of this call keeps running after it rejects
    throw err
  }
  let link = builder.finish()?.cid
  if (link === undefined) {
    const empty = rawBlock(new Uint8Array(0))
    batch.add(empty)
    link = empty.cid
  }
  if (inflight !== undefined) await inflight
  if (batch.blocks.length > 0) await writer.putBlocks(batch.take())
  return { link, size: total }
}
