import { CarBlockIterator } from '@ipld/car/iterator'
import { open } from 'node:fs/promises'
import { CID, verifyBlock, type Block } from '../../codec/index.js'
import type { Commit } from '../../commit/index.js'
import { LedgerError, type Ledger } from '../../index.js'
import { engineOf, type PageState } from '../../ledger/index.js'
import { fileFailure } from '../failure.js'
import { decodeManifest } from './manifest.js'
import { reachableBlocks } from './reachable.js'

/** What an import added. */
export interface ImportStats {
  page: Uint8Array
  /** Commits that were not here before. */
  commits: number
  /** Blocks stored (commits, tree nodes, values), and their bytes. */
  blocks: number
  bytes: number
  /** The page's heads afterwards. */
  heads: string[]
}

async function readCar(file: string): Promise<{ roots: CID[]; blocks: Map<string, Block> }> {
  let handle
  try {
    handle = file === '-' ? undefined : await open(file, 'r')
  } catch (err) {
    throw fileFailure(file, err)
  }
  const input = handle ? handle.createReadStream() : process.stdin
  const blocks = new Map<string, Block>()
  try {
    const reader = await CarBlockIterator.fromIterable(input as AsyncIterable<Uint8Array>)
    const roots = (await reader.getRoots()).map((r) => CID.asCID(r)!)
    for await (const b of reader) {
      const cid = CID.asCID(b.cid)!
      verifyBlock(cid, b.bytes)
      blocks.set(cid.toString(), { cid, bytes: b.bytes })
    }
    return { roots, blocks }
  } catch (err) {
    if (err instanceof LedgerError) throw err
    if (typeof (err as { syscall?: unknown } | null)?.syscall === 'string') throw fileFailure(file, err)
    const why = err instanceof Error ? err.message : String(err)
    throw new LedgerError('DATA_INTEGRITY_ERROR', `${file} is not a valid CAR file: ${why}`, { cause: err })
  } finally {
    await handle?.close()
  }
}

/** Every commit's generation is above its parents' (the DAG walks rely on it); else DATA_INTEGRITY_ERROR. */
function checkGenerations(history: ReadonlyMap<string, Commit>): void {
  for (const c of history.values()) {
    const parents = c.parents.map((p) => history.get(p.toString())!)
    if (c.generation < 1 || parents.some((p) => p.generation >= c.generation)) {
      throw LedgerError.integrity(`commit ${c.cid.toString()} has a generation no higher than a parent's`)
    }
  }
}

/**
 * Reads a page export (see `exportPage`), verifies every block against its CID and checks that it
 * holds everything the page's heads need (with the store's blocks), then adds its commits as heads
 * of the page in one atomic write. Any failure leaves the store as it was. `pageId` overrides the
 * page named in the manifest.
 */
export async function importPage(ledger: Ledger, file: string, pageId?: Uint8Array): Promise<ImportStats> {
  const engine = engineOf(ledger)
  const { roots, blocks } = await readCar(file)
  const manifestCid = roots[0]
  const manifestBlock = manifestCid && blocks.get(manifestCid.toString())
  if (!manifestCid || !manifestBlock) throw LedgerError.integrity(`${file} is not a dagkv page export: no manifest root`)
  const manifest = decodeManifest(manifestBlock.bytes)
  const heads = roots.slice(1)
  if (heads.length !== manifest.heads.length || heads.some((h, i) => !h.equals(manifest.heads[i]!))) {
    throw LedgerError.integrity(`${file}: the CAR roots and the manifest name different heads`)
  }
  const page = await ledger.page(pageId ?? manifest.page) // validates the id
  let held: PageState | undefined
  try {
    const source = async (cid: CID): Promise<Uint8Array | undefined> =>
      blocks.get(cid.toString())?.bytes ?? (await engine.store.getBlock(cid))
    const fresh: Block[] = []
    const commits: Commit[] = []
    const history = new Map<string, Commit>()
    let bytes = 0
    for await (const b of reachableBlocks(source, engine.tree, heads, { lazy: true })) {
      if (b.commit) history.set(b.cid.toString(), b.commit)
      if (!blocks.has(b.cid.toString()) || (await engine.store.hasBlock(b.cid))) continue
      fresh.push({ cid: b.cid, bytes: b.bytes })
      bytes += b.bytes.length
      if (b.commit) commits.push(b.commit)
    }
    checkGenerations(history)
    // Parents before children, so each added commit supersedes the heads it descends from.
    commits.sort((a, b) => a.generation - b.generation)
    const state = (held = await engine.holdPage(page.id))
    const known = new Set(state.heads.map((h) => h.cid.toString()))
    const newHeads = heads.filter((h) => !known.has(h.toString()))
    const added = new Set(commits.map((c) => c.cid.toString()))
    // A head whose commit was already stored (not as a head) becomes one unless a head here descends from it.
    const extra: Commit[] = []
    for (const h of newHeads) {
      if (added.has(h.toString())) continue
      const c = await engine.commits.get(h)
      let behind = false
      for (const local of state.heads) if (await engine.commits.isAncestor(c, local)) behind = true
      if (!behind) extra.push(c)
    }
    if (fresh.length > 0 || extra.length > 0) {
      const all = [...commits, ...extra].sort((a, b) => a.generation - b.generation)
      await state.exclusive(() => state.addLocked(all, fresh))
    }
    await page.waitForConflictResolution()
    return {
      page: page.id,
      commits: commits.length,
      blocks: fresh.length,
      bytes,
      heads: state.heads.filter((h) => h.generation > 0).map((h) => h.cid.toString()),
    }
  } finally {
    if (held) engine.releasePage(held)
    await page.close()
  }
}
