import { hash } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import { CID, DAG_CBOR_CODE } from '../codec/index.js'
import { LedgerError } from '../errors/index.js'
import { applyDelta, deltaHeader, encodeDelta, isDelta, MAX_DELTA_DEPTH } from './block-delta.js'
import type { StoreBlock } from './interface.js'

/** Blocks whose delta depth is remembered (~100 bytes each): bases for the next rewrites. */
const DEPTH_ENTRIES = 65_536

const keyOf = (cid: CID): string => Buffer.from(cid.bytes.buffer, cid.bytes.byteOffset, cid.bytes.byteLength).toString('base64')

/** One record to put under a block's key, and the depth to remember once it is written. */
export interface BlockRecord {
  readonly cid: CID
  readonly value: Uint8Array
  readonly depth: number
}

/**
 * Stores a rewritten dag-cbor block as a delta of the block it replaces (docs/architecture.md) and
 * turns delta records back into blocks on reads. A block becomes a delta only against a base
 * known to be stored (written or read here, its depth remembered), only when it is not stored
 * yet (a record is never replaced by a delta: that could close a cycle), and chains stop at
 * MAX_DELTA_DEPTH. Whether a block is stored is asked synchronously (LevelDB's bloom filters
 * answer a miss in microseconds; an asynchronous get cost ~100 µs a commit in the thread pool).
 * Two writes in flight may both store the same new block; neither can be the other's base, as
 * a base must be known stored before a delta is built on it, so no cycle can form.
 */
export class DeltaBlocks {
  readonly #depths = new LRUCache<string, number>({ max: DEPTH_ENTRIES })
  readonly #read: (cids: CID[]) => Promise<(Uint8Array | undefined)[]>
  readonly #stored: (cid: CID) => Uint8Array | undefined

  /** `read` returns stored records (whole or delta) by CID; `stored` one record, synchronously. */
  constructor(read: (cids: CID[]) => Promise<(Uint8Array | undefined)[]>, stored: (cid: CID) => Uint8Array | undefined) {
    this.#read = read
    this.#stored = stored
  }

  /** The depth a delta of `b` would have, or undefined when `b` is to be stored whole. */
  deltaDepth(b: StoreBlock): number | undefined {
    const base = b.base
    if (base === undefined || b.copies === undefined || base.cid.code !== DAG_CBOR_CODE || b.cid.code !== DAG_CBOR_CODE) return undefined
    const depth = this.#depths.get(keyOf(base.cid))
    return depth !== undefined && depth < MAX_DELTA_DEPTH ? depth + 1 : undefined
  }

  /**
   * The records for `blocks` (each with its delta depth): deltas where they pay, the whole block
   * otherwise; blocks already stored are left out.
   */
  records(blocks: readonly { block: StoreBlock; depth: number }[]): BlockRecord[] {
    const out: BlockRecord[] = []
    blocks.forEach(({ block, depth }) => {
      const existing = this.#stored(block.cid)
      if (existing !== undefined) {
        this.#depths.set(keyOf(block.cid), isDelta(existing) ? deltaHeader(existing).depth : 0)
        return
      }
      const base = block.base!
      const delta = encodeDelta(base.bytes, block.bytes, block.copies!, base.cid.bytes, depth)
      out.push(delta === undefined ? { cid: block.cid, value: block.bytes, depth: 0 } : { cid: block.cid, value: delta, depth })
    })
    return out
  }

  /** Remembers the depth of a record that is now stored. */
  noteStored(cid: CID, depth: number): void {
    if (cid.code === DAG_CBOR_CODE) this.#depths.set(keyOf(cid), depth)
  }

  /** The blocks for stored `records` of `cids`: delta records are rebuilt from their bases. */
  async resolve(cids: readonly CID[], records: (Uint8Array | undefined)[]): Promise<(Uint8Array | undefined)[]> {
    const pending: number[] = []
    for (let i = 0; i < cids.length; i++) {
      const r = records[i]
      if (r === undefined || cids[i]!.code !== DAG_CBOR_CODE) continue
      if (isDelta(r)) pending.push(i)
      else this.#depths.set(keyOf(cids[i]!), 0)
    }
    if (pending.length === 0) return records
    const headers = pending.map((i) => deltaHeader(records[i]!))
    let bases: CID[]
    try {
      bases = headers.map((h) => CID.decode(h.baseCid))
    } catch (err) {
      throw new LedgerError('DATA_INTEGRITY_ERROR', 'a stored delta record names no valid base', { cause: err })
    }
    const baseRecords = await this.#read(bases)
    for (let k = 0; k < pending.length; k++) {
      const r = baseRecords[k]
      // A base is always shallower than its delta: a deeper one means a damaged store, not a loop.
      if (r !== undefined && isDelta(r) && deltaHeader(r).depth >= headers[k]!.depth) baseRecords[k] = undefined
    }
    const baseBytes = await this.resolve(bases, baseRecords)
    const out = records.slice()
    pending.forEach((i, k) => {
      const base = baseBytes[k]
      const block = base === undefined ? undefined : applyDelta(records[i]!, base)
      // A rebuilt block is checked against its CID: a damaged delta or base must not pass as data.
      if (block === undefined || !matchesCid(cids[i]!, block)) {
        throw new LedgerError('DATA_INTEGRITY_ERROR', `stored block ${cids[i]!.toString()} cannot be rebuilt from its base`)
      }
      this.#depths.set(keyOf(cids[i]!), headers[k]!.depth)
      out[i] = block
    })
    return out
  }
}

function matchesCid(cid: CID, bytes: Uint8Array): boolean {
  const digest = hash('sha256', bytes, 'buffer') as Buffer
  return digest.equals(cid.multihash.digest)
}
