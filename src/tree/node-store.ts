import { LRUCache } from 'lru-cache'
import { cidKey as exactKey, equalBytes, type Block, type CID } from '../codec/index.js'
import { LedgerError } from '../errors/index.js'
import type { BlockReader } from '../store/index.js'
import { nodeBlock } from './node-cid.js'
import { decodeNode } from './node-decode.js'
import { encodeNode } from './node-encode.js'
import { Node } from './node.js'

/** Default bound of the decoded-node cache: 32 MiB (a 1M-entry scan peaks at ~190 MB anonymous RSS with it). */
export const DEFAULT_CACHE_BYTES = 32 * 1024 * 1024

/**
 * Below this cache bound read-ahead is off: a batch (up to ~32 nodes of a few KiB) could be
 * evicted before the walk reads it, and every node would then be read twice.
 */
const MIN_READ_AHEAD_CACHE_BYTES = 1024 * 1024

const EMPTY_BYTES = encodeNode(0, [], null)
/** The block of the empty tree: a level-0 node with no entries. */
export const EMPTY_BLOCK: Block = nodeBlock(EMPTY_BYTES)

/**
 * Cache key of a CID: 48 bits of its digest (the last 6 bytes of the CID). Cheap (no string),
 * and a hit is confirmed by comparing the full CID, so a collision costs a miss, never a wrong node.
 */
function cidKey(cid: CID): number {
  const b = cid.bytes
  const n = b.length
  return (
    (b[n - 6]! * 0x10000 + ((b[n - 5]! << 8) | b[n - 4]!)) * 0x1000000 + ((b[n - 3]! << 16) | (b[n - 2]! << 8) | b[n - 1]!)
  )
}


function sameCid(node: Node, cid: CID): boolean {
  const c = node.cid as CID
  return c === cid || equalBytes(c.bytes, cid.bytes)
}

/**
 * Decoded nodes by CID: a bounded LRU of stored nodes in front of the block reader, plus the
 * nodes `apply` built that the caller has not stored yet ("pending"). Pending nodes are held
 * outside the LRU until `markStored`, so a new root stays readable however small the cache is.
 */
export class NodeStore {
  readonly #reader: BlockReader
  readonly #cache: LRUCache<number, Node>
  readonly #pending = new Map<string, Node>()
  /** Nodes the last commit rewrote, dropped from the LRU at the next one (`evict`). */
  #replaced: CID[] = []
  /** Loads in flight, so concurrent readers (and prefetches) share one read. */
  readonly #loading = new Map<string, Promise<Node>>()
  readonly #empty: Node
  /** Read-ahead parks nodes in the LRU until the walk reaches them: pointless in a tiny cache. */
  readonly #readAhead: boolean

