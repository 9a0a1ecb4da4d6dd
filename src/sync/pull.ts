import { ownBytes, verifyBlock, type Block, type CID } from '../codec/index.js'
import { makeCommit, type Commit } from '../commit/index.js'
import { LedgerError } from '../errors/index.js'
import { Tree } from '../tree/index.js'
import { haveList, MAX_HAVE, tryCommit } from './commit-walk.js'
import type { PageState } from '../ledger/index.js'
import type { SyncContext } from './context.js'
import type { Exchange } from './exchange.js'
import { fetchMissing, type Need } from './fetch-blocks.js'
import { fieldBlocks, fieldCids, fieldMore, toArray } from './fields.js'
import { decodeItems, type Item } from './item-codec.js'
import { PendingBlocks } from './overlay.js'
import type { Session } from './session.js'
import type { Tally } from './tally.js'
import { protocolViolation } from './transport/index.js'

/** Most heads a response may name. */
const MAX_HEADS = 1024
/** Most items and blocks per `commits` frame. */
const MAX_PER_FRAME = 1 << 20

/**
 * Pulls one page from a peer: one `pull` request, whose response holds every commit this side
 * lacks; then the tree nodes and eager value blocks they need that are neither stored nor sent
 * (node-mode commits, big values); then the commits are rebuilt (diffs applied to their base
 * parent's tree), checked against the heads the peer declared, and written with every block they
 * need in one atomic batch, becoming heads. Nothing is stored if anything fails; a peer at fault
 * (bad block, bad message, commits that do not lead to its heads) is dropped with that error.
 */
export async function pullFrom(
  ctx: SyncContext,
  session: Session,
  pageId: Uint8Array,
  tally: Tally,
  forId: number | undefined,
): Promise<void> {
  return ctx.engine.withPageState(pageId, async (state) => {
    try {
      await pullInto(ctx, session, state, tally, forId)
    } finally {
      // A page with content here is one this connection syncs (its drop marks it 'error'); an id
      // neither side ever wrote is not tracked.
      if (!state.blank) session.pages.add(state.hex)
    }
  })
}

async function pullInto(ctx: SyncContext, session: Session, state: PageState, tally: Tally, forId: number | undefined): Promise<void> {
  const engine = ctx.engine
  const pageId = state.id
  const pageHex = state.hex
  const have = await haveList(engine.commits, state.heads, session.remoteHeads.get(pageHex) ?? [])
  // The roots of our heads let the peer send a commit whose tree we already hold as its root alone.
  const roots = [...new Map(state.heads.filter((h) => h.generation > 0).map((h) => [h.root.toString(), h.root])).values()]
  const request = { t: 'pull', page: pageId, have, roots: roots.slice(0, MAX_HAVE), ...(forId === undefined ? {} : { for: forId }) }
  const exchange = session.request(request, tally)
  const pending = new PendingBlocks()
  const detach = ctx.overlay.attach(pending)
  const built = new Built()
  try {
    const { items, heads } = await receive(exchange, pending, tally)
    const known = await resolveParents(ctx, items)
    const needs: Need[] = []
    for (const item of items) {
      if (item.root !== undefined) needs.push({ cid: item.root, kind: 'tree' })
      for (const c of item.changes ?? []) {
        const e = c.entry
        if (e !== undefined && e.priority === 'eager' && !('inline' in e.value)) needs.push({ cid: e.value.link, kind: 'value' })
      }
    }
    await fetchMissing(ctx, session, needs, pending, tally, forId)
    const rebuilt = await rebuild(ctx, items, known, built)
    await checkHeads(ctx, items, rebuilt, heads)
    await state.exclusive(async () => {
      engine.assertOpen()
      const present = await engine.store.getBlocks(rebuilt.map((r) => r.commit.cid))
      const fresh = rebuilt.filter((_, i) => present[i] === undefined)
      if (fresh.length === 0) return
      const blocks = [...fresh.map((r) => r.block), ...built.all(), ...pending.usedBlocks()]
      await state.addLocked(
        fresh.map((r) => r.commit),
        blocks,
      )
    })
    if (heads.length > 0 || session.remoteHeads.has(pageHex)) session.remoteHeads.set(pageHex, heads)
  } catch (err) {
    const error = blame(err)
    if (error) void session.close(error)
    throw error ?? err
  } finally {
    detach()
    built.release()
  }
}

/** The peer's fault, as the error to drop it with; undefined for a local failure. */
function blame(err: unknown): LedgerError | undefined {
  if (!(err instanceof LedgerError)) return LedgerError.integrity('received data could not be applied', { cause: String(err) })
  if (err.code === 'DATA_INTEGRITY_ERROR') return err
  if (err.code === 'NETWORK_ERROR' && err.data?.['reason'] === 'protocol-violation') return err
  if (err.code === 'INVALID_ARGUMENT' || err.code === 'KEY_TOO_LARGE' || err.code === 'NEEDS_FETCH') {
    return new LedgerError('DATA_INTEGRITY_ERROR', `received data is malformed: ${err.message}`, { cause: err })
  }
  return undefined
}

