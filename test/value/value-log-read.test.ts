import { join } from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { RAW_CODE, equalBytes, type Block } from '../../src/codec/index.js'
import { Store } from '../../src/store/index.js'
import { ValueStore } from '../../src/value/index.js'
import { tempDir } from '../helpers/ledgers.js'
import { FakeFetcher, numRuns, seededBytes } from './helpers.js'

const MiB = 1024 * 1024

/** A value store over a classic-level store at `dir` (chunks in its value log unless disabled). */
async function diskValues(dir: string, valueLog = true): Promise<{ store: Store; values: ValueStore }> {
  const store = await Store.open(dir, { valueLog })
  return { store, values: new ValueStore(store, { putBlocks: (blocks: Block[]) => store.write({ blocks }) }) }
}

describe('values on a disk store (chunks read straight from the value log)', () => {
  it('reads back whole values and any slice of them', async () => {
    const { store, values } = await diskValues(join(tempDir(), 'db'))
    const sizes = [0, 1, 1500, 70_000, 3 * MiB + 17]
    const refs = []
    for (const [i, size] of sizes.entries()) {
      const bytes = seededBytes(size, 40 + i)
      const { ref, blocks } = values.encode(bytes, 'eager')
      await store.write({ blocks })
      refs.push({ ref, bytes })
    }
    for (const { ref, bytes } of refs) expect(equalBytes(await values.read(ref), bytes)).toBe(true)
    const big = refs[refs.length - 1]!
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: -big.bytes.length, max: big.bytes.length }), fc.integer({ min: -1, max: 2 * MiB }), async (offset, maxSize) => {
        const from = offset < 0 ? big.bytes.length + offset : offset
        const want = from >= big.bytes.length ? new Uint8Array(0) : big.bytes.slice(from, maxSize < 0 ? undefined : from + maxSize)
        expect(equalBytes(await values.readRange(big.ref, offset, maxSize), want)).toBe(true)
      }),
      { numRuns: numRuns(25) },
    )
    await store.close()
  })

  it('reads a value that repeats one chunk many times', async () => {
    const { store, values } = await diskValues(join(tempDir(), 'db'))
    const zeros = new Uint8Array(3 * MiB)
    const { ref, blocks } = values.encode(zeros, 'eager')
    await store.write({ blocks })
    expect(equalBytes(await values.read(ref), zeros)).toBe(true)
    expect(equalBytes(await values.readRange(ref, 100_000, 200_000), zeros.subarray(0, 200_000))).toBe(true)
    await store.close()
  })

  it('mixes chunks in the log with chunks an older store kept in LevelDB', async () => {
    const dir = join(tempDir(), 'db')
    const data = seededBytes(2 * MiB, 7)
    const old = await diskValues(dir, false)
    const first = old.values.encode(data.subarray(0, MiB), 'eager')
    await old.store.write({ blocks: first.blocks })
    await old.store.close()
    const { store, values } = await diskValues(dir)
    // The whole 2 MiB shares the first half's chunks (all but the one at the seam).
    const whole = values.encode(data, 'eager')
    const fresh = whole.blocks.filter((b) => !first.blocks.some((f) => f.cid.equals(b.cid)))
    expect(fresh.length).toBeLessThan(whole.blocks.length)
    await store.write({ blocks: fresh })
    expect(equalBytes(await values.read(whole.ref), data)).toBe(true)
    expect(equalBytes(await values.read(first.ref), data.subarray(0, MiB))).toBe(true)
    await store.close()
  })

  it('fetches the chunks it lacks and reads the rest from the log', async () => {
    const { store, values } = await diskValues(join(tempDir(), 'db'))
    const data = seededBytes(MiB, 9)
    const { ref, blocks } = values.encode(data, 'lazy')
    const chunks = blocks.filter((b) => b.cid.code === RAW_CODE)
    // Index blocks and every other chunk here; the peer has everything.
    await store.write({ blocks: [...blocks.filter((b) => b.cid.code !== RAW_CODE), ...chunks.filter((_, i) => i % 2 === 0)] })
    const peer = new FakeFetcher(blocks)
    const fetching = new ValueStore(store, { putBlocks: (b: Block[]) => store.write({ blocks: b }) }, { fetcher: peer })
    expect(equalBytes(await fetching.read(ref, { fetch: true }), data)).toBe(true)
    const asked = new Set(peer.requests.flat())
    expect(asked.size).toBe(chunks.filter((_, i) => i % 2 === 1).length)
    expect(equalBytes(await values.read(ref), data)).toBe(true)
    await store.close()
  })
})
