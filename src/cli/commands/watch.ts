import type { Listener, PageChange, Peer } from '../../index.js'
import type { Command } from '../interface.js'
import type { Invocation } from '../invocation.js'
import { connectTo, listenFor, listenHelp, listenOptionsOf, listenOptions, tokenHelp, tokenOption } from '../network.js'
import { untilSignal } from '../signals.js'
import { entryJson } from './ls.js'

/** Most keys named on one text line; the rest are counted. */
const KEYS_PER_LINE = 10

function changeLine(inv: Invocation, change: PageChange): string {
  const items = [
    ...change.changed.map((e) => `${inv.showShort(e.key, 40)}=${e.value === undefined ? '(lazy)' : inv.showShort(e.value, 40)}`),
    ...change.deleted.map((k) => `-${inv.showShort(k, 40)}`),
  ]
  const shown = items.slice(0, KEYS_PER_LINE).join(' ')
  const more = items.length > KEYS_PER_LINE ? ` … (+${items.length - KEYS_PER_LINE} more)` : ''
  const state = change.state === 'completed' ? '' : ` [${change.state}]`
  return `${new Date(change.timestamp).toISOString()}\t${change.origin}${state}\t${shown}${more}`
}

function changeJson(inv: Invocation, change: PageChange): Record<string, unknown> {
  return {
    timestamp: change.timestamp,
    time: new Date(change.timestamp).toISOString(),
    origin: change.origin,
    state: change.state,
    changed: change.changed.map((e) => entryJson(inv, e)),
    deleted: change.deleted.map((k) => inv.show(k)),
  }
}

async function run(inv: Invocation): Promise<number | undefined> {
  const prefix = inv.bytesOption('prefix')
  const connect = inv.string('connect')
  const serve = inv.flag('serve')
  if (!serve && (inv.string('host') !== undefined || inv.string('port') !== undefined)) {
    throw inv.usage('--host and --port need --serve')
  }
  const listenOpts = serve ? listenOptionsOf(inv) : undefined
  const signal = untilSignal()
  let failure: unknown
  const status = await inv.withLedger(async (ledger) => {
    const page = await inv.page(ledger)
    const watcher = await page.watch(
      async (change) => {
        try {
          if (inv.json) await inv.out.json(changeJson(inv, change))
          else await inv.out.line(changeLine(inv, change))
        } catch (err) {
          failure = err
          signal.stop('output failed')
        }
      },
      prefix === undefined ? {} : { prefix },
    )
    let listener: Listener | undefined
    let peer: Peer | undefined
    try {
      if (listenOpts !== undefined) listener = await listenFor(ledger, listenOpts)
      if (connect !== undefined) peer = await connectTo(inv, ledger, connect)
      const where = [listener ? `; listening on ${listener.url}` : '', peer ? `; connected to ${connect}` : ''].join('')
      await inv.err.line(`dagkv: watching page ${inv.show(page.id)} from commit ${watcher.snapshot.commitId}${where}`)
      await signal.done
    } finally {
      watcher.close()
      await peer?.close()
      await listener?.close()
    }
    return failure === undefined ? 0 : 1
  })
  if (failure !== undefined) throw failure
  return status
}

/** `dagkv watch PAGE`: one line per change until interrupted. */
export const watch: Command = {
  name: 'watch',
  summary: 'print one line per change to a page until Ctrl-C',
  usage: 'watch [--prefix P] [--json] [--serve [--host H] [--port N]] [--connect URL] [--token T] PAGE',
  description: [
    'Prints one line per change that reaches PAGE: TIME, ORIGIN (local or remote) and the keys, as',
    '`KEY=VALUE` for puts and `-KEY` for deletions. Runs until SIGINT (Ctrl-C) or SIGTERM, then closes',
    'the store cleanly. A status line goes to standard error when watching starts.',
    'The store stays locked while watching, so changes come from peers: with --serve the watcher also',
    'serves the sync protocol (other stores `dagkv sync` to it), with --connect it follows a served store.',
    'With --json prints one JSON object per line (JSON Lines): {timestamp, time, origin, state,',
    'changed: [{key, value, size, priority}], deleted: [KEY]}.',
  ].join('\n'),
  options: {
    prefix: { type: 'string', short: 'p' },
    serve: { type: 'boolean' },
    connect: { type: 'string' },
    ...listenOptions,
    ...tokenOption,
  },
  optionHelp: [
    ['-p, --prefix P', 'only changes to keys that start with P'],
    ['--serve', 'also serve the sync protocol, so peers can push changes here'],
    ...listenHelp,
    ['--connect URL', 'also follow the store served at URL (ws://host:port)'],
    tokenHelp,
  ],
  json: true,
  args: { min: 1, max: 1 },
  run,
}
