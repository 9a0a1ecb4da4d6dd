import { CID, DAG_CBOR_CODE, RAW_CODE, decodeCbor, encodeBlock, type Block } from '../codec/index.js'
import { LedgerError } from '../errors/index.js'

/**
 * Index blocks: the dag-cbor nodes above a chunked value's raw chunks. PART OF THE STORAGE FORMAT.
 *
 * An index block is the dag-cbor array `[children, sizes, total]`:
 * - `children`: 1..MAX_FANOUT CIDs, all raw chunks (a level-1 index) or all index blocks;
 * - `sizes`: for each child, the number of value bytes under it (a positive integer);
 * - `total`: the sum of `sizes`, the number of value bytes under this index.
 */

/** Most children one index block may hold (a forced group boundary). */
export const MAX_FANOUT = 1024
/** A group never closes on a content boundary before it has this many children (guarantees progress). */
export const MIN_FANOUT = 4
/**
 * A child ends its group when the last byte of its CID's sha2-256 digest is below this: probability
 * 1/256, so index blocks hold about 256 children (about 4.5 MiB of value at level 1).
 */
export const GROUP_BOUNDARY_BELOW = 1
/** Deepest index nesting a reader accepts (far above anything 2^53 bytes needs). */
export const MAX_DEPTH = 16

/** One child of an index block: a chunk or an index, with the value bytes under it. */
export interface IndexChild {
  readonly cid: CID
  readonly size: number
}

export interface DecodedIndex {
  readonly children: CID[]
  readonly sizes: number[]
  readonly total: number
  /** True when the children are raw chunks, false when they are index blocks. */
  readonly leaf: boolean
}

/** Content-defined group boundary after `cid` (history independent: depends on the child alone). */
export function isGroupBoundary(cid: CID): boolean {
  const digest = cid.multihash.digest
  return digest[digest.length - 1]! < GROUP_BOUNDARY_BELOW
}

export function encodeIndex(children: readonly IndexChild[]): { block: Block; size: number } {
  const cids = children.map((c) => c.cid)
  const sizes = children.map((c) => c.size)
  let total = 0
  for (const s of sizes) total += s
  return { block: encodeBlock([cids, sizes, total]), size: total }
}

function bad(cid: CID, why: string): LedgerError {
  return LedgerError.integrity(`malformed value index block ${cid.toString()}: ${why}`, { cid: cid.toString() })
}

const SHA256_CODE = 0x12

/**
 * Decodes and shape-checks an index block. Anything hostile or malformed (bad CBOR, wrong shape,
 * sizes that do not add up, mixed or unknown child kinds) is DATA_INTEGRITY_ERROR, never a TypeError.
 */
export function decodeIndex(bytes: Uint8Array, cid: CID): DecodedIndex {
  if (cid.code !== DAG_CBOR_CODE) throw bad(cid, 'not a dag-cbor block')
  let node: unknown
  try {
    node = decodeCbor<unknown>(bytes)
  } catch (err) {
    throw new LedgerError('DATA_INTEGRITY_ERROR', `value index block ${cid.toString()} is not valid dag-cbor`, {
      cause: err,
      data: { cid: cid.toString() },
    })
  }
  if (!Array.isArray(node) || node.length !== 3) throw bad(cid, 'expected [children, sizes, total]')
  const [rawChildren, rawSizes, total] = node as unknown[]
  if (!Array.isArray(rawChildren) || !Array.isArray(rawSizes)) throw bad(cid, 'children and sizes must be arrays')
  const n = rawChildren.length
  if (n === 0 || n > MAX_FANOUT) throw bad(cid, `${n} children (1..${MAX_FANOUT} allowed)`)
  if (rawSizes.length !== n) throw bad(cid, 'children and sizes differ in length')
  const children: CID[] = []
  const sizes: number[] = []
  let sum = 0
  let leaf: boolean | undefined
  for (let i = 0; i < n; i++) {
    const child = CID.asCID(rawChildren[i])
    if (!child || child.version !== 1 || child.multihash.code !== SHA256_CODE) {
      throw bad(cid, 'child is not a CIDv1 sha2-256')
    }
    const isRaw = child.code === RAW_CODE
    if (!isRaw && child.code !== DAG_CBOR_CODE) throw bad(cid, 'child is neither a raw chunk nor an index')
    if (leaf === undefined) leaf = isRaw
    else if (leaf !== isRaw) throw bad(cid, 'children mix chunks and indexes')
    const size = rawSizes[i]
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 1) {
      throw bad(cid, 'sizes must be positive integers')
    }
    sum += size
    if (!Number.isSafeInteger(sum)) throw bad(cid, 'total too large')
    children.push(child)
    sizes.push(size)
  }
  if (typeof total !== 'number' || total !== sum) throw bad(cid, 'total is not the sum of sizes')
  return { children, sizes, total, leaf: leaf === true }
}
