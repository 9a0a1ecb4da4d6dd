import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import { create as createDigest } from 'multiformats/hashes/digest'
import { sha256 } from 'multiformats/hashes/sha2'
import { createHash } from 'node:crypto'
import { LedgerError } from '../errors/index.js'
import { equalBytes } from './bytes.js'

export { CID }

/** An encoded, content-addressed block. */
export interface Block {
  readonly cid: CID
  readonly bytes: Uint8Array
}

export const DAG_CBOR_CODE = dagCbor.code
export const RAW_CODE = 0x55
const SHA256_CODE = sha256.code

function digestOf(bytes: Uint8Array): ReturnType<typeof createDigest> {
  // node:crypto directly: multiformats' sha256 wraps the same call with extra copies.
  const hash = createHash('sha256').update(bytes).digest()
  return createDigest(SHA256_CODE, new Uint8Array(hash.buffer, hash.byteOffset, hash.byteLength))
}

/** Encodes a value as dag-cbor (the one canonical encoding) and addresses it by CIDv1 sha2-256. */
/**
 * An exact map key for a CID: its bytes as base64 (no collision can make two blocks one, unlike
 * a hash prefix).
 */
export function cidKey(cid: CID): string {
  const b = cid.bytes
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64')
}

export function encodeBlock(value: unknown): Block {
  const bytes = dagCbor.encode(value)
  return { cid: CID.createV1(DAG_CBOR_CODE, digestOf(bytes)), bytes }
}

/** Addresses raw bytes (value chunks) by CIDv1 raw sha2-256. */
export function rawBlock(bytes: Uint8Array): Block {
  return { cid: CID.createV1(RAW_CODE, digestOf(bytes)), bytes }
}

export function decodeCbor<T>(bytes: Uint8Array): T {
  return dagCbor.decode<T>(bytes)
}

/** Throws DATA_INTEGRITY_ERROR unless `bytes` hash to `cid`. */
export function verifyBlock(cid: CID, bytes: Uint8Array): void {
  if (cid.multihash.code !== SHA256_CODE) {
    throw LedgerError.integrity(`unsupported hash in ${cid.toString()}`)
  }
  const digest = digestOf(bytes)
  if (!equalBytes(digest.digest, cid.multihash.digest)) {
    throw LedgerError.integrity(`block does not match its address ${cid.toString()}`, { cid: cid.toString() })
  }
}

/** Parses a CID string; INVALID_ARGUMENT when it is not one. */
export function parseCid(text: unknown, what = 'commit id'): CID {
  if (typeof text !== 'string') throw LedgerError.invalidArgument(`${what} must be a string`)
  try {
    return CID.parse(text)
  } catch {
    throw LedgerError.invalidArgument(`${what} is not a valid CID: ${text.slice(0, 80)}`)
  }
}
