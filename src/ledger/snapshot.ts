import { compareBytes, ownBytes, prefixEnd, startsWith, type CID } from '../codec/index.js'
import type { Commit } from '../commit/index.js'
import { LedgerError } from '../errors/index.js'
import { scanSlab, type EntryMaker } from '../tree/index.js'
import type { RangeOptions, TreeEntry } from '../tree/interface.js'
import type { Engine } from './engine.js'
import { BatchIterator } from './batch-iterator.js'
import { keyOf, linkedDiffItem, linkedEntry, makeEntry, ownedDiffItem, type LinkedEntry, type SnapshotDiffItem } from './entry-values.js'
import type { Bytes, Entry, KeyLike } from './interface.js'
import { decodeToken, encodeToken } from './paging-token.js'
import { optionalBoolean, optionalCount, optionsObject, optionalKey, toInteger, toKey } from './validate.js'

/** Range options of `entries` and `keys`. */
export interface EntriesOptions {
  /** First key, inclusive. */
  start?: KeyLike
  /** Key to stop before, exclusive. */
  end?: KeyLike
  /** Iterate the same range from the top down. */
  reverse?: boolean
  /** At most this many entries. */
  limit?: number
}

const DEFAULT_PAGE_SIZE = 1000

function maxKey(a: Uint8Array | undefined, b: Uint8Array | undefined): Uint8Array | undefined {
  if (a === undefined) return b
  if (b === undefined) return a
  return compareBytes(a, b) >= 0 ? a : b
}

function minKey(a: Uint8Array | undefined, b: Uint8Array | undefined): Uint8Array | undefined {
  if (a === undefined) return b
  if (b === undefined) return a
  return compareBytes(a, b) <= 0 ? a : b
}

/** An immutable view of one commit of a page, optionally limited to a key prefix. */
export class Snapshot {
  /** CID string of the commit it reads. */
  readonly commitId: string
  /** CID string of its tree root: equal contents give equal ids, on any page and replica. */
  readonly contentId: string
  readonly #engine: Engine
  readonly #commit: Commit
  readonly #prefix: Uint8Array

  /** @internal */
  constructor(engine: Engine, commit: Commit, prefix: Uint8Array = new Uint8Array(0)) {
    this.#engine = engine
    this.#commit = commit
    this.#prefix = prefix
    this.commitId = commit.cid.toString()
    this.contentId = commit.root.toString()
  }

  /** @internal the commit read by this snapshot */
  get commit(): Commit {
    return this.#commit
  }

  /** @internal */
  get root(): CID {
    return this.#commit.root
  }

  /** @internal */
  get prefix(): Uint8Array {
    return this.#prefix
  }

  /** The value of `key`, or undefined. A lazy value not stored here → NEEDS_FETCH. */
  async get(key: KeyLike): Promise<Bytes | undefined> {
    const entry = await this.#lookup(key)
    if (!entry) return undefined
    if ('inline' in entry.value) return ownBytes(entry.value.inline)
    return this.#engine.values.read(entry.value)
  }

  /** Like `get`, fetching a lazy value from peers when it is not here (none has it → NETWORK_ERROR). */
  async fetch(key: KeyLike): Promise<Bytes | undefined> {
    const entry = await this.#lookup(key)
    if (!entry) return undefined
    if ('inline' in entry.value) return ownBytes(entry.value.inline)
    return this.#engine.values.read(entry.value, { fetch: true })
  }

  /** A slice of a value, fetching only the chunks it needs. Negative `offset` counts from the end. */
  async fetchPartial(key: KeyLike, offset: number, maxSize: number): Promise<Bytes | undefined> {
    const off = toInteger(offset, 'offset')
    const max = toInteger(maxSize, 'maxSize')
    const entry = await this.#lookup(key)
    if (!entry) return undefined
    return this.#engine.values.readRange(entry.value, off, max, { fetch: true })
  }