  constructor(reader: BlockReader, cacheBytes: number) {
    this.#reader = reader
    this.#readAhead = cacheBytes >= MIN_READ_AHEAD_CACHE_BYTES
    this.#cache = new LRUCache<number, Node>({
      maxSize: Math.max(1, cacheBytes),
      sizeCalculation: (node) => node.size,
    })
    this.#empty = decodeNode(EMPTY_BYTES, EMPTY_BLOCK.cid)
    this.#pending.set(exactKey(EMPTY_BLOCK.cid), this.#empty)
  }

  /** The node if it is in memory (cache, pending or the empty node), without I/O. */
  cached(cid: CID): Node | undefined {
    const key = cidKey(cid)
    const hit = this.#cache.get(key)
    if (hit !== undefined && sameCid(hit, cid)) return hit
    return this.#pending.get(exactKey(cid))
  }

  /** Loads and decodes a node; NEEDS_FETCH (data.cid) when the block is not stored here. */
  async load(cid: CID): Promise<Node> {
    const hit = this.cached(cid)
    if (hit !== undefined) return hit
    const key = exactKey(cid)
    let p = this.#loading.get(key)
    if (p === undefined) {
      p = this.#read(cid).finally(() => this.#loading.delete(key))
      this.#loading.set(key, p)
    }
    return p
  }

  /**
   * Starts loading nodes that are not in memory (read-ahead), in one `getBlocks` call when the
   * reader has one (a Store does: one LevelDB getMany). Errors surface on the real load.
   */
  prefetch(cids: readonly CID[]): void {
    if (!this.#readAhead) return
    const todo: CID[] = []
    for (const cid of cids) if (this.cached(cid) === undefined && !this.#loading.has(exactKey(cid))) todo.push(cid)
    if (todo.length === 0) return
    const many = (this.#reader as { getBlocks?: (cids: CID[]) => Promise<(Uint8Array | undefined)[]> }).getBlocks
    if (typeof many !== 'function' || todo.length === 1) {
      for (const cid of todo) this.load(cid).catch(() => undefined)
      return
    }
    const batch = many.call(this.#reader, todo).catch((err: unknown) => {
      throw err instanceof LedgerError ? err : LedgerError.io('tree node read failed', err)
    })
    for (let i = 0; i < todo.length; i++) {
      const cid = todo[i]!
      const key = exactKey(cid)
      const p = batch.then((got) => this.#decodeStored(cid, got[i])).finally(() => this.#loading.delete(key))
      p.catch(() => undefined)
      this.#loading.set(key, p)
    }
  }

  async #read(cid: CID): Promise<Node> {
    let bytes: Uint8Array | undefined
    try {
      bytes = await this.#reader.getBlock(cid)
    } catch (err) {
      if (err instanceof LedgerError) throw err
      throw LedgerError.io('tree node read failed', err)
    }
    return this.#decodeStored(cid, bytes)
  }

  #decodeStored(cid: CID, bytes: Uint8Array | undefined): Node {
    if (bytes === undefined) {
      throw new LedgerError('NEEDS_FETCH', `tree node ${cid.toString()} is not in the store`, { data: { cid } })
    }
    // Blocks in the store were checked on arrival (sync calls `links`), so key levels are not
    // re-hashed here; the shape is still fully validated.
    const node = decodeNode(bytes, cid, { checkLevels: false })
    this.#cache.set(cidKey(cid), node)
    return node
  }

  /** Keeps a node built by `apply` readable until `markStored`. */
  addPending(node: Node): void {
    const cid = node.cid as CID
    this.#pending.set(exactKey(cid), node)
    this.#cache.set(cidKey(cid), node)
  }

  /**
   * Drops nodes a commit rewrote from the LRU, one commit late: until the next commit a diff
   * against the old version (a watcher's, a snapshot's) still finds them, and afterwards they
   * do not push out the unchanged nodes that later commits read. Pending nodes are kept.
   */
  evict(cids: CID[]): void {
    for (const cid of this.#replaced) {
      const key = cidKey(cid)
      const hit = this.#cache.peek(key)
      if (hit !== undefined && sameCid(hit, cid)) this.#cache.delete(key)
    }
    this.#replaced = cids
  }

  /** Bytes of a pending node, if `cid` is one (the empty tree's block always is). */
  pendingBytes(cid: CID): Uint8Array | undefined {
    return this.#pending.get(exactKey(cid))?.bytes
  }

  markStored(cids: Iterable<CID>): void {
    for (const cid of cids) {
      const key = exactKey(cid)
      if (this.#pending.get(key) !== this.#empty) this.#pending.delete(key)
    }
  }

  /** Blocks held for `markStored` (the empty tree's block is always held and not counted). */
  get pendingCount(): number {
    return this.#pending.size - 1
  }

  /** Decoded nodes held by the LRU, and their approximate bytes. */
  get cacheStats(): { nodes: number; bytes: number } {
    return { nodes: this.#cache.size, bytes: this.#cache.calculatedSize }
  }

  clearCache(): void {
    this.#cache.clear()
  }
}
