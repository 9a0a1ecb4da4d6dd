import { compareBytes, equalBytes } from '../codec/index.js'
import { LedgerError } from '../errors/index.js'
import { ChangeStager } from './change-stager.js'
import type { TreeChange } from './interface.js'
import { keyLevel } from './level.js'
import type { Node } from './node.js'

/** Validates the changes; returns their key levels (-1: delete) and their staged entries. */
export function validateChanges(changes: readonly TreeChange[]): { levels: Int8Array; staged: Node } {
  const levels = new Int8Array(changes.length)
  const k0 = changes[0]?.key
  const v0 = (changes[0]?.entry?.value as { inline?: unknown } | undefined)?.inline
  const stager = new ChangeStager(changes.length, k0 instanceof Uint8Array ? k0.length : 32, v0 instanceof Uint8Array ? v0.length : 48)
  let prev: Uint8Array | undefined
  for (let i = 0; i < changes.length; i++) {
    const ch = changes[i]!
    const key = ch.key
    if (!(key instanceof Uint8Array)) throw LedgerError.invalidArgument('tree change key must be a Uint8Array')
    if (prev !== undefined && compareBytes(prev, key) >= 0) {
      throw LedgerError.invalidArgument('tree changes must be sorted by key, with unique keys')
    }
    prev = key
    const e = ch.entry
    if (e === undefined) {
      levels[i] = -1
      stager.skip(i)
      continue
    }
    if (e.key !== key && !equalBytes(e.key, key)) throw LedgerError.invalidArgument('tree change entry key differs from its key')
    if (e.priority !== 'eager' && e.priority !== 'lazy') throw LedgerError.invalidArgument('bad entry priority')
    const v = e.value as { inline?: unknown; link?: { bytes?: unknown }; size?: unknown }
    if (v.inline !== undefined) {
      if (!(v.inline instanceof Uint8Array)) throw LedgerError.invalidArgument('inline value must be a Uint8Array')
    } else if (
      !(v.link?.bytes instanceof Uint8Array) ||
      typeof v.size !== 'number' ||
      !Number.isSafeInteger(v.size) ||
      v.size < 0
    ) {
      throw LedgerError.invalidArgument('value must be { inline } or { link, size }')
    }
    levels[i] = keyLevel(key)
    stager.add(i, key, e.value, e.priority === 'lazy')
  }
  return { levels, staged: stager.finish() }
}
