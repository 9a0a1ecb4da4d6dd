import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { encodeBlock, type CID } from '../../src/codec/index.js'
import { Tree, type ApplyResult, type TreeChange } from '../../src/tree/index.js'
import { memoryTree, numRuns } from './helpers.js'
import { historyIndependence, type Applier } from './properties.js'

describe('history independence', () => {
  it('any order and any split into batches gives the same root; deleting back restores it', async () => {
    await fc.assert(
      historyIndependence(async () => {
        const { tree } = await memoryTree()
        return { empty: Tree.emptyRoot, apply: (root, changes) => tree.apply(root, changes) }
      }),
      { numRuns: numRuns(40) },
    )
  })

  it('holds with a tiny cache too (nodes reloaded from the store)', async () => {
    await fc.assert(
      historyIndependence(async () => {
        const t = await memoryTree(1)
        return { empty: Tree.emptyRoot, apply: async (root, changes) => {
          const r = await t.tree.apply(root, changes)
          await t.commit(r)
          return r
        } }
      }),
      { numRuns: numRuns(15) },
    )
  })
})

describe('planted bug', () => {
  // A "tree" whose root hashes the history of batches (a log): it holds the right content but
  // its root depends on the order of writes. The property must catch it.
  function orderDependent(): Applier {
    const state = new Map<string, { entries: Map<string, TreeChange> }>()
    const empty = encodeBlock({ log: [] }).cid
    state.set(empty.toString(), { entries: new Map() })
    return {
      empty,
      async apply(root: CID, changes: TreeChange[]): Promise<ApplyResult> {
        const prev = state.get(root.toString())!
        const entries = new Map(prev.entries)
        for (const c of changes) {
          const k = Buffer.from(c.key).toString('hex')
          if (c.entry === undefined) entries.delete(k)
          else entries.set(k, c)
        }
        const block = entries.size === 0 ? { cid: empty } : encodeBlock({ prev: root, batch: changes.map((c) => c.key) })
        state.set(block.cid.toString(), { entries })
        return { root: block.cid, blocks: [] }
      },
    }
  }

  it('the history property fails for an order-dependent tree', async () => {
    const out = await fc.check(historyIndependence(async () => orderDependent()), { numRuns: 100, seed: 1 })
    expect(out.failed).toBe(true)
  })
})
