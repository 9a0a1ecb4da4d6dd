import { ownBytes } from '../codec/index.js'
import { LedgerError } from '../errors/index.js'
import type { CID } from '../codec/index.js'
import type { EntryMaker } from '../tree/index.js'
import type { Priority, TreeEntry, ValueRef } from '../tree/interface.js'
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

/** An entry from `Tree.ownedBatches` whose value is still a link (see `makeEntry`). */
export interface LinkedEntry {
  readonly key: Uint8Array
  readonly value: { readonly link: CID; readonly size: number }
  readonly priority: Priority
}

/**
 * The public Entry of a scanned entry whose bytes are already the caller's: final for an inline
 * value; a link is resolved by `linkedEntry` (the entry then still holds the link).
 */
export const makeEntry: EntryMaker<Entry | LinkedEntry> = (key, value, priority) => ({ key, value, priority }) as Entry | LinkedEntry

/** Reads a scanned entry's linked value (undefined when lazy and not here). */
export async function linkedEntry(engine: Engine, e: LinkedEntry): Promise<Entry> {
  return { key: e.key, value: await localValue(engine, e.value), priority: e.priority }
}

/** Keys only. */
export const keyOf: EntryMaker<Uint8Array> = (key) => key
