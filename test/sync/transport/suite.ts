import { describe, expect, it, onTestFinished } from 'vitest'
import { LedgerError } from '../../../src/errors/index.js'
import type { Transport } from '../../../src/sync/transport/index.js'

/** Two connected transports; `cleanup` releases whatever else the factory opened. */
export interface TransportPair {
  readonly a: Transport
  readonly b: Transport
  cleanup?(): Promise<void>
}

export type PairFactory = () => Promise<TransportPair>

/** Resolves with the next `count` frames a transport receives. */
export function collect(t: Transport, count: number): Promise<Uint8Array[]> {
  return new Promise((resolve) => {
    const frames: Uint8Array[] = []
    const off = t.onMessage((frame) => {
      frames.push(frame)
      if (frames.length === count) {
        off()
        resolve(frames)
      }
    })
  })
}

/** Resolves with what the transport's close listeners receive. */
export function closedWith(t: Transport): Promise<LedgerError | undefined> {
  return new Promise((resolve) => t.onClose(resolve))
}

export function bytes(...values: number[]): Uint8Array {
  return new Uint8Array(values)
}

/** Opens a pair and closes everything when the test ends. */
export async function openPair(factory: PairFactory): Promise<TransportPair> {
  const pair = await factory()
  onTestFinished(async () => {
    await Promise.all([pair.a.close(), pair.b.close()])
    await pair.cleanup?.()
  })
  return pair
}

/** The Transport contract, run against every implementation. */
export function transportSuite(name: string, factory: PairFactory): void {
  describe(`Transport contract: ${name}`, () => {
    it('delivers frames both ways, in order, as the same bytes', async () => {
      const { a, b } = await openPair(factory)
      const atB = collect(b, 50)
      const atA = collect(a, 3)
      for (let i = 0; i < 50; i++) a.send(bytes(i, i + 1, 255))
      b.send(bytes())
      b.send(bytes(7))
      b.send(new Uint8Array(100_000).fill(9))
      const framesAtB = await atB
      expect(framesAtB).toEqual(Array.from({ length: 50 }, (_, i) => bytes(i, i + 1, 255)))
      for (const frame of framesAtB) expect(Object.getPrototypeOf(frame)).toBe(Uint8Array.prototype)
      const framesAtA = await atA
      expect(framesAtA[0]).toEqual(bytes())
      expect(framesAtA[1]).toEqual(bytes(7))
      expect(framesAtA[2]).toEqual(new Uint8Array(100_000).fill(9))
    })

    it('keeps frames that arrive while nobody listens, for the next listener', async () => {
      const { a, b } = await openPair(factory)
      const first = collect(b, 1)
      a.send(bytes(1))
      await first // the collector has unsubscribed
      a.send(bytes(2))
      a.send(bytes(3))
      await new Promise((r) => setTimeout(r, 30))
      expect(await collect(b, 2)).toEqual([bytes(2), bytes(3)])
    })

    it('close() on one side closes both; each close listener fires exactly once', async () => {
      const { a, b } = await openPair(factory)
      let aCalls = 0
      a.onClose(() => aCalls++)
      const aClosed = closedWith(a)
      const bClosed = closedWith(b)
      const first = a.close()
      expect(a.closed).toBe(true)
      expect(a.close()).toBe(first)
      await first
      expect(await aClosed).toBeUndefined()
      const err = await bClosed
      expect(LedgerError.is(err, 'NETWORK_ERROR')).toBe(true)
      expect(b.closed).toBe(true)
      await b.close()
      await new Promise((r) => setTimeout(r, 10))
      expect(aCalls).toBe(1)
      // a listener registered after the close still hears about it, once
      expect(await closedWith(b)).toBe(err)
    })

    it('send after close is ignored, not thrown', async () => {
      const { a, b } = await openPair(factory)
      await a.close()
      expect(() => a.send(bytes(1))).not.toThrow()
      await closedWith(b)
      expect(() => b.send(bytes(1))).not.toThrow()
    })

    it('close(UNAUTHORIZED) tells the peer why; other errors reach it as NETWORK_ERROR', async () => {
      const { a, b } = await openPair(factory)
      const bClosed = closedWith(b)
      const aClosed = closedWith(a)
      const reason = new LedgerError('UNAUTHORIZED', 'no entry')
      await a.close(reason)
      expect(await aClosed).toBe(reason)
      expect((await bClosed)?.code).toBe('UNAUTHORIZED')

      const other = await openPair(factory)
      const otherClosed = closedWith(other.b)
      await other.a.close(LedgerError.integrity('bad block'))
      expect((await otherClosed)?.code).toBe('NETWORK_ERROR')
    })

    it('a throwing message listener closes the transport instead of crashing', async () => {
      const { a, b } = await openPair(factory)
      b.onMessage(() => {
        throw new TypeError('listener bug')
      })
      const bClosed = closedWith(b)
      a.send(bytes(1))
      const err = await bClosed
      expect(err?.code).toBe('NETWORK_ERROR')
      expect(err?.cause).toBeInstanceOf(TypeError)
      expect((await closedWith(a))?.code).toBe('NETWORK_ERROR')
    })

    it('frames in flight when the peer closes are not delivered after close', async () => {
      const { a, b } = await openPair(factory)
      const received: Uint8Array[] = []
      b.onMessage((f) => received.push(f))
      for (let i = 0; i < 10; i++) a.send(bytes(i))
      await b.close()
      const count = received.length
      await new Promise((r) => setTimeout(r, 30))
      expect(received.length).toBe(count)
    })
  })
}
