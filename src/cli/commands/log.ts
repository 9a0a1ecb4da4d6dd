import type { Command } from '../interface.js'
import { pageHistory, type LogEntry } from '../history.js'

function line(e: LogEntry): string {
  const { added, changed, deleted } = e.changes
  const parents = e.parents.length === 0 ? '-' : e.parents.join(',')
  const head = e.head ? '\thead' : ''
  return `${e.id}\t${e.time}\t+${added} ~${changed} -${deleted}\tparents:${parents}${head}`
}

/** `dagkv log PAGE`: the commit history of a page, newest first. */
export const log: Command = {
  name: 'log',
  summary: "show a page's commit history, newest first",
  usage: 'log [--limit N] [--json] PAGE',
  description: [
    'Prints every commit of PAGE reachable from its heads, newest first (a commit always before its',
    'parents), one line each: ID, TIME (UTC), +added ~changed -deleted keys relative to the first',
    'parent, the parents (`-`: the first commit), and `head` for current heads.',
    'With --json prints one array of {id, parents, timestamp, time, generation, replica, head,',
    'changes: {added, changed, deleted}}; replica is null for merge commits.',
  ].join('\n'),
  options: { limit: { type: 'string', short: 'n' } },
  optionHelp: [['-n, --limit N', 'at most N commits']],
  json: true,
  args: { min: 1, max: 1 },
  async run(inv) {
    const limit = inv.integer('limit', 0) ?? Infinity
    await inv.withLedger(async (ledger) => {
      const page = await inv.page(ledger)
      if (inv.json) {
        const all: LogEntry[] = []
        for await (const e of pageHistory(ledger, page, limit)) all.push(e)
        await inv.out.json(all)
        return
      }
      for await (const e of pageHistory(ledger, page, limit)) await inv.out.line(line(e))
    })
    return undefined
  },
}
