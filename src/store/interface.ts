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

/**
 * A block to write, with the stored block it replaces when there is one (a tree node rewritten
 * by a change) and the byte ranges it copies from it, as triples (offset in this block, offset
 * in the base, length) in ascending order: the store may keep it as a delta of that base.
 */
export interface StoreBlock extends Block {
  readonly base?: Block | undefined
  readonly copies?: readonly number[] | undefined
}

/** Everything one atomic store write holds: blocks, head moves and metadata. */
export interface StoreWrite {
  blocks?: Iterable<StoreBlock>
  heads?: HeadChange[]
  meta?: Record<string, Uint8Array>
}
