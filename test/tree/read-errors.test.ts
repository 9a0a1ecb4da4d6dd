import { describe, expect, it } from 'vitest'
import type { CID } from '../../src/codec/index.js'
import { LedgerError } from '../../src/errors/index.js'
import { Store } from '../../src/store/index.js'
import { Tree, type TreeChange } from '../../src/tree/index.js'
import { bytes } from './helpers.js'

/** A stored tree of 5,000 keys, and a second version with 5 values changed. */
async function twoVersions(): Promise<{ store: Store; a: CID; b: CID }> {
  const store = await Store.open()
  const t = new Tree(store)
  const put = (i: number, v: string): TreeChange => {
    const key = bytes(`k${String(i).padStart(5, '0')}`)
    return { key, entry: { key, value: { inline: bytes(v) }, priority: 'eager' } }
  }
  const first = await t.apply(Tree.emptyRoot, Array.from({ length: 5000 }, (_, i) => put(i, `v${i}`)))
  await store.write({ blocks: first.blocks })
  const second = await t.apply(first.root, [0, 1000, 2000, 3000, 4000].map((i) => put(i, 'w')))
  await store.write({ blocks: second.blocks })
  return { store, a: first.root, b: second.root }
}

/** A reader that serves `good` reads (slowly), then fails every read (at once). */
function failingAfter(store: Store, good: number): { getBlock(cid: CID): Promise<Uint8Array | undefined> } {
  let reads = 0
  return {
    async getBlock(cid) {
      if (++reads > good) throw LedgerError.io('disk gone', new Error('test'))
      await new Promise((r) => setTimeout(r, 10))
      return store.getBlock(cid)
    },
  }
}

const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 60))

// A load started while the caller holds a batch (and maybe stops there) must fail only where it
// is awaited: an unhandled rejection would fail this file (and kill a process by default).
describe('failed node reads during scans and diffs', () => {
  it('a scan stopped after its first batch leaves no unhandled rejection behind', async () => {
    const { store, a } = await twoVersions()
    for (const good of [2, 3, 4]) {
      const cold = new Tree(failingAfter(store, good))
      try {
        for await (const batch of cold.ownedBatches(a, { limit: 100 }, (k) => k, true)) {
          expect(batch.length).toBeGreaterThan(0)
          break
        }
      } catch (err) {
        expect((err as LedgerError).code).toBe('IO_ERROR')
      }
      await settle()
    }
  })

  it('a diff whose loads fail rejects where it is iterated, whether or not the caller stops early', async () => {
    const { store, a, b } = await twoVersions()
    for (const good of [2, 3, 4, 5, 6, 7]) {
      for (const stopEarly of [false, true]) {
        const cold = new Tree(failingAfter(store, good))
        try {
          for await (const _ of cold.diff(a, b)) if (stopEarly) break
        } catch (err) {
          expect((err as LedgerError).code).toBe('IO_ERROR')
        }
        await settle()
      }
    }
  })
})
