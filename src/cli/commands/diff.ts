import { parseCid } from '../../codec/index.js'
import type { Entry, KeyLike, Page, Snapshot } from '../../index.js'
import type { Command } from '../interface.js'
import type { Invocation } from '../invocation.js'
import { entryJson, valueText } from './ls.js'

async function snapshotAt(page: Page, id: string, prefix: KeyLike | undefined): Promise<Snapshot> {
  const options = prefix === undefined ? {} : { prefix }
  if (id === 'head') return page.snapshot(options)
  return page.snapshot({ ...options, at: parseCid(id, 'commit id').toString() })
}

function side(inv: Invocation, e: Entry | undefined): Record<string, unknown> | null {
  if (e === undefined) return null
  const { key: _key, ...rest } = entryJson(inv, e)
  return rest
}

async function run(inv: Invocation): Promise<undefined> {
  const prefix = inv.bytesOption('prefix')
  await inv.withLedger(async (ledger) => {
    const page = await inv.page(ledger)
    const a = await snapshotAt(page, inv.arg(1), prefix)
    const b = await snapshotAt(page, inv.arg(2), prefix)
    if (inv.json) {
      const docs: unknown[] = []
      for await (const d of a.diff(b)) {
        docs.push({ key: inv.show(d.key), before: side(inv, d.before), after: side(inv, d.after) })
      }
      await inv.out.json(docs)
      return
    }
    for await (const d of a.diff(b)) {
      const key = inv.show(d.key)
      if (d.before === undefined) await inv.out.line(`+\t${key}\t${valueText(inv, d.after?.value)}`)
      else if (d.after === undefined) await inv.out.line(`-\t${key}`)
      else await inv.out.line(`~\t${key}\t${valueText(inv, d.before.value)} -> ${valueText(inv, d.after.value)}`)
    }
  })
  return undefined
}

/** `dagkv diff PAGE A B`: the keys that differ between two commits of a page. */
export const diff: Command = {
  name: 'diff',
  summary: 'show the keys that differ between two commits of a page',
  usage: 'diff [--prefix P] [--json] PAGE A B',
  description: [
    'A and B are commit ids of PAGE (as `log` prints them) or `head`. Prints, in key order, one line',
    'per key whose value or priority differs: `+ KEY VALUE` (only in B), `- KEY` (only in A),',
    '`~ KEY OLD -> NEW` (changed). A commit that is not in the history of PAGE → INVALID_ARGUMENT.',
    'With --json prints one array of {key, before, after}; a side is null when the key is absent there,',
    'else {value, size, priority}.',
  ].join('\n'),
  options: { prefix: { type: 'string', short: 'p' } },
  optionHelp: [['-p, --prefix P', 'only keys that start with P']],
  json: true,
  args: { min: 3, max: 3 },
  run,
}
