import { LedgerError } from '../errors/index.js'

const encoder = new TextEncoder()

/** Largest key, in bytes. */
export const MAX_KEY_SIZE = 1024

/** Unsigned byte-order comparison, the order of every key in dagkv. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return compareRanges(a, 0, a.length, b, 0, b.length)
}

/** `compareBytes` of a[as, as + al) and b[bs, bs + bl), without views. */
export function compareRanges(a: Uint8Array, as: number, al: number, b: Uint8Array, bs: number, bl: number): number {
  const m = al < bl ? al : bl
  for (let k = 0; k < m; k++) {
    const d = a[as + k]! - b[bs + k]!
    if (d !== 0) return d
  }
  return al - bl
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

const nativeCompare = Buffer.prototype.compare as (
  this: Uint8Array,
  target: Uint8Array,
  targetStart: number,
  targetEnd: number,
  sourceStart: number,
  sourceEnd: number,
) => number

/**
 * a[as, as + len) equals b[bs, bs + len). Ranges of 48 bytes or more go to memcmp: Buffer#compare
 * costs a flat ~75 ns here, a JS loop ~1.25 ns a byte (measured, Node 20).
 */
export function equalRanges(a: Uint8Array, as: number, b: Uint8Array, bs: number, len: number): boolean {
  if (len >= 48) return nativeCompare.call(a, b, bs, bs + len, as, as + len) === 0
  for (let k = 0; k < len; k++) if (a[as + k] !== b[bs + k]) return false
  return true
}

export function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  if (prefix.length > bytes.length) return false
  for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix[i]) return false
  return true
}

/** A plain, owned Uint8Array (never a Buffer or a view into someone else's memory). */
export function ownBytes(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length)
  out.set(bytes)
  return out
}

// Small inputs are copied into a shared slab: one ArrayBuffer per input costs more than the copy
// (a 100k-entry transaction copies 200k keys and values). Internal use only: bytes handed back to
// callers are always fresh arrays (ownBytes).
const SLAB_SIZE = 64 * 1024
const SLAB_MAX = 1024
let slab = new ArrayBuffer(SLAB_SIZE)
let slabUsed = 0

function slabBytes(size: number): Uint8Array {
  if (slabUsed + size > SLAB_SIZE) {
    slab = new ArrayBuffer(SLAB_SIZE)
    slabUsed = 0
  }
  const out = new Uint8Array(slab, slabUsed, size)
  slabUsed += size
  return out
}

/** Strings become UTF-8; byte arrays are copied so later caller mutation cannot reach us. */
export function toBytes(value: unknown, what: string): Uint8Array {
  if (typeof value === 'string') {
    if (value.length * 3 > SLAB_MAX) return encoder.encode(value)
    const room = slabBytes(value.length * 3)
    const { written } = encoder.encodeInto(value, room)
    slabUsed -= room.length - written
    return room.subarray(0, written)
  }
  if (value instanceof Uint8Array) {
    if (value.length > SLAB_MAX) return ownBytes(value)
    const out = slabBytes(value.length)
    out.set(value)
    return out
  }
  throw LedgerError.invalidArgument(`${what} must be a string or a Uint8Array`)
}

/**
 * A string as UTF-8, or the caller's own byte array (not copied): for callers that copy it
 * before returning to the caller.
 */
export function bytesView(value: unknown, what: string): Uint8Array {
  if (value instanceof Uint8Array) return value
  if (typeof value === 'string') return encoder.encode(value)
  throw LedgerError.invalidArgument(`${what} must be a string or a Uint8Array`)
}

/** `toKey` without the copy (see `bytesView`). */
export function keyView(value: unknown, what = 'key'): Uint8Array {
  const key = bytesView(value, what)
  if (key.length > MAX_KEY_SIZE) throw LedgerError.keyTooLarge(key.length, MAX_KEY_SIZE)
  return key
}

/** Validates and normalises a key. */
export function toKey(value: unknown, what = 'key'): Uint8Array {
  const key = toBytes(value, what)
  if (key.length > MAX_KEY_SIZE) throw LedgerError.keyTooLarge(key.length, MAX_KEY_SIZE)
  return key
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
}

export function fromHex(hex: string): Uint8Array {
  return ownBytes(Buffer.from(hex, 'hex'))
}

/** The smallest key strictly greater than every key that starts with `prefix`; undefined if none. */
export function prefixEnd(prefix: Uint8Array): Uint8Array | undefined {
  const end = ownBytes(prefix)
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]!++
      return end.subarray(0, i + 1)
    }
  }
  return undefined
}
