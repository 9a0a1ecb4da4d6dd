import { DAG_CBOR_CODE, RAW_CODE, ownBytes, type Block, type CID } from '../codec/index.js'
import { LedgerError } from '../errors/index.js'
import type { BlockReader } from '../store/index.js'
import type { Priority, ValueRef } from '../tree/interface.js'
import { BlockLoader } from './block-loader.js'
import { encodeStream, encodeWhole } from './encode.js'
import { decodeIndex } from './index-block.js'
import type { BlockFetcher, BlockWriter } from './interface.js'
import { collectRange, walkBlocks, walkRange } from './value-walk.js'

/** Eager values up to this many bytes are stored inline in their tree entry; lazy values never are. */
export const INLINE_MAX = 1024

/** Whether `encode` keeps a value of `size` bytes inline in its tree entry. */
export const staysInline = (size: number, priority: Priority): boolean => priority === 'eager' && size <= INLINE_MAX

export interface ValueStoreOptions {
  /**
   * Where missing blocks come from when a read passes `fetch: true`; the sync layer installs one.
   * @default undefined (fetching → NETWORK_ERROR)
   */
  fetcher?: BlockFetcher | undefined
}

export interface ReadOptions {
  /**
   * Fetch missing blocks through the fetcher instead of rejecting with NEEDS_FETCH.
   * @default false
   */
  fetch?: boolean | undefined
}

/**
 * Values as blocks: content-defined chunking on write, whole, ranged and streamed reads, lazy
 * fetching. See docs/values.md for the format.
 */
export class ValueStore {
  readonly #loader: BlockLoader
  readonly #writer: BlockWriter

  constructor(reader: BlockReader, writer: BlockWriter, options: ValueStoreOptions = {}) {
    this.#writer = writer
    this.#loader = new BlockLoader(reader, writer, options.fetcher)
  }

  get fetcher(): BlockFetcher | undefined {
    return this.#loader.fetcher
  }

  set fetcher(f: BlockFetcher | undefined) {
    this.#loader.fetcher = f
  }

  /**
   * Encodes a whole value: the ref for its tree entry and its blocks (each once), which the caller
   * writes with its commit. Synchronous. Eager values of at most INLINE_MAX bytes are inline (not copied: pass owned bytes);
   * otherwise the blocks are views into `bytes`, which must not be modified afterwards.
   */
  encode(bytes: Uint8Array, priority: Priority): { ref: ValueRef; blocks: Block[] } {
    if (staysInline(bytes.length, priority)) return { ref: { inline: bytes }, blocks: [] }
    const { link, blocks } = encodeWhole(bytes)
    return { ref: { link, size: bytes.length }, blocks }
  }

  /**
   * Encodes a stream, writing its blocks through the writer in batches as it goes (memory stays
   * bounded whatever the size). Gives the same link as `encode` of the same bytes. With
   * `expectedSize`, a stream of another size → INVALID_ARGUMENT (blocks already written stay
   * unreferenced). A non-Uint8Array piece → INVALID_ARGUMENT; errors of the source propagate.
   */
  encodeStream(
    source: AsyncIterable<Uint8Array> | Uint8Array,
    expectedSize?: number,
  ): Promise<{ link: CID; size: number }> {
    return encodeStream(this.#writer, source, expectedSize)
  }

  /**
   * The whole value, as a new Uint8Array. A block not stored here → NEEDS_FETCH, unless `fetch`
   * (then NETWORK_ERROR if no peer has it, DATA_INTEGRITY_ERROR if one sends bad bytes).
   */
  async read(ref: ValueRef, opts: ReadOptions = {}): Promise<Uint8Array> {
    if ('inline' in ref) return ownBytes(ref.inline)
    return this.#collect(ref.link, ref.size, 0, ref.size, opts.fetch === true)
  }

  /**
   * `maxSize` bytes (all to the end when negative) from `offset` (from the end when negative:
   * valid -size..size-1; outside → empty). Loads or fetches only the chunks overlapping the slice.
   */
  async readRange(ref: ValueRef, offset: number, maxSize: number, opts: ReadOptions = {}): Promise<Uint8Array> {
    if (!Number.isSafeInteger(offset)) throw LedgerError.invalidArgument('offset must be an integer', { offset })
    if (!Number.isSafeInteger(maxSize)) throw LedgerError.invalidArgument('maxSize must be an integer', { maxSize })
    const size = 'inline' in ref ? ref.inline.length : ref.size
    const from = offset < 0 ? offset + size : offset
    if (from < 0 || from >= size || maxSize === 0) return new Uint8Array(0)
    const to = maxSize < 0 ? size : Math.min(size, from + maxSize)
    if ('inline' in ref) return ref.inline.slice(from, to)
    return this.#collect(ref.link, ref.size, from, to, opts.fetch === true)
  }

  /** The value chunk by chunk (each a new Uint8Array); nothing for an empty value. */
  async *stream(ref: ValueRef, opts: ReadOptions = {}): AsyncGenerator<Uint8Array> {
    if ('inline' in ref) {
      if (ref.inline.length > 0) yield ownBytes(ref.inline)
      return
    }
    for await (const piece of walkRange(this.#loader, ref.link, ref.size, 0, ref.size, opts.fetch === true)) {
      yield ownBytes(piece)
    }
  }

  /**
   * True when every block of the value is stored here and its index blocks are well formed and
   * agree with `ref.size`; false otherwise (a link to something that is not such a value included).
   * Reads the index blocks; chunks are only checked for presence (read unless the reader offers
   * `hasBlocks`).
   */
  async isComplete(ref: ValueRef): Promise<boolean> {
    if ('inline' in ref) return true
    try {
      return (await walkBlocks(this.#loader, ref.link, ref.size, true)).complete
    } catch (err) {
      if (LedgerError.is(err, 'DATA_INTEGRITY_ERROR')) return false
      throw err
    }
  }

  /**
   * The CIDs of the value's blocks (root first, then level by level): the root and everything
   * reachable from it through index blocks stored here. A missing index block is listed, but its
   * children cannot be known and are not; chunks are listed whether stored or not (only index
   * blocks are read). Empty for an inline value. A malformed index → DATA_INTEGRITY_ERROR.
   */
  async blockCids(ref: ValueRef): Promise<CID[]> {
    if ('inline' in ref) return []
    return (await walkBlocks(this.#loader, ref.link, ref.size, false)).cids
  }

  /**
   * The children of a value block: none for a raw chunk, the children of an index block. Any other
   * block, or a malformed index → DATA_INTEGRITY_ERROR. Does not check `blockBytes` against `cid`.
   */
  static links(blockBytes: Uint8Array, cid: CID): CID[] {
    if (cid.code === RAW_CODE) return []
    if (cid.code !== DAG_CBOR_CODE) {
      throw LedgerError.integrity(`${cid.toString()} is not a value block`, { cid: cid.toString() })
    }
    return decodeIndex(blockBytes, cid).children
  }

  #collect(link: CID, size: number, from: number, to: number, fetch: boolean): Promise<Uint8Array> {
    return collectRange(this.#loader, { root: link, size, from, to, fetch })
  }
}
