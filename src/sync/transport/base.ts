import type { LedgerError } from '../../errors/index.js'
import { asLedgerError } from './errors.js'
import type { Transport } from './interface.js'

interface Subscription<F> {
  readonly fn: F
  active: boolean
}

type MessageListener = (frame: Uint8Array) => void
type CloseListener = (err: LedgerError | undefined) => void

/**
 * The part of the {@link Transport} contract every implementation shares: listener bookkeeping,
 * the backlog of frames that arrive while nobody listens, listener isolation and close-once.
 *
 * A subclass implements `transmit` (put one frame on the link; only called while open) and
 * `release` (tear the link down; called exactly once, with the error that ended it). It reports
 * an arriving frame with `deliver`, and any end of the link (peer close, network failure, local
 * protocol violation) by calling `close(err)` on itself.
 */
export abstract class TransportBase implements Transport {
  #messageListeners: Subscription<MessageListener>[] = []
  #closeListeners: Subscription<CloseListener>[] = []
  #backlog: Uint8Array[] = []
  #flushScheduled = false
  #closed = false
  #closeError: LedgerError | undefined
  #released: Promise<void> | undefined

  /** Puts one frame on the link. Only called while the transport is open. */
  protected abstract transmit(frame: Uint8Array): void

  /** Releases the underlying resource; `err` is why the link ended (undefined: a plain close). */
  protected abstract release(err: LedgerError | undefined): Promise<void>

  get closed(): boolean {
    return this.#closed
  }

  send(frame: Uint8Array): void {
    if (this.#closed) return
    this.transmit(frame)
  }

  onMessage(listener: MessageListener): () => void {
    const sub: Subscription<MessageListener> = { fn: listener, active: true }
    if (!this.#closed) {
      this.#messageListeners.push(sub)
      if (this.#backlog.length > 0) this.#scheduleFlush()
    }
    return () => {
      sub.active = false
      this.#messageListeners = this.#messageListeners.filter((s) => s !== sub)
    }
  }

  onClose(listener: CloseListener): () => void {
    const sub: Subscription<CloseListener> = { fn: listener, active: true }
    if (this.#closed) {
      queueMicrotask(() => this.#fireClose(sub))
    } else {
      this.#closeListeners.push(sub)
    }
    return () => {
      sub.active = false
    }
  }

  close(err?: LedgerError): Promise<void> {
    if (this.#released) return this.#released
    this.#closed = true
    this.#closeError = err
    this.#backlog = []
    this.#messageListeners = []
    const listeners = this.#closeListeners
    this.#closeListeners = []
    queueMicrotask(() => {
      for (const sub of listeners) this.#fireClose(sub)
    })
    let released: Promise<void>
    try {
      released = this.release(err).catch(() => undefined)
    } catch {
      released = Promise.resolve()
    }
    this.#released = released
    return released
  }

  /** Hands an arriving frame to the listeners, or to the backlog while there are none. */
  protected deliver(frame: Uint8Array): void {
    if (this.#closed) return
    if (this.#backlog.length > 0 || this.#messageListeners.length === 0) {
      this.#backlog.push(frame)
      if (this.#messageListeners.length > 0) this.#scheduleFlush()
      return
    }
    this.#dispatch(frame)
  }

  #dispatch(frame: Uint8Array): void {
    for (const sub of this.#messageListeners.slice()) {
      if (this.#closed) return
      if (!sub.active) continue
      try {
        sub.fn(frame)
      } catch (err) {
        void this.close(asLedgerError(err, 'a message listener failed'))
        return
      }
    }
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return
    this.#flushScheduled = true
    queueMicrotask(() => {
      this.#flushScheduled = false
      while (!this.#closed && this.#messageListeners.length > 0) {
        const frame = this.#backlog.shift()
        if (frame === undefined) return
        this.#dispatch(frame)
      }
    })
  }

  #fireClose(sub: Subscription<CloseListener>): void {
    if (!sub.active) return
    sub.active = false
    try {
      sub.fn(this.#closeError)
    } catch {
      // A close listener has nobody left to report to; it must not take the process down.
    }
  }
}
