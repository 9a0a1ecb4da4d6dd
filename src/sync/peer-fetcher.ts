import type { CID } from '../codec/index.js'
import { LedgerError } from '../errors/index.js'
import type { BlockFetcher } from '../value/index.js'
import { requestBlocks } from './fetch-blocks.js'
import type { Session } from './session.js'
import { Tally } from './tally.js'

/**
 * Fetches blocks (lazy values) from connected peers, one peer after another until every block
 * is found. Blocks are verified here too: a peer that sends a bad one is dropped with
 * DATA_INTEGRITY_ERROR, which the read then rejects with. With no peer (or none having the
 * blocks) it returns what it found, and the value layer reports NETWORK_ERROR.
 */
export class PeerFetcher implements BlockFetcher {
  readonly #sessions: () => Promise<Session[]>

  constructor(sessions: () => Promise<Session[]>) {
    this.#sessions = sessions
  }

  async fetchBlocks(cids: CID[]): Promise<Map<string, Uint8Array>> {
    const out = new Map<string, Uint8Array>()
    let remaining = cids
    for (const session of await this.#sessions()) {
      if (remaining.length === 0) break
      if (session.closed) continue
      try {
        const got = await requestBlocks(session, remaining, new Tally(), undefined)
        for (const [key, bytes] of got) out.set(key, bytes)
        remaining = remaining.filter((c) => !out.has(c.toString()))
      } catch (err) {
        const fault =
          LedgerError.is(err, 'DATA_INTEGRITY_ERROR') ||
          (LedgerError.is(err, 'NETWORK_ERROR') && err.data?.['reason'] === 'protocol-violation')
        if (fault) {
          void session.close(err)
          throw err
        }
        // The connection failed meanwhile: try the next peer.
      }
    }
    return out
  }
}
