import { describe, expect, it } from 'vitest'
import { LedgerError } from '../../../src/errors/index.js'
import { createMemoryLink, type MemoryLinkOptions } from '../../../src/sync/transport/index.js'
import { bytes, closedWith, collect, transportSuite } from './suite.js'

transportSuite('in-memory link', async () => {
  const [a, b] = createMemoryLink()
  return { a, b }
})

/** Sends `count` numbered frames from a to b and returns what b received once the link is quiet. */
async function run(options: MemoryLinkOptions, count: number): Promise<number[]> {
  const [a, b] = createMemoryLink(options)
  const received: number[] = []
  b.onMessage((frame) => received.push(frame[0]! * 256 + frame[1]!))
  for (let i = 0; i < count; i++) {
    a.send(bytes(i >> 8, i & 255))
    if (i % 7 === 0) await new Promise((r) => setImmediate(r)) // let some frames land between sends
  }
  await new Promise((r) => setTimeout(r, 20))
  await a.close()
  return received
}

describe('createMemoryLink', () => {
  it('delivers asynchronously, never from inside send', async () => {
    const [a, b] = createMemoryLink()
    let delivered = false
    b.onMessage(() => {
      delivered = true
    })
    a.send(bytes(1))
    expect(delivered).toBe(false)
    await new Promise((r) => setImmediate(r))
    expect(delivered).toBe(true)
    await a.close()
  })

  it('drops the frames in flight when either side closes', async () => {
    const [a, b] = createMemoryLink()
    const received: Uint8Array[] = []
    b.onMessage((f) => received.push(f))
    a.send(bytes(1))
    a.send(bytes(2))
    await b.close()
    await new Promise((r) => setTimeout(r, 10))
    expect(received).toEqual([])
    expect(a.closed).toBe(true)
  })

  it('faults are deterministic under a seed', async () => {
    const options = { dropRate: 0.2, duplicateRate: 0.2, reorderRate: 0.2, seed: 42 }
    const first = await run(options, 300)
    const second = await run(options, 300)
    expect(second).toEqual(first)
    const other = await run({ ...options, seed: 43 }, 300)
    expect(other).not.toEqual(first)
    // every fault showed up
    expect(first.length).not.toBe(300)
    expect(new Set(first).size).toBeLessThan(300) // drops
    expect(new Set(first).size).toBeLessThan(first.length) // duplicates
    expect(first.some((v, i) => i > 0 && v < first[i - 1]!)).toBe(true) // reorders
  })

  it('each fault alone does what it says', async () => {
    const all = Array.from({ length: 100 }, (_, i) => i)
    expect(await run({ dropRate: 1 }, 100)).toEqual([])
    expect(await run({ duplicateRate: 1 }, 100)).toEqual(all.flatMap((i) => [i, i]))
    const reordered = await run({ reorderRate: 0.5, seed: 3 }, 100)
    expect(reordered).not.toEqual(all)
    expect([...reordered].sort((x, y) => x - y)).toEqual(all)
    expect(await run({}, 100)).toEqual(all)
  })

  it('a frame held back for reordering still arrives when nothing follows it', async () => {
    expect(await run({ reorderRate: 1 }, 1)).toEqual([0])
  })

  it('faultsAfter lets the first frames through untouched', async () => {
    const received = await run({ dropRate: 1, faultsAfter: 5 }, 20)
    expect(received).toEqual([0, 1, 2, 3, 4])
  })

  it('cutAfter cuts the link after that many deliveries', async () => {
    const [a, b] = createMemoryLink({ cutAfter: 3 })
    const received: Uint8Array[] = []
    b.onMessage((f) => received.push(f))
    const aClosed = closedWith(a)
    const bClosed = closedWith(b)
    for (let i = 0; i < 10; i++) a.send(bytes(i))
    expect((await aClosed)?.code).toBe('NETWORK_ERROR')
    expect((await bClosed)?.code).toBe('NETWORK_ERROR')
    expect(received).toEqual([bytes(0), bytes(1), bytes(2)])
  })

  it('a frame over maxFrameBytes closes the link from the receiving side', async () => {
    const [a, b] = createMemoryLink({ maxFrameBytes: 10 })
    const ok = collect(b, 1)
    a.send(new Uint8Array(10))
    expect(await ok).toEqual([new Uint8Array(10)])
    const aClosed = closedWith(a)
    const bClosed = closedWith(b)
    a.send(new Uint8Array(11))
    const atReceiver = await bClosed
    expect(atReceiver?.code).toBe('NETWORK_ERROR')
    expect(atReceiver?.data).toMatchObject({ reason: 'frame-too-large', size: 11, max: 10 })
    expect((await aClosed)?.code).toBe('NETWORK_ERROR')
  })

  it('rejects bad options with INVALID_ARGUMENT', () => {
    for (const options of [{ dropRate: 2 }, { reorderRate: -1 }, { duplicateRate: Number.NaN }, { maxFrameBytes: 0 }, { cutAfter: 1.5 }]) {
      expect(() => createMemoryLink(options)).toThrow(LedgerError)
      try {
        createMemoryLink(options)
      } catch (err) {
        expect(LedgerError.is(err, 'INVALID_ARGUMENT')).toBe(true)
      }
    }
  })
})
