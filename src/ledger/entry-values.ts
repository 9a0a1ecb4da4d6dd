import { ownBytes } from '../codec/index.js'
import { LedgerError } from '../errors/index.js'
import type { CID } from '../codec/index.js'
import type { EntryMaker, Slab } from '../tree/index.js'
import type { DiffItem, Priority, TreeEntry, ValueRef } from '../tree/interface.js'
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

/** A diff item as the public shape. */
export interface SnapshotDiffItem {
  key: Uint8Array
  before?: Entry
  after?: Entry
}

/**
 * A diff item whose values are inline, with its key and values copied into one run of the diff's
 * own slab (no allocation per item; see `scanSlab`); the entries share the item's key array.
 * Undefined when a value is a link (see `linkedDiffItem`).
 */
export function ownedDiffItem(d: DiffItem, slab: Slab): SnapshotDiffItem | undefined {
  const b = d.before?.value
  const a = d.after?.value
  if ((b !== undefined && !('inline' in b)) || (a !== undefined && !('inline' in a))) return undefined
  const bv = b?.inline
  const av = a?.inline
  const k = d.key
  const copy = slab.take(k.length + (bv?.length ?? 0) + (av?.length ?? 0))
  copy.set(k, 0)
  const key = copy.subarray(0, k.length)
  const item: SnapshotDiffItem = { key }
  let at = k.length
  if (bv !== undefined) {
    copy.set(bv, at)
    item.before = { key, value: copy.subarray(at, at + bv.length), priority: d.before!.priority }
    at += bv.length
  }
  if (av !== undefined) {
    copy.set(av, at)
    item.after = { key, value: copy.subarray(at, at + av.length), priority: d.after!.priority }
  }
  return item
}

/** A diff item with a linked value: each value read (or undefined when lazy and not here). */
export async function linkedDiffItem(engine: Engine, d: DiffItem): Promise<SnapshotDiffItem> {
  const item: SnapshotDiffItem = { key: ownBytes(d.key) }
  if (d.before) item.before = await toEntry(engine, d.before)
  if (d.after) item.after = await toEntry(engine, d.after)
  return item
}
