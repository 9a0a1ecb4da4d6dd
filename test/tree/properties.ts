import fc from 'fast-check'
import { compareBytes, toHex, type CID } from '../../src/codec/index.js'
import type { ApplyResult, TreeChange, TreeEntry } from '../../src/tree/index.js'
import { batches, entrySetArb, wideKeyArb } from './helpers.js'

/** What the history-independence property needs of a tree implementation. */
export interface Applier {
  empty: CID
  apply(root: CID, changes: TreeChange[]): Promise<ApplyResult>
}

const byKey = (a: TreeChange, b: TreeChange): number => compareBytes(a.key, b.key)

/**
 * History independence: the same entry set gives the same root whatever the insertion order and
 * split into batches; deleting back to an earlier set gives that set's root.
 */
export function historyIndependence(make: () => Promise<Applier>): fc.IAsyncPropertyWithHooks<[TreeEntry[], number[], number[], number[]]> {
  return fc.asyncProperty(
    entrySetArb(wideKeyArb, 250),
    fc.array(fc.nat(), { maxLength: 250 }),
    fc.array(fc.nat(), { maxLength: 8 }),
    fc.array(fc.nat(), { maxLength: 8 }),
    async (entries, order, cuts, extraCuts) => {
      const t = await make()
      const all = entries.map((e): TreeChange => ({ key: e.key, entry: e }))
      const bulk = await t.apply(t.empty, all)

      // The same entries in another order (a seeded shuffle), in batches, each sorted.
      const shuffled = [...all]
      for (let i = shuffled.length - 1; i > 0; i--) {
        const j = (order[i % Math.max(order.length, 1)] ?? i * 7919) % (i + 1)
        ;[shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!]
      }
      let root = t.empty
      for (const b of batches(shuffled, cuts)) root = (await t.apply(root, [...b].sort(byKey))).root
      if (!root.equals(bulk.root)) return false

      // Grow by a second set of keys, then delete them again (in other batches): back to `bulk`.
      const have = new Set(entries.map((e) => toHex(e.key)))
      const extra = shuffled
        .map((c) => ({ key: Uint8Array.from([...c.key, 0x7f]) }))
        .filter((c) => !have.has(toHex(c.key)))
        .map((c): TreeChange => ({ key: c.key, entry: { key: c.key, value: { inline: c.key }, priority: 'eager' } }))
      for (const b of batches(extra, extraCuts)) root = (await t.apply(root, [...b].sort(byKey))).root
      for (const b of batches(extra, cuts)) root = (await t.apply(root, b.map((c) => ({ key: c.key, entry: undefined })).sort(byKey))).root
      return root.equals(bulk.root)
    },
  )
}
