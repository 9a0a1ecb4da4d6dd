import type { Block, CID } from '../codec/index.js'
import type { BlockReader } from '../store/index.js'

/**
 * Blocks received in one exchange, verified but not stored yet: they are written, with the
 * commits that need them, in one atomic batch at the end, or dropped if the exchange fails.
 */
export class PendingBlocks {
  readonly #blocks = new Map<string, Block>()
  readonly #used = new Set<string>()

  add(cid: CID, bytes: Uint8Array): void {
    const key = cid.toString()
    if (!this.#blocks.has(key)) this.#blocks.set(key, { cid, bytes })
  }

  get(cid: CID): Uint8Array | undefined {
    return this.#blocks.get(cid.toString())?.bytes
  }

  has(cid: CID): boolean {
    return this.#blocks.has(cid.toString())
  }

  /** Marks a block as needed by a received commit (only those are stored). */
  use(cid: CID): void {
    this.#used.add(cid.toString())
  }

  /** The blocks some received commit needs (pushed extras the walk never reached are left out). */
  usedBlocks(): Block[] {
    const out: Block[] = []
    for (const key of this.#used) {
      const b = this.#blocks.get(key)
      if (b) out.push(b)
    }
    return out
  }
}

/**
 * A block reader over the store and the pending blocks of every running exchange, so the sync
 * layer's tree can apply a received diff on top of a tree whose nodes just arrived. Blocks are
 * content-addressed, so any exchange's pending block is good for any reader.
 */
export class Overlay implements BlockReader {
  readonly #store: BlockReader
  readonly #pending = new Set<PendingBlocks>()

  constructor(store: BlockReader) {
    this.#store = store
  }

  attach(blocks: PendingBlocks): () => void {
    this.#pending.add(blocks)
    return () => this.#pending.delete(blocks)
  }

  async getBlock(cid: CID): Promise<Uint8Array | undefined> {
    for (const p of this.#pending) {
      const bytes = p.get(cid)
      if (bytes !== undefined) return bytes
    }
    return this.#store.getBlock(cid)
  }
}
