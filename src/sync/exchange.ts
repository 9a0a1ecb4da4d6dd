import type { LedgerError } from '../errors/index.js'
import type { Tally } from './tally.js'
import type { Message } from './wire.js'

/**
 * One request this side sent and the response frames coming back for it, in order. A response
 * may span several frames (`more: true` on all but the last); `next()` yields them one by one,
 * then undefined. If the connection ends first, `next()` rejects with the reason.
 */
export class Exchange {
  readonly id: number
  /** The counters of the call that sent the request. */
  readonly tally: Tally
  readonly #queue: Message[] = []
  #waiter: { resolve: (m: Message | undefined) => void; reject: (err: LedgerError) => void } | undefined
  #error: LedgerError | undefined
  #complete = false

  constructor(id: number, tally: Tally) {
    this.id = id
    this.tally = tally
  }

  /** Called by the session with each response frame; `final` on the last one. */
  push(message: Message, final: boolean): void {
    if (final) this.#complete = true
    const waiter = this.#waiter
    if (waiter) {
      this.#waiter = undefined
      waiter.resolve(message)
    } else {
      this.#queue.push(message)
    }
  }

  /** Called by the session when the connection ends before the response is complete. */
  fail(err: LedgerError): void {
    if (this.#complete) return
    this.#error ??= err
    const waiter = this.#waiter
    this.#waiter = undefined
    waiter?.reject(err)
  }

  /** The next response frame; undefined once the last one was returned. */
  next(): Promise<Message | undefined> {
    const queued = this.#queue.shift()
    if (queued !== undefined) return Promise.resolve(queued)
    if (this.#complete) return Promise.resolve(undefined)
    if (this.#error) return Promise.reject(this.#error)
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject }
    })
  }
}
