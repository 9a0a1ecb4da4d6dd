import { DAG_CBOR_CODE, type CID } from '../codec/index.js'
import type { TreeEntry } from './interface.js'

// The node format (docs/tree.md), written and read by hand for speed and strictness; the bytes
// are exactly what @ipld/dag-cbor writes for the same data (test/tree/node-codec.test.ts):
//
//   { "c"?: [CID | null, …n+1], "k": [bytes, …n], "l": uint, "v": [value, …n], "z"?: [uint, …] }
//   value = bytes (inline) | [CID, uint size] (link)
//
// "c" is absent in a leaf (every child slot empty), "z" lists the indexes of lazy entries and is
// absent when there are none. Map keys in dag-cbor order: c, k, l, v, z. Decoding accepts only the
// canonical encoding of a valid node, so one entry set has exactly one node block.

export const SHA256_CODE = 0x12
export const TAG_CID = 42

export const MAJOR_UINT = 0
export const MAJOR_BYTES = 2
export const MAJOR_ARRAY = 4
export const MAJOR_MAP = 5
export const NULL = 0xf6

export const KEY_C = 0x63
export const KEY_K = 0x6b
export const KEY_L = 0x6c
export const KEY_V = 0x76
export const KEY_Z = 0x7a

/** Bytes of a node CID: CIDv1, dag-cbor, sha2-256, 32-byte digest. */
export const NODE_CID_BYTES = 36
export const NODE_CID_PREFIX = [0x01, DAG_CBOR_CODE, SHA256_CODE, 32] as const
/** Encoded size of a child link: tag, byte-string head, 0x00 and a 36-byte CID. */
export const NODE_LINK_SIZE = 2 + 2 + 1 + NODE_CID_BYTES

export function headSize(n: number): number {
  return n < 24 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : n < 0x100000000 ? 5 : 9
}

export function cidItemSize(cid: CID): number {
  const n = cid.bytes.length + 1
  return 2 + headSize(n) + n
}

export function entrySize(e: TreeEntry): number {
  let size = headSize(e.key.length) + e.key.length
  const v = e.value as { inline?: Uint8Array; link: CID; size: number }
  if (v.inline !== undefined) size += headSize(v.inline.length) + v.inline.length
  else size += 1 + cidItemSize(v.link) + headSize(v.size)
  return size
}
