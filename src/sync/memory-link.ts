import { LedgerError } from '../errors/index.js'
import { engineOf, type Ledger } from '../ledger/index.js'
import { SyncNetwork } from './network.js'
import { createMemoryLink, type MemoryLinkOptions } from './transport/index.js'

/** An in-memory link between two ledgers. */
export interface MemoryLink {
  /** Cuts the link, as a network would: both sides see the connection drop. */
  close(): Promise<void>
}

/** @internal A link with fault injection, and a promise for both handshakes (tests). */
export interface TestLink extends MemoryLink {
  readonly ready: Promise<void>
}

/** The sync layer of a ledger; NETWORK_ERROR if it has none (sync not registered). */
export function networkOf(ledger: Ledger): SyncNetwork {
  const engine = engineOf(ledger)
  engine.assertOpen()
  const network = engine.network
  if (!(network instanceof SyncNetwork)) throw LedgerError.network('sync is not available')
  return network
}

/**
 * Links two ledgers in this process through the sync protocol, over an in-memory transport (same
 * handshake, messages and codec as WebSocket, no sockets). Returns at once; sync calls wait for
 * the handshake. `close()` cuts the link mid-exchange like a network would.
 * @throws LedgerError CLOSED if either ledger is closed; INVALID_ARGUMENT for a ledger linked to itself.
 * @example
 * const link = connectInMemory(a, b)
 * await (await a.page('p')).sync()
 * await link.close()
 */
export function connectInMemory(a: Ledger, b: Ledger): MemoryLink {
  const link = linkInMemory(a, b)
  return { close: link.close }
}

/** @internal `connectInMemory` with the in-memory transport's options (faults, frame limit). */
export function linkInMemory(a: Ledger, b: Ledger, options: MemoryLinkOptions = {}): TestLink {
  const na = networkOf(a)
  const nb = networkOf(b)
  if (na === nb) throw LedgerError.invalidArgument('cannot link a ledger to itself')
  const [ta, tb] = createMemoryLink(options)
  let closing: Promise<void> | undefined
  const close = (): Promise<void> => {
    closing ??= (async () => {
      untrackA()
      untrackB()
      await ta.close(LedgerError.network('the in-memory link was cut'))
      await tb.close()
    })()
    return closing
  }
  const untrackA = na.track(close)
  const untrackB = nb.track(close)
  const max = options.maxFrameBytes
  const ready = Promise.all([
    na.attach(ta, { role: 'client', maxFrameBytes: max, awaited: true }),
    nb.attach(tb, { role: 'server', maxFrameBytes: max, awaited: true }),
  ]).then(() => undefined)
  ready.catch(() => undefined)
  return { close, ready }
}
