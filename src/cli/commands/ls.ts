import type { Entry, Snapshot } from '../../index.js'
import type { Command } from '../interface.js'
import type { Invocation } from '../invocation.js'

/** An entry as JSON: key and value in the text-or-`hex:` form; value null when lazy and not stored here. */
export function entryJson(inv: Invocation, e: Entry): Record<string, unknown> {
  return {
    key: inv.show(e.key),
    value: e.value === undefined ? null : inv.show(e.value),
    size: e.value === undefined ? null : e.value.length,
    priority: e.priority,
  }
}

/** A value for a terminal line: shortened, or a note when it is lazy and not stored here. */
export function valueText(inv: Invocation, value: Uint8Array | undefined): string {
  return value === undefined ? '(lazy, not stored here)' : inv.showShort(value)
}

/** The range options, read before the store is opened (a bad one is a usage error, locked store or not). */
function rangeOf(inv: Invocation): RangeOptions {
  const start = inv.bytesOption('start')
  const end = inv.bytesOption('end')
  const limit = inv.integer('limit', 0)
  return {
    ...(start === undefined ? {} : { start }),
    ...(end === undefined ? {} : { end }),
    ...(limit === undefined ? {} : { limit }),
    reverse: inv.flag('reverse'),
  }
}

type RangeOptions = NonNullable<Parameters<Snapshot['entries']>[0]>

async function run(inv: Invocation): Promise<undefined> {
  const prefix = inv.bytesOption('prefix')
  const keysOnly = inv.flag('keys')
  const range = rangeOf(inv)
  await inv.withLedger(async (ledger) => {
    const page = await inv.page(ledger)
    const snap = await page.snapshot(prefix === undefined ? {} : { prefix })
    if (inv.json) {
      const docs: unknown[] = []
      for await (const e of snap.entries(range)) docs.push(keysOnly ? inv.show(e.key) : entryJson(inv, e))
      await inv.out.json(docs)
      return
    }
    for await (const e of snap.entries(range)) {
      await inv.out.line(keysOnly ? inv.show(e.key) : `${inv.show(e.key)}\t${valueText(inv, e.value)}`)
    }
  })
  return undefined
}

/** `dagkv ls PAGE`: a page's entries in key order. */
export const ls: Command = {
  name: 'ls',
  summary: "list a page's entries in key order",
  usage: 'ls [--prefix P] [--start K] [--end K] [--reverse] [--limit N] [--keys] [--json] PAGE',
  description: [
    'Prints the entries of PAGE in unsigned byte order of their keys, one `KEY<TAB>VALUE` line each',
    '(values over 80 bytes are shortened; `get` prints them whole). --start is inclusive, --end',
    'exclusive; with --reverse the same range is listed from the top down.',
    'With --json prints one array of {key, value, size, priority} (value null: lazy, not stored here).',
  ].join('\n'),
  options: {
    prefix: { type: 'string', short: 'p' },
    start: { type: 'string' },
    end: { type: 'string' },
    reverse: { type: 'boolean', short: 'r' },
    limit: { type: 'string', short: 'n' },
    keys: { type: 'boolean', short: 'k' },
  },
  optionHelp: [
    ['-p, --prefix P', 'only keys that start with P'],
    ['--start K', 'first key (inclusive)'],
    ['--end K', 'key to stop before (exclusive)'],
    ['-r, --reverse', 'from the last key down'],
    ['-n, --limit N', 'at most N entries'],
    ['-k, --keys', 'keys only'],
  ],
  json: true,
  args: { min: 1, max: 1 },
  run,
}
