import { describe, expect, it } from 'vitest'
import type { CID } from '../../src/codec/index.js'
import { LedgerError } from '../../src/errors/index.js'
import { Store } from '../../src/store/index.js'
import { Tree, type TreeChange } from '../../src/tree/index.js'
import { bytes, collect, showDiff } from './helpers.js'

const key = (i: number): Uint8Array => bytes(`k${String(i).padStart(5, '0')}`)
const put = (i: number, v: string): TreeChange => ({ key: key(i), entry: { key: key(i), value: { inline: bytes(v) }, priority: 'eager' } })

/** 6,000 keys, then 300 values changed, 40 keys added and 40 deleted. */
async function twoVersions(): Promise<{ store: Store; a: CID; b: CID }> {
  const store = await Store.open()
  const t = new Tree(store)
  const first = await t.apply(Tree.emptyRoot, Array.from({ length: 6000 }, (_, i) => put(i * 2, `v${i}`)))
  await store.write({ blocks: first.blocks })
  const changes: TreeChange[] = []
  for (let i = 0; i < 6000; i += 20) changes.push(put(i * 2, 'changed'))
  for (let i = 7; i < 6000; i += 150) changes.push(put(i * 2 + 1, 'added'), { key: key((i + 4) * 2), entry: undefined })
  changes.sort((x, y) => Buffer.compare(x.key, y.key))
  const second = await t.apply(first.root, changes)
  await store.write({ blocks: second.blocks })
  return { store, a: first.root, b: second.root }
}

/** The store's reads, with the size of every batched read. */
function counting(store: Store, fail = false): { reader: Pick<Store, 'getBlock' | 'getBlocks'>; batches: number[] } {
  const batches: number[] = []
  const reader = {
    getBlock: (cid: CID) => store.getBlock(cid),
    async getBlocks(cids: CID[]) {
      batches.push(cids.length)
      if (fail) throw LedgerError.io('disk gone', new Error('test'))
      return store.getBlocks(cids)
    },
  }
  return { reader, batches }
}

describe('diff over nodes not in memory', () => {
  it('reads the differing children of each node pair in batches and finds the same items', async () => {
    const { store, a, b } = await twoVersions()
    const warm = (await collect(new Tree(store).diff(a, b))).map(showDiff)
    expect(warm.length).toBe(300 + 80)
    const { reader, batches } = counting(store)
    const cold = (await collect(new Tree(reader).diff(a, b))).map(showDiff)
    expect(cold).toEqual(warm)
    expect(Math.max(...batches)).toBeGreaterThan(1)
  })

  it('within a key range', async () => {
    const { store, a, b } = await twoVersions()
    const [start, end] = [key(3001), key(7777)]
    const inRange = (await collect(new Tree(store).diff(a, b))).filter(
      (d) => Buffer.compare(d.key, start) >= 0 && Buffer.compare(d.key, end) < 0,
    )
    const { reader } = counting(store)
    expect((await collect(new Tree(reader).diff(a, b, { start, end }))).map(showDiff)).toEqual(inRange.map(showDiff))
  })

  it('a failed batch read rejects the diff where it is awaited (no unhandled rejection)', async () => {
    const { store, a, b } = await twoVersions()
    const { reader } = counting(store, true)
    const tree = new Tree(reader)
    await expect(collect(tree.diff(a, b))).rejects.toSatisfy((e: unknown) => LedgerError.is(e, 'IO_ERROR'))
    await new Promise((r) => setTimeout(r, 50))
  })
})
