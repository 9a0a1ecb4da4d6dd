/** Helpers of the black-box merging and values tests (test/acceptance/merge-*, values-*): forks, clocks, contents. */
import { expect, onTestFinished } from 'vitest'
import { Ledger, LedgerError, connectInMemory, type DiffEntry, type MergeContext, type Page, type PageChange, type Snapshot } from 'dagkv'
import { collect, str } from '../helpers/bytes.js'
import { within } from '../helpers/timing.js'

export { within }

export const any = (x: unknown): never => x as never
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/**
 * The LedgerError code a call fails with; 'resolved' when it succeeds; a description otherwise
 * (a synchronous throw, a non-LedgerError, a hang).
 */
export async function codeOf(call: () => unknown, ms = 5000): Promise<string> {
  let r: unknown
  try {
    r = call()
  } catch (e) {
    return `threw synchronously: ${e instanceof LedgerError ? e.code : String(e)}`
  }
  try {
    await within(Promise.resolve(r), ms)
  } catch (e) {
    if (e instanceof LedgerError) return e.code
    return `not a LedgerError: ${String(e)}`
  }
  return 'resolved'
}

/** A key's edit: a value (eager), a value with a priority, or null to delete. */
export type Edit = string | Uint8Array | null | { value: string | Uint8Array; priority: 'eager' | 'lazy' }
export type Edits = Record<string, Edit>

export async function apply(page: Page, edits: Edits): Promise<void> {
  for (const [k, v] of Object.entries(edits)) {
    if (v === null) await page.delete(k)
    else if (typeof v === 'string' || v instanceof Uint8Array) await page.put(k, v)
    else await page.put(k, v.value, { priority: v.priority })
  }
}

/**
 * Two connections commit transactions from the same base: `older` (connection a) first, then
 * `newer` (connection b), so b's commit is the newer head (`left`), a's the older (`right`).
 */
export async function fork(ledger: Ledger, pageId: string, base: Edits, older: Edits, newer: Edits): Promise<{ a: Page; b: Page; forkPoint: string }> {
  const a = await ledger.page(pageId)
  const b = await ledger.page(pageId)
  await apply(a, base)
  await within(b.waitForConflictResolution())
  const forkPoint = (await a.snapshot()).commitId
  expect((await b.snapshot()).commitId).toBe(forkPoint)
  await a.startTransaction()
  await b.startTransaction()
  await apply(a, older)
  await apply(b, newer)
  await a.commit()
  await b.commit()
  return { a, b, forkPoint }
}

/** A snapshot's (or page's) contents as key → value string (null: lazy, not local). */
export async function contents(of: Page | Snapshot): Promise<Record<string, string | null>> {
  const snap = 'commitId' in of ? of : await of.snapshot()
  const out: Record<string, string | null> = {}
  for (const e of await collect(snap.entries())) out[str(e.key)!] = e.value === undefined ? null : str(e.value)!
  return out
}

export async function priorities(of: Page | Snapshot): Promise<Record<string, string>> {
  const snap = 'commitId' in of ? of : await of.snapshot()
  const out: Record<string, string> = {}
  for (const e of await collect(snap.entries())) out[str(e.key)!] = e.priority
  return out
}

export const hex = (b: Uint8Array | undefined): string | undefined => (b === undefined ? undefined : Buffer.from(b).toString('hex'))
export const same = (a: Uint8Array | undefined, b: Uint8Array): boolean => a !== undefined && Buffer.compare(a, b) === 0

/** A DiffEntry with strings for bytes; a side absent → the property is missing/undefined. */
export function plain(d: DiffEntry): Record<string, unknown> {
  const side = (v: DiffEntry['base']): unknown => (v === undefined ? undefined : `${v.value === undefined ? '<not local>' : str(v.value)}/${v.priority}`)
  return { key: str(d.key), base: side(d.base), left: side(d.left), right: side(d.right) }
}

/** A deterministic clock: start, start+1, … */
export function stepClock(start = 1000): () => number {
  let t = start
  return () => t++
}

export { seeded } from '../sync/helpers.js'

export async function* pieces(data: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size)
}

export function link(a: Ledger, b: Ledger): { close(): Promise<void> } {
  const l = connectInMemory(a, b)
  onTestFinished(() => l.close())
  return l
}

/** Records the resolver's view of a merge. */
export async function view(m: MergeContext): Promise<{ left: string; right: string; base: string; full: Record<string, unknown>[]; conflicting: Record<string, unknown>[] }> {
  return {
    left: m.left.commitId,
    right: m.right.commitId,
    base: m.base.commitId,
    full: (await collect(m.fullDiff())).map(plain),
    conflicting: (await collect(m.conflictingDiff())).map(plain),
  }
}

/** Collects a watcher's notifications. */
export async function watchAll(page: Page): Promise<PageChange[]> {
  const seen: PageChange[] = []
  await page.watch((c) => void seen.push(c))
  return seen
}

export const EMPTY: Edits = {}
