import type { Ledger, Listener, ListenOptions, Peer } from '../index.js'
import type { OptionHelp, OptionSpec } from './interface.js'
import type { Invocation } from './invocation.js'

/** Options of commands that serve the sync protocol. */
export const listenOptions: OptionSpec = {
  host: { type: 'string' },
  port: { type: 'string' },
}

export const listenHelp: readonly OptionHelp[] = [
  ['--host H', 'address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)'],
  ['--port N', 'port to listen on (default 0: any free port; the URL printed names it)'],
]

export const tokenOption: OptionSpec = { token: { type: 'string' } }

export const tokenHelp: OptionHelp = [
  '--token T',
  'shared secret peers must prove (default: $DAGKV_TOKEN; prefer it, argv is visible to other users)',
]

/** The shared secret from `--token`, else `$DAGKV_TOKEN`, else none. */
export function tokenOf(inv: Invocation): string | undefined {
  const token = inv.string('token') ?? process.env.DAGKV_TOKEN
  return token === '' ? undefined : token
}

/**
 * The command's `--host`, `--port` and token as listen options. Read before the store is opened,
 * so a bad value is a usage error even when the store is locked.
 */
export function listenOptionsOf(inv: Invocation): ListenOptions {
  const options: ListenOptions = { host: inv.string('host') ?? '127.0.0.1' }
  const port = inv.integer('port', 0, 65535)
  if (port !== undefined) options.port = port
  const token = tokenOf(inv)
  if (token !== undefined) options.token = token
  return options
}

/** Serves the store's ledger over WebSocket with options from `listenOptionsOf`. */
export function listenFor(ledger: Ledger, options: ListenOptions): Promise<Listener> {
  return ledger.listen(options)
}

/** Connects the ledger to the replica served at `url`, with the command's token. */
export function connectTo(inv: Invocation, ledger: Ledger, url: string): Promise<Peer> {
  const token = tokenOf(inv)
  return ledger.connect(url, token === undefined ? {} : { token })
}
