import { describe, expect, it } from 'vitest'
import type { Block } from '../../src/codec/index.js'
import { STREAM_BATCH_BYTES, ValueStore } from '../../src/value/index.js'
import { asyncPieces, expectCode, harness, seededBytes } from './helpers.js'

const MiB = 1024 * 1024

describe('encodeStream', () => {
  it('size mismatch → INVALID_ARGUMENT (fewer and more bytes than announced)', async () => {
    const { values } = await harness()
    const bytes = seededBytes(300_000, 1)
    const short = await expectCode(values.encodeStream(asyncPieces([bytes]), 300_001), 'INVALID_ARGUMENT')
    expect(short.data).toEqual({ expected: 300_001, received: 300_000 })
    await expectCode(values.encodeStream(asyncPieces([bytes, bytes]), 300_000), 'INVALID_ARGUMENT')
    await expectCode(values.encodeStream(bytes, 0), 'INVALID_ARGUMENT')
    expect((await values.encodeStream(bytes, 300_000)).size).toBe(300_000)
  })

  it('stops reading a source as soon as it exceeds the announced size', async () => {
    const { values } = await harness()
    let pulled = 0
    async function* endless(): AsyncGenerator<Uint8Array> {
      for (;;) {
        pulled++
        yield new Uint8Array(1000)
      }
    }
    await expectCode(values.encodeStream(endless(), 10_000), 'INVALID_ARGUMENT')
    expect(pulled).toBe(11)
  })

  it('bad arguments → INVALID_ARGUMENT', async () => {
    const { values } = await harness()
    await expectCode(values.encodeStream(asyncPieces([new Uint8Array(1)]), -1), 'INVALID_ARGUMENT')
    await expectCode(values.encodeStream(asyncPieces([new Uint8Array(1)]), 1.5), 'INVALID_ARGUMENT')
    await expectCode(values.encodeStream(42 as unknown as Uint8Array), 'INVALID_ARGUMENT')
    await expectCode(values.encodeStream(asyncPieces(['abc' as unknown as Uint8Array])), 'INVALID_ARGUMENT')
  })

  it('errors of the source propagate unchanged', async () => {
    const { values } = await harness()
    const boom = new Error('disk gone')
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield new Uint8Array(10)
      throw boom
    }
    await expect(values.encodeStream(failing())).rejects.toBe(boom)
  })

  it('writes in bounded batches while the stream flows (one huge piece included)', async () => {
    const batches: number[] = []
    let live = 0
    let maxLive = 0
    const writer = {
      putBlocks: async (blocks: Block[]): Promise<void> => {
        const bytes = blocks.reduce((n, b) => n + b.bytes.length, 0)
        batches.push(bytes)
        live += bytes
        maxLive = Math.max(maxLive, live)
        await new Promise((r) => setTimeout(r, 1))
        live -= bytes
      },
    }
    const values = new ValueStore({ getBlock: async () => undefined }, writer)
    const big = seededBytes(20 * MiB, 3)
    const { size } = await values.encodeStream(big)
    expect(size).toBe(20 * MiB)
    expect(batches.length).toBeGreaterThanOrEqual(5)
    for (const b of batches) expect(b).toBeLessThanOrEqual(STREAM_BATCH_BYTES + 128 * 1024)
    expect(maxLive).toBeLessThanOrEqual(STREAM_BATCH_BYTES + 128 * 1024)
  })

  it('a failing writer rejects the call, with nothing left running', async () => {
    let calls = 0
    let running = 0
    const values = new ValueStore(
      { getBlock: async () => undefined },
      {
        putBlocks: async () => {
          calls++
          running++
          await new Promise((r) => setTimeout(r, 2))
          running--
          if (calls === 2) throw new Error('disk full')
        },
      },
    )
    await expect(values.encodeStream(seededBytes(20 * MiB, 9))).rejects.toThrow('disk full')
    expect(running).toBe(0)
  })

  it('an empty stream is the empty raw block, like encode of no bytes', async () => {
    const { values } = await harness()
    const { link, size } = await values.encodeStream(asyncPieces([]))
    expect(size).toBe(0)
    const whole = values.encode(new Uint8Array(0), 'lazy').ref
    expect('link' in whole && whole.link.toString()).toBe(link.toString())
    expect(await values.read({ link, size })).toEqual(new Uint8Array(0))
  })

  it('accepts sync iterables and many tiny pieces', async () => {
    const { values } = await harness()
    const bytes = seededBytes(200_000, 4)
    const pieces: Uint8Array[] = []
    for (let i = 0; i < bytes.length; i += 7) pieces.push(bytes.slice(i, i + 7))
    const streamed = await values.encodeStream(pieces as unknown as AsyncIterable<Uint8Array>)
    const whole = values.encode(bytes, 'lazy').ref
    expect('link' in whole && whole.link.toString()).toBe(streamed.link.toString())
  })
})
