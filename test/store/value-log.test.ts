import { readdirSync, rmSync, statSync, truncateSync } from 'node:fs'
import { join } from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { encodeBlock, rawBlock, type Block } from '../../src/codec/index.js'
import { Store, type StoreOptions } from '../../src/store/index.js'
import { tempDir } from '../helpers/ledgers.js'
import { valueLogBytes } from '../helpers/value-log.js'
import { expectCode } from '../value/helpers.js'

/** A raw block of `size` bytes derived from `seed`. */
function chunk(seed: number, size: number): Block {
  const bytes = new Uint8Array(size)
  for (let i = 0; i < size; i++) bytes[i] = (seed * 131 + i * 17 + (i >> 8)) & 0xff
  return rawBlock(bytes)
}


const same = (a: Uint8Array | undefined, b: Uint8Array): boolean => a !== undefined && Buffer.from(a).equals(b)

/** Opens the store at `dir`, writes `blocks` in one write, closes it. */
async function written(dir: string, blocks: Block[], options: StoreOptions = {}): Promise<void> {
  const store = await Store.open(dir, options)
  await store.write({ blocks })
  await store.close()
}

describe('value log', () => {
  it('keeps raw blocks in segment files, other blocks in LevelDB, and reads both back', async () => {
    const dir = join(tempDir(), 'db')
    const store = await Store.open(dir)
    const chunks = [chunk(1, 40_000), chunk(2, 17), chunk(3, 65_536)]
    const node = encodeBlock({ k: ['a'], l: 0 })
    await store.write({ blocks: [...chunks, node] })
    expect(valueLogBytes(dir)).toBe(40_000 + 17 + 65_536)
    const got = await store.getBlocks([chunks[2]!.cid, node.cid, chunks[0]!.cid, chunks[1]!.cid])
    expect(same(got[0], chunks[2]!.bytes) && same(got[1], node.bytes) && same(got[2], chunks[0]!.bytes)).toBe(true)
    expect(same(got[3], chunks[1]!.bytes)).toBe(true)
    expect(same(await store.getBlock(chunks[0]!.cid), chunks[0]!.bytes)).toBe(true)
    const missing = chunk(9, 10)
    expect(await store.getBlock(missing.cid)).toBeUndefined()
    expect(await store.hasBlocks([chunks[1]!.cid, missing.cid, node.cid])).toEqual([true, false, true])
    const all = new Map<string, Uint8Array>()
    for await (const b of store.allBlocks()) all.set(b.cid.toString(), b.bytes)
    expect(all.size).toBe(4)
    for (const b of [...chunks, node]) expect(same(all.get(b.cid.toString()), b.bytes)).toBe(true)
    await store.close()
  })

  it('stores a block once, however often and however many times in one write it comes', async () => {
    const dir = join(tempDir(), 'db')
    const store = await Store.open(dir)
    const a = chunk(1, 30_000)
    const b = chunk(2, 20_000)
    await store.write({ blocks: [a, a, b] })
    await store.write({ blocks: [b, a] })
    expect(valueLogBytes(dir)).toBe(50_000)
    await store.close()
  })

  it('reads back after a reopen and appends after the old end', async () => {
    const dir = join(tempDir(), 'db')
    const a = chunk(1, 30_000)
    await written(dir, [a])
    const second = await Store.open(dir)
    expect(same(await second.getBlock(a.cid), a.bytes)).toBe(true)
    const b = chunk(2, 10_000)
    await second.write({ blocks: [b] })
    expect(valueLogBytes(dir)).toBe(40_000)
    const [ra, rb] = await second.getBlocks([a.cid, b.cid])
    expect(same(ra, a.bytes) && same(rb, b.bytes)).toBe(true)
    await second.close()
  })

  it('rolls over to new segment files and reads across them in one call', async () => {
    const dir = join(tempDir(), 'db')
    const store = await Store.open(dir, { segmentBytes: 100_000 })
    const blocks = Array.from({ length: 12 }, (_, i) => chunk(i, 30_000 + i))
    await store.write({ blocks: blocks.slice(0, 5) })
    await store.write({ blocks: blocks.slice(5) })
    const segments = readdirSync(dir).filter((n) => n.startsWith('dagkv-values-'))
    expect(segments.length).toBeGreaterThanOrEqual(4)
    for (const n of segments) expect(statSync(join(dir, n)).size).toBeLessThanOrEqual(100_000)
    const got = await store.getBlocks([...blocks].reverse().map((b) => b.cid))
    expect(got.every((g, i) => same(g, blocks[blocks.length - 1 - i]!.bytes))).toBe(true)
    await store.close()
    const reopened = await Store.open(dir, { segmentBytes: 100_000 })
    const extra = chunk(99, 50_000)
    await reopened.write({ blocks: [extra] })
    expect(same(await reopened.getBlock(extra.cid), extra.bytes)).toBe(true)
    expect(same(await reopened.getBlock(blocks[0]!.cid), blocks[0]!.bytes)).toBe(true)
    await reopened.close()
  })

  it('keeps a bounded number of segment files open and reads from any of them', async () => {
    const dir = join(tempDir(), 'db')
    const store = await Store.open(dir, { segmentBytes: 8_000 })
    const blocks = Array.from({ length: 60 }, (_, i) => chunk(i, 6_000 + i))
    for (let i = 0; i < blocks.length; i += 7) await store.write({ blocks: blocks.slice(i, i + 7) })
    expect(readdirSync(dir).filter((n) => n.startsWith('dagkv-values-')).length).toBe(60)
    const all = await store.getBlocks(blocks.map((b) => b.cid))
    expect(all.every((g, i) => same(g, blocks[i]!.bytes))).toBe(true)
    for (const b of [...blocks].reverse()) expect(same(await store.getBlock(b.cid), b.bytes)).toBe(true)
    await store.close()
  })

  it('a pointer to a missing segment file is DATA_INTEGRITY_ERROR and creates no file', async () => {
    const dir = join(tempDir(), 'db')
    const [a, b] = [chunk(1, 6_000), chunk(2, 6_000)]
    await written(dir, [a, b], { segmentBytes: 8_000 })
    const first = readdirSync(dir).filter((n) => n.startsWith('dagkv-values-')).sort()[0]!
    rmSync(join(dir, first))
    const reopened = await Store.open(dir, { segmentBytes: 8_000 })
    await expectCode(reopened.getBlock(a.cid), 'DATA_INTEGRITY_ERROR')
    expect(readdirSync(dir).includes(first)).toBe(false)
    expect(same(await reopened.getBlock(b.cid), b.bytes)).toBe(true)
    await reopened.close()
  })

  it('still reads raw blocks a store without the log kept in LevelDB', async () => {
    const dir = join(tempDir(), 'db')
    const a = chunk(1, 30_000)
    await written(dir, [a], { valueLog: false })
    expect(valueLogBytes(dir)).toBe(0)
    const store = await Store.open(dir)
    const b = chunk(2, 30_000)
    await store.write({ blocks: [b] })
    const [ra, rb] = await store.getBlocks([a.cid, b.cid])
    expect(same(ra, a.bytes) && same(rb, b.bytes)).toBe(true)
    expect(await store.hasBlocks([a.cid, b.cid])).toEqual([true, true])
    await store.close()
  })

  it('a segment cut short is DATA_INTEGRITY_ERROR on read, not a hang or a crash', async () => {
    const dir = join(tempDir(), 'db')
    const a = chunk(1, 30_000)
    await written(dir, [a])
    const segment = readdirSync(dir).find((n) => n.startsWith('dagkv-values-'))!
    truncateSync(join(dir, segment), 1000)
    const reopened = await Store.open(dir)
    await expectCode(reopened.getBlock(a.cid), 'DATA_INTEGRITY_ERROR')
    await reopened.close()
  })

  it('an in-memory store has no log', async () => {
    const store = await Store.open()
    const a = chunk(1, 30_000)
    await store.write({ blocks: [a] })
    expect(same(await store.getBlock(a.cid), a.bytes)).toBe(true)
    expect(await store.hasBlocks([a.cid])).toEqual([true])
    await store.close()
  })
})

