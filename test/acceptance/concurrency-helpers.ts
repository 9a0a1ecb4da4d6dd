/** Helpers of the black-box concurrency tests (test/acceptance/concurrency-*.test.ts): contents, models, change checks. */
import { expect } from 'vitest'
import { LedgerError, type Page, type PageChange, type Snapshot } from 'dagkv'
import { collect, str } from '../helpers/bytes.js'

export type Contents = Record<string, string>

/** A snapshot's (or a connection's current) contents as key → value string; lazy not local → '<lazy>'. */
export async function contentsOf(of: Page | Snapshot): Promise<Contents> {
  const snap = 'commitId' in of ? of : await of.snapshot()
  const out: Contents = {}
  for (const e of await collect(snap.entries())) out[str(e.key)!] = e.value === undefined ? '<lazy>' : str(e.value)!
  return out
}

/** Keys sorted, for stable comparison (JSON of a record keeps insertion order). */
export function canon(c: Contents): string {
  return JSON.stringify(Object.keys(c).sort().map((k) => [k, c[k]]))
}

export function only(c: Contents, prefix: string): Contents {
  const out: Contents = {}
  for (const [k, v] of Object.entries(c)) if (k.startsWith(prefix)) out[k] = v
  return out
}

/** What a promise came to: 'ok', a LedgerError code, or a description of another failure. */
export function outcome(p: Promise<unknown>): Promise<string> {
  return p.then(
    () => 'ok',
    (e: unknown) => (e instanceof LedgerError ? e.code : `not a LedgerError: ${String(e)}`),
  )
}

/**
 * The sequential model of one connection that no other connection writes to: committed state,
 * an open transaction's working state, and a version that grows with every commit that changes
 * the content of its base (a commit that changes nothing is not made).
 */
export class ConnectionModel {
  committed = new Map<string, string>()
  tx: Map<string, string> | undefined
  version = 0
  /** Every committed state (as canon strings), in order; index = version. */
  readonly history: string[] = [canon({})]

  put(k: string, v: string): 'ok' {
    if (this.tx) this.tx.set(k, v)
    else this.#commitWith((m) => m.set(k, v))
    return 'ok'
  }

  delete(k: string): 'ok' {
    if (this.tx) this.tx.delete(k)
    else this.#commitWith((m) => m.delete(k))
    return 'ok'
  }

  clear(): 'ok' {
    if (this.tx) this.tx.clear()
    else this.#commitWith((m) => m.clear())
    return 'ok'
  }

  start(): string {
    if (this.tx) return 'TRANSACTION_ALREADY_IN_PROGRESS'
    this.tx = new Map(this.committed)
    return 'ok'
  }

  commit(): string {
    const tx = this.tx
    if (!tx) return 'NO_TRANSACTION_IN_PROGRESS'
    this.tx = undefined
    this.#commitWith((m) => {
      m.clear()
      for (const [k, v] of tx) m.set(k, v)
    })
    return 'ok'
  }

  rollback(): string {
    if (!this.tx) return 'NO_TRANSACTION_IN_PROGRESS'
    this.tx = undefined
    return 'ok'
  }

  /** What a snapshot taken now shows: the committed (pinned, inside a transaction) state. */
  view(): Contents {
    return Object.fromEntries(this.committed)
  }

  #commitWith(edit: (m: Map<string, string>) => void): void {
    const before = canon(this.view())
    edit(this.committed)
    const after = canon(this.view())
    if (after !== before) {
      this.version++
      this.history.push(after)
    }
  }
}

/** The net change from `a` to `b` as a watcher must report it: changed entries (key → value) and deleted keys. */
export function netChange(a: Contents, b: Contents): { changed: Contents; deleted: string[] } {
  const changed: Contents = {}
  const deleted: string[] = []
  for (const [k, v] of Object.entries(b)) if (a[k] !== v) changed[k] = v
  for (const k of Object.keys(a)) if (!(k in b)) deleted.push(k)
  return { changed, deleted: deleted.sort() }
}

/** A notification as plain data (all parts of a partial change must be joined before). */
export function plainChange(c: Pick<PageChange, 'changed' | 'deleted'>): { changed: Contents; deleted: string[] } {
  const changed: Contents = {}
  for (const e of c.changed) changed[str(e.key)!] = e.value === undefined ? '<lazy>' : str(e.value)!
  return { changed, deleted: c.deleted.map((k) => str(k)!) }
}

/**
 * Checks a watcher's record: each notification equals the net change between the snapshot
 * before it (the watch snapshot first) and its own `snapshot()`, keys sorted; `prefix` limits
 * the comparison. Returns the contents of the last state delivered.
 */
export async function expectChangesBridgeSnapshots(start: Snapshot, seen: { change: PageChange; snap: Snapshot }[], prefix = ''): Promise<Contents> {
  let before = only(await contentsOf(start), prefix)
  for (const [i, { change, snap }] of seen.entries()) {
    expect(change.state, `notification ${i}`).toBe('completed')
    const after = only(await contentsOf(snap), prefix)
    const keys = change.changed.map((e) => str(e.key)!)
    expect(keys, `notification ${i}: changed sorted`).toEqual([...keys].sort())
    expect(plainChange(change), `notification ${i}`).toEqual(netChange(before, after))
    expect(keys.length + change.deleted.length, `notification ${i}: not empty`).toBeGreaterThan(0)
    before = after
  }
  return before
}

/** Yields to the event loop (timers and I/O included) `n` times. */
export async function turns(n = 1): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r))
}
