/** The diff read-ahead (src/tree/diff.ts prefetchDiffering) never reads a node twice, whatever the node cache bound. */
import { describe, expect, it } from 'vitest'
import type { CID } from '../../src/codec/index.js'
import { Store } from '../../src/store/index.js'
import { Tree, type TreeChange } from '../../src/tree/index.js'
import { bytes, collect } from './helpers.js'

const key = (i: number): Uint8Array => bytes(`k${String(i).padStart(6, '0')}`)
const put = (i: number, v: string): TreeChange => ({ key: key(i), entry: { key: key(i), value: { inline: bytes(v) }, priority: 'eager' } })

async function twoVersions(n: number, every: number): Promise<{ store: Store; a: CID; b: CID }> {
  const store = await Store.open()
  const t = new Tree(store)
  const first = await t.apply(Tree.emptyRoot, Array.from({ length: n }, (_, i) => put(i, `value-${i}`)))
  await store.write({ blocks: first.blocks })
  const changes: TreeChange[] = []
  for (let i = 0; i < n; i += every) changes.push(put(i, 'changed'))
  const second = await t.apply(first.root, changes)
  await store.write({ blocks: second.blocks })
  return { store, a: first.root, b: second.root }
}

function counting(store: Store): { reader: Pick<Store, 'getBlock' | 'getBlocks'>; reads: () => number; distinct: () => number } {
  let reads = 0
  const seen = new Set<string>()
  const reader = {
    getBlock: (cid: CID) => {
      reads++
      seen.add(cid.toString())
      return store.getBlock(cid)
    },
    getBlocks: (cids: CID[]) => {
      reads += cids.length
      for (const c of cids) seen.add(c.toString())
      return store.getBlocks(cids)
    },
  }
  return { reader, reads: () => reads, distinct: () => seen.size }
}

describe('diff read-ahead and the node cache bound', () => {
  for (const cacheBytes of [32 * 1024 * 1024, 64 * 1024, 1]) {
    it(`a cold diff reads each node once (cacheBytes ${cacheBytes})`, async () => {
      const { store, a, b } = await twoVersions(20000, 50)
      const { reader, reads, distinct } = counting(store)
      const items = await collect(new Tree(reader, { cacheBytes }).diff(a, b))
      console.log(`cacheBytes=${cacheBytes}: ${items.length} items, ${reads()} node reads, ${distinct()} distinct nodes`)
      expect(items.length).toBe(400)
      expect(reads()).toBe(distinct())
    })
  }
})