describe('value log (property)', () => {
  it('any sequence of writes and reopens keeps every block, each stored once', async () => {
    const runs = Number(process.env.DAGKV_NUM_RUNS ?? 15)
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 20_000, max: 200_000 }),
        fc.array(
          fc.record({
            blocks: fc.array(fc.record({ seed: fc.integer({ min: 0, max: 30 }), size: fc.integer({ min: 1, max: 40_000 }) }), { maxLength: 6 }),
            reopen: fc.boolean(),
          }),
          { minLength: 1, maxLength: 8 },
        ),
        async (segmentBytes, steps) => {
          const dir = join(tempDir(), 'db')
          let store = await Store.open(dir, { segmentBytes })
          const written = new Map<string, Block>()
          for (const step of steps) {
            // The same seed and size give the same block: duplicates within and across writes.
            const blocks = step.blocks.map((b) => chunk(b.seed, b.size))
            await store.write({ blocks })
            for (const b of blocks) written.set(b.cid.toString(), b)
            if (step.reopen) {
              await store.close()
              store = await Store.open(dir, { segmentBytes })
            }
          }
          const all = [...written.values()]
          const got = await store.getBlocks(all.map((b) => b.cid))
          expect(got.every((g, i) => same(g, all[i]!.bytes))).toBe(true)
          expect(valueLogBytes(dir)).toBe(all.reduce((sum, b) => sum + b.bytes.length, 0))
          await store.close()
        },
      ),
      { numRuns: runs },
    )
  })
})
