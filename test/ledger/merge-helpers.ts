import type { Ledger, LedgerOptions, Page } from 'dagkv'
import type { Block } from '../../src/codec/index.js'
import type { Commit } from '../../src/commit/index.js'
import { engineOf } from '../../src/ledger/index.js'
import { collect, str } from '../helpers/bytes.js'
import { copyPage } from '../helpers/copy-page.js'
import { memoryLedger } from '../helpers/ledgers.js'

/** A key's edit on one side: a value, or null to delete. */
export type Edits = Record<string, string | null>

/** A page's contents as key → value (strings). */
export async function contents(page: Page): Promise<Record<string, string>> {
  const snap = await page.snapshot()
  const out: Record<string, string> = {}
  for (const e of await collect(snap.entries())) out[str(e.key)!] = str(e.value)!
  return out
}

// Forks go through the black-box tests' helper: one way to make two heads.
export { fork } from '../acceptance/merge-api-helpers.js'

/** The heads of a page, oldest first (internal view, for assertions). */
export async function headsOf(ledger: Ledger, pageId: string): Promise<readonly Commit[]> {
  return (await engineOf(ledger).pageState(new TextEncoder().encode(pageId))).heads
}

/** A deterministic clock: 1000, 1001, … (so two ledgers given the same writes make the same commits). */
export function stepClock(start = 1000): () => number {
  let t = start
  return () => t++
}

/** An in-memory ledger (closed after the test) with a fixed replica id and a step clock. */
export function replica(name: string, options: LedgerOptions = {}): Promise<Ledger> {
  return memoryLedger({ replicaId: name, clock: stepClock(), ...options })
}

/**
 * Exchanges pages between ledgers as sync would, until sync lands: every block of each ledger is
 * copied to the others first, then each ledger adds the others' heads of `pageId` (so all of them
 * see the same set of heads before any merges them).
 */
export async function exchange(ledgers: readonly Ledger[], pageId: string): Promise<void> {
  const id = new TextEncoder().encode(pageId)
  const engines = ledgers.map((l) => engineOf(l))
  const blocks: Block[] = []
  const heads: Commit[] = []
  for (const e of engines) {
    // Heads first: every block they need is stored before they became heads.
    heads.push(...(await e.pageState(id)).heads.filter((h) => h.generation > 0))
    for await (const b of e.store.allBlocks()) blocks.push(b)
  }
  await Promise.all(engines.map((e) => e.store.write({ blocks })))
  for (const e of engines) {
    const state = await e.pageState(id)
    const known = new Set(state.heads.map((h) => h.cid.toString()))
    const missing = heads.filter((h) => !known.has(h.cid.toString()))
    const unique = [...new Map(missing.map((h) => [h.cid.toString(), h])).values()]
    if (unique.length > 0) await state.exclusive(() => state.addLocked(unique, []))
  }
}

/** One-way: `to` receives `from`'s blocks and heads of `pageId`, merges, and `toPage` catches up. */
export async function push(from: Ledger, to: Ledger, pageId: string, toPage: Page): Promise<void> {
  await copyPage(from, to, pageId)
  await toPage.waitForConflictResolution()
}

/** Exchanges and waits for merges until every ledger has the same single head; returns its id. */
export async function converge(ledgers: readonly Ledger[], pageId: string, pages: readonly Page[]): Promise<string> {
  for (let round = 0; round < 10; round++) {
    await exchange(ledgers, pageId)
    await Promise.all(pages.map((p) => p.waitForConflictResolution()))
    const ids = await Promise.all(ledgers.map(async (l) => (await headsOf(l, pageId)).map((h) => h.cid.toString()).join()))
    if (ids.every((x) => x === ids[0]) && !ids[0]!.includes(',')) return ids[0]!
  }
  throw new Error('replicas did not converge')
}
