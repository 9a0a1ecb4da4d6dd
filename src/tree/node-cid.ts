import { Digest } from 'multiformats/hashes/digest'
import { CID, DAG_CBOR_CODE, type Block } from '../codec/index.js'
import { NODE_CID_BYTES, NODE_CID_PREFIX, SHA256_CODE } from './node-format.js'
import { sha256 } from './sha256.js'

/** The node CID whose 36 bytes are `bytes`, built on views of them (no parsing, no copies). */
export function nodeCidFromBytes(bytes: Uint8Array): CID {
  const mh = bytes.subarray(2)
  return new CID(1, DAG_CBOR_CODE, new Digest(SHA256_CODE, 32, mh.subarray(2), mh), bytes)
}

/** Hashes `block` and writes its node CID into `out` (36 bytes), returning the CID. */
export function writeNodeCid(block: Uint8Array, out: Uint8Array): CID {
  const d = sha256(block)
  out[0] = NODE_CID_PREFIX[0]
  out[1] = NODE_CID_PREFIX[1]
  out[2] = NODE_CID_PREFIX[2]
  out[3] = NODE_CID_PREFIX[3]
  out.set(d, 4)
  return nodeCidFromBytes(out)
}

/** The CIDv1 (dag-cbor, sha2-256) of encoded node bytes. */
export function nodeCid(bytes: Uint8Array): CID {
  return writeNodeCid(bytes, new Uint8Array(NODE_CID_BYTES))
}

export function nodeBlock(bytes: Uint8Array): Block {
  return { cid: nodeCid(bytes), bytes }
}
