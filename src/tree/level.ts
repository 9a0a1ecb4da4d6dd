import * as crypto from 'node:crypto'
import { sha256, sha256FirstWord, sha256Words, SHORT_MAX } from './sha256.js'

// A key's level is the number of leading zero nibbles (base-16 digits) of sha256(key): the
// expected fan-out is 16. Keys shorter than JS_LIMIT are hashed by the JS SHA-256 (no binding
// overhead), longer ones by node:crypto.

/** Highest possible level: every nibble of the 256-bit digest is zero. */
export const MAX_LEVEL = 64

const JS_LIMIT = 512

/** Leading zero nibbles of a digest. */
function zeroNibbles(digest: Uint8Array): number {
  let level = 0
  for (let i = 0; i < digest.length; i++) {
    const b = digest[i]!
    if (b === 0) {
      level += 2
      continue
    }
    if (b < 16) level++
    break
  }
  return level
}

/**
 * The level of `key` in the Merkle search tree: the number of leading zero nibbles of
 * sha256(key), 0–64. Level L is reached with probability 16^-L, so a node holds ~16 entries.
 * Part of the storage format: changing it changes every root CID.
 */
export function keyLevel(key: Uint8Array): number {
  if (key.length <= SHORT_MAX) {
    const w = sha256FirstWord(key)
    if (w !== 0) return Math.clz32(w) >>> 2
  }
  return keyLevelSlow(key)
}

/** `keyLevel` of the key bytes[off, off + len), without a view for the common short key. */
export function keyLevelAt(bytes: Uint8Array, off: number, len: number): number {
  if (len <= SHORT_MAX) {
    const w = sha256FirstWord(bytes, off, len)
    if (w !== 0) return Math.clz32(w) >>> 2
  }
  return keyLevelSlow(bytes.subarray(off, off + len))
}

/** Long keys, and short ones whose digest starts with a zero word (levels ≥ 8). */
function keyLevelSlow(key: Uint8Array): number {
  if (key.length >= JS_LIMIT) return zeroNibbles(sha256(key))
  const h = sha256Words(key)
  let level = 0
  for (let i = 0; i < 8; i++) {
    const w = h[i]!
    if (w === 0) {
      level += 8
      continue
    }
    level += Math.clz32(w) >>> 2
    break
  }
  return level
}

/** sha256(key) through node:crypto's createHash: the reference `keyLevel` is tested against. */
export function keyLevelReference(key: Uint8Array): number {
  return zeroNibbles(crypto.createHash('sha256').update(key).digest())
}
