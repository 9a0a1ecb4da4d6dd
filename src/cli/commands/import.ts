import { importPage } from '../car/import-page.js'
import type { Command } from '../interface.js'

/** `dagkv import FILE.car`: adds a page export's commits as heads of its page. */
export const importCommand: Command = {
  name: 'import',
  summary: 'add the commits of a CAR file made by `export` to the store',
  usage: 'import [--page P] [--json] FILE.car',
  description: [
    'Reads a CAR file written by `dagkv export` (`-`: standard input), verifies every block against its',
    'CID and checks that every block the heads need is in the file or already here, then adds its',
    'commits as heads of the page named in its manifest (or of --page P) in one atomic write, and',
    'merges them with the heads already here by the page policy. A tampered, truncated or incomplete',
    'file → DATA_INTEGRITY_ERROR and nothing is imported. Prints what was added',
    '(--json: {page, commits, blocks, bytes, heads}).',
  ].join('\n'),
  options: { page: { type: 'string' } },
  optionHelp: [['--page P', 'import into page P instead of the page the file names']],
  json: true,
  args: { min: 1, max: 1 },
  async run(inv) {
    const file = inv.arg(0)
    const target = inv.bytesOption('page')
    const stats = await inv.withLedger((ledger) => importPage(ledger, file, target))
    const page = inv.show(stats.page)
    if (inv.json) await inv.out.json({ ...stats, page })
    else {
      await inv.out.line(`imported ${stats.commits} commits, ${stats.blocks} blocks (${stats.bytes} bytes) into page ${page}; head ${stats.heads.join(',')}`)
    }
    return undefined
  },
}
