import PQueue from 'p-queue'
import type { CID } from '../codec/index.js'
import { LedgerError } from '../errors/index.js'
import { Exchange } from './exchange.js'
import { fieldMore, toId } from './fields.js'
import type { Tally } from './tally.js'
import { asLedgerError, protocolViolation, timedOut, type Transport } from './transport/index.js'
import { decodeMessage, encodeMessage, type Message } from './wire.js'

/** Default of the inactivity timeout: a request with no frame from the peer for this long fails. */
export const DEFAULT_TIMEOUT_MS = 30_000

/** The peer's `pull` and `getBlocks` requests served at once (more wait their turn). */
export const SERVE_CONCURRENCY = 4

/** Message types that answer a request (they carry `re`, the request's id). */
const RESPONSES: ReadonlySet<string> = new Set(['commits', 'blocks', 'done'])

export interface SessionOptions {
  readonly remoteId: string
  readonly remoteMaxFrameBytes: number
  /** Inactivity timeout of pending requests, in ms. */
  readonly timeoutMs: number
  /** Handles a message that is not a response (an announcement or a request from the peer). */
  readonly onRequest: (session: Session, message: Message, frameBytes: number) => Promise<void>
  readonly onClose: (session: Session, err: LedgerError | undefined) => void
}

/**
 * The sync session with one peer, over one transport, after the handshake: sequenced frames,
 * requests with ids and their (possibly multi-frame) responses, an inactivity timeout, and the
 * dispatch of the peer's own requests. Every page is multiplexed on it.
 *
 * Every frame carries `s`, its sequence number in its direction (0, 1, …). The transports are
 * reliable and ordered, so a gap, a repeat or a reordering means a broken link or peer: a
 * protocol violation, and the session ends.
 */
export class Session {
  readonly remoteId: string
  readonly remoteMaxFrameBytes: number
  /** Pages this session exchanged anything about (hex ids), for reporting a dropped connection. */
  readonly pages = new Set<string>()
  /** Heads the peer is known to have (announced, pulled from it, or pushed to it), per page hex id. */
  readonly remoteHeads = new Map<string, CID[]>()
  /** The heads the peer last announced, per page hex id (what an automatic pull goes after). */
  readonly announced = new Map<string, CID[]>()
  /** Bounds the work one peer can make this side do at once (serving never waits on the peer). */
  readonly serving = new PQueue({ concurrency: SERVE_CONCURRENCY })
  readonly #transport: Transport
  readonly #options: SessionOptions
  readonly #exchanges = new Map<number, Exchange>()
  #seqOut = 0
  #seqIn = 0
  #nextId = 1
  #lastHeard = Date.now()
  #watchdog: NodeJS.Timeout | undefined
  #closed = false
  #closeError: LedgerError | undefined

  constructor(transport: Transport, options: SessionOptions) {
    this.#transport = transport
    this.#options = options
    this.remoteId = options.remoteId
    this.remoteMaxFrameBytes = options.remoteMaxFrameBytes
    transport.onClose((err) => this.#ended(err))
    transport.onMessage((frame) => this.#onFrame(frame))
  }

  get closed(): boolean {
    return this.#closed || this.#transport.closed
  }

  /** Why the session ended (undefined while open or after a plain local close). */
  get closeError(): LedgerError | undefined {
    return this.#closeError
  }

  /** Sends one message as one frame (adding its sequence number); counts its bytes in `tally`. */
  send(message: Message, tally?: Tally): void {
    if (this.closed) throw this.#closeError ?? LedgerError.network('the connection is closed')
    const frame = encodeMessage({ ...message, s: this.#seqOut })
    if (frame.length > this.remoteMaxFrameBytes) {
      throw LedgerError.network(`a ${message.t} message of ${frame.length} bytes is over the peer's frame limit of ${this.remoteMaxFrameBytes}`)
    }
    this.#seqOut++
    if (tally) tally.bytesSent += frame.length
    this.#transport.send(frame)
  }

  /** Sends a request (adding its id) and returns the exchange its response arrives on. */
  request(message: Message, tally: Tally): Exchange {
    const id = this.#nextId++
    const exchange = new Exchange(id, tally)
    this.send({ ...message, id }, tally)
    tally.roundTrips++
    this.#exchanges.set(id, exchange)
    this.#lastHeard = Date.now()
    this.#arm()
    return exchange
  }

  /** The tally of a request of ours still waiting for its answer (to count work done for it). */
  tallyFor(id: number | undefined): Tally | undefined {
    return id === undefined ? undefined : this.#exchanges.get(id)?.tally
  }

  /** Ends the session; `err` says why (the peer is told, pending requests reject with it). */
  close(err?: LedgerError): Promise<void> {
    if (err && !this.#closed) this.#closeError ??= err
    return this.#transport.close(err)
  }

  #onFrame(frame: Uint8Array): void {
    this.#lastHeard = Date.now()
    const message = decodeMessage(frame)
    if (message['s'] !== this.#seqIn) {
      throw protocolViolation(`frame out of sequence: expected ${this.#seqIn}, got ${String(message['s']).slice(0, 20)}`)
    }
    this.#seqIn++
    if (RESPONSES.has(message.t)) {
      const re = toId(message['re'], `${message.t}.re`)
      const exchange = this.#exchanges.get(re)
      if (!exchange) throw protocolViolation(`${message.t} answers request ${re}, which is not pending`)
      exchange.tally.bytesReceived += frame.length
      const final = message.t === 'done' || !fieldMore(message)
      if (final) this.#exchanges.delete(re)
      exchange.push(message, final)
      return
    }
    this.#options.onRequest(this, message, frame.length).catch((err: unknown) => {
      void this.close(asLedgerError(err, `handling ${message.t} failed`))
    })
  }

  #ended(err: LedgerError | undefined): void {
    if (this.#closed) return
    this.#closed = true
    this.#closeError ??= err
    if (this.#watchdog) clearInterval(this.#watchdog)
    const reason = this.#closeError ?? LedgerError.network(`the connection to ${this.remoteId} was closed`)
    for (const exchange of this.#exchanges.values()) exchange.fail(reason)
    this.#exchanges.clear()
    this.#options.onClose(this, err)
  }

  /** Runs the inactivity watchdog while requests are pending. */
  #arm(): void {
    if (this.#watchdog || this.#closed) return
    const timeout = this.#options.timeoutMs
    const tick = Math.max(5, Math.min(1000, Math.floor(timeout / 4)))
    this.#watchdog = setInterval(() => {
      if (this.#exchanges.size === 0) {
        clearInterval(this.#watchdog)
        this.#watchdog = undefined
        return
      }
      if (Date.now() - this.#lastHeard > timeout) void this.close(timedOut(`waiting for ${this.remoteId}`, timeout))
    }, tick)
    this.#watchdog.unref()
  }
}
