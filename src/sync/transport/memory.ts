import { LedgerError } from '../../errors/index.js'
import { TransportBase } from './base.js'
import { frameTooLarge, peerClosed } from './errors.js'
import { DEFAULT_MAX_FRAME_BYTES, type Transport } from './interface.js'
import { seededRandom } from './prng.js'

/** Options of {@link createMemoryLink}. Fault rates are probabilities in [0, 1], drawn per frame. */
export interface MemoryLinkOptions {
  /**
   * Largest frame the receiving side accepts; a bigger one closes the link with `NETWORK_ERROR`
   * (`data: { reason: 'frame-too-large', size, max }`) on the receiving side.
   * @default 16 MiB
   */
  maxFrameBytes?: number | undefined
  /** Probability that a frame is silently lost. @default 0 */
  dropRate?: number | undefined
  /** Probability that a frame is delivered twice (back to back). @default 0 */
  duplicateRate?: number | undefined
  /**
   * Probability that a frame is held back and delivered after the next frame in the same
   * direction (or after one more turn of the event loop when no next frame comes). @default 0
   */
  reorderRate?: number | undefined
  /** Seed of the fault generator; the same seed and the same sends give the same faults. @default 1 */
  seed?: number | undefined
  /**
   * Cut the link (both sides close with `NETWORK_ERROR`) once this many frames have been
   * delivered, counting both directions and duplicates. Frames still in flight are lost.
   */
  cutAfter?: number | undefined
  /**
   * The first `faultsAfter` frames in each direction are exempt from drop, duplicate and reorder
   * faults: the handshake takes 2 frames each way, so 2 lets it through cleanly. @default 0
   * @example createMemoryLink({ dropRate: 0.1, seed: 7, faultsAfter: 2 })
   */
  faultsAfter?: number | undefined
}

class MemoryTransport extends TransportBase {
  readonly #link: MemoryLink
  readonly #side: 0 | 1

  constructor(link: MemoryLink, side: 0 | 1) {
    super()
    this.#link = link
    this.#side = side
  }

  protected transmit(frame: Uint8Array): void {
    this.#link.send(this.#side, frame)
  }

  protected release(err: LedgerError | undefined): Promise<void> {
    this.#link.cut(this.#side, err)
    return Promise.resolve()
  }

  /** Called by the link: a frame arrived for this side. */
  receive(frame: Uint8Array): void {
    this.deliver(frame)
  }
}

interface Direction {
  readonly random: () => number
  readonly queue: Uint8Array[]
  held: Uint8Array | undefined
  heldTurns: number
  sent: number
  scheduled: boolean
}

class MemoryLink {
  readonly ends: readonly [MemoryTransport, MemoryTransport]
  readonly #dirs: readonly [Direction, Direction]
  readonly #max: number
  readonly #drop: number
  readonly #duplicate: number
  readonly #reorder: number
  readonly #faultsAfter: number
  readonly #cutAfter: number | undefined
  #delivered = 0
  #cut = false
  #cutting = false

