import type { CID } from '../codec/index.js'
import type { SyncContext } from './context.js'
import { fieldCids, optionalId, toId } from './fields.js'
import { BLOCK_OVERHEAD, FrameWriter } from './frame-writer.js'
import type { Session } from './session.js'
import type { Message } from './wire.js'

/** Most CIDs one `getBlocks` may ask for. */
export const MAX_GET_BLOCKS = 4096
/** Blocks read from the store at a time while answering. */
const READ_BATCH = 256

/**
 * Answers `getBlocks {id, cids, for?}` with `blocks` frames: every block stored here, and in the
 * last frame `missing`, the CIDs it does not have (or that could not fit in a frame the peer
 * accepts). Any block may be asked for: a peer that passed the handshake may read the ledger.
 */
export async function serveBlocks(ctx: SyncContext, session: Session, message: Message, frameBytes: number): Promise<void> {
  const id = toId(message['id'], 'getBlocks.id')
  const cids = fieldCids(message, 'cids', MAX_GET_BLOCKS)
  const tally = session.tallyFor(optionalId(message, 'for'))
  if (tally) tally.bytesReceived += frameBytes
  const writer = new FrameWriter(session, 'blocks', id, tally)
  const missing: CID[] = []
  const limit = session.remoteMaxFrameBytes - BLOCK_OVERHEAD - 1024
  for (let i = 0; i < cids.length; i += READ_BATCH) {
    const batch = cids.slice(i, i + READ_BATCH)
    const got = await ctx.engine.store.getBlocks(batch)
    for (let j = 0; j < batch.length; j++) {
      const bytes = got[j]
      if (bytes === undefined || bytes.length > limit) {
        missing.push(batch[j]!)
        continue
      }
      writer.block(batch[j]!, bytes)
      if (tally) tally.blocksSent++
    }
  }
  writer.finish({ missing })
}
