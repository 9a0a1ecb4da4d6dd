import type { Command } from '../interface.js'

/** `dagkv pages`: the ids of every page with a commit in the store. */
export const pages: Command = {
  name: 'pages',
  summary: 'list the pages that have a commit in the store',
  usage: 'pages [--json]',
  description: 'Prints the id of every page that has a commit in the store, one per line, in byte order.',
  options: {},
  optionHelp: [],
  json: true,
  args: { min: 0, max: 0 },
  async run(inv) {
    const ids = await inv.withLedger((ledger) => ledger.pages())
    if (inv.json) return void (await inv.out.json(ids.map((id) => inv.show(id))))
    for (const id of ids) await inv.out.line(inv.show(id))
    return undefined
  },
}
