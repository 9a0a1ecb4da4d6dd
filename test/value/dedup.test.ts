import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { Block } from '../../src/codec/index.js'
import { Store } from '../../src/store/index.js'
import { ValueStore } from '../../src/value/index.js'
import { tempDir } from '../helpers/ledgers.js'
import { valueLogBytes } from '../helpers/value-log.js'
import { countBlocks, harness, seededBytes } from './helpers.js'

const MiB = 1024 * 1024

describe('dedup', () => {
  it('the same 5 MiB value encoded 100 times is stored once', async () => {
    const { store, values } = await harness()
    const bytes = seededBytes(5 * MiB, 5)
    const first = values.encode(bytes, 'lazy')
    const links = new Set<string>()
    for (let i = 0; i < 100; i++) {
      const { ref, blocks } = values.encode(bytes.slice(), 'lazy')
      if ('link' in ref) links.add(ref.link.toString())
      await store.write({ blocks })
    }
    expect(links.size).toBe(1)
    const stored = await countBlocks(store)
    expect(stored.blocks).toBe(first.blocks.length)
    expect(stored.bytes).toBeLessThan(5 * MiB + 64 * 1024)
    await store.close()
  })

  it('on disk too: the value log holds the 5 MiB once', async () => {
    const dir = join(tempDir(), 'db')
    const store = await Store.open(dir)
    const values = new ValueStore(store, { putBlocks: (blocks: Block[]) => store.write({ blocks }) })
    const bytes = seededBytes(5 * MiB, 5)
    for (let i = 0; i < 100; i++) await store.write({ blocks: values.encode(bytes.slice(), 'lazy').blocks })
    expect(valueLogBytes(dir)).toBe(5 * MiB)
    expect((await countBlocks(store)).blocks).toBe(values.encode(bytes, 'lazy').blocks.length)
    await store.close()
  })

  it('a value that repeats a chunk lists that block once', async () => {
    const { values } = await harness()
    const zeros = new Uint8Array(3 * MiB)
    const { blocks } = values.encode(zeros, 'lazy')
    const ids = blocks.map((b) => b.cid.toString())
    expect(new Set(ids).size).toBe(ids.length)
    // 48 identical MAX-sized chunks + one index.
    expect(blocks.length).toBe(2)
  })

  it('streamed values share chunks with whole-encoded ones', async () => {
    const { store, values } = await harness()
    const bytes = seededBytes(3 * MiB, 6)
    await store.write({ blocks: values.encode(bytes, 'lazy').blocks })
    const before = await countBlocks(store)
    await values.encodeStream(bytes)
    expect(await countBlocks(store)).toEqual(before)
    await store.close()
  })
})
