import { LRUCache } from 'lru-cache'
import { equalBytes, ownBytes } from '../codec/index.js'
import type { Commit } from '../commit/index.js'
import {
  conflictRecord,
  conflicting,
  findMergeBase,
  orderHeads,
  threeWayDiff,
  type ConflictRecord as KeyConflict,
} from '../merge/index.js'
import type { TreeEntry } from '../tree/interface.js'
import type { Engine } from './engine.js'
import { localValue } from './entry-values.js'
import type { ConflictRecord, Value } from './interface.js'
import { mergeEnv } from './merge-env.js'

/** Records returned by `page.conflicts()` when no `limit` is given. */
export const DEFAULT_CONFLICTS_LIMIT = 100
/** Merge commits `page.conflicts()` examines, newest first, when no `merges` is given. */
export const DEFAULT_CONFLICTS_MERGES = 1000

export interface ConflictsQuery {
  /** At most this many records. */
  readonly limit: number
  /** Only this key's records. */
  readonly key: Uint8Array | undefined
  /** Examine at most this many merge commits. */
  readonly merges: number
}

/** A merge commit's conflicting keys, by merge commit id: content-addressed, so never stale. */
const caches = new WeakMap<Engine, LRUCache<string, { left: Commit; right: Commit; keys: KeyConflict[] }>>()

/**
 * The conflicts of the merges in `head`'s history, newest merge first (DAG order: a merge comes
 * before its ancestors), keys ascending within a merge. Derived from the DAG, not stored: for a
 * merge commit, its parents are ordered as the merge ordered them (left = newer), their merge
 * base is found as the merge found it (deterministic, virtual for a criss-cross), and every key
 * changed on both sides to different results is compared with the merge commit's own entry.
 * So every replica lists the same records for the same history, whichever replica merged.
 */
export async function listConflicts(engine: Engine, head: Commit, query: ConflictsQuery): Promise<ConflictRecord[]> {
  const out: ConflictRecord[] = []
  if (query.limit === 0) return out
  let merges = 0
  for await (const commit of engine.commits.walkBack([head.cid])) {
    if (commit.parents.length !== 2) continue
    if (merges++ >= query.merges) break
    const { left, right, keys } = await mergeConflicts(engine, commit, query.key)
    for (const k of keys) {
      out.push(await toRecord(engine, commit, left, right, k))
      if (out.length >= query.limit) return out
    }
  }
  return out
}

async function mergeConflicts(
  engine: Engine,
  merge: Commit,
  key: Uint8Array | undefined,
): Promise<{ left: Commit; right: Commit; keys: KeyConflict[] }> {
  const cache = cacheOf(engine)
  const id = merge.cid.toString()
  const hit = cache.get(id)
  if (hit) return key === undefined ? hit : { ...hit, keys: hit.keys.filter((k) => equalBytes(k.key, key)) }
  const [p, q] = await Promise.all(merge.parents.map((cid) => engine.commits.get(cid)))
  const { left, right } = orderHeads(p!, q!)
  const base = await findMergeBase(mergeEnv(engine), left, right)
  const tree = engine.tree
  if (key !== undefined) {
    const roots = [base.root, left.root, right.root, merge.root]
    const [b, l, r, m] = await Promise.all(roots.map((root) => tree.get(root, key)))
    const entry = { key, base: b, left: l, right: r }
    return { left, right, keys: conflicting(entry) ? [conflictRecord(entry, m)] : [] }
  }
  const keys: KeyConflict[] = []
  for await (const entry of threeWayDiff(tree, base.root, left.root, right.root)) {
    if (conflicting(entry)) keys.push(conflictRecord(entry, await tree.get(merge.root, entry.key)))
  }
  const found = { left, right, keys }
  cache.set(id, found)
  return found
}

async function toRecord(engine: Engine, merge: Commit, left: Commit, right: Commit, k: KeyConflict): Promise<ConflictRecord> {
  const record: ConflictRecord = {
    key: ownBytes(k.key),
    winner: k.winner,
    mergeCommit: merge.cid.toString(),
    leftCommit: left.cid.toString(),
    rightCommit: right.cid.toString(),
    timestamp: merge.timestamp,
  }
  const [base, l, r] = await Promise.all([toValue(engine, k.base), toValue(engine, k.left), toValue(engine, k.right)])
  if (base) record.base = base
  if (l) record.left = l
  if (r) record.right = r
  return record
}

async function toValue(engine: Engine, entry: TreeEntry | undefined): Promise<Value | undefined> {
  if (entry === undefined) return undefined
  return { value: await localValue(engine, entry.value), priority: entry.priority }
}

function cacheOf(engine: Engine): LRUCache<string, { left: Commit; right: Commit; keys: KeyConflict[] }> {
  let cache = caches.get(engine)
  if (cache === undefined) {
    cache = new LRUCache({ max: 256 })
    caches.set(engine, cache)
  }
  return cache
}
