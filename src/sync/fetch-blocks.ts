import PQueue from 'p-queue'
import { DAG_CBOR_CODE, ownBytes, verifyBlock, type CID } from '../codec/index.js'
import { LedgerError } from '../errors/index.js'
import { Tree } from '../tree/index.js'
import { ValueStore } from '../value/index.js'
import type { SyncContext } from './context.js'
import { fieldBlocks, fieldCids } from './fields.js'
import type { PendingBlocks } from './overlay.js'
import { MAX_GET_BLOCKS } from './serve-blocks.js'
import type { Session } from './session.js'
import type { Tally } from './tally.js'
import { protocolViolation } from './transport/index.js'

/** CIDs per `getBlocks` request while completing trees and values. */
const REQUEST_BATCH = 2048
/** `getBlocks` requests in flight at once. */
const CONCURRENCY = 4
/** Deepest walk accepted (tree levels plus value index levels, with room to spare). */
const MAX_DEPTH = 96
/** Local presence checks per store read. */
const CHECK_BATCH = 512

const isValueIndex = (n: Need): boolean => n.kind === 'value' && n.cid.code === DAG_CBOR_CODE

/** A block some received commit needs: a tree node (with its eager values) or a value block. */
export interface Need {
  readonly cid: CID
  readonly kind: 'tree' | 'value'
}

/**
 * Makes every block under `roots` present, stored or pending: walks level by level from the
 * roots; a pending block is expanded; a stored tree node is skipped with its whole subtree
 * (stored trees are complete); a stored value index is read and expanded (a lazily fetched value
 * may miss chunks); what is missing is asked of the peer, one batched `getBlocks` per level (split
 * into pipelined requests of REQUEST_BATCH CIDs), verified against its CID and added to
 * `pending`. Lazy values are never fetched. A block the peer does not have → DATA_INTEGRITY_ERROR
 * (it sent commits it cannot back).
 */
export async function fetchMissing(
  ctx: SyncContext,
  session: Session,
  roots: readonly Need[],
  pending: PendingBlocks,
  tally: Tally,
  forId: number | undefined,
): Promise<void> {
  const store = ctx.engine.store
  const seen = new Set<string>()
  let level = [...roots]
  for (let depth = 0; level.length > 0; depth++) {
    if (depth > MAX_DEPTH) throw LedgerError.integrity('received tree or value nests too deep')
    const next: Need[] = []
    const expand = (need: Need, bytes: Uint8Array): void => {
      pending.use(need.cid)
      if (need.kind === 'tree') {
        const links = ctx.tree.links(bytes)
        for (const c of links.children) next.push({ cid: c, kind: 'tree' })
        for (const v of links.values) if (!v.lazy) next.push({ cid: v.cid, kind: 'value' })
      } else if (need.cid.code === DAG_CBOR_CODE) {
        for (const c of ValueStore.links(bytes, need.cid)) next.push({ cid: c, kind: 'value' })
      }
    }
    const check: Need[] = []
    for (const need of level) {
      const key = need.cid.toString()
      if (seen.has(key) || (need.kind === 'tree' && need.cid.equals(Tree.emptyRoot))) continue
      seen.add(key)
      const bytes = pending.get(need.cid)
      if (bytes !== undefined) expand(need, bytes)
      else check.push(need)
    }
    const missing: Need[] = []
    for (let i = 0; i < check.length; i += CHECK_BATCH) {
      const batch = check.slice(i, i + CHECK_BATCH)
      // Only a stored value index is read (to expand it); for the rest presence is enough, and
      // `hasBlocks` answers it without reading chunk bytes from the value log.
      const indexes = batch.filter(isValueIndex)
      const others = batch.filter((n) => !isValueIndex(n))
      const [bytes, present] = await Promise.all([
        indexes.length === 0 ? [] : store.getBlocks(indexes.map((n) => n.cid)),
        others.length === 0 ? [] : store.hasBlocks(others.map((n) => n.cid)),
      ])
      indexes.forEach((need, j) => {
        const b = bytes[j]
        if (b === undefined) missing.push(need)
        else expand(need, b)
      })
      others.forEach((need, j) => {
        if (!present[j]) missing.push(need)
      })
    }
    if (missing.length > 0) {
      const got = await requestBlocks(session, missing.map((n) => n.cid), tally, forId)
      for (const need of missing) {
        const bytes = got.get(need.cid.toString())
        if (bytes === undefined) {
          throw LedgerError.integrity(`the peer does not have block ${need.cid.toString()} of a commit it sent`, {
            cid: need.cid.toString(),
          })
        }
        pending.add(need.cid, bytes)
        expand(need, bytes)
      }
    }
    level = next
  }
}

/**
 * Asks the peer for `cids` in pipelined `getBlocks` requests; returns what it sent, each block
 * verified against its CID (a bad one → DATA_INTEGRITY_ERROR) and copied.
 */
export async function requestBlocks(
  session: Session,
  cids: readonly CID[],
  tally: Tally,
  forId: number | undefined,
): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>()
  const queue = new PQueue({ concurrency: CONCURRENCY })
  const batchSize = Math.min(REQUEST_BATCH, MAX_GET_BLOCKS)
  const tasks: Promise<void>[] = []
  for (let i = 0; i < cids.length; i += batchSize) {
    const batch = cids.slice(i, i + batchSize)
    tasks.push(queue.add(() => requestBatch(session, batch, tally, forId, out)) as Promise<void>)
  }
  await Promise.all(tasks)
  return out
}

async function requestBatch(
  session: Session,
  batch: readonly CID[],
  tally: Tally,
  forId: number | undefined,
  out: Map<string, Uint8Array>,
): Promise<void> {
  const wanted = new Map<string, CID>()
  for (const c of batch) wanted.set(c.toString(), c)
  const message = forId === undefined ? { t: 'getBlocks', cids: batch } : { t: 'getBlocks', cids: batch, for: forId }
  const exchange = session.request(message, tally)
  for (let m = await exchange.next(); m !== undefined; m = await exchange.next()) {
    if (m.t !== 'blocks') throw protocolViolation(`expected blocks, got ${m.t}`)
    for (const [cid, bytes] of fieldBlocks(m, 'blocks', MAX_GET_BLOCKS)) {
      const key = cid.toString()
      if (!wanted.has(key)) throw protocolViolation(`the peer sent block ${key}, which was not asked for`)
      verifyBlock(cid, bytes)
      tally.blocksReceived++
      out.set(key, ownBytes(bytes))
    }
    if (m['missing'] !== undefined) fieldCids(m, 'missing', MAX_GET_BLOCKS)
  }
}