async function receive(exchange: Exchange, pending: PendingBlocks, tally: Tally): Promise<{ items: Item[]; heads: CID[] }> {
  const items: Item[] = []
  const replicas: string[] = []
  let heads: CID[] = []
  for (let m = await exchange.next(); m !== undefined; m = await exchange.next()) {
    if (m.t !== 'commits') throw protocolViolation(`expected commits, got ${m.t}`)
    for (const [cid, bytes] of fieldBlocks(m, 'blocks', MAX_PER_FRAME)) {
      verifyBlock(cid, bytes)
      pending.add(cid, ownBytes(bytes))
      tally.blocksReceived++
    }
    const before = items.length
    decodeItems(toArray(m['items'], 'commits.items', MAX_PER_FRAME), items, replicas)
    tally.commitsReceived += items.length - before
    tally.blocksReceived += items.length - before
    if (!fieldMore(m)) heads = fieldCids(m, 'heads', MAX_HEADS)
  }
  return { items, heads }
}

/** The commits named by CID as parents: each must be stored here (else it never comes). */
async function resolveParents(ctx: SyncContext, items: readonly Item[]): Promise<Map<string, Commit>> {
  const known = new Map<string, Commit>()
  for (const item of items) {
    for (const p of item.parents) {
      if (typeof p === 'number' || known.has(p.toString())) continue
      const commit = await tryCommit(ctx.engine.commits, p)
      if (!commit) {
        throw LedgerError.integrity(`the peer sent a commit whose parent ${p.toString()} is neither sent nor stored here`, {
          cid: p.toString(),
        })
      }
      known.set(p.toString(), commit)
    }
  }
  return known
}

interface Rebuilt {
  readonly commit: Commit
  readonly block: Block
  /** The tree that can read its root until the write: the engine's, or the sync layer's overlay tree. */
  readonly tree: Tree
}

/** Blocks built by applying diffs, per tree (each keeps them readable until `markStored`). */
class Built {
  readonly byTree = new Map<Tree, Block[]>()

  add(tree: Tree, blocks: Block[]): void {
    const list = this.byTree.get(tree)
    if (list) list.push(...blocks)
    else this.byTree.set(tree, [...blocks])
  }

  all(): Block[] {
    return [...this.byTree.values()].flat()
  }

  release(): void {
    for (const [tree, blocks] of this.byTree) tree.markStored(blocks)
  }
}

/**
 * Rebuilds each commit: its tree (the diff applied to the base parent's tree, or the sent root),
 * then its block. A diff on a stored tree is applied by the engine's tree (its node cache is warm);
 * one on a tree that only exists in this exchange (node mode) by the overlay tree.
 */
async function rebuild(ctx: SyncContext, items: readonly Item[], known: Map<string, Commit>, built: Built): Promise<Rebuilt[]> {
  const out: Rebuilt[] = []
  for (const item of items) {
    const parents = item.parents.map((p) => (typeof p === 'number' ? out[p]!.commit : known.get(p.toString())!))
    let maxTimestamp = 0
    let maxGeneration = 0
    for (const p of parents) {
      maxTimestamp = Math.max(maxTimestamp, p.timestamp)
      maxGeneration = Math.max(maxGeneration, p.generation)
    }
    let root = item.root
    let tree = ctx.tree
    if (root === undefined) {
      const baseRef = parents.length === 0 ? undefined : item.parents[item.base]!
      const base = baseRef === undefined ? Tree.emptyRoot : parents[item.base]!.root
      tree = typeof baseRef === 'number' ? out[baseRef]!.tree : ctx.engine.tree
      const applied = await tree.apply(base, item.changes!)
      built.add(tree, applied.blocks)
      root = applied.root
    }
    // Commits never run backwards along the DAG, and a generation is 1 + its parents' largest:
    // walks and merges rely on both, so a commit that breaks them is refused.
    const timestamp = maxTimestamp + item.dt
    if (!Number.isSafeInteger(timestamp) || item.dt < 0) throw LedgerError.integrity('a received commit is older than its parents')
    if (item.generation !== undefined && item.generation !== maxGeneration + 1) {
      throw LedgerError.integrity('a received commit has a generation other than 1 + its parents\'')
    }
    const { commit, block } = makeCommit({
      parents: parents.map((p) => p.cid),
      root,
      timestamp,
      generation: maxGeneration + 1,
      replica: item.replica,
    })
    out.push({ commit, block, tree })
  }
  return out
}

/**
 * Content addressing, end to end: every head the peer declared is rebuilt here or already
 * stored, and every rebuilt commit is an ancestor-or-self of a declared head. A corrupted diff,
 * timestamp or parent changes a rebuilt CID, so the chain no longer reaches the heads.
 */
async function checkHeads(ctx: SyncContext, items: readonly Item[], rebuilt: readonly Rebuilt[], heads: readonly CID[]): Promise<void> {
  const index = new Map<string, number>()
  rebuilt.forEach((r, i) => index.set(r.commit.cid.toString(), i))
  const reached = new Uint8Array(rebuilt.length)
  const stack: number[] = []
  for (const h of heads) {
    const i = index.get(h.toString())
    if (i !== undefined) {
      stack.push(i)
      continue
    }
    if (!(await tryCommit(ctx.engine.commits, h))) {
      throw LedgerError.integrity(`the commits received do not rebuild the peer's head ${h.toString()}`, { cid: h.toString() })
    }
  }
  while (stack.length > 0) {
    const i = stack.pop()!
    if (reached[i]) continue
    reached[i] = 1
    for (const p of items[i]!.parents) if (typeof p === 'number') stack.push(p)
  }
  if (reached.includes(0)) throw LedgerError.integrity('the peer sent commits that do not lead to its heads')
}
