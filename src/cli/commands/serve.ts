import type { Command } from '../interface.js'
import { listenFor, listenHelp, listenOptionsOf, listenOptions, tokenHelp, tokenOption } from '../network.js'
import { untilSignal } from '../signals.js'

/** `dagkv serve`: serves the store to peers over WebSocket until interrupted. */
export const serve: Command = {
  name: 'serve',
  summary: 'serve the store to peers over WebSocket until Ctrl-C',
  usage: 'serve [--host H] [--port N] [--token T] [--json]',
  description: [
    'Serves every page of the store over the sync protocol and prints the URL peers connect to',
    '(`ws://HOST:PORT`) on standard output, then runs until SIGINT (Ctrl-C) or SIGTERM and closes',
    'cleanly. Pages sync with connected peers by themselves: what one peer pushes is passed on to the',
    'others. With a token, a peer that cannot prove it is refused (UNAUTHORIZED) and learns nothing.',
    'With --json prints {url, port}.',
  ].join('\n'),
  options: { ...listenOptions, ...tokenOption },
  optionHelp: [...listenHelp, tokenHelp],
  json: true,
  args: { min: 0, max: 0 },
  async run(inv) {
    const options = listenOptionsOf(inv)
    const signal = untilSignal()
    await inv.withLedger(async (ledger) => {
      const listener = await listenFor(ledger, options)
      try {
        if (inv.json) await inv.out.json({ url: listener.url, port: listener.port })
        else await inv.out.line(listener.url)
        await signal.done
      } finally {
        await listener.close()
      }
    })
    return undefined
  },
}
