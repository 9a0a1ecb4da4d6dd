import type { BlockFetcher } from '../value/interface.js'
import type { Engine } from './engine.js'
import type { Listener, ListenOptions, PageSyncState, Peer, SyncMode, SyncStats } from './interface.js'

/** What the sync layer provides to a ledger; the ledger layer only knows this shape. */
export interface Network {
  listen(options: ListenOptions): Promise<Listener>
  connect(url: string, options: { token?: string }): Promise<Peer>
  syncPage(pageId: Uint8Array, options: { mode: SyncMode; peers?: string[] }): Promise<SyncStats>
  syncState(pageId: Uint8Array): PageSyncState
  onSyncState(pageId: Uint8Array, listener: (state: PageSyncState) => void): () => void
  readonly fetcher: BlockFetcher
  close(): Promise<void>
}

export type NetworkFactory = (engine: Engine, options: { autoSync: boolean }) => Network

let factory: NetworkFactory | undefined

/** The sync layer registers itself here when it is imported (layers only import downward). */
export function registerNetwork(f: NetworkFactory): void {
  factory = f
}

export function createNetwork(engine: Engine, options: { autoSync: boolean }): Network | undefined {
  return factory?.(engine, options)
}

export const ZERO_STATS: SyncStats = Object.freeze({
  commitsSent: 0,
  commitsReceived: 0,
  blocksSent: 0,
  blocksReceived: 0,
  bytesSent: 0,
  bytesReceived: 0,
  roundTrips: 0,
})
