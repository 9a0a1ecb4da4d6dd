import { setTimeout as sleep } from 'node:timers/promises'
import { fromHex } from '../codec/index.js'
import type { Ledger } from '../index.js'
import { networkOf } from '../sync/index.js'
import type { Session } from '../sync/session.js'

function sessionWith(ledger: Ledger, peerId: string): Session | undefined {
  return networkOf(ledger).sessions.find((s) => s.remoteId === peerId)
}

/**
 * Ids of the pages peer `peerId` has announced on this connection (a served store announces every
 * page with commits when a peer connects). Waits up to `waitMs` for a first announcement.
 */
export async function announcedPages(ledger: Ledger, peerId: string, waitMs: number): Promise<Uint8Array[]> {
  const deadline = Date.now() + waitMs
  for (;;) {
    const session = sessionWith(ledger, peerId)
    const hexes = session ? [...session.announced.keys()] : []
    if (hexes.length > 0 || !session || session.closed || Date.now() >= deadline) return hexes.map(fromHex)
    await sleep(20)
  }
}
