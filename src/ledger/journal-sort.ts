import { compareRanges, equalRanges } from '../codec/index.js'

/** Where change i's key lies in the journal's arena. */
export interface KeyRanges {
  readonly arena: Uint8Array
  keyOff(i: number): number
  keyLen(i: number): number
}

/** Index bits in a prefix-sort word; the other 43 bits hold the key's first 43 bits. */
const INDEX_BITS = 21
/** Logs up to this long are sorted by prefix words; longer ones by a full-key comparison sort. */
export const MAX_PREFIX_SORT = 1 << INDEX_BITS
const INDEX_MASK = MAX_PREFIX_SORT - 1
/** Word halves in a BigUint64Array's Uint32Array view (platform byte order). */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1
const LO = LITTLE_ENDIAN ? 0 : 1
const HI = 1 - LO

/** Unsigned byte order of keys a and b; equal keys by index, so a stable sort keeps call order. */
function compareKeys(r: KeyRanges, a: number, b: number): number {
  return compareRanges(r.arena, r.keyOff(a), r.keyLen(a), r.arena, r.keyOff(b), r.keyLen(b)) || a - b
}

function sameKey(r: KeyRanges, a: number, b: number): boolean {
  const len = r.keyLen(a)
  return len === r.keyLen(b) && equalRanges(r.arena, r.keyOff(a), r.arena, r.keyOff(b), len)
}

/**
 * The indexes of the last change per key among changes 0..n-1, in ascending key order. Sorts by
 * each key's first 43 bits (zero-padded) packed with its index into one unsigned 64-bit word,
 * written through a Uint32Array view (no BigInt per key) and sorted natively as a
 * BigUint64Array; runs of equal prefixes (few, for varied keys) are then ordered by full key.
 * Zero padding keeps prefix order consistent with byte order (a shorter key pads below any
 * longer one that extends it; ties are compared in full).
 */
export function lastPerKeySorted(r: KeyRanges, n: number): Int32Array {
  const order = n <= MAX_PREFIX_SORT ? prefixOrder(r, n) : Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => compareKeys(r, a, b))
  const out = new Int32Array(n)
  let m = 0
  for (let j = 0; j < n; j++) {
    const i = order[j]!
    if (j + 1 < n && sameKey(r, i, order[j + 1]!)) continue
    out[m++] = i
  }
  return out.subarray(0, m)
}

/** All indexes in key order, equal keys by index. */
function prefixOrder(r: KeyRanges, n: number): Int32Array {
  const arena = r.arena
  const words = new BigUint64Array(n)
  const halves = new Uint32Array(words.buffer)
  for (let i = 0; i < n; i++) {
    const o = r.keyOff(i)
    const len = r.keyLen(i)
    const hi = ((len > 0 ? arena[o]! : 0) << 24) | ((len > 1 ? arena[o + 1]! : 0) << 16) | ((len > 2 ? arena[o + 2]! : 0) << 8) | (len > 3 ? arena[o + 3]! : 0)
    const lo = ((len > 4 ? arena[o + 4]! : 0) << 24) | (((len > 5 ? arena[o + 5]! : 0) & 0xe0) << 16) | i
    halves[2 * i + HI] = hi >>> 0
    halves[2 * i + LO] = lo >>> 0
  }
  words.sort()
  const order = new Int32Array(n)
  for (let j = 0; j < n; j++) order[j] = halves[2 * j + LO]! & INDEX_MASK
  let run = 0
  for (let j = 1; j <= n; j++) {
    if (j < n && halves[2 * j + HI] === halves[2 * run + HI] && halves[2 * j + LO]! >>> INDEX_BITS === halves[2 * run + LO]! >>> INDEX_BITS) continue
    if (j - run > 1) order.subarray(run, j).sort((a, b) => compareKeys(r, a, b))
    run = j
  }
  return order
}
