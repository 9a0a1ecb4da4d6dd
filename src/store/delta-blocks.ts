import { hash } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import { CID, cidKey as keyOf, DAG_CBOR_CODE } from '../codec/index.js'
import { LedgerError } from '../errors/index.js'
import { applyDelta, deltaHeader, encodeDelta, isDelta, MAX_DELTA_DEPTH } from './block-delta.js'
import type { StoreBlock } from './interface.js'

/** Blocks whose chain of bases is remembered (~330 bytes each, ~11 MB in all): bases for the next rewrites. */
const CHAIN_ENTRIES = 32_768

const WHOLE: readonly Uint8Array[] = []

/** One record to put under a block's key, and its chain of bases to remember once written. */
export interface BlockRecord {
  readonly cid: CID
  readonly value: Uint8Array
  readonly chain: readonly Uint8Array[]
}

/**
 * Stores a rewritten dag-cbor block as a delta of the block it replaces (docs/architecture.md) and
 * turns delta records back into blocks on reads. A block becomes a delta only against a base
 * known to be stored (written or read here, its chain remembered), only when it is not stored
 * yet (a record is never replaced by a delta: that could close a cycle), and chains stop at
 * MAX_DELTA_DEPTH. Whether a block is stored is asked synchronously (LevelDB's bloom filters
 * answer a miss in microseconds; an asynchronous get cost ~100 µs a commit in the thread pool).
 * Two writes in flight may both store the same new block; neither can be the other's base, as
 * a base must be known stored before a delta is built on it, so no cycle can form. A record
 * lists its whole chain, so a cold read fetches the record, then every base at once.
 */
export class DeltaBlocks {
  // Chains packed into one latin1 string each (length byte + CID bytes per base): an array of
  // small Uint8Arrays cost ~250 bytes per CID.
  readonly #chains = new LRUCache<string, string>({ max: CHAIN_ENTRIES })
  readonly #read: (cids: CID[]) => Promise<(Uint8Array | undefined)[]>
  readonly #stored: (cid: CID) => Uint8Array | undefined
  readonly #write: boolean

  /**
   * `read` returns stored records (whole or delta) by CID; `stored` one record, synchronously.
   * With `write` false no delta is written (existing ones are still read).
   */
  constructor(read: (cids: CID[]) => Promise<(Uint8Array | undefined)[]>, stored: (cid: CID) => Uint8Array | undefined, write: boolean) {
    this.#read = read
    this.#stored = stored
    this.#write = write
  }

