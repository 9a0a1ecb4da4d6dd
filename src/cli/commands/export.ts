import { exportPage } from '../car/export-page.js'
import type { Command } from '../interface.js'

/** `dagkv export PAGE FILE.car`: a page's history as a CAR file. */
export const exportCommand: Command = {
  name: 'export',
  summary: "write a page's commits and blocks to a CAR file",
  usage: 'export [--lazy] [--json] PAGE FILE.car',
  description: [
    'Writes every commit of PAGE reachable from its heads, their tree nodes and their eager value',
    'blocks to FILE as a CARv1 file (`-`: standard output). Roots: a manifest block',
    '{dagkv: "page-export", v: 1, page, heads} first, then the heads. `dagkv import` reads it back.',
    'The file appears only when complete. Prints what was written (--json: {page, file, heads,',
    'commits, blocks, bytes}); on standard error when FILE is `-`.',
  ].join('\n'),
  options: { lazy: { type: 'boolean' } },
  optionHelp: [['--lazy', 'also include lazy value blocks stored here (by default they are left out)']],
  json: true,
  args: { min: 2, max: 2 },
  async run(inv) {
    const file = inv.arg(1)
    const pageId = inv.bytesArg(0, 'page id')
    const stats = await inv.withLedger((ledger) => exportPage(ledger, pageId, file, { lazy: inv.flag('lazy') }))
    const report = file === '-' ? inv.err : inv.out
    if (inv.json) await report.json({ page: inv.show(pageId), file, ...stats })
    else {
      await report.line(`exported ${stats.commits} commits, ${stats.blocks} blocks (${stats.bytes} bytes) of page ${inv.show(pageId)} to ${file}`)
    }
    return undefined
  },
}