  /** Entries in key order (or reverse), within `start` (inclusive) .. `end` (exclusive). */
  entries(options?: EntriesOptions): AsyncIterableIterator<Entry> {
    return new BatchIterator(this.#entryBatches(options))
  }

  /** Keys in key order (or reverse), within `start` .. `end`. */
  keys(options?: EntriesOptions): AsyncIterableIterator<Bytes> {
    return new BatchIterator(this.#keyBatches(options))
  }

  async *#entryBatches(options: EntriesOptions | undefined): AsyncGenerator<Entry[]> {
    const engine = this.#engine
    for await (const batch of this.#batches(options, makeEntry, false)) {
      for (let i = 0; i < batch.length; i++) {
        const e = batch[i]!
        if (!(e.value instanceof Uint8Array)) batch[i] = await linkedEntry(engine, e as LinkedEntry)
      }
      yield batch as Entry[]
    }
  }

  #keyBatches(options: EntriesOptions | undefined): AsyncGenerator<Bytes[]> {
    return this.#batches(options, keyOf, true)
  }

  /** One page of entries and a token for the next, while more remain. Unknown token → INVALID_TOKEN. */
  async getEntries(options?: { start?: KeyLike; token?: string; limit?: number }): Promise<{ entries: Entry[]; next?: string }> {
    this.#engine.assertOpen()
    const o = optionsObject(options, 'getEntries')
    const limit = optionalCount(o.limit, 'limit') ?? DEFAULT_PAGE_SIZE
    if (limit < 1) throw LedgerError.invalidArgument('limit must be at least 1')
    const start = o.token !== undefined ? decodeToken(o.token, this.commitId) : optionalKey(o.start, 'start')
    const entries: Entry[] = []
    let next: string | undefined
    const range = start === undefined ? { limit: limit + 1 } : { start, limit: limit + 1 }
    scan: for await (const batch of this.#batches(range, makeEntry, false)) {
      for (const e of batch) {
        if (entries.length === limit) {
          next = encodeToken(this.commitId, e.key)
          break scan
        }
        entries.push(e.value instanceof Uint8Array ? (e as Entry) : await linkedEntry(this.#engine, e as LinkedEntry))
      }
    }
    return next === undefined ? { entries } : { entries, next }
  }

  /** Every key whose entry differs, ascending: `before` here, `after` in `other`. */
  diff(other: Snapshot): AsyncIterableIterator<{ key: Bytes; before?: Entry; after?: Entry }> {
    return new BatchIterator(this.#diffBatches(other))
  }

  async *#diffBatches(other: Snapshot): AsyncGenerator<SnapshotDiffItem[]> {
    this.#engine.assertOpen()
    if (!(other instanceof Snapshot)) throw LedgerError.invalidArgument('diff needs a Snapshot')
    const lo = maxKey(this.#prefix, other.prefix)
    const hi = minKey(prefixEnd(this.#prefix), prefixEnd(other.prefix))
    const range: { start?: Uint8Array; end?: Uint8Array } = {}
    if (lo !== undefined && lo.length > 0) range.start = lo
    if (hi !== undefined) range.end = hi
    const slab = scanSlab()
    for await (const batch of this.#engine.tree.diffBatches(this.root, other.root, range)) {
      const out: SnapshotDiffItem[] = []
      for (const d of batch) {
        if (!startsWith(d.key, this.#prefix) || !startsWith(d.key, other.prefix)) continue
        out.push(ownedDiffItem(d, slab) ?? (await linkedDiffItem(this.#engine, d)))
      }
      yield out
    }
  }

  async #lookup(key: KeyLike): Promise<TreeEntry | undefined> {
    this.#engine.assertOpen()
    const k = toKey(key)
    if (!startsWith(k, this.#prefix)) return undefined
    return this.#engine.tree.get(this.root, k)
  }

  /** `#range` in batches built by `make` from owned bytes (validated when the first batch is asked for). */
  async *#batches<T>(options: EntriesOptions | undefined, make: EntryMaker<T>, keysOnly: boolean): AsyncGenerator<T[]> {
    yield* this.#engine.tree.ownedBatches(this.root, this.#rangeOf(options), make, keysOnly)
  }

  #rangeOf(options?: EntriesOptions | RangeOptions): RangeOptions {
    this.#engine.assertOpen()
    const o = optionsObject(options, 'entries')
    const start = maxKey(optionalKey(o.start, 'start'), this.#prefix.length > 0 ? this.#prefix : undefined)
    const end = minKey(optionalKey(o.end, 'end'), prefixEnd(this.#prefix))
    const reverse = optionalBoolean(o.reverse, 'reverse') ?? false
    const limit = optionalCount(o.limit, 'limit')
    const range: RangeOptions = { reverse }
    if (start !== undefined) range.start = start
    if (end !== undefined) range.end = end
    if (limit !== undefined) range.limit = limit
    return range
  }
}

