import { describe, expect, it } from 'vitest'
import { RAW_CODE, equalBytes, type Block } from '../../src/codec/index.js'
import { LedgerError } from '../../src/errors/index.js'
import type { ValueRef } from '../../src/tree/interface.js'
import { ValueStore, type BlockFetcher } from '../../src/value/index.js'
import { FakeFetcher, countBlocks, expectCode, harness, seededBytes } from './helpers.js'

const MiB = 1024 * 1024

/** A value encoded on a "peer": its ref and blocks, none stored locally. */
type Remote = { ref: ValueRef & { link: Block['cid'] }; blocks: Block[]; bytes: Uint8Array }

function remoteValue(size: number, seed: number): Remote {
  const bytes = seededBytes(size, seed)
  const peer = new ValueStore({ getBlock: async () => undefined }, { putBlocks: async () => {} })
  const { ref, blocks } = peer.encode(bytes, 'lazy')
  return { ref: ref as ValueRef & { link: Block['cid'] }, blocks, bytes }
}

describe('lazy values and fetching', () => {
  it('a missing block → NEEDS_FETCH (read, readRange, stream), naming the missing CIDs', async () => {
    const { values } = await harness()
    const { ref } = remoteValue(2 * MiB, 1)
    const err = await expectCode(values.read(ref), 'NEEDS_FETCH')
    expect(err.data?.cids).toEqual([ref.link.toString()])
    await expectCode(values.readRange(ref, 10, 10), 'NEEDS_FETCH')
    await expectCode(
      (async () => {
        for await (const _ of values.stream(ref)) void _
      })(),
      'NEEDS_FETCH',
    )
    expect(await values.isComplete(ref)).toBe(false)
  })

  it('with fetch: true, blocks come from the fetcher, are stored, and later reads need no fetch', async () => {
    const { ref, blocks, bytes } = remoteValue(3 * MiB, 2)
    const fetcher = new FakeFetcher(blocks)
    const { values, store } = await harness(fetcher)
    expect(equalBytes(await values.read(ref, { fetch: true }), bytes)).toBe(true)
    expect((await countBlocks(store)).blocks).toBe(blocks.length)
    expect(await values.isComplete(ref)).toBe(true)
    const requests = fetcher.requests.length
    expect(equalBytes(await values.read(ref), bytes)).toBe(true)
    expect(fetcher.requests.length).toBe(requests)
  })

  it('fetchPartial fetches only the chunks overlapping the slice', async () => {
    const { ref, blocks, bytes } = remoteValue(4 * MiB, 3)
    const fetcher = new FakeFetcher(blocks)
    const { values } = await harness(fetcher)
    const got = await values.readRange(ref, 2 * MiB, 100, { fetch: true })
    expect(equalBytes(got, bytes.subarray(2 * MiB, 2 * MiB + 100))).toBe(true)
    const fetched = fetcher.requests.flat()
    const chunks = fetched.filter((k) => blocks.find((b) => b.cid.toString() === k)!.cid.code === RAW_CODE)
    expect(chunks.length).toBeGreaterThanOrEqual(1)
    expect(chunks.length).toBeLessThanOrEqual(2)
  })

  it('the fetcher installed later through the setter is used', async () => {
    const { ref, blocks, bytes } = remoteValue(100_000, 4)
    const { values } = await harness()
    await expectCode(values.read(ref, { fetch: true }), 'NETWORK_ERROR')
    values.fetcher = new FakeFetcher(blocks)
    expect(equalBytes(await values.read(ref, { fetch: true }), bytes)).toBe(true)
  })

  it('no peer has the block → NETWORK_ERROR; no fetcher → NETWORK_ERROR', async () => {
    const { ref } = remoteValue(2 * MiB, 5)
    const { values } = await harness(new FakeFetcher())
    await expectCode(values.read(ref, { fetch: true }), 'NETWORK_ERROR')
    const bare = await harness()
    await expectCode(bare.values.readRange(ref, 0, 1, { fetch: true }), 'NETWORK_ERROR')
  })

  it('a fetcher that throws → NETWORK_ERROR (LedgerErrors pass through)', async () => {
    const { ref } = remoteValue(10_000, 6)
    const { values } = await harness({
      fetchBlocks: async () => {
        throw new Error('socket closed')
      },
    })
    const err = await expectCode(values.read(ref, { fetch: true }), 'NETWORK_ERROR')
    expect(err.cause).toBeInstanceOf(Error)
    values.fetcher = {
      fetchBlocks: async () => {
        throw new LedgerError('CLOSED', 'peer closed')
      },
    }
    await expectCode(values.read(ref, { fetch: true }), 'CLOSED')
  })

  it('corrupted bytes → DATA_INTEGRITY_ERROR and nothing of that fetch is stored', async () => {
    const { ref, blocks } = remoteValue(3 * MiB, 7)
    const { values, store } = await harness()
    // The index arrives fine; then a batch of chunks with one corrupted block in it.
    values.fetcher = new FakeFetcher(blocks.filter((b) => b.cid.code !== RAW_CODE))
    await expectCode(values.read(ref, { fetch: true }), 'NETWORK_ERROR')
    const afterIndex = (await countBlocks(store)).blocks
    expect(afterIndex).toBeGreaterThan(0)
    const corrupt = new FakeFetcher(blocks)
    const victim = blocks.find((b) => b.cid.code === RAW_CODE)!
    const bad = victim.bytes.slice()
    bad[0] = bad[0]! ^ 1
    corrupt.blocks.set(victim.cid.toString(), bad)
    values.fetcher = corrupt
    await expectCode(values.read(ref, { fetch: true }), 'DATA_INTEGRITY_ERROR')
    expect((await countBlocks(store)).blocks).toBe(afterIndex)
    await expectCode(values.readRange(ref, 0, 10, { fetch: true }), 'DATA_INTEGRITY_ERROR')
    expect((await countBlocks(store)).blocks).toBe(afterIndex)
  })

  it('a fetcher answering with a non-Uint8Array → DATA_INTEGRITY_ERROR', async () => {
    const { ref } = remoteValue(10_000, 8)
    const fetcher: BlockFetcher = {
      fetchBlocks: async (cids) => new Map(cids.map((c) => [c.toString(), 'nope' as unknown as Uint8Array])),
    }
    const { values } = await harness(fetcher)
    await expectCode(values.read(ref, { fetch: true }), 'DATA_INTEGRITY_ERROR')
  })

  it('blockCids lists what is reachable; missing index children are unknown', async () => {
    const { ref, blocks } = remoteValue(2 * MiB, 9)
    const { values, store } = await harness()
    expect((await values.blockCids(ref)).map(String)).toEqual([ref.link.toString()])
    await store.write({ blocks: blocks.filter((b) => b.cid.code !== RAW_CODE) })
    const all = (await values.blockCids(ref)).map(String)
    expect(new Set(all)).toEqual(new Set(blocks.map((b) => b.cid.toString())))
    expect(all[0]).toBe(ref.link.toString())
    expect(await values.isComplete(ref)).toBe(false)
    await store.write({ blocks })
    expect(await values.isComplete(ref)).toBe(true)
    expect(await values.blockCids({ inline: new Uint8Array(3) })).toEqual([])
  })
})
