import * as dagCbor from '@ipld/dag-cbor'
import { onTestFinished } from 'vitest'
import type { Ledger } from 'dagkv'
import type { LedgerError } from '../../src/errors/index.js'
import { networkOf } from '../../src/sync/index.js'
import { handshake } from '../../src/sync/handshake.js'
import { createMemoryLink, type MemoryLinkOptions, type Transport } from '../../src/sync/transport/index.js'
import { decodeMessage, type Message } from '../../src/sync/wire.js'

/**
 * A hand-driven peer: a raw in-memory transport that did the real handshake with a ledger (as
 * the client) and then sends whatever a test writes, sequence numbers included.
 */
export class FakePeer {
  readonly transport: Transport
  /** What the ledger's side of the link reported when it closed. */
  readonly closed: Promise<LedgerError | undefined>
  readonly #inbox: Message[] = []
  readonly #waiters: ((m: Message) => void)[] = []
  #seq = 0

  private constructor(transport: Transport, closed: Promise<LedgerError | undefined>) {
    this.transport = transport
    this.closed = closed
    transport.onMessage((frame) => {
      const m = decodeMessage(frame)
      const w = this.#waiters.shift()
      if (w) w(m)
      else this.#inbox.push(m)
    })
  }

  /** Links a fake peer to `ledger` (whose network runs the real session on its end). */
  static async attach(ledger: Ledger, options: MemoryLinkOptions = {}): Promise<FakePeer> {
    const [mine, theirs] = createMemoryLink(options)
    const closed = new Promise<LedgerError | undefined>((resolve) => theirs.onClose(resolve))
    const session = networkOf(ledger).attach(theirs, { role: 'server', awaited: true, maxFrameBytes: options.maxFrameBytes })
    await handshake(mine, { role: 'client', replicaId: 'fake-peer', maxFrameBytes: options.maxFrameBytes })
    await session
    onTestFinished(() => mine.close())
    return new FakePeer(mine, closed)
  }

  /** Sends a message with the next sequence number. */
  send(message: Record<string, unknown>): void {
    this.transport.send(dagCbor.encode({ ...message, s: this.#seq++ }))
  }

  /** Sends raw bytes as a frame. */
  sendRaw(frame: Uint8Array): void {
    this.transport.send(frame)
  }

  /** The next message from the ledger, skipping announcements unless `t` asks for them. */
  async next(t?: string): Promise<Message> {
    for (;;) {
      const m = this.#inbox.shift() ?? (await new Promise<Message>((resolve) => this.#waiters.push(resolve)))
      if (t === undefined ? m.t !== 'heads' : m.t === t) return m
    }
  }
}
