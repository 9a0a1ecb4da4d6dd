import { ownBytes, verifyBlock, type Block, type CID } from '../codec/index.js'
import { LedgerError } from '../errors/index.js'
import type { BlockReader } from '../store/index.js'
import type { BlockFetcher, BlockWriter } from './interface.js'

/** A reader that may also read many blocks in one call (the Store does). */
type BatchReader = BlockReader & {
  getBlocks?: (cids: CID[]) => Promise<(Uint8Array | undefined)[]>
  /** Presence without reading the bytes, if the store offers it. */
  hasBlocks?: (cids: CID[]) => Promise<boolean[]>
  /** Reads blocks straight into caller buffers where it can (the Store's value log does). */
  readBlocksInto?: (cids: CID[], targets: Uint8Array[]) => Promise<boolean[]>
}

/**
 * Loads value blocks from the local store and, when asked, from the fetcher.
 *
 * Fetching: the blocks a peer returns are verified against their CIDs first; one bad block →
 * DATA_INTEGRITY_ERROR and nothing of that fetch is stored. The good ones are then stored in one
 * batch; if some block was not returned at all (or there is no fetcher) → NETWORK_ERROR.
 */
export class BlockLoader {
  readonly #reader: BatchReader
  readonly #writer: BlockWriter
  fetcher: BlockFetcher | undefined

  constructor(reader: BlockReader, writer: BlockWriter, fetcher: BlockFetcher | undefined) {
    this.#reader = reader
    this.#writer = writer
    this.fetcher = fetcher
  }

  /** The locally stored blocks (undefined where missing). */
  async local(cids: CID[]): Promise<(Uint8Array | undefined)[]> {
    if (cids.length === 0) return []
    const reader = this.#reader
    if (cids.length > 1 && typeof reader.getBlocks === 'function') return reader.getBlocks(cids)
    return Promise.all(cids.map((cid) => reader.getBlock(cid)))
  }

  /** Which blocks are stored locally (without reading them when the reader has `hasBlocks`). */
  async present(cids: CID[]): Promise<boolean[]> {
    if (cids.length === 0) return []
    if (typeof this.#reader.hasBlocks === 'function') return this.#reader.hasBlocks(cids)
    return (await this.local(cids)).map((b) => b !== undefined)
  }

  /**
   * As `load`, but a block with a target may be read straight into it (as long as the block):
   * undefined then; the block's bytes otherwise (the caller checks their length and copies).
   */
  async loadInto(cids: CID[], targets: (Uint8Array | undefined)[], fetch: boolean): Promise<(Uint8Array | undefined)[]> {
    const reader = this.#reader
    const direct: number[] = []
    for (let i = 0; i < cids.length; i++) if (targets[i] !== undefined) direct.push(i)
    const out = new Array<Uint8Array | undefined>(cids.length).fill(undefined)
    const done = new Array<boolean>(cids.length).fill(false)
    if (direct.length > 0 && typeof reader.readBlocksInto === 'function') {
      const ok = await reader.readBlocksInto(
        direct.map((i) => cids[i]!),
        direct.map((i) => targets[i]!),
      )
      direct.forEach((i, j) => (done[i] = ok[j]!))
    }
    const rest: number[] = []
    for (let i = 0; i < cids.length; i++) if (!done[i]) rest.push(i)
    if (rest.length === 0) return out
    const got = await this.load(
      rest.map((i) => cids[i]!),
      fetch,
    )
    rest.forEach((i, j) => (out[i] = got[j]))
    return out
  }

  /** Every block, from the store, else (with `fetch`) from the fetcher; NEEDS_FETCH otherwise. */
  async load(cids: CID[], fetch: boolean): Promise<Uint8Array[]> {
    const got = await this.local(cids)
    const missing: CID[] = []
    for (let i = 0; i < cids.length; i++) if (got[i] === undefined) missing.push(cids[i]!)
    if (missing.length === 0) return got as Uint8Array[]
    if (!fetch) {
      const what = `${missing.length} block(s) of this value are not stored locally; fetch it`
      throw new LedgerError('NEEDS_FETCH', what, {
        data: { cids: missing.map((c) => c.toString()) },
      })
    }
    const fetched = await this.fetch(missing)
    return got.map((b, i) => b ?? fetched.get(cids[i]!.toString())!)
  }

  /** Fetches, verifies and stores `cids`; returns them keyed by CID string. */
  async fetch(cids: CID[]): Promise<Map<string, Uint8Array>> {
    const wanted = new Map<string, CID>()
    for (const cid of cids) wanted.set(cid.toString(), cid)
    const fetcher = this.fetcher
    if (fetcher === undefined) {
      throw LedgerError.network(`no peer to fetch ${wanted.size} block(s) from`)
    }
    let answer: unknown
    try {
      answer = await fetcher.fetchBlocks([...wanted.values()])
    } catch (err) {
      if (err instanceof LedgerError) throw err
      throw LedgerError.network('fetching blocks failed', err)
    }
    if (!(answer instanceof Map)) throw LedgerError.network('the fetcher returned no block map')
    const good = new Map<string, Uint8Array>()
    const blocks: Block[] = []
    for (const [key, cid] of wanted) {
      const bytes: unknown = answer.get(key)
      if (bytes === undefined) continue
      if (!(bytes instanceof Uint8Array)) throw LedgerError.integrity(`fetched block ${key} is not bytes`, { cid: key })
      verifyBlock(cid, bytes)
      const own = ownBytes(bytes)
      good.set(key, own)
      blocks.push({ cid, bytes: own })
    }
    if (blocks.length > 0) await this.#writer.putBlocks(blocks)
    if (good.size < wanted.size) {
      const lacking = [...wanted.keys()].filter((k) => !good.has(k))
      throw new LedgerError('NETWORK_ERROR', `no peer has ${lacking.length} block(s) of this value`, {
        data: { cids: lacking },
      })
    }
    return good
  }
}
