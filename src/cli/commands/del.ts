import type { Command } from '../interface.js'

/** `dagkv del PAGE KEY`: one commit that deletes a key. */
export const del: Command = {
  name: 'del',
  summary: 'delete a key (one commit; deleting an absent key is a no-op)',
  usage: 'del PAGE KEY',
  description: 'Deletes KEY from PAGE as one durable commit. Deleting an absent key changes nothing and is not an error.',
  options: {},
  optionHelp: [],
  json: false,
  args: { min: 2, max: 2 },
  async run(inv) {
    const key = inv.bytesArg(1, 'key')
    await inv.withLedger(async (ledger) => (await inv.page(ledger)).delete(key))
    return undefined
  },
}
