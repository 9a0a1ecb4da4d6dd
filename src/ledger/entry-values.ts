import { ownBytes } from '../codec/index.js'
import { LedgerError } from '../errors/index.js'
import type { TreeEntry, ValueRef } from '../tree/interface.js'
import type { Engine } from './engine.js'
import type { Entry } from './interface.js'

/** The bytes of a value; undefined for a lazy value whose blocks are not here. */
export async function localValue(engine: Engine, ref: ValueRef): Promise<Uint8Array | undefined> {
  if ('inline' in ref) return ownBytes(ref.inline)
  try {
    return await engine.values.read(ref)
  } catch (err) {
    if (LedgerError.is(err, 'NEEDS_FETCH')) return undefined
    throw err
  }
}

/** A tree entry as the public Entry shape, with owned bytes. Inline values need no await. */
export function toEntry(engine: Engine, entry: TreeEntry): Entry | Promise<Entry> {
  const ref = entry.value
  if ('inline' in ref) return { key: ownBytes(entry.key), value: ownBytes(ref.inline), priority: entry.priority }
  return localValue(engine, ref).then((value) => ({ key: ownBytes(entry.key), value, priority: entry.priority }))
}
