import { compareBytes, ownBytes, type CID } from '../codec/index.js'
import type { TreeChange, TreeEntry } from '../tree/index.js'
import { toArray, toCid, toInteger, toKey } from './fields.js'
import { MAX_REPLICA_ID_LENGTH } from './handshake.js'
import { protocolViolation } from './transport/index.js'

/** Most changes in one item (or continuation) of a `commits` frame. */
export const MAX_CHANGES_PER_ITEM = 1 << 20
/** Most parents of one commit. */
export const MAX_PARENTS = 64
/** Largest inline value accepted in a diff (the value layer inlines at most 1 KiB). */
export const MAX_INLINE_BYTES = 64 * 1024

/** A parent of a sent commit: the index of an earlier item of the same response, or a commit the receiver has. */
export type ParentRef = number | CID

/**
 * One commit as a pull response carries it (docs/sync-protocol.md, "Commits"). The commit block
 * itself is not sent: the receiver rebuilds it from these fields, and its CID, the parents' and
 * the root's follow by hashing, so the declared heads check the whole chain.
 */
export interface Item {
  readonly parents: ParentRef[]
  /** Timestamp minus the largest timestamp of the parents (0 when none). */
  readonly dt: number
  /** The generation, only when it is not 1 + the largest of the parents (0 when none). */
  readonly generation: number | undefined
  /** The replica that made it (undefined for merge commits). */
  readonly replica: string | undefined
  /** Diff mode: which parent (index into `parents`) the changes apply to. */
  readonly base: number
  /** Diff mode: the entry changes from the base parent's tree (sorted, unique keys). */
  changes: TreeChange[] | undefined
  /** Node mode: the root of the commit's tree; the receiver fetches the nodes it lacks. */
  readonly root: CID | undefined
}

/** A change as it travels: [key] deletes; [key, bytes, lazy?] inline; [key, cid, size, lazy?] link. */
export type WireChange = unknown[]

export function encodeChange(change: TreeChange): WireChange {
  const e = change.entry
  if (e === undefined) return [change.key]
  const lazy = e.priority === 'lazy'
  const v = e.value
  if ('inline' in v) return lazy ? [change.key, v.inline, true] : [change.key, v.inline]
  return lazy ? [change.key, v.link, v.size, true] : [change.key, v.link, v.size]
}

/** Approximate encoded size of a change, for frame budgeting. */
export function changeSize(change: TreeChange): number {
  const e = change.entry
  if (e === undefined) return change.key.length + 4
  const v = e.value
  return change.key.length + ('inline' in v ? v.inline.length + 8 : 56)
}

function decodeChange(raw: unknown): TreeChange {
  if (!Array.isArray(raw) || raw.length < 1 || raw.length > 4) throw protocolViolation('a change must be an array of 1 to 4 items')
  const key = ownBytes(toKey(raw[0], 'change key'))
  if (raw.length === 1) return { key, entry: undefined }
  const v = raw[1]
  let entry: TreeEntry
  if (v instanceof Uint8Array) {
    if (v.length > MAX_INLINE_BYTES || raw.length > 3) throw protocolViolation('bad inline change')
    entry = { key, value: { inline: ownBytes(v) }, priority: flag(raw[2]) ? 'lazy' : 'eager' }
  } else {
    const link = toCid(v, 'change value link')
    const size = toInteger(raw[2], 'change value size', 0)
    entry = { key, value: { link, size }, priority: flag(raw[3]) ? 'lazy' : 'eager' }
  }
  return { key, entry }
}

function flag(value: unknown): boolean {
  if (value === undefined) return false
  if (value !== true) throw protocolViolation('a change flag must be true or absent')
  return true
}

/** Encodes the fields of an item except its changes (see `ItemWriter`). */
export function encodeItemHead(item: Omit<Item, 'changes'>, replicaIndex: Map<string, number>): Record<string, unknown> {
  const out: Record<string, unknown> = { p: item.parents, t: item.dt }
  if (item.generation !== undefined) out['g'] = item.generation
  if (item.replica !== undefined) {
    const known = replicaIndex.get(item.replica)
    if (known === undefined) {
      replicaIndex.set(item.replica, replicaIndex.size)
      out['i'] = item.replica
    } else {
      out['i'] = known
    }
  }
  if (item.base !== 0) out['b'] = item.base
  if (item.root !== undefined) out['r'] = item.root
  return out
}

/**
 * Decodes the items of one `commits` frame onto `items`; `replicas` is the response's replica
 * table (an item names a replica by index, or by id the first time, which appends it). An item
 * `{x: changes}` continues the changes of the item before it (a diff split over frames).
 */
export function decodeItems(raw: unknown[], items: Item[], replicas: string[]): void {
  for (const r of raw) {
    if (typeof r !== 'object' || r === null || Array.isArray(r) || r instanceof Uint8Array) {
      throw protocolViolation('an item must be a map')
    }
    const m = r as Record<string, unknown>
    if (m['x'] !== undefined) {
      const last = items[items.length - 1]
      if (!last?.changes || Object.keys(m).length !== 1) throw protocolViolation('a continuation must follow a diff item')
      appendChanges(last, toArray(m['x'], 'item.x', MAX_CHANGES_PER_ITEM))
      continue
    }
    const parents = toArray(m['p'], 'item.p', MAX_PARENTS).map((p): ParentRef => {
      if (typeof p === 'number') {
        if (!Number.isSafeInteger(p) || p < 0 || p >= items.length) throw protocolViolation('item parent index out of range')
        return p
      }
      return toCid(p, 'item parent')
    })
    const dt = toInteger(m['t'], 'item.t')
    const generation = m['g'] === undefined ? undefined : toInteger(m['g'], 'item.g', 1)
    let replica: string | undefined
    const i = m['i']
    if (typeof i === 'string') {
      if (i.length < 1 || i.length > MAX_REPLICA_ID_LENGTH) throw protocolViolation('bad item replica id')
      replicas.push(i)
      replica = i
    } else if (i !== undefined) {
      replica = replicas[toInteger(i, 'item.i', 0)]
      if (replica === undefined) throw protocolViolation('item replica index out of range')
    }
    const base = m['b'] === undefined ? 0 : toInteger(m['b'], 'item.b', 0)
    if (base !== 0 && base >= parents.length) throw protocolViolation('item base out of range')
    const root = m['r'] === undefined ? undefined : toCid(m['r'], 'item.r')
    const d = m['d']
    if ((root === undefined) === (d === undefined)) throw protocolViolation('an item needs exactly one of d and r')
    const item: Item = { parents, dt, generation, replica, base, changes: root === undefined ? [] : undefined, root }
    if (d !== undefined) appendChanges(item, toArray(d, 'item.d', MAX_CHANGES_PER_ITEM))
    items.push(item)
  }
}

function appendChanges(item: Item, raw: unknown[]): void {
  const changes = item.changes!
  if (changes.length + raw.length > MAX_CHANGES_PER_ITEM * 4) throw protocolViolation('too many changes in one item')
  for (const c of raw) {
    const change = decodeChange(c)
    const prev = changes[changes.length - 1]
    if (prev !== undefined && compareBytes(prev.key, change.key) >= 0) {
      throw protocolViolation('diff changes must be sorted by key, without repeats')
    }
    changes.push(change)
  }
}
