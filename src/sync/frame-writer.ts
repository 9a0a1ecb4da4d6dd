import type { CID } from '../codec/index.js'
import type { Session } from './session.js'
import type { Tally } from './tally.js'

/** Frames are cut at about this size (or half the peer's limit, if smaller). */
export const FRAME_TARGET_BYTES = 1024 * 1024
/** Room kept for a frame's own fields. */
const FRAME_OVERHEAD = 256
/** Encoded size of a `[cid, bytes]` pair beyond the bytes themselves (a generous bound). */
export const BLOCK_OVERHEAD = 56

/** The size a response frame is filled to, for this peer. */
export function frameBudget(session: Session): number {
  return Math.max(1024, Math.min(FRAME_TARGET_BYTES, Math.floor(session.remoteMaxFrameBytes / 2)))
}

/**
 * Writes one response (`commits` or `blocks`) as a series of frames filled to the budget: every
 * frame but the last says `more: true`; the last carries the closing fields. Sizes are estimates
 * (upper bounds), the budget is half the peer's limit, so a frame never exceeds the limit.
 */
export class FrameWriter {
  readonly #session: Session
  readonly #type: string
  readonly #re: number
  readonly #tally: Tally | undefined
  readonly #budget: number
  #items: unknown[] = []
  #blocks: [CID, Uint8Array][] = []
  #size = FRAME_OVERHEAD

  constructor(session: Session, type: 'commits' | 'blocks', re: number, tally: Tally | undefined) {
    this.#session = session
    this.#type = type
    this.#re = re
    this.#tally = tally
    this.#budget = frameBudget(session)
  }

  /** Bytes left in the current frame. */
  room(): number {
    return this.#budget - this.#size
  }

  /** Adds an item (`commits` only) of about `size` encoded bytes; starts a new frame if needed. */
  item(value: unknown, size: number): void {
    if (this.#size + size > this.#budget) this.flush()
    this.#items.push(value)
    this.#size += size
  }

  /** Adds a block; starts a new frame if needed. */
  block(cid: CID, bytes: Uint8Array): void {
    const size = bytes.length + BLOCK_OVERHEAD
    if (this.#size + size > this.#budget) this.flush()
    this.#blocks.push([cid, bytes])
    this.#size += size
  }

  /** Sends what is buffered as a non-final frame (nothing if the frame is empty). */
  flush(): void {
    if (this.#items.length === 0 && this.#blocks.length === 0) return
    this.#send({ more: true })
  }

  /** Sends the last frame with `fields` (for example `heads`). */
  finish(fields: Record<string, unknown>): void {
    this.#send(fields)
  }

  #send(fields: Record<string, unknown>): void {
    const message: Record<string, unknown> = { t: this.#type, re: this.#re, blocks: this.#blocks, ...fields }
    if (this.#type === 'commits') message['items'] = this.#items
    this.#session.send(message as { t: string }, this.#tally)
    this.#items = []
    this.#blocks = []
    this.#size = FRAME_OVERHEAD
  }
}
