import type { Block, CID } from '../codec/index.js'

/** Reads content-addressed blocks; the narrow view the tree and value layers need. */
export interface BlockReader {
  getBlock(cid: CID): Promise<Uint8Array | undefined>
}

/** One change to the set of heads of one page. */
export interface HeadChange {
  pageId: Uint8Array
  add: CID[]
  remove: CID[]
}

/** Everything one atomic store write holds: blocks, head moves and metadata. */
export interface StoreWrite {
  blocks?: Iterable<Block>
  heads?: HeadChange[]
  meta?: Record<string, Uint8Array>
}
