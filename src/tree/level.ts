import * as crypto from 'node:crypto'
import { sha256, sha256FirstWord, sha256Words, SHORT_MAX } from './sha256.js'

// A key's level is the number of leading zero base-32 digits of sha256(key), i.e. its leading
// zero bits divided by 5: the expected fan-out is 32 (16 and 64 measured, docs/tree.md). Keys
// shorter than JS_LIMIT are hashed by the JS SHA-256 (no binding overhead), longer ones by
// node:crypto.

/** Bits per level: a level is one base-32 digit. */
const LEVEL_BITS = 5

/** Highest possible level: the 256-bit digest is all zero (51 whole 5-bit digits). */
export const MAX_LEVEL = Math.floor(256 / LEVEL_BITS)

/**
 * The tree format: fan-out 32. Format 1 (fan-out 16) trees are not readable by this build; a
 * store records the format it was written in.
 */
export const TREE_FORMAT = 2

const JS_LIMIT = 512

/** The level of a digest: its leading zero bits, in whole base-32 digits. */
function digestLevel(digest: Uint8Array): number {
  let bits = 0
  for (let i = 0; i < digest.length; i++) {
    const b = digest[i]!
    if (b === 0) {
      bits += 8
      continue
    }
    bits += Math.clz32(b) - 24
    break
  }
  return (bits / LEVEL_BITS) | 0
}

/**
 * The level of `key` in the Merkle search tree: the number of leading zero base-32 digits of
 * sha256(key) (leading zero bits ÷ 5, rounded down), 0–51. Level L is reached with probability
 * 32^-L, so a node holds ~32 entries.
 * Part of the storage format: changing it changes every root CID.
 */
export function keyLevel(key: Uint8Array): number {
  if (key.length <= SHORT_MAX) {
    const w = sha256FirstWord(key)
    if (w !== 0) return (Math.clz32(w) / LEVEL_BITS) | 0
  }
  return keyLevelSlow(key)
}

/** `keyLevel` of the key bytes[off, off + len), without a view for the common short key. */
export function keyLevelAt(bytes: Uint8Array, off: number, len: number): number {
  if (len <= SHORT_MAX) {
    const w = sha256FirstWord(bytes, off, len)
    if (w !== 0) return (Math.clz32(w) / LEVEL_BITS) | 0
  }
  return keyLevelSlow(bytes.subarray(off, off + len))
}

/** Long keys, and short ones whose digest starts with a zero word (levels ≥ 6). */
function keyLevelSlow(key: Uint8Array): number {
  if (key.length >= JS_LIMIT) return digestLevel(sha256(key))
  const h = sha256Words(key)
  let bits = 0
  for (let i = 0; i < 8; i++) {
    const w = h[i]!
    if (w === 0) {
      bits += 32
      continue
    }
    bits += Math.clz32(w)
    break
  }
  return (bits / LEVEL_BITS) | 0
}

/** sha256(key) through node:crypto's createHash: the reference `keyLevel` is tested against. */
export function keyLevelReference(key: Uint8Array): number {
  return digestLevel(crypto.createHash('sha256').update(key).digest())
}
