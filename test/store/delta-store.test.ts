import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { Block } from '../../src/codec/index.js'
import { encodeDelta, MAX_DELTA_DEPTH } from '../../src/store/block-delta.js'
import { Store, type StoreBlock } from '../../src/store/index.js'
import { tempDir } from '../helpers/ledgers.js'
import { rawPut, records, rewrite, version } from './delta-helpers.js'

async function expectReadBack(store: Store, blocks: Block[]): Promise<void> {
  const got = await store.getBlocks(blocks.map((b) => b.cid))
  got.forEach((bytes, i) => expect(Buffer.from(bytes!).equals(blocks[i]!.bytes)).toBe(true))
}

/** Writes versions from..from+n-1, each as a rewrite of the one before, one write each. */
async function chain(store: Store, n: number, from = 0): Promise<Block[]> {
  const out = [version(from)]
  await store.write({ blocks: [out[0]!] })
  for (let v = 1; v < n; v++) {
    out.push(version(from + v))
    await store.write({ blocks: [rewrite(out[v]!, out[v - 1]!)] })
  }
  return out
}

describe('blocks stored as deltas of the blocks they replace', () => {
  it('a rewrite is stored as a small delta and reads back whole, before and after a reopen', async () => {
    const path = join(tempDir(), 'db')
    let store = await Store.open(path)
    const blocks = await chain(store, 2)
    await expectReadBack(store, blocks)
    await store.close()
    const [whole, delta] = await records(path, blocks)
    expect(whole![0]).not.toBe(0xff)
    expect(delta![0]).toBe(0xff)
    expect(delta!.length).toBeLessThan(200)
    store = await Store.open(path)
    await expectReadBack(store, [...blocks].reverse())
    expect((await store.getBlock(blocks[1]!.cid))!.length).toBe(blocks[1]!.bytes.length)
    await store.close()
  })

  it('chains stop at MAX_DELTA_DEPTH: every version reads back cold, and the chain restarts whole', async () => {
    const path = join(tempDir(), 'db')
    let store = await Store.open(path)
    const blocks = await chain(store, 3 * (MAX_DELTA_DEPTH + 1))
    await store.close()
    const stored = await records(path, blocks)
    const depths = stored.map((r) => (r![0] === 0xff ? r![1]! : 0))
    expect(Math.max(...depths)).toBe(MAX_DELTA_DEPTH)
    expect(depths.filter((d) => d === 0).length).toBe(3)
    store = await Store.open(path)
    for (const b of [...blocks].reverse()) await expectReadBack(store, [b])
    await store.close()
  })

  it('a block already stored is not replaced by a delta (a revert cannot make a cycle)', async () => {
    const path = join(tempDir(), 'db')
    let store = await Store.open(path)
    const [v0, v1] = await chain(store, 2)
    await store.write({ blocks: [rewrite(v0!, v1!)] })
    await store.close()
    const [r0, r1] = await records(path, [v0!, v1!])
    expect(Buffer.from(r0!).equals(v0!.bytes)).toBe(true)
    expect(r1![0]).toBe(0xff)
    store = await Store.open(path)
    await expectReadBack(store, [v1!, v0!])
    await store.close()
  })

  it('a base the store has not seen is not used: the block is stored whole', async () => {
    const path = join(tempDir(), 'db')
    const store = await Store.open(path)
    const v0 = version(0)
    const v1 = version(1)
    await store.write({ blocks: [rewrite(v1, v0)] })
    await store.close()
    const [r1] = await records(path, [v1])
    expect(Buffer.from(r1!).equals(v1.bytes)).toBe(true)
  })

  it('a missing base or a damaged delta is DATA_INTEGRITY_ERROR, not a crash or wrong bytes', async () => {
    const path = join(tempDir(), 'db')
    let store = await Store.open(path)
    const [v0, v1] = await chain(store, 2)
    const [w0, w1] = await chain(store, 2, 20)
    await store.close()
    await rawPut(path, v0!, undefined)
    // Damage one literal byte of w1's delta (the 40 changed bytes sit mid-record).
    const [r1] = await records(path, [w1!])
    const damaged = r1!.slice()
    damaged[damaged.length - 30]! ^= 0x55
    await rawPut(path, w1!, damaged)
    store = await Store.open(path)
    await expect(store.getBlock(v1!.cid)).rejects.toMatchObject({ code: 'DATA_INTEGRITY_ERROR' })
    await expect(store.getBlock(w1!.cid)).rejects.toMatchObject({ code: 'DATA_INTEGRITY_ERROR' })
    await expectReadBack(store, [w0!])
    await store.close()
  })

  it('two records naming each other as base are DATA_INTEGRITY_ERROR, not a hang', async () => {
    const path = join(tempDir(), 'db')
    const x = version(1)
    const y = version(2)
    const copies = (r: StoreBlock): number[] => [...r.copies!]
    await rawPut(path, x, encodeDelta(y.bytes, x.bytes, copies(rewrite(x, y)), [y.cid.bytes]))
    await rawPut(path, y, encodeDelta(x.bytes, y.bytes, copies(rewrite(y, x)), [x.cid.bytes]))
    const store = await Store.open(path)
    await expect(store.getBlock(x.cid)).rejects.toMatchObject({ code: 'DATA_INTEGRITY_ERROR' })
    await expect(store.getBlocks([y.cid, x.cid])).rejects.toMatchObject({ code: 'DATA_INTEGRITY_ERROR' })
    await store.close()
  })

  it('works the same in the in-memory store', async () => {
    const store = await Store.open()
    const blocks = await chain(store, 2 * (MAX_DELTA_DEPTH + 1))
    await expectReadBack(store, blocks)
    const all = new Map<string, Uint8Array>()
    for await (const b of store.allBlocks()) all.set(b.cid.toString(), b.bytes)
    for (const b of blocks) expect(Buffer.from(all.get(b.cid.toString())!).equals(b.bytes)).toBe(true)
    // Two whole versions (the chain restarts once) and eight small deltas.
    const whole = blocks.reduce((n, b) => n + b.bytes.length, 0)
    expect(await store.recordBytes()).toBeLessThan((whole * 2.5) / blocks.length)
    await store.close()
  })
})