  constructor(options: MemoryLinkOptions) {
    this.#max = positiveInteger(options.maxFrameBytes, 'maxFrameBytes') ?? DEFAULT_MAX_FRAME_BYTES
    this.#drop = rate(options.dropRate, 'dropRate')
    this.#duplicate = rate(options.duplicateRate, 'duplicateRate')
    this.#reorder = rate(options.reorderRate, 'reorderRate')
    this.#faultsAfter = nonNegativeInteger(options.faultsAfter, 'faultsAfter') ?? 0
    this.#cutAfter = nonNegativeInteger(options.cutAfter, 'cutAfter')
    const seed = options.seed ?? 1
    if (!Number.isFinite(seed)) throw LedgerError.invalidArgument('seed must be a finite number')
    this.#dirs = [direction(seededRandom(seed)), direction(seededRandom(seed ^ 0x5bd1e995))]
    this.ends = [new MemoryTransport(this, 0), new MemoryTransport(this, 1)]
    if (this.#cutAfter === 0) this.#scheduleCut()
  }

  send(from: 0 | 1, frame: Uint8Array): void {
    if (this.#cut || this.#cutting) return
    const dir = this.#dirs[from]
    const copy = new Uint8Array(frame)
    dir.sent++
    let duplicate = false
    let reorder = false
    if (dir.sent > this.#faultsAfter) {
      // Always three draws per frame, so each fault's stream stays aligned whatever the rates.
      const drop = dir.random() < this.#drop
      duplicate = dir.random() < this.#duplicate
      reorder = dir.random() < this.#reorder
      if (drop) return
    }
    if (reorder && dir.held === undefined) {
      dir.held = copy
      dir.heldTurns = 0
      if (duplicate) dir.queue.push(new Uint8Array(copy))
    } else {
      dir.queue.push(copy)
      if (duplicate) dir.queue.push(new Uint8Array(copy))
      if (dir.held !== undefined) {
        dir.queue.push(dir.held)
        dir.held = undefined
      }
    }
    this.#schedule(from)
  }

  cut(from: 0 | 1, err: LedgerError | undefined): void {
    if (this.#cut) return
    this.#cut = true
    for (const dir of this.#dirs) {
      dir.queue.length = 0
      dir.held = undefined
    }
    const other = this.ends[from === 0 ? 1 : 0]
    void other.close(peerClosed({ unauthorized: err?.code === 'UNAUTHORIZED', message: err?.message ?? '' }))
  }

  #schedule(from: 0 | 1): void {
    const dir = this.#dirs[from]
    if (dir.scheduled) return
    dir.scheduled = true
    setImmediate(() => this.#drain(from))
  }

  #drain(from: 0 | 1): void {
    const dir = this.#dirs[from]
    dir.scheduled = false
    const receiver = this.ends[from === 0 ? 1 : 0]
    while (!this.#cut && !this.#cutting) {
      const frame = dir.queue.shift()
      if (frame === undefined) break
      if (frame.length > this.#max) {
        void receiver.close(frameTooLarge(this.#max, frame.length))
        return
      }
      receiver.receive(frame)
      this.#delivered++
      if (this.#cutAfter !== undefined && this.#delivered >= this.#cutAfter) this.#scheduleCut()
    }
    if (this.#cut || this.#cutting || dir.held === undefined) return
    // A held frame with no successor: let one more turn pass, then deliver it late.
    if (dir.heldTurns >= 1) {
      dir.queue.push(dir.held)
      dir.held = undefined
    } else {
      dir.heldTurns++
    }
    this.#schedule(from)
  }

  #scheduleCut(): void {
    if (this.#cutting) return
    this.#cutting = true
    // Let the listeners of the last delivered frame run (backlog flushes are microtasks) first.
    setImmediate(() => {
      void this.ends[0].close(LedgerError.network(`link cut after ${this.#delivered} frames (fault injection)`))
    })
  }
}

function direction(random: () => number): Direction {
  return { random, queue: [], held: undefined, heldTurns: 0, sent: 0, scheduled: false }
}

function rate(value: number | undefined, name: string): number {
  if (value === undefined) return 0
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
    throw LedgerError.invalidArgument(`${name} must be a number between 0 and 1`)
  }
  return value
}

function nonNegativeInteger(value: number | undefined, name: string): number | undefined {
  if (value === undefined) return undefined
  if (!Number.isSafeInteger(value) || value < 0) throw LedgerError.invalidArgument(`${name} must be a non-negative integer`)
  return value
}

function positiveInteger(value: number | undefined, name: string): number | undefined {
  if (value === undefined) return undefined
  if (!Number.isSafeInteger(value) || value < 1) throw LedgerError.invalidArgument(`${name} must be a positive integer`)
  return value
}

/**
 * Two transports joined in memory: what one sends the other receives, as the same bytes a
 * network would carry, asynchronously and (without faults) in order. Closing either side cuts
 * both, like a network: frames still in flight are lost; the other side's close listeners get
 * `NETWORK_ERROR` (or `UNAUTHORIZED` when the closer gave an `UNAUTHORIZED` error).
 *
 * The fault options (`dropRate`, `duplicateRate`, `reorderRate`, `cutAfter`) are for property
 * tests; their choices come from a PRNG seeded with `seed`, so a failing run replays exactly.
 * @throws LedgerError INVALID_ARGUMENT for an option out of range.
 * @example
 * const [a, b] = createMemoryLink()
 * b.onMessage((frame) => console.log(frame))
 * a.send(new Uint8Array([1, 2, 3]))
 */
export function createMemoryLink(options: MemoryLinkOptions = {}): [Transport, Transport] {
  const link = new MemoryLink(options)
  return [link.ends[0], link.ends[1]]
}
