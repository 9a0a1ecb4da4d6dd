import type { Ledger, Page } from '../index.js'
import type { Commit } from '../commit/index.js'
import { engineOf } from '../ledger/index.js'
import { Tree } from '../tree/index.js'

/** One commit of a page's history, as `log` shows it. */
export interface LogEntry {
  id: string
  parents: string[]
  timestamp: number
  /** ISO 8601 form of `timestamp` (milliseconds since the epoch). */
  time: string
  generation: number
  /** The replica that made it; null for a merge commit. */
  replica: string | null
  /** True when the commit is one of the page's current heads. */
  head: boolean
  /** Keys added, changed and deleted relative to the first parent (the empty page for the first commit). */
  changes: { added: number; changed: number; deleted: number }
}

async function changeCounts(ledger: Ledger, commit: Commit): Promise<LogEntry['changes']> {
  const engine = engineOf(ledger)
  const first = commit.parents[0]
  const before = first === undefined ? Tree.emptyRoot : (await engine.commits.get(first)).root
  const counts = { added: 0, changed: 0, deleted: 0 }
  for await (const d of engine.tree.diff(before, commit.root)) {
    if (d.before === undefined) counts.added++
    else if (d.after === undefined) counts.deleted++
    else counts.changed++
  }
  return counts
}

/**
 * The history of a page, newest first: every commit reachable from its heads, by generation
 * (a commit always comes before its parents). Stops after `limit` commits.
 */
export async function* pageHistory(ledger: Ledger, page: Page, limit: number = Infinity): AsyncGenerator<LogEntry> {
  const engine = engineOf(ledger)
  const state = await engine.holdPage(page.id)
  try {
    const heads = new Set(state.heads.map((h) => h.cid.toString()))
    let n = 0
    for await (const c of engine.commits.walkBack(state.heads.map((h) => h.cid))) {
      if (c.generation === 0) continue // the implicit empty commit every page starts from
      if (n++ >= limit) return
      yield {
        id: c.cid.toString(),
        parents: c.parents.map((p) => p.toString()),
        timestamp: c.timestamp,
        time: new Date(c.timestamp).toISOString(),
        generation: c.generation,
        replica: c.replica ?? null,
        head: heads.has(c.cid.toString()),
        changes: await changeCounts(ledger, c),
      }
    }
  } finally {
    engine.releasePage(state)
  }
}
