import { toHex, type CID } from '../codec/index.js'
import type { SyncContext } from './context.js'
import { fieldCids, fieldPage, toArray, toCids, toId, toPage } from './fields.js'
import { serveBlocks } from './serve-blocks.js'
import { servePull } from './serve-pull.js'
import type { Session } from './session.js'
import { Tally } from './tally.js'
import { protocolViolation } from './transport/index.js'
import type { Message } from './wire.js'

/** Most heads per page in a message. */
export const MAX_HEADS = 1024
/** Most pages in one `heads` announcement. */
const MAX_ANNOUNCED_PAGES = 4096

/** What the dispatcher needs from the network besides the shared context. */
export interface DispatchTarget {
  readonly ctx: SyncContext
  /** The peer announced new heads for a page (autoSync pulls what is missing). */
  announced(session: Session, pageId: Uint8Array, heads: CID[]): void
}

/**
 * Handles a message from the peer that is not a response: `heads` (an announcement), `pull`,
 * `getBlocks` and `pleasePull` (requests). Anything else is a protocol violation.
 */
export async function dispatch(target: DispatchTarget, session: Session, message: Message, frameBytes: number): Promise<void> {
  const ctx = target.ctx
  switch (message.t) {
    case 'heads': {
      for (const entry of toArray(message['pages'], 'heads.pages', MAX_ANNOUNCED_PAGES)) {
        if (!Array.isArray(entry) || entry.length !== 2) throw protocolViolation('heads.pages must hold [page, heads] pairs')
        target.announced(session, toPage(entry[0], 'heads page'), toCids(entry[1], 'heads', MAX_HEADS))
      }
      return
    }
    case 'pull':
      return session.serving.add(() => servePull(ctx, session, message, frameBytes))
    case 'getBlocks':
      return session.serving.add(() => serveBlocks(ctx, session, message, frameBytes))
    case 'pleasePull':
      return servePleasePull(ctx, session, message, frameBytes)
    default:
      throw protocolViolation(`unexpected message ${JSON.stringify(message.t.slice(0, 40))}`)
  }
}

/**
 * Answers `pleasePull {id, page, heads}` (the peer pushes): pulls the page from the peer unless
 * every head is stored here already, then answers `done`. The pull names the push (`for`), so the
 * pusher counts what it sends for it in its own sync call.
 */
async function servePleasePull(ctx: SyncContext, session: Session, message: Message, frameBytes: number): Promise<void> {
  const id = toId(message['id'], 'pleasePull.id')
  const page = fieldPage(message)
  const heads = fieldCids(message, 'heads', MAX_HEADS)
  const hex = toHex(page)
  session.pages.add(hex)
  session.remoteHeads.set(hex, heads)
  const present = await ctx.engine.store.getBlocks(heads)
  if (present.some((b) => b === undefined)) {
    const tally = new Tally()
    tally.bytesReceived += frameBytes
    await ctx.pull(session, page, tally, id)
  }
  session.send({ t: 'done', re: id })
}
