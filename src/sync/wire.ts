import * as dagCbor from '@ipld/dag-cbor'
import { protocolViolation } from './transport/index.js'

/**
 * A protocol message: a dag-cbor map whose `t` field names its type. Decoded messages are
 * untrusted; read their fields through the `field*` helpers, which throw a protocol violation
 * (`NETWORK_ERROR`, `data.reason: 'protocol-violation'`) instead of letting a TypeError escape.
 */
export interface Message {
  readonly t: string
  readonly [field: string]: unknown
}

/** Encodes one message as one frame. */
export function encodeMessage(message: Message): Uint8Array {
  return dagCbor.encode(message)
}

/** Decodes one frame into a message with a string `t`; a protocol violation otherwise. */
export function decodeMessage(frame: Uint8Array): Message {
  let value: unknown
  try {
    value = dagCbor.decode(frame)
  } catch (err) {
    throw protocolViolation('frame is not valid dag-cbor', err)
  }
  if (!isRecord(value)) throw protocolViolation('message is not a map')
  if (typeof value['t'] !== 'string') throw protocolViolation('message has no string field t')
  return value as Message
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array)
}

/** A string field of at most `maxLength` UTF-16 units (and at least `minLength`). */
export function fieldString(message: Message, name: string, minLength = 0, maxLength = 1024): string {
  const value = message[name]
  if (typeof value !== 'string' || value.length < minLength || value.length > maxLength) {
    throw protocolViolation(`${message.t}.${name} must be a string of ${minLength} to ${maxLength} characters`)
  }
  return value
}

/** A byte-string field with a length in [minLength, maxLength]. */
export function fieldBytes(message: Message, name: string, minLength = 0, maxLength: number = Number.MAX_SAFE_INTEGER): Uint8Array {
  const value = message[name]
  if (!(value instanceof Uint8Array) || value.length < minLength || value.length > maxLength) {
    throw protocolViolation(`${message.t}.${name} must be ${minLength} to ${maxLength} bytes`)
  }
  return value
}

/** Like {@link fieldBytes} but the field may be absent. */
export function optionalFieldBytes(message: Message, name: string, minLength = 0, maxLength: number = Number.MAX_SAFE_INTEGER): Uint8Array | undefined {
  return message[name] === undefined ? undefined : fieldBytes(message, name, minLength, maxLength)
}

/** A safe integer field in [min, max]. */
export function fieldInteger(message: Message, name: string, min = 0, max: number = Number.MAX_SAFE_INTEGER): number {
  const value = message[name]
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw protocolViolation(`${message.t}.${name} must be an integer from ${min} to ${max}`)
  }
  return value
}

export function fieldBoolean(message: Message, name: string): boolean {
  const value = message[name]
  if (typeof value !== 'boolean') throw protocolViolation(`${message.t}.${name} must be a boolean`)
  return value
}
