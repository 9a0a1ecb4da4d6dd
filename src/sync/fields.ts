import { CID, MAX_KEY_SIZE } from '../codec/index.js'
import { protocolViolation } from './transport/index.js'
import type { Message } from './wire.js'

/** Longest page id accepted (the API limit). */
export const MAX_PAGE_ID_BYTES = 128

/** A CID that arrived as data: version 1, sha2-256, dag-cbor or raw; a protocol violation otherwise. */
export function toCid(value: unknown, what: string): CID {
  const cid = CID.asCID(value)
  if (cid === null || cid.version !== 1 || cid.multihash.code !== 0x12 || (cid.code !== 0x71 && cid.code !== 0x55)) {
    throw protocolViolation(`${what} must be a CIDv1 (sha2-256, dag-cbor or raw)`)
  }
  return cid
}

/** An array field of at most `max` CIDs. */
export function fieldCids(message: Message, name: string, max: number): CID[] {
  return toCids(message[name], `${message.t}.${name}`, max)
}

export function toCids(value: unknown, what: string, max: number): CID[] {
  if (!Array.isArray(value) || value.length > max) throw protocolViolation(`${what} must be an array of at most ${max} CIDs`)
  return value.map((v) => toCid(v, what))
}

/** A page id: 1..128 bytes. */
export function fieldPage(message: Message, name = 'page'): Uint8Array {
  return toPage(message[name], `${message.t}.${name}`)
}

export function toPage(value: unknown, what: string): Uint8Array {
  if (!(value instanceof Uint8Array) || value.length < 1 || value.length > MAX_PAGE_ID_BYTES) {
    throw protocolViolation(`${what} must be a page id of 1 to ${MAX_PAGE_ID_BYTES} bytes`)
  }
  return value
}

/** A key: at most MAX_KEY_SIZE bytes. */
export function toKey(value: unknown, what: string): Uint8Array {
  if (!(value instanceof Uint8Array) || value.length > MAX_KEY_SIZE) {
    throw protocolViolation(`${what} must be a key of at most ${MAX_KEY_SIZE} bytes`)
  }
  return value
}

/** A request id (a positive safe integer). */
export function toId(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw protocolViolation(`${what} must be a positive integer`)
  }
  return value
}

/** An optional request id (absent → undefined). */
export function optionalId(message: Message, name: string): number | undefined {
  const value = message[name]
  return value === undefined ? undefined : toId(value, `${message.t}.${name}`)
}

/** A safe integer, any sign. */
export function toInteger(value: unknown, what: string, min = Number.MIN_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw protocolViolation(`${what} must be an integer${min === Number.MIN_SAFE_INTEGER ? '' : ` of at least ${min}`}`)
  }
  return value
}

export function toArray(value: unknown, what: string, max: number): unknown[] {
  if (!Array.isArray(value) || value.length > max) throw protocolViolation(`${what} must be an array of at most ${max} items`)
  return value
}

/** `[cid, bytes]` pairs: blocks carried by a message. */
export function fieldBlocks(message: Message, name: string, max: number): [CID, Uint8Array][] {
  const what = `${message.t}.${name}`
  return toArray(message[name], what, max).map((pair) => {
    if (!Array.isArray(pair) || pair.length !== 2 || !(pair[1] instanceof Uint8Array)) {
      throw protocolViolation(`${what} must hold [cid, bytes] pairs`)
    }
    return [toCid(pair[0], what), pair[1]]
  })
}

/** The `more` flag of a multi-frame response (absent = false). */
export function fieldMore(message: Message): boolean {
  const value = message['more']
  if (value === undefined) return false
  if (typeof value !== 'boolean') throw protocolViolation(`${message.t}.more must be a boolean`)
  return value
}
