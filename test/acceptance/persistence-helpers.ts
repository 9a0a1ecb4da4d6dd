/**
 * Helpers of the black-box persistence and convergence tests (test/acceptance/persistence-*.test.ts,
 * convergence-*.test.ts): reopenable disk ledgers, page-state digests, sync-until-quiet.
 */
import { join } from 'node:path'
import { expect, onTestFinished } from 'vitest'
import { Ledger, connectInMemory, type LedgerOptions, type Page } from 'dagkv'
import { collect, str } from '../helpers/bytes.js'
import { tempDir } from '../helpers/ledgers.js'
import { within } from '../helpers/timing.js'

export const hexId = (b: Uint8Array): string => Buffer.from(b).toString('hex')

/** A LevelDB directory that can be opened, closed and reopened; every ledger opened is closed after the test. */
export function reopenable(base: LedgerOptions = {}): { path: string; open(options?: LedgerOptions): Promise<Ledger> } {
  const path = join(tempDir(), 'db')
  return {
    path,
    async open(options = {}) {
      const ledger = await Ledger.open({ autoSync: false, path, ...base, ...options })
      onTestFinished(() => ledger.close())
      return ledger
    },
  }
}

/** Key → value (string; lazy values not local: null; priority suffixed when lazy). */
export async function dump(page: Page, at?: string): Promise<Record<string, string | null>> {
  const snap = await page.snapshot(at === undefined ? undefined : { at })
  const out: Record<string, string | null> = {}
  for (const e of await collect(snap.entries())) {
    out[str(e.key)!] = e.value === undefined ? null : str(e.value)! + (e.priority === 'lazy' ? ' (lazy)' : '')
  }
  return out
}

export interface PageDigest { commitId: string; contentId: string; contents: Record<string, string | null> }

/** Every page of the ledger (by hex id): its head, content id and contents, read through a fresh connection. */
export async function digest(ledger: Ledger): Promise<Record<string, PageDigest>> {
  const out: Record<string, PageDigest> = {}
  for (const id of await ledger.pages()) {
    const page = await ledger.page(id)
    await within(page.waitForConflictResolution(), 10_000, 'waitForConflictResolution in digest')
    const snap = await page.snapshot()
    // Lazy values as '<lazy>': whether their bytes are local differs between replicas.
    const map: Record<string, string | null> = {}
    for (const e of await collect(snap.entries())) map[str(e.key)!] = e.priority === 'lazy' ? '<lazy>' : str(e.value)!
    out[hexId(id)] = { commitId: snap.commitId, contentId: snap.contentId, contents: map }
    await page.close()
  }
  return out
}

/** Pairwise in-memory links between ledgers, re-creatable; all closed after the test. */
export class Links {
  readonly #links = new Map<string, { close(): Promise<void> }>()
  constructor(readonly ledgers: Ledger[]) {
    onTestFinished(() => this.closeAll())
  }

  #key(i: number, j: number): string {
    return i < j ? `${i}-${j}` : `${j}-${i}`
  }

  has(i: number, j: number): boolean {
    return this.#links.has(this.#key(i, j))
  }

  link(i: number, j: number): void {
    if (i === j || this.has(i, j)) return
    this.#links.set(this.#key(i, j), connectInMemory(this.ledgers[i]!, this.ledgers[j]!))
  }

  async cut(i: number, j: number): Promise<void> {
    const k = this.#key(i, j)
    const l = this.#links.get(k)
    this.#links.delete(k)
    await l?.close()
  }

  /** Cuts every link of replica i (e.g. before closing it). */
  async isolate(i: number): Promise<void> {
    for (let j = 0; j < this.ledgers.length; j++) if (j !== i) await this.cut(i, j)
  }

  /** The replicas linked to i. */
  neighbours(i: number): number[] {
    return this.ledgers.map((_, j) => j).filter((j) => j !== i && this.has(i, j))
  }

  async closeAll(): Promise<void> {
    const all = [...this.#links.values()]
    this.#links.clear()
    await Promise.allSettled(all.map((l) => l.close()))
  }
}

/** Union of every ledger's pages (hex ids, sorted). */
export async function allPages(ledgers: Ledger[]): Promise<string[]> {
  const ids = new Set<string>()
  for (const l of ledgers) for (const id of await l.pages()) ids.add(hexId(id))
  return [...ids].sort()
}

/**
 * Manual sync (mode 'both') of every page of the union, on every ledger with each of its linked
 * neighbours, until a round moves no commit; fails after `maxRounds`.
 */
export async function syncUntilQuiet(links: Links, maxRounds = 12): Promise<number> {
  const ledgers = links.ledgers
  for (let round = 1; round <= maxRounds; round++) {
    let moved = 0
    for (const hex of await allPages(ledgers)) {
      for (let i = 0; i < ledgers.length; i++) {
        const peers = links.neighbours(i).map((j) => ledgers[j]!.replicaId)
        if (peers.length === 0) continue
        const page = await ledgers[i]!.page(Buffer.from(hex, 'hex'))
        const s = await within(page.sync({ mode: 'both', peers }), 20_000, 'sync in syncUntilQuiet')
        await within(page.waitForConflictResolution(), 10_000, 'merge in syncUntilQuiet')
        moved += s.commitsReceived + s.commitsSent
        await page.close()
      }
    }
    if (moved === 0) return round
  }
  throw new Error(`syncs still moving commits after ${maxRounds} rounds`)
}

/** Asserts that every ledger has the same pages, and per page the same head, content id and contents. */
export async function expectConverged(ledgers: Ledger[]): Promise<Record<string, PageDigest>> {
  const first = await digest(ledgers[0]!)
  for (let i = 1; i < ledgers.length; i++) {
    expect(await digest(ledgers[i]!), `replica ${i} differs from replica 0`).toEqual(first)
  }
  return first
}

/** Polls until every ledger shows the same digest (autoSync settings), then asserts it. */
export async function untilConverged(ledgers: Ledger[], ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms
  for (;;) {
    const ds = await Promise.all(ledgers.map((l) => digest(l)))
    const same = ds.every((d) => JSON.stringify(d) === JSON.stringify(ds[0]))
    if (same) return
    if (Date.now() > deadline) {
      for (let i = 1; i < ds.length; i++) expect(ds[i], `replica ${i} differs from replica 0 after ${ms} ms`).toEqual(ds[0])
      return
    }
    await new Promise((r) => setTimeout(r, 50))
  }
}
