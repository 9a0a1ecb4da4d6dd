import type { Ledger } from '../../src/index.js'
import type { Block } from '../../src/codec/index.js'
import { engineOf } from '../../src/ledger/index.js'

/**
 * One-way copy of every block and of `pageId`'s heads from `from` into `to`, as a pull would
 * (no vitest imports: benchmarks use it too).
 */
export async function copyPage(from: Ledger, to: Ledger, pageId: string): Promise<void> {
  const id = new TextEncoder().encode(pageId)
  const src = engineOf(from)
  const dst = engineOf(to)
  // Heads first: every block they need is stored before they became heads.
  const heads = (await src.pageState(id)).heads.filter((h) => h.generation > 0)
  const blocks: Block[] = []
  for await (const b of src.store.allBlocks()) blocks.push(b)
  await dst.store.write({ blocks })
  const state = await dst.pageState(id)
  const known = new Set(state.heads.map((h) => h.cid.toString()))
  const missing = heads.filter((h) => !known.has(h.cid.toString()))
  if (missing.length > 0) await state.exclusive(() => state.addLocked(missing, []))
}
