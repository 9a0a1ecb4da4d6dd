import { toBytes, toKey } from '../codec/index.js'
import { LedgerError } from '../errors/index.js'
import type { Priority } from '../tree/interface.js'
import type { MergePolicy, SyncMode } from './interface.js'

export const MAX_PAGE_ID_SIZE = 128
const POLICIES: readonly MergePolicy[] = ['last-one-wins', 'automatic-with-fallback', 'custom']
const MODES: readonly SyncMode[] = ['push', 'pull', 'both']

export { toKey }

export function toValue(value: unknown): Uint8Array {
  return toBytes(value, 'value')
}

export function toPageId(id: unknown): Uint8Array {
  const bytes = toBytes(id, 'page id')
  if (bytes.length < 1 || bytes.length > MAX_PAGE_ID_SIZE) {
    throw LedgerError.invalidArgument(`page id must be 1..${MAX_PAGE_ID_SIZE} bytes, got ${bytes.length}`)
  }
  return bytes
}

const NO_OPTIONS: Record<string, unknown> = Object.freeze({})

/** Options must be undefined or a plain object. */
export function optionsObject(options: unknown, what: string): Record<string, unknown> {
  if (options === undefined || options === null) return NO_OPTIONS
  if (typeof options !== 'object' || Array.isArray(options)) {
    throw LedgerError.invalidArgument(`${what} options must be an object`)
  }
  return options as Record<string, unknown>
}

export function toPriority(value: unknown): Priority {
  if (value === undefined) return 'eager'
  if (value === 'eager' || value === 'lazy') return value
  throw LedgerError.invalidArgument(`priority must be 'eager' or 'lazy'`)
}

export function toPolicy(value: unknown): MergePolicy {
  if (typeof value === 'string' && (POLICIES as readonly string[]).includes(value)) return value as MergePolicy
  throw LedgerError.invalidArgument(`merge policy must be one of ${POLICIES.join(', ')}`)
}

export function toSyncMode(value: unknown): SyncMode {
  if (value === undefined) return 'both'
  if (typeof value === 'string' && (MODES as readonly string[]).includes(value)) return value as SyncMode
  throw LedgerError.invalidArgument(`sync mode must be one of ${MODES.join(', ')}`)
}

export function optionalString(value: unknown, what: string): string | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string') throw LedgerError.invalidArgument(`${what} must be a string`)
  return value
}

export function optionalKey(value: unknown, what: string): Uint8Array | undefined {
  return value === undefined ? undefined : toKey(value, what)
}

export function optionalBoolean(value: unknown, what: string): boolean | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'boolean') throw LedgerError.invalidArgument(`${what} must be a boolean`)
  return value
}

export function optionalFunction<T>(value: unknown, what: string): T | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'function') throw LedgerError.invalidArgument(`${what} must be a function`)
  return value as T
}

/** A non-negative safe integer, or undefined. */
export function optionalCount(value: unknown, what: string): number | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw LedgerError.invalidArgument(`${what} must be a non-negative integer`)
  }
  return value
}

export function toInteger(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw LedgerError.invalidArgument(`${what} must be an integer`)
  }
  return value
}