  /** The chain a delta of `b` would have, or undefined when `b` is to be stored whole. */
  deltaChain(b: StoreBlock): readonly Uint8Array[] | undefined {
    const base = b.base
    if (!this.#write || base === undefined || b.copies === undefined || base.cid.code !== DAG_CBOR_CODE || b.cid.code !== DAG_CBOR_CODE) return undefined
    const packed = this.#chains.get(keyOf(base.cid))
    if (packed === undefined) return undefined
    const chain = unpackChain(packed)
    return chain.length < MAX_DELTA_DEPTH ? [base.cid.bytes, ...chain] : undefined
  }

  /**
   * The records for `blocks` (each with its delta chain): deltas where they pay, the whole block
   * otherwise; blocks already stored are left out.
   */
  records(blocks: readonly { block: StoreBlock; chain: readonly Uint8Array[] }[]): BlockRecord[] {
    const out: BlockRecord[] = []
    for (const { block, chain } of blocks) {
      const existing = this.#stored(block.cid)
      if (existing !== undefined) {
        this.#remember(block.cid, isDelta(existing) ? (deltaHeader(existing)?.chain ?? WHOLE) : WHOLE)
        continue
      }
      const delta = encodeDelta(block.base!.bytes, block.bytes, block.copies!, chain)
      out.push(delta === undefined ? { cid: block.cid, value: block.bytes, chain: WHOLE } : { cid: block.cid, value: delta, chain })
    }
    return out
  }

  /** Remembers the chain of a record that is now stored. */
  noteStored(cid: CID, chain: readonly Uint8Array[]): void {
    if (cid.code === DAG_CBOR_CODE) this.#remember(cid, chain)
  }

  /** The blocks for stored `records` of `cids`: delta records are rebuilt from their chains. */
  async resolve(cids: readonly CID[], records: (Uint8Array | undefined)[]): Promise<(Uint8Array | undefined)[]> {
    const known = new Map<string, Uint8Array | undefined>()
    const wanted = new Map<string, CID>()
    let deltas = false
    for (let i = 0; i < cids.length; i++) {
      const r = records[i]
      if (r === undefined || cids[i]!.code !== DAG_CBOR_CODE) continue
      known.set(keyOf(cids[i]!), r)
      if (!isDelta(r)) {
        this.#remember(cids[i]!, WHOLE)
        continue
      }
      deltas = true
      for (const bytes of this.#header(cids[i]!, r).chain) {
        const base = decodeCid(bytes)
        if (!known.has(keyOf(base))) wanted.set(keyOf(base), base)
      }
    }
    if (!deltas) return records
    // Every base of every chain in one read.
    const bases = [...wanted.values()]
    const got = await this.#read(bases)
    bases.forEach((cid, k) => known.set(keyOf(cid), got[k]))
    const built = new Map<string, Uint8Array>()
    const out = records.slice()
    for (let i = 0; i < cids.length; i++) {
      const r = records[i]
      if (r !== undefined && cids[i]!.code === DAG_CBOR_CODE && isDelta(r)) out[i] = await this.#build(cids[i]!, r, known, built, new Set())
    }
    return out
  }

  /** The block for one record, its bases taken from `known` (read when missing there). */
  async #build(
    cid: CID,
    record: Uint8Array,
    known: Map<string, Uint8Array | undefined>,
    built: Map<string, Uint8Array>,
    path: Set<string>,
  ): Promise<Uint8Array> {
    const key = keyOf(cid)
    const done = built.get(key)
    if (done !== undefined) return done
    let block: Uint8Array | undefined = record
    let chain: readonly Uint8Array[] = WHOLE
    if (isDelta(record)) {
      const header = this.#header(cid, record)
      chain = header.chain
      // A chain may run deeper than MAX_DELTA_DEPTH (a block written whole and as a delta by two
      // writes in flight: a delta built on the whole one finds a delta there later), never in a
      // loop; one would be damage, reported, not a hang.
      if (path.has(key)) throw damaged(cid, 'its chain of bases loops')
      path.add(key)
      const base = decodeCid(header.chain[0]!)
      if (!known.has(keyOf(base))) known.set(keyOf(base), (await this.#read([base]))[0])
      const baseRecord = known.get(keyOf(base))
      if (baseRecord === undefined) throw damaged(cid, `its base ${base.toString()} is missing`)
      const baseBlock = await this.#build(base, baseRecord, known, built, path)
      block = applyDelta(record, baseBlock)
      // A rebuilt block is checked against its CID: a damaged delta or base must not pass as data.
      if (block === undefined || !matchesCid(cid, block)) throw damaged(cid, 'it cannot be rebuilt from its base')
    }
    this.#remember(cid, chain)
    built.set(key, block)
    return block
  }

  #header(cid: CID, record: Uint8Array): { chain: Uint8Array[] } {
    const header = deltaHeader(record)
    if (header === undefined) throw damaged(cid, 'its delta record is malformed')
    return header
  }

  #remember(cid: CID, chain: readonly Uint8Array[]): void {
    this.#chains.set(keyOf(cid), packChain(chain))
  }
}

function packChain(chain: readonly Uint8Array[]): string {
  let out = ''
  for (const c of chain) out += String.fromCharCode(c.length) + Buffer.from(c.buffer, c.byteOffset, c.byteLength).toString('latin1')
  return out
}

function unpackChain(packed: string): Uint8Array[] {
  const bytes = Buffer.from(packed, 'latin1')
  const out: Uint8Array[] = []
  for (let pos = 0; pos < bytes.length; pos += 1 + bytes[pos]!) out.push(bytes.subarray(pos + 1, pos + 1 + bytes[pos]!))
  return out
}

function damaged(cid: CID, why: string): LedgerError {
  return new LedgerError('DATA_INTEGRITY_ERROR', `stored block ${cid.toString()} cannot be read: ${why}`)
}

function decodeCid(bytes: Uint8Array): CID {
  try {
    return CID.decode(bytes)
  } catch (err) {
    throw new LedgerError('DATA_INTEGRITY_ERROR', 'a stored delta record names no valid base', { cause: err })
  }
}

function matchesCid(cid: CID, bytes: Uint8Array): boolean {
  const digest = hash('sha256', bytes, 'buffer') as Buffer
  return digest.equals(cid.multihash.digest)
}
