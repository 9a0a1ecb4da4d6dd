import type { Block, CID } from '../codec/index.js'

/**
 * Where missing (lazy) value blocks come from: the sync layer implements it with peers.
 * Returns the bytes it could get, keyed by CID string; the value layer verifies them.
 */
export interface BlockFetcher {
  fetchBlocks(cids: CID[]): Promise<Map<string, Uint8Array>>
}

/** Stores blocks (one atomic batch per call). */
export interface BlockWriter {
  putBlocks(blocks: Block[]): Promise<void>
}

/** A value stored with `createReference`, to be put under keys with `putReference`. */
export interface Reference {
  /** CID string of the value's root block (a raw chunk or an index block). */
  readonly id: string
  /** Total size of the value in bytes. */
  readonly size: number
}
