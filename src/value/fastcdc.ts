import { GEAR_TABLE } from './gear-table.js'

/**
 * FastCDC content-defined chunking (Xia et al., USENIX ATC 2016) with normalized chunking
 * (level 2), on a 32-bit gear hash. PART OF THE STORAGE FORMAT: the parameters, masks and gear
 * table decide every chunk boundary and therefore every value block id.
 *
 * - Hash: `h = (h << 1) + GEAR[byte]` in 32-bit arithmetic, reset to 0 at each chunk start.
 *   Bit k of `h` depends on the last k + 1 bytes only, so the top bits form a 32-byte window.
 * - The first `MIN_CHUNK` bytes of a chunk are not hashed (cut-point skipping).
 * - Bytes `MIN_CHUNK..AVG_CHUNK-1` of a chunk cut when `h & MASK_S === 0` (17 top bits: harder),
 *   bytes `AVG_CHUNK..MAX_CHUNK-1` when `h & MASK_L === 0` (13 top bits: easier), and a chunk
 *   never exceeds `MAX_CHUNK`. This narrows the size distribution around the average.
 * - A cut "at byte i" ends the chunk after byte i.
 */

/** Smallest chunk, in bytes (except a value's last chunk). */
export const MIN_CHUNK = 16 * 1024
/** Normalization point (where the mask gets easier); the mean chunk is close to it. */
export const AVG_CHUNK = 32 * 1024
/** Largest chunk, in bytes. */
export const MAX_CHUNK = 64 * 1024

/** 17 top bits: cut probability 2^-17 per byte before the normal point. */
const MASK_S = 0xffff8000 | 0
/** 13 top bits: cut probability 2^-13 per byte after the normal point. */
const MASK_L = 0xfff80000 | 0

// The same words as signed 32-bit integers: keeps the hot loop in small-integer arithmetic.
const GEAR = new Int32Array(GEAR_TABLE.buffer, GEAR_TABLE.byteOffset, 256)

/**
 * Length of the chunk that starts at `start`, looking at `data[start..end)`.
 *
 * When `end - start >= MAX_CHUNK` the answer is final whatever follows. When fewer bytes remain the
 * answer is final only if `end` is the end of the value: a streaming caller must wait for more
 * bytes (or the end) before cutting a chunk that is not yet `MAX_CHUNK` long, unless a boundary is
 * found before `end` (a returned length below `end - start` is always a real boundary).
 */
export function cutPoint(data: Uint8Array, start: number, end: number): number {
  const available = end - start
  if (available <= MIN_CHUNK) return available
  const size = available > MAX_CHUNK ? MAX_CHUNK : available
  const normal = size > AVG_CHUNK ? AVG_CHUNK : size
  const gear = GEAR
  let h = 0
  let i = start + MIN_CHUNK
  const mid = start + normal
  const stop = start + size
  for (; i < mid; i++) {
    h = ((h << 1) + gear[data[i]!]!) | 0
    if ((h & MASK_S) === 0) return i - start + 1
  }
  for (; i < stop; i++) {
    h = ((h << 1) + gear[data[i]!]!) | 0
    if ((h & MASK_L) === 0) return i - start + 1
  }
  return size
}

/** Every chunk end offset of a whole value (the last one is `data.length`; none for empty data). */
export function chunkBoundaries(data: Uint8Array): number[] {
  const out: number[] = []
  let at = 0
  while (at < data.length) {
    at += cutPoint(data, at, data.length)
    out.push(at)
  }
  return out
}
