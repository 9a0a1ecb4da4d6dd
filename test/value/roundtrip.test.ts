import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { RAW_CODE, equalBytes } from '../../src/codec/index.js'
import { INLINE_MAX, MAX_CHUNK, MIN_CHUNK, ValueStore } from '../../src/value/index.js'
import { asyncPieces, harness, numRuns, seededBytes, splitAt } from './helpers.js'

const vectors = JSON.parse(readFileSync(new URL('./vectors/format.json', import.meta.url), 'utf8')) as {
  links: { size: number; seed: number; link: string; blocks: number; depth: number }[]
}

const MiB = 1024 * 1024
/** Sizes around every threshold, plus anything up to 10 MiB. */
const sizeArb = fc.oneof(
  fc.constantFrom(0, 1, INLINE_MAX, INLINE_MAX + 1, MIN_CHUNK, MIN_CHUNK + 1, MAX_CHUNK, MAX_CHUNK + 1, 10 * MiB),
  fc.integer({ min: 0, max: 256 * 1024 }),
  fc.integer({ min: 0, max: 10 * MiB }),
)

describe('value round trip', () => {
  it('encode and encodeStream (random split) give the same link, and every read returns the bytes', async () => {
    await fc.assert(
      fc.asyncProperty(
        sizeArb,
        fc.integer(),
        fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), { maxLength: 12 }),
        fc.constantFrom('eager' as const, 'lazy' as const),
        async (size, seed, cuts, priority) => {
          const bytes = seededBytes(size, seed)
          const { store, values, writer } = await harness()
          try {
            const { ref, blocks } = values.encode(bytes, priority)
            if (priority === 'eager' && size <= INLINE_MAX) {
              expect('inline' in ref).toBe(true)
              expect(blocks).toEqual([])
            } else {
              expect('link' in ref && ref.size).toBe(size)
            }
            await store.write({ blocks })
            expect(equalBytes(await values.read(ref), bytes)).toBe(true)

            const streamed = await values.encodeStream(asyncPieces(splitAt(bytes, cuts)), size)
            expect(streamed.size).toBe(size)
            const whole = ValueStore.prototype.encode.call(values, bytes, 'lazy').ref
            expect('link' in whole && whole.link.toString()).toBe(streamed.link.toString())
            // Stream batches are bounded (about STREAM_BATCH_BYTES plus one chunk and index blocks).
            for (const batch of writer.batches) {
              expect(batch.reduce((n, b) => n + b.bytes.length, 0)).toBeLessThan(5 * MiB)
            }
            const viaStream = { link: streamed.link, size }
            expect(await values.isComplete(viaStream)).toBe(true)
            const parts: Uint8Array[] = []
            for await (const p of values.stream(viaStream)) parts.push(p)
            expect(equalBytes(Buffer.concat(parts), bytes)).toBe(true)
            for (const p of parts) {
              expect(p.constructor).toBe(Uint8Array)
              expect(p.length).toBeLessThanOrEqual(MAX_CHUNK)
            }
            expect(equalBytes(await values.read(viaStream), bytes)).toBe(true)
          } finally {
            await store.close()
          }
        },
      ),
      { numRuns: numRuns(10) },
    )
  })

  it('a value of one chunk is a single raw block; larger ones an index over raw chunks', async () => {
    const { values } = await harness()
    const small = values.encode(seededBytes(MIN_CHUNK, 1), 'lazy')
    expect(small.blocks.length).toBe(1)
    expect('link' in small.ref && small.ref.link.code).toBe(RAW_CODE)
    const big = values.encode(seededBytes(MiB, 1), 'lazy')
    expect('link' in big.ref && big.ref.link.code).not.toBe(RAW_CODE)
  })

  it('lazy values are never inline, even when empty; eager values up to INLINE_MAX are', async () => {
    const { values } = await harness()
    expect('link' in values.encode(new Uint8Array(0), 'lazy').ref).toBe(true)
    expect('link' in values.encode(new Uint8Array(1), 'lazy').ref).toBe(true)
    expect('inline' in values.encode(new Uint8Array(0), 'eager').ref).toBe(true)
    expect('inline' in values.encode(new Uint8Array(INLINE_MAX), 'eager').ref).toBe(true)
    expect('link' in values.encode(new Uint8Array(INLINE_MAX + 1), 'eager').ref).toBe(true)
  })

  it('inline refs hold the (caller-owned) bytes and reads return owned plain Uint8Arrays', async () => {
    const { values, store } = await harness()
    const input = new Uint8Array([1, 2, 3])
    const { ref } = values.encode(input, 'eager')
    const read = await values.read(ref)
    read[0] = 9
    expect(await values.read(ref)).toEqual(new Uint8Array([1, 2, 3]))
    const big = values.encode(seededBytes(200_000, 3), 'eager')
    await store.write({ blocks: big.blocks })
    const out = await values.read(big.ref)
    expect(out.constructor).toBe(Uint8Array)
    expect(out.byteOffset).toBe(0)
    expect(out.buffer.byteLength).toBe(200_000)
  })

  it('matches the checked-in link vectors (storage format), whole and streamed', async () => {
    const { values } = await harness()
    for (const v of vectors.links) {
      const bytes = seededBytes(v.size, v.seed)
      const { ref, blocks } = values.encode(bytes, 'lazy')
      expect('link' in ref && ref.link.toString(), `size ${v.size}`).toBe(v.link)
      expect(blocks.length).toBe(v.blocks)
      expect((await values.encodeStream(bytes)).link.toString()).toBe(v.link)
    }
  })
})
